// AVX-512F operation set (8 float64 lanes, FMA) for ot_kernels_body.h. ot_kernels.cc calls it only
// when cpu_features() reports AVX-512F.
#if defined(__x86_64__) && defined(__GNUC__)
#if !defined(__clang__)
// GCC 12 flags its own _mm512_undefined_* placeholders as uninitialized (GCC PR 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#define ITK_OT_TARGET __attribute__((target("avx512f,avx512dq,fma")))
#define ITK_OT_FN ITK_OT_TARGET inline __attribute__((always_inline))

namespace itk {
namespace ot {
namespace {
struct Avx512d {
  static constexpr std::size_t kLanes = 8;
  static constexpr const char* kName = "avx512";
  using D = __m512d;
  using I = __m512i;
  static ITK_OT_FN D set1(double x) { return _mm512_set1_pd(x); }
  static ITK_OT_FN D zero() { return _mm512_setzero_pd(); }
  static ITK_OT_FN D load(const double* p) { return _mm512_loadu_pd(p); }
  static ITK_OT_FN void store(double* p, D x) { _mm512_storeu_pd(p, x); }
  static ITK_OT_FN D add(D a, D b) { return _mm512_add_pd(a, b); }
  static ITK_OT_FN D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static ITK_OT_FN D mul(D a, D b) { return _mm512_mul_pd(a, b); }
  static ITK_OT_FN D min(D a, D b) { return _mm512_min_pd(a, b); }
  static ITK_OT_FN D max(D a, D b) { return _mm512_max_pd(a, b); }
  static ITK_OT_FN D fmadd(D a, D b, D c) { return _mm512_fmadd_pd(a, b, c); }
  static ITK_OT_FN D fnmadd(D a, D b, D c) { return _mm512_fnmadd_pd(a, b, c); }  // c − a·b
  static ITK_OT_FN I bits(D x) { return _mm512_castpd_si512(x); }
  static ITK_OT_FN D pow2(I k) {
    return _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(k, _mm512_set1_epi64(1023)), 52));
  }
  static ITK_OT_FN D blend_gt(D x, D t, D yes, D no) { return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, t, _CMP_GT_OQ), no, yes); }
  static ITK_OT_FN D blend_nan(D x, D yes, D no) { return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q), no, yes); }
  // Fixed order: (l0+l4, l1+l5, l2+l6, l3+l7) → pairs → total.
  static ITK_OT_FN double hsum(D x) {
    const __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(x), _mm512_extractf64x4_pd(x, 1));
    const __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
  }
};
}  // namespace
}  // namespace ot
}  // namespace itk

#include "ot_kernels_body.h"

namespace itk {
namespace ot {
const OtKernels& ot_kernels_avx512() { return kernel_table<Avx512d>(); }
}  // namespace ot
}  // namespace itk
#endif

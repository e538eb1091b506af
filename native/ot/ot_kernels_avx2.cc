// AVX2+FMA operation set (4 float64 lanes) for ot_kernels_body.h. ot_kernels.cc calls it only when
// cpu_features() reports AVX2 and FMA.
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <cstdint>

#define ITK_OT_TARGET __attribute__((target("avx2,fma")))
#define ITK_OT_FN ITK_OT_TARGET inline __attribute__((always_inline))

namespace itk {
namespace ot {
namespace {
struct Avx2d {
  static constexpr std::size_t kLanes = 4;
  static constexpr const char* kName = "avx2";
  using D = __m256d;
  using I = __m256i;
  static ITK_OT_FN D set1(double x) { return _mm256_set1_pd(x); }
  static ITK_OT_FN D zero() { return _mm256_setzero_pd(); }
  static ITK_OT_FN D load(const double* p) { return _mm256_loadu_pd(p); }
  static ITK_OT_FN void store(double* p, D x) { _mm256_storeu_pd(p, x); }
  static ITK_OT_FN D add(D a, D b) { return _mm256_add_pd(a, b); }
  static ITK_OT_FN D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static ITK_OT_FN D mul(D a, D b) { return _mm256_mul_pd(a, b); }
  static ITK_OT_FN D min(D a, D b) { return _mm256_min_pd(a, b); }
  static ITK_OT_FN D max(D a, D b) { return _mm256_max_pd(a, b); }
  static ITK_OT_FN D fmadd(D a, D b, D c) { return _mm256_fmadd_pd(a, b, c); }
  static ITK_OT_FN D fnmadd(D a, D b, D c) { return _mm256_fnmadd_pd(a, b, c); }
  static ITK_OT_FN I bits(D x) { return _mm256_castpd_si256(x); }
  static ITK_OT_FN D pow2(I k) {
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k, _mm256_set1_epi64x(1023)), 52));
  }
  static ITK_OT_FN D blend_gt(D x, D t, D yes, D no) { return _mm256_blendv_pd(no, yes, _mm256_cmp_pd(x, t, _CMP_GT_OQ)); }
  static ITK_OT_FN D blend_nan(D x, D yes, D no) { return _mm256_blendv_pd(no, yes, _mm256_cmp_pd(x, x, _CMP_UNORD_Q)); }
  static ITK_OT_FN double hsum(D x) {
    const __m128d q = _mm_add_pd(_mm256_castpd256_pd128(x), _mm256_extractf128_pd(x, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
  }
};
}  // namespace
}  // namespace ot
}  // namespace itk

#include "ot_kernels_body.h"

namespace itk {
namespace ot {
const OtKernels& ot_kernels_avx2() { return kernel_table<Avx2d>(); }
}  // namespace ot
}  // namespace itk
#endif

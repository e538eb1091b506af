// The terms e^p (e = |x − x̂| > 0) of the Lp range search (docs/design/unet.md §7.3, unet_calib.cc):
//   - pow_pos / pow_pos8: the exact score's term, float(e^p) to ≈ 1e-14 before the float rounding,
//     the same bits on every ISA (plain multiply-adds in double, no FMA contraction); the chosen
//     (Δ, z) are defined by sums of these;
//   - pow_approx16 (AVX-512) / pow_approx8_avx2: a float approximation with a proven error bound (kPowApproxRel,
//     kPowApproxAbs below, checked exhaustively by tools/lp_pow_check.cc) that the search uses only
//     to discard candidates whose score provably exceeds another's; it never decides a winner.
// Kernel code: no Node headers.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace itk {
namespace unet {

// |pow_approx16(e) − pow_pos(e)| ≤ kPowApproxRel·pow_pos(e) + kPowApproxAbs for every float
// e > 0 with e < kPowApproxMaxE and p ∈ [1, 4] (tools/lp_pow_check.cc: every float e of that range
// for p ∈ {1, 1.5, 2.4, 3, 3.7, 4} and random p; measured max relative error ≈ 1e-6, the bound is
// 2^-16 ≈ 1.5e-5). The absolute part covers results below the float normal range (2^-126),
// where pow_pos rounds to a subnormal and a relative bound means nothing.
constexpr double kPowApproxRel = 1.0 / 65536;
constexpr double kPowApproxAbs = 2.3509887016445750e-38;  // 2^-125
constexpr float kPowApproxMaxE = 4194304.0f;            // 2^22: e^4 < 2^88, no overflow on either side

inline double lp_bits_to_double(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

// e^p for a float e > 0, as float(2^(p·log2 e)) evaluated in double: log2 from the exponent and
// 2·atanh((m−1)/(m+1)) of the mantissa m ∈ [√½, √2) (10 odd terms, |t| ≤ 0.1716, truncation
// < 1e-17), 2^y as 2^n·exp(f·ln 2) with f ∈ [−½, ½] (Taylor to degree 13, truncation < 1e-17).
// Relative error ≈ 1e-14 before the float rounding, so the float equals the correctly rounded
// e^p except within 1e-14 of a rounding midpoint: the value powf gives, without a libm call per
// element. Plain multiply-adds (no FMA contraction in this build): the same bits on every ISA.
inline float pow_pos(float e, double p) {
  const double d = static_cast<double>(e);
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  int64_t E = static_cast<int64_t>((u >> 52) & 0x7FF) - 1023;
  double m = lp_bits_to_double((u & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);  // [1, 2)
  const bool big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  E = big ? E + 1 : E;
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  double s = 1.0 / 19;
  s = s * t2 + 1.0 / 17;
  s = s * t2 + 1.0 / 15;
  s = s * t2 + 1.0 / 13;
  s = s * t2 + 1.0 / 11;
  s = s * t2 + 1.0 / 9;
  s = s * t2 + 1.0 / 7;
  s = s * t2 + 1.0 / 5;
  s = s * t2 + 1.0 / 3;
  s = s * t2 + 1.0;
  const double ln_m = 2.0 * t * s;
  const double y = p * static_cast<double>(E) + p * (ln_m * 1.4426950408889634);  // p·log2 e
  const double n = std::nearbyint(y);
  const double g = (y - n) * 0.6931471805599453;  // |g| ≤ 0.347
  double q = 1.0 / 6227020800.0;                  // 1/13!
  q = q * g + 1.0 / 479001600.0;
  q = q * g + 1.0 / 39916800.0;
  q = q * g + 1.0 / 3628800.0;
  q = q * g + 1.0 / 362880.0;
  q = q * g + 1.0 / 40320.0;
  q = q * g + 1.0 / 5040.0;
  q = q * g + 1.0 / 720.0;
  q = q * g + 1.0 / 120.0;
  q = q * g + 1.0 / 24.0;
  q = q * g + 1.0 / 6.0;
  q = q * g + 0.5;
  q = q * g + 1.0;
  q = q * g + 1.0;
  // 2^n for n in [−1022, 1023] (e ≥ 2^-149 and p ≤ 8 keep y well inside)
  const int64_t ni = static_cast<int64_t>(n);
  const int64_t nc = ni < -1022 ? -1022 : (ni > 1023 ? 1023 : ni);
  const double scale = lp_bits_to_double(static_cast<uint64_t>(nc + 1023) << 52);
  return static_cast<float>(q * scale);
}

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own undefined-vector idiom.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// pow_pos on 8 lanes: the scalar arithmetic lane for lane (same operations, same order).
__attribute__((target("avx512f,avx512dq"))) inline __m512d pow_pos8(__m256 e8, __m512d pd) {
  const __m512d d = _mm512_cvtps_pd(e8);
  const __m512i u = _mm512_castpd_si512(d);
  __m512i E = _mm512_sub_epi64(_mm512_and_si512(_mm512_srli_epi64(u, 52), _mm512_set1_epi64(0x7FF)), _mm512_set1_epi64(1023));
  __m512d m = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(u, _mm512_set1_epi64(0x000FFFFFFFFFFFFFll)),
                                                  _mm512_set1_epi64(0x3FF0000000000000ll)));
  const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(1.4142135623730951), _CMP_GT_OQ);
  m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
  E = _mm512_mask_add_epi64(E, big, E, _mm512_set1_epi64(1));
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d t = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one)), t2 = _mm512_mul_pd(t, t);
  const double cs[] = {1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0};
  __m512d sp = _mm512_set1_pd(1.0 / 19);
  for (double cf : cs) sp = _mm512_add_pd(_mm512_mul_pd(sp, t2), _mm512_set1_pd(cf));
  const __m512d ln_m = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(2.0), t), sp);
  const __m512d y = _mm512_add_pd(_mm512_mul_pd(pd, _mm512_cvtepi64_pd(E)),
                                  _mm512_mul_pd(pd, _mm512_mul_pd(ln_m, _mm512_set1_pd(1.4426950408889634))));
  const __m512d nn = _mm512_roundscale_pd(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d g = _mm512_mul_pd(_mm512_sub_pd(y, nn), _mm512_set1_pd(0.6931471805599453));
  const double cq[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                       1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  __m512d q = _mm512_set1_pd(1.0 / 6227020800.0);
  for (double cf : cq) q = _mm512_add_pd(_mm512_mul_pd(q, g), _mm512_set1_pd(cf));
  __m512i ni = _mm512_cvtpd_epi64(nn);
  ni = _mm512_min_epi64(_mm512_max_epi64(ni, _mm512_set1_epi64(-1022)), _mm512_set1_epi64(1023));
  const __m512d scale = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(ni, _mm512_set1_epi64(1023)), 52));
  return _mm512_cvtps_pd(_mm512_cvtpd_ps(_mm512_mul_pd(q, scale)));  // rounded to float, as pow_pos
}

// e^p on 16 float lanes where `pos` is set (0 elsewhere), within the bound above for
// 0 < e < kPowApproxMaxE, p ∈ [1, 4]. log2 e = E + log2 m with E, m from getexp/getmant
// (subnormal e included), m folded into [√½, √2); log2 m = (2/ln 2)·t·(1 + t²/3 + … + t⁸/9),
// t = (m−1)/(m+1) with |t| ≤ 0.1716 (truncation < 3e-9), 1/(m+1) from rcp14 and one Newton
// step (≈ 4e-9). y = p·E + p·log2 m with p·E split exactly (FMA two-product: |p·E| reaches
// 600, whose float rounding alone would cost 4e-5), n = round(y), 2^(y−n) by Taylor to
// degree 7 of exp(f·ln 2), |f·ln 2| ≤ 0.35 (truncation < 6e-9), scaled by scalef (which
// underflows to subnormals and 0 as the exact term does). Float rounding dominates: ≈ 1e-6.
__attribute__((target("avx512f,avx512dq"))) inline __m512 pow_approx16(__m512 e, __mmask16 pos, __m512 vp) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 E = _mm512_getexp_ps(e);
  __m512 m = _mm512_getmant_ps(e, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);  // [1, 2)
  const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356f), _CMP_GT_OQ);
  m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
  E = _mm512_mask_add_ps(E, big, E, one);
  const __m512 d = _mm512_add_ps(m, one);
  __m512 r = _mm512_rcp14_ps(d);
  r = _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
  const __m512 t = _mm512_mul_ps(_mm512_sub_ps(m, one), r), t2 = _mm512_mul_ps(t, t);
  __m512 s = _mm512_set1_ps(1.0f / 9);
  s = _mm512_fmadd_ps(s, t2, _mm512_set1_ps(1.0f / 7));
  s = _mm512_fmadd_ps(s, t2, _mm512_set1_ps(1.0f / 5));
  s = _mm512_fmadd_ps(s, t2, _mm512_set1_ps(1.0f / 3));
  s = _mm512_fmadd_ps(s, t2, one);
  const __m512 l = _mm512_mul_ps(_mm512_mul_ps(t, s), _mm512_set1_ps(2.88539008f));  // 2/ln 2
  const __m512 hi = _mm512_mul_ps(vp, E);
  const __m512 lo = _mm512_fmsub_ps(vp, E, hi);  // p·E − hi, exact
  const __m512 ylo = _mm512_fmadd_ps(vp, l, lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_add_ps(hi, ylo), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 g = _mm512_mul_ps(_mm512_add_ps(_mm512_sub_ps(hi, n), ylo), _mm512_set1_ps(0.693147181f));
  __m512 q = _mm512_set1_ps(1.0f / 5040);
  q = _mm512_fmadd_ps(q, g, _mm512_set1_ps(1.0f / 720));
  q = _mm512_fmadd_ps(q, g, _mm512_set1_ps(1.0f / 120));
  q = _mm512_fmadd_ps(q, g, _mm512_set1_ps(1.0f / 24));
  q = _mm512_fmadd_ps(q, g, _mm512_set1_ps(1.0f / 6));
  q = _mm512_fmadd_ps(q, g, _mm512_set1_ps(0.5f));
  q = _mm512_fmadd_ps(q, g, one);
  q = _mm512_fmadd_ps(q, g, one);
  return _mm512_maskz_scalef_ps(pos, q, n);
}

// pow_approx16 on 8 AVX2 lanes (`pos`: all-ones lanes are computed, others give 0), the same
// steps and the same bound: exponent and mantissa from the bits (subnormal e scaled by 2^24
// first), a division for t, 2^n built in the exponent field; n < −126 gives 0, which the
// absolute part of the bound covers (the exact term is then below 2^-125).
__attribute__((target("avx2,fma"))) inline __m256 pow_approx8_avx2(__m256 e, __m256 pos, __m256 vp) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 tiny = _mm256_cmp_ps(e, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  const __m256 es = _mm256_blendv_ps(e, _mm256_mul_ps(e, _mm256_set1_ps(16777216.0f)), tiny);  // × 2^24
  const __m256i u = _mm256_castps_si256(es);
  __m256 E = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(u, 23), _mm256_set1_epi32(127)));
  E = _mm256_sub_ps(E, _mm256_and_ps(tiny, _mm256_set1_ps(24.0f)));
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F800000)));
  const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
  m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
  E = _mm256_add_ps(E, _mm256_and_ps(big, one));
  const __m256 t = _mm256_div_ps(_mm256_sub_ps(m, one), _mm256_add_ps(m, one)), t2 = _mm256_mul_ps(t, t);
  __m256 s = _mm256_set1_ps(1.0f / 9);
  s = _mm256_fmadd_ps(s, t2, _mm256_set1_ps(1.0f / 7));
  s = _mm256_fmadd_ps(s, t2, _mm256_set1_ps(1.0f / 5));
  s = _mm256_fmadd_ps(s, t2, _mm256_set1_ps(1.0f / 3));
  s = _mm256_fmadd_ps(s, t2, one);
  const __m256 l = _mm256_mul_ps(_mm256_mul_ps(t, s), _mm256_set1_ps(2.88539008f));  // 2/ln 2
  const __m256 hi = _mm256_mul_ps(vp, E);
  const __m256 lo = _mm256_fmsub_ps(vp, E, hi);  // p·E − hi, exact
  const __m256 ylo = _mm256_fmadd_ps(vp, l, lo);
  const __m256 n = _mm256_round_ps(_mm256_add_ps(hi, ylo), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 g = _mm256_mul_ps(_mm256_add_ps(_mm256_sub_ps(hi, n), ylo), _mm256_set1_ps(0.693147181f));
  __m256 q = _mm256_set1_ps(1.0f / 5040);
  q = _mm256_fmadd_ps(q, g, _mm256_set1_ps(1.0f / 720));
  q = _mm256_fmadd_ps(q, g, _mm256_set1_ps(1.0f / 120));
  q = _mm256_fmadd_ps(q, g, _mm256_set1_ps(1.0f / 24));
  q = _mm256_fmadd_ps(q, g, _mm256_set1_ps(1.0f / 6));
  q = _mm256_fmadd_ps(q, g, _mm256_set1_ps(0.5f));
  q = _mm256_fmadd_ps(q, g, one);
  q = _mm256_fmadd_ps(q, g, one);
  const __m256i ni = _mm256_max_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(-127));  // n ≤ 88 here
  const __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23));  // 0 at −127
  return _mm256_and_ps(_mm256_mul_ps(q, scale), pos);
}
#pragma GCC diagnostic pop
#endif

}  // namespace unet
}  // namespace itk

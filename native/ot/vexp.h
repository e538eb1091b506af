// Branch-free exp(x) for the dense Sinkhorn passes, written so GCC/Clang vectorise the array loops
// (libm's exp does not vectorise without -ffast-math, and the passes are exp-bound: docs/design/ot.md §6.1).
// Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, degree-13 Taylor polynomial (truncation
// < 2e-18 relative), 2^k built in the exponent bits. Max relative error about 2 ulp against libm.
// Inputs below -708 give a tiny positive number (≤ 4e-308) rather than 0, inputs above 709 give
// +inf, NaN stays NaN: that keeps the line-search rule "reject non-finite values" (docs/design/ot.md §3.5) intact.
#pragma once
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
#include <cmath>
#include <cstdint>
#include <cstring>

namespace itk {
namespace ot {

#if defined(__GNUC__)
#define ITK_OT_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ITK_OT_ALWAYS_INLINE inline
#endif

// Horner form of Σ_{q ≤ 13} r^q / q! for one lane (V = double) or four (V = v4d); p enters
// holding 1/13! in every lane. One body, so the scalar and vector exp cannot drift apart.
template <typename V>
ITK_OT_ALWAYS_INLINE V exp_taylor13(V r, V p) {
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p;
}

inline double exp_fast(double x) {
  const double kInvLn2 = 1.4426950408889634;
  const double kLn2Hi = 6.93147180369123816490e-01;  // high bits of ln 2 (exact in 32 bits)
  const double kLn2Lo = 1.90821492927058770002e-10;
  const double kShift = 6755399441055744.0;  // 1.5·2^52: rounds to integer, k in the low bits
  const double big = x > 709.0 ? 1.0 : 0.0;
  double xc = x < -708.0 ? -708.0 : x;
  xc = xc > 709.0 ? 709.0 : xc;
  double kd = xc * kInvLn2 + kShift;
  uint64_t ki;
  std::memcpy(&ki, &kd, 8);
  kd -= kShift;
  const double r = (xc - kd * kLn2Hi) - kd * kLn2Lo;
  const double p = exp_taylor13(r, 1.0 / 6227020800.0);
  const uint64_t sbits = (ki + 1023u) << 52;
  double scale;
  std::memcpy(&scale, &sbits, 8);
  double y = p * scale;
  // x > 709 → +inf; x NaN → NaN (x != x), without branches the vectoriser cannot if-convert.
  y = big != 0.0 ? HUGE_VAL : y;
  y = x != x ? x : y;
  return y;
}

#if defined(__GNUC__)
// Four lanes at once with GCC/Clang vector extensions (SSE2 pairs on baseline x86-64, one AVX2
// register in the avx2 clones). Same arithmetic as exp_fast, lane by lane.
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));

__attribute__((always_inline)) inline v4d exp_fast4(v4d x) {
  const v4d kInvLn2 = {1.4426950408889634, 1.4426950408889634, 1.4426950408889634, 1.4426950408889634};
  const double kLn2Hi = 6.93147180369123816490e-01;
  const double kLn2Lo = 1.90821492927058770002e-10;
  const double kShift = 6755399441055744.0;
  v4d xc = x < -708.0 ? (v4d){} - 708.0 : x;
  xc = xc > 709.0 ? (v4d){} + 709.0 : xc;
  v4d kd = xc * kInvLn2 + kShift;
  const v4l ki = (v4l)kd;
  kd -= kShift;
  const v4d r = (xc - kd * kLn2Hi) - kd * kLn2Lo;
  const v4d p = exp_taylor13(r, (v4d){} + 1.0 / 6227020800.0);
  const v4l sbits = (ki + 1023) << 52;
  v4d y = p * (v4d)sbits;
  y = x > 709.0 ? (v4d){} + HUGE_VAL : y;
  y = x != x ? x : y;
  return y;
}
#define ITK_OT_HAVE_V4 1
#endif

}  // namespace ot
}  // namespace itk

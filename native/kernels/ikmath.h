// Project-owned float32 elementary functions (docs/design/randomness.md §5). Every operation is a separately
// rounded IEEE mul/add/div (itk::fmul etc.), evaluated in the written order, so the CPU and the
// GPU produce the same bits. Accuracy (checked in test/ikmath.test.ts): log 1.7 ulp and
// sin/cos 1.9 ulp over all 2^23 inputs of their domains; exp <= 2 ulp.
#pragma once
#include "itk_hd.h"

namespace itk {

constexpr float kLn2Hi = 0.693145751953125f;          // 0x3F317200: exact in few bits
constexpr float kLn2Lo = 1.4286068203094172e-6f;      // ln 2 - kLn2Hi
constexpr float kHalfPiF = 1.57079637050628662109375f;  // pi/2 rounded to float32

// ln u for a positive normal float. u = 2^e * m with m in [1,2); m > sqrt 2 is halved so that
// s = (m-1)/(m+1) stays in [-0.172, 0.172], where the atanh series 2s(1 + s^2/3 + s^4/5 + ...)
// converges to float precision in four terms.
ITK_HD float ik_logf(float u) {
#if defined(__CUDA_ARCH__) && defined(ITK_FAST_MATH)
  return __logf(u);  // benchmark build only (itk_hd.h ITK_DEVICE_EXACT)
#endif
  uint32_t bits = float_bits(u);
  int e = static_cast<int>((bits >> 23) & 0xFFu) - 127;
  uint32_t mbits = (bits & 0x007FFFFFu) | 0x3F800000u;
  // Selects rather than branches: no warp divergence on the GPU, and the CPU batch loops
  // (native/rng/rng_fill.cc) auto-vectorize.
  const bool halve = mbits > 0x3FB504F3u;
  mbits = halve ? mbits - 0x00800000u : mbits;
  e = halve ? e + 1 : e;
  const float m = bits_float(mbits);
  const float s = fdiv(fsub(m, 1.0f), fadd(m, 1.0f));
  const float w = fmul(s, s);
  // P(w) = 1/3 + w(1/5 + w(1/7 + w/9))
  float P = fdiv(w, 9.0f);
  P = fadd(1.0f / 7.0f, P);
  P = fmul(w, P);
  P = fadd(1.0f / 5.0f, P);
  P = fmul(w, P);
  P = fadd(1.0f / 3.0f, P);
  const float p = fmul(w, P);
  const float s2 = fadd(s, s);
  const float lnm = fadd(s2, fmul(s2, p));
  const float fe = static_cast<float>(e);
  return fadd(fmul(fe, kLn2Hi), fadd(fmul(fe, kLn2Lo), lnm));
}

// sin and cos of theta = 2*pi*n/2^24 for an integer n in [0, 2^24). The quadrant and the
// reflection about pi/4 are taken on the integer, so the only rounding before the polynomials is
// a = (r * 2^-22) * (pi/2), with |a| <= pi/4.
ITK_HD void ik_sincos_turn24(uint32_t n, float* sin_out, float* cos_out) {
#if defined(__CUDA_ARCH__) && defined(ITK_FAST_MATH)
  __sincosf(static_cast<float>(n) * 3.7450679e-07f /* 2 pi / 2^24 */, sin_out, cos_out);  // benchmark build only
  return;
#endif
  const uint32_t q = (n >> 22) & 3u;
  const uint32_t r0 = n & 0x3FFFFFu;
  const bool swap = r0 > (1u << 21);
  const uint32_t r = swap ? (1u << 22) - r0 : r0;
  const float a = fmul(fmul(static_cast<float>(r), 2.384185791015625e-07f /* 2^-22 */), kHalfPiF);
  const float w = fmul(a, a);
  // S(w) = -1/6 + w(1/120 + w(-1/5040 + w/362880))
  float S = fdiv(w, 362880.0f);
  S = fadd(-1.0f / 5040.0f, S);
  S = fmul(w, S);
  S = fadd(1.0f / 120.0f, S);
  S = fmul(w, S);
  S = fadd(-1.0f / 6.0f, S);
  // C(w) = -1/2 + w(1/24 + w(-1/720 + w(1/40320 - w/3628800)))
  float C = fdiv(w, 3628800.0f);
  C = fsub(1.0f / 40320.0f, C);
  C = fmul(w, C);
  C = fadd(-1.0f / 720.0f, C);
  C = fmul(w, C);
  C = fadd(1.0f / 24.0f, C);
  C = fmul(w, C);
  C = fadd(-0.5f, C);
  const float s0 = fadd(a, fmul(a, fmul(w, S)));
  const float c0 = fadd(1.0f, fmul(w, C));
  const float s = swap ? c0 : s0;
  const float c = swap ? s0 : c0;
  // Rotate by q quarter turns: (sin, cos) = (s, c), (c, -s), (-s, -c), (-c, s). Sign flips are
  // exact, so selects reproduce the table bit for bit.
  const float sin_mag = (q & 1u) ? c : s;
  const float cos_mag = (q & 1u) ? s : c;
  *sin_out = (q & 2u) ? -sin_mag : sin_mag;
  *cos_out = ((q + 1u) & 2u) ? -cos_mag : cos_mag;
}

// e^x by Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, then a degree-7 Taylor polynomial in
// Horner form (truncation error < 2^-27 relative on that interval) and an exact scale by 2^k.
ITK_HD float ik_expf(float x) {
#if defined(__CUDA_ARCH__) && defined(ITK_FAST_MATH)
  return __expf(x);  // benchmark build only
#endif
  if (!(x == x)) return x;                      // NaN propagates
  if (x > 88.72283935546875f) return bits_float(0x7F800000u);  // overflow -> +inf
  if (x < -103.97208404541016f) return 0.0f;    // below half the smallest subnormal
  const float kf = fmul(x, 1.44269502162933349609375f);  // x * log2(e)
  const int k = static_cast<int>(kf < 0.0f ? fsub(kf, 0.5f) : fadd(kf, 0.5f));
  const float fk = static_cast<float>(k);
  const float r = fsub(fsub(x, fmul(fk, kLn2Hi)), fmul(fk, kLn2Lo));
  float p = fdiv(r, 5040.0f);
  p = fadd(1.0f / 720.0f, p);
  p = fmul(r, p);
  p = fadd(1.0f / 120.0f, p);
  p = fmul(r, p);
  p = fadd(1.0f / 24.0f, p);
  p = fmul(r, p);
  p = fadd(1.0f / 6.0f, p);
  p = fmul(r, p);
  p = fadd(0.5f, p);
  p = fmul(r, p);
  p = fadd(1.0f, p);
  p = fmul(r, p);
  p = fadd(1.0f, p);
  // 2^k may be outside the normal range; split it in two exact factors.
  int k1 = k / 2;
  int k2 = k - k1;
  const float s1 = bits_float(static_cast<uint32_t>(k1 + 127) << 23);
  const float s2 = bits_float(static_cast<uint32_t>(k2 + 127) << 23);
  return fmul(fmul(p, s1), s2);
}

}  // namespace itk

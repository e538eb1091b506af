// Philox4x32-10, Box–Muller and exp over S::kLanes independent lanes, written once for every
// operation set S (simd_avx512.h, simd_avx2.h). A translation unit includes one operation-set
// header first (it defines ITK_SIMD_FN with that unit's target attribute), then this file.
//
// Each function below is the scalar ITK_HD function of native/kernels/ (philox.h, normal.h,
// ikmath.h) with every float operation replaced by the same IEEE operation on a vector, in the
// same order and on the same constants; integer steps and the branch-free selects are exact. So
// every lane has the bits of the scalar code, which is what CUDA runs too. When changing either
// side, change both (tools/rng_simd_check.cc compares them exhaustively over each domain).
#pragma once
#ifndef ITK_SIMD_FN
#error "include simd_avx512.h or simd_avx2.h first"
#endif
#include "../kernels/ikmath.h"
#include "../kernels/philox.h"

namespace itk {
namespace simd {
namespace {

// The four words of S::kLanes Philox blocks (or their counters), one vector per word.
template <class S>
struct Words4 {
  typename S::U v0, v1, v2, v3;
};

// The ten round keys, broadcast once per call: round r uses (k0 + r W0, k1 + r W1) (philox.h
// philox_bump_key; Salmon et al. SC'11 §4).
template <class S>
struct PhiloxKeys {
  typename S::U k0[10], k1[10];
  ITK_SIMD_FN PhiloxKeys(uint32_t lo, uint32_t hi) {
    for (int r = 0; r < 10; ++r) {
      k0[r] = S::set1(lo);
      k1[r] = S::set1(hi);
      lo += kPhiloxW0;
      hi += kPhiloxW1;
    }
  }
};

// Philox4x32-10 of the counters in c (philox.h philox4x32): per round
// (v0, v1, v2, v3) <- (hi(M1 v2) ^ v1 ^ k0, lo(M1 v2), hi(M0 v0) ^ v3 ^ k1, lo(M0 v0)).
// Inlined into its caller, so words the caller never reads are not computed (a step that needs
// only (w0, w1) skips the last round's M0 product).
template <class S>
ITK_SIMD_FN Words4<S> philox10(const PhiloxKeys<S>& k, Words4<S> c) {
  using U = typename S::U;
  const U m0 = S::set1(kPhiloxM0), m1 = S::set1(kPhiloxM1);
#pragma GCC unroll 10
  for (int r = 0; r < 10; ++r) {
    U hi0, lo0, hi1, lo1;
    S::mulhilo(c.v0, m0, &hi0, &lo0);
    S::mulhilo(c.v2, m1, &hi1, &lo1);
    c.v0 = S::xor3(hi1, c.v1, k.k0[r]);
    c.v1 = lo1;
    c.v2 = S::xor3(hi0, c.v3, k.k1[r]);
    c.v3 = lo0;
  }
  return c;
}

// Counter words 2 and 3 of paths path0 + lane (philox.h philox_counter: c2 = path bits 0-31,
// c3 = path bits 32-47 | stream << 16); the low word's carry goes into the high word.
template <class S>
ITK_SIMD_FN void path_counters(uint32_t stream, uint64_t path0, typename S::U* c2, typename S::U* c3) {
  using U = typename S::U;
  const U lo0 = S::set1(static_cast<uint32_t>(path0));
  const U lo = S::add(lo0, S::iota());
  const U hi = S::add_if(S::lt_u(lo, lo0), S::set1(static_cast<uint32_t>(path0 >> 32)), S::set1(1u));
  *c2 = lo;
  *c3 = S::or_(S::and_(hi, S::set1(0xFFFFu)), S::set1(stream << 16));
}

// u24(x) = ((x >> 8) | 1) * 2^-24 (normal.h): the integer is below 2^24, so the conversion is exact.
template <class S>
ITK_SIMD_FN typename S::F u24(typename S::U x) {
  return S::fmul(S::cvt(S::or_(S::srl(x, 8), S::set1(1u))), S::fset1(5.9604644775390625e-08f));
}

// ik_logf (ikmath.h) for positive normal u: u = 2^e m, m halved above sqrt 2, s = (m-1)/(m+1),
// ln m = 2s + 2s w P(w) with w = s^2, P(w) = 1/3 + w(1/5 + w(1/7 + w/9)), ln u = e ln2 + ln m.
template <class S>
ITK_SIMD_FN typename S::F log(typename S::F u) {
  using U = typename S::U;
  using F = typename S::F;
  const U bits = S::bits(u);
  U e = S::sub(S::and_(S::srl(bits, 23), S::set1(0xFFu)), S::set1(127u));
  U mbits = S::or_(S::and_(bits, S::set1(0x007FFFFFu)), S::set1(0x3F800000u));
  const auto halve = S::gt(mbits, S::set1(0x3FB504F3u));  // both below 2^31: signed compare is exact
  mbits = S::sub_if(halve, mbits, S::set1(0x00800000u));
  e = S::add_if(halve, e, S::set1(1u));
  const F one = S::fset1(1.0f);
  const F m = S::from_bits(mbits);
  const F s = S::fdiv(S::fsub(m, one), S::fadd(m, one));
  const F w = S::fmul(s, s);
  F P = S::fdiv(w, S::fset1(9.0f));
  P = S::fadd(S::fset1(1.0f / 7.0f), P);
  P = S::fmul(w, P);
  P = S::fadd(S::fset1(1.0f / 5.0f), P);
  P = S::fmul(w, P);
  P = S::fadd(S::fset1(1.0f / 3.0f), P);
  const F p = S::fmul(w, P);
  const F s2 = S::fadd(s, s);
  const F lnm = S::fadd(s2, S::fmul(s2, p));
  const F fe = S::cvt(e);
  return S::fadd(S::fmul(fe, S::fset1(kLn2Hi)), S::fadd(S::fmul(fe, S::fset1(kLn2Lo)), lnm));
}

// ik_sincos_turn24 (ikmath.h) of n in [0, 2^24): quadrant q = n >> 22, r0 = n mod 2^22 reflected
// about 2^21 (swap), a = (r 2^-22)(pi/2), then the S(w) and C(w) polynomials in w = a^2. The
// quadrant rotation picks c0 or s0 (swap xor q bit 0) and flips signs: sin by q bit 1, cos by
// (q + 1) bit 1 = q bit 0 xor q bit 1, i.e. n bits 23 and 22 moved to the sign bit.
template <class S>
ITK_SIMD_FN void sincos_turn24(typename S::U n, typename S::F* sin_out, typename S::F* cos_out) {
  using U = typename S::U;
  using F = typename S::F;
  const U r0 = S::and_(n, S::set1(0x3FFFFFu));
  const auto swap = S::gt(r0, S::set1(1u << 21));
  const U r = S::sel(swap, S::sub(S::set1(1u << 22), r0), r0);
  const F a = S::fmul(S::fmul(S::cvt(r), S::fset1(2.384185791015625e-07f)), S::fset1(kHalfPiF));
  const F w = S::fmul(a, a);
  F Sw = S::fdiv(w, S::fset1(362880.0f));
  Sw = S::fadd(S::fset1(-1.0f / 5040.0f), Sw);
  Sw = S::fmul(w, Sw);
  Sw = S::fadd(S::fset1(1.0f / 120.0f), Sw);
  Sw = S::fmul(w, Sw);
  Sw = S::fadd(S::fset1(-1.0f / 6.0f), Sw);
  F C = S::fdiv(w, S::fset1(3628800.0f));
  C = S::fsub(S::fset1(1.0f / 40320.0f), C);
  C = S::fmul(w, C);
  C = S::fadd(S::fset1(-1.0f / 720.0f), C);
  C = S::fmul(w, C);
  C = S::fadd(S::fset1(1.0f / 24.0f), C);
  C = S::fmul(w, C);
  C = S::fadd(S::fset1(-0.5f), C);
  const F s0 = S::fadd(a, S::fmul(a, S::fmul(w, Sw)));
  const F c0 = S::fadd(S::fset1(1.0f), S::fmul(w, C));
  const auto odd = S::mxor(swap, S::test(n, S::set1(1u << 22)));
  const U sign = S::set1(0x80000000u);
  const U sin_sign = S::and_(S::sll(n, 8), sign);
  const U cos_sign = S::and_(S::xor_(S::sll(n, 8), S::sll(n, 9)), sign);
  *sin_out = S::from_bits(S::xor_(S::bits(S::fsel(odd, c0, s0)), sin_sign));
  *cos_out = S::from_bits(S::xor_(S::bits(S::fsel(odd, s0, c0)), cos_sign));
}

// Box–Muller on one word pair (normal.h box_muller): r = sqrt(-2 ln U24(a)),
// theta = 2 pi ((b >> 8) | 1) / 2^24, z0 = r cos theta, z1 = r sin theta.
template <class S>
ITK_SIMD_FN void box_muller(typename S::U a, typename S::U b, typename S::F* z0, typename S::F* z1) {
  using F = typename S::F;
  const F r = S::fsqrt(S::fmul(S::fset1(-2.0f), log<S>(u24<S>(a))));
  F s, c;
  sincos_turn24<S>(S::or_(S::srl(b, 8), S::set1(1u)), &s, &c);
  *z0 = S::fmul(r, c);
  *z1 = S::fmul(r, s);
}

// ik_expf (ikmath.h): NaN -> x, x > 88.7228... -> +inf, x < -103.972... -> 0, otherwise
// k = trunc(x log2 e -+ 1/2), r = (x - k ln2_hi) - k ln2_lo, degree-7 Taylor polynomial of e^r
// in Horner form, times 2^(k/2) and 2^(k - k/2). The special cases are selects applied after the
// main path, which all lanes compute (on garbage for the special lanes, then discarded).
template <class S>
ITK_SIMD_FN typename S::F exp(typename S::F x) {
  using U = typename S::U;
  using F = typename S::F;
  const F kf = S::fmul(x, S::fset1(1.44269502162933349609375f));
  const F half = S::fset1(0.5f);
  const U k = S::cvtt(S::fsel(S::flt(kf, S::fset1(0.0f)), S::fsub(kf, half), S::fadd(kf, half)));
  const F fk = S::cvt(k);
  const F r = S::fsub(S::fsub(x, S::fmul(fk, S::fset1(kLn2Hi))), S::fmul(fk, S::fset1(kLn2Lo)));
  F p = S::fdiv(r, S::fset1(5040.0f));
  p = S::fadd(S::fset1(1.0f / 720.0f), p);
  p = S::fmul(r, p);
  p = S::fadd(S::fset1(1.0f / 120.0f), p);
  p = S::fmul(r, p);
  p = S::fadd(S::fset1(1.0f / 24.0f), p);
  p = S::fmul(r, p);
  p = S::fadd(S::fset1(1.0f / 6.0f), p);
  p = S::fmul(r, p);
  p = S::fadd(S::fset1(0.5f), p);
  p = S::fmul(r, p);
  p = S::fadd(S::fset1(1.0f), p);
  p = S::fmul(r, p);
  p = S::fadd(S::fset1(1.0f), p);
  const U k1 = S::sra(S::add(k, S::srl(k, 31)), 1);  // k / 2 rounded toward zero, as C's int division
  const U k2 = S::sub(k, k1);
  const U bias = S::set1(127u);
  const F s1 = S::from_bits(S::sll(S::add(k1, bias), 23));
  const F s2 = S::from_bits(S::sll(S::add(k2, bias), 23));
  F y = S::fmul(S::fmul(p, s1), s2);
  y = S::fsel(S::flt(x, S::fset1(-103.97208404541016f)), S::fset1(0.0f), y);
  y = S::fsel(S::fgt(x, S::fset1(88.72283935546875f)), S::from_bits(S::set1(0x7F800000u)), y);
  return S::fsel(S::fnan(x), x, y);
}

}  // namespace
}  // namespace simd
}  // namespace itk

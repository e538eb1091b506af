// Per-element arithmetic of the UNet forward pass (docs/design/unet.md §4) shared by the CPU
// ops (native/unet/unet_ops.cc) and the CUDA kernels (native/unet/cuda/unet_*.cu): GroupNorm's affine map,
// SiLU and the scaled residual. Separately rounded operations (itk_hd.h), so host and device
// evaluate the same expression tree, SiLU's exponential included (exp_f32), so they agree bit for bit.
#pragma once
#include <cmath>

#include "itk_hd.h"

namespace itk {

// e^x rounded to float, evaluated in double without libm: x·log₂e = k + r (k an integer, |r| ≤ 1/2,
// k taken by the 1.5·2⁵² rounding trick), 2^r = e^(r·ln 2) by its Taylor series to degree 12
// (truncation < 2e-16 relative), times 2^k built in the exponent bits; x is clamped to ±140 so
// 2^k stays a normal double and the float conversion gives +inf / 0 (NaN passes through). The
// double value is within ~1e-14 of e^x, so the float is the correctly rounded e^x except within
// that distance of a rounding midpoint (libm's expf, which this replaces, is not correctly rounded
// everywhere either). Plain separately rounded operations: the CPU vectorises loops over it (libm
// expf was a scalar call per element, a quarter of a W4A8 forward), and the GPU evaluates the same
// expression tree, so both give the same bits.
ITK_HD float exp_f32(float x) {
  // |x| > 140 (±inf included, NaN not) becomes ±140: e^140 overflows float and e^−140 is 0 in it.
  // Done on the bits: a float comparison may trap (-ftrapping-math), which keeps GCC from
  // vectorising the select; integer compares do not.
#if defined(__CUDA_ARCH__)
  uint32_t u = __float_as_uint(x);
#else
  uint32_t u;
  __builtin_memcpy(&u, &x, 4);
#endif
  const uint32_t ax = u & 0x7fffffffu;
  u = (ax > 0x430c0000u && ax <= 0x7f800000u) ? ((u & 0x80000000u) | 0x430c0000u) : u;  // 0x430c0000 = 140.0f
#if defined(__CUDA_ARCH__)
  const float xc = __uint_as_float(u);
#else
  float xc;
  __builtin_memcpy(&xc, &u, 4);
#endif
  const double t = dmul(static_cast<double>(xc), 1.4426950408889634);
  const double big = 6755399441055744.0;  // 1.5·2^52
  const double kb = dadd(t, big);
  const double k = dadd(kb, -big);
  const double r = dmul(dadd(t, -k), 0.6931471805599453);  // t − k is exact
  double p = 1.0 / 479001600.0;  // 1/12!
  p = dadd(dmul(p, r), 1.0 / 39916800.0);
  p = dadd(dmul(p, r), 1.0 / 3628800.0);
  p = dadd(dmul(p, r), 1.0 / 362880.0);
  p = dadd(dmul(p, r), 1.0 / 40320.0);
  p = dadd(dmul(p, r), 1.0 / 5040.0);
  p = dadd(dmul(p, r), 1.0 / 720.0);
  p = dadd(dmul(p, r), 1.0 / 120.0);
  p = dadd(dmul(p, r), 1.0 / 24.0);
  p = dadd(dmul(p, r), 1.0 / 6.0);
  p = dadd(dmul(p, r), 0.5);
  p = dadd(dmul(p, r), 1.0);
  p = dadd(dmul(p, r), 1.0);
#if defined(__CUDA_ARCH__)
  const long long kbits = __double_as_longlong(kb) - __double_as_longlong(big);
  const double scale = __longlong_as_double((kbits + 1023) << 52);
#else
  int64_t kbits, bbits;
  __builtin_memcpy(&kbits, &kb, 8);
  __builtin_memcpy(&bbits, &big, 8);
  kbits = static_cast<int64_t>(static_cast<uint64_t>(kbits - bbits + 1023) << 52);
  double scale;
  __builtin_memcpy(&scale, &kbits, 8);
#endif
  return static_cast<float>(dmul(p, scale));
}

// SiLU(x) = x·σ(x) = x / (1 + e^(−x)), e^(−x) by exp_f32 on both backends.
ITK_HD float silu(float x) { return fdiv(x, fadd(1.0f, exp_f32(-x))); }

// GroupNorm output of one element (§4): (x − μ)·(1/√(σ²+eps))·γ + β, μ and 1/√(σ²+eps) rounded to float.
ITK_HD float gn_affine(float x, float mean, float inv, float gamma, float beta) {
  return fadd(fmul(fmul(fsub(x, mean), inv), gamma), beta);
}

// GroupNorm statistics of one (image, group) span of n values (§4), from the double sums each
// backend accumulates in its own order (CPU: float lanes combined in double; GPU: a block
// reduction): μ = Σx/n rounded to float, then, from the squared deviations from that float μ,
// 1/√(Σ(x − μ)²/n + eps) rounded to float. unet_ops.cc (gn_stats) and cuda/unet_norm.cu use these.
ITK_HD float gn_mean(double sum, double n) { return static_cast<float>(ddiv(sum, n)); }
ITK_HD float gn_inv_std(double sq_dev, double n, float eps) {
  return static_cast<float>(ddiv(1.0, dsqrt(dadd(ddiv(sq_dev, n), static_cast<double>(eps)))));
}

// Attention softmax of one query row with max subtraction (§4 attention step 4):
// p_m = e^(s_m − max)·inv with inv = 1/Σ_m e^(s_m − max), the sum taken in double (in key order on
// the CPU, by warp lanes on the GPU) and inv rounded to float. unet_ops.cc and cuda/unet_attn.cu.
ITK_HD float softmax_exp(float s, float mx) { return exp_f32(fsub(s, mx)); }
ITK_HD float softmax_inv(double sum) { return static_cast<float>(ddiv(1.0, sum)); }

// Block output (§4 resnet step 5, attention step 7): (a + b)/s, the division skipped when s = 1.
ITK_HD float residual(float a, float b, float s) {
  const float v = fadd(a, b);
  return s == 1.0f ? v : fdiv(v, s);
}

}  // namespace itk

// Philox words -> uniforms and normals (docs/design/randomness.md §4–5).
#pragma once
#include "ikmath.h"
#include "philox.h"

namespace itk {

// U24(x) = ((x >> 8) | 1) * 2^-24: an odd integer below 2^24, so exact, strictly inside (0, 1)
// and symmetric under u -> 1 - u.
ITK_HD float u24(uint32_t x) {
  return static_cast<float>((x >> 8) | 1u) * 5.9604644775390625e-08f;
}

// U32(x) = (x + 0.5) * 2^-32: exact in float64, strictly inside (0, 1).
ITK_HD double u32d(uint32_t x) {
  return (static_cast<double>(x) + 0.5) * 2.3283064365386962890625e-10;
}

// Box-Muller on one word pair: r = sqrt(-2 ln U24(a)), theta = 2 pi ((b >> 8) | 1) / 2^24,
// z0 = r cos theta, z1 = r sin theta. Branch-free, so warps never diverge.
ITK_HD void box_muller(uint32_t a, uint32_t b, float* z0, float* z1) {
  const float r = fsqrt(fmul(-2.0f, ik_logf(u24(a))));
  float s, c;
  ik_sincos_turn24((b >> 8) | 1u, &s, &c);
  *z0 = fmul(r, c);
  *z1 = fmul(r, s);
}

// The four normals of one Philox block: words (0,1) -> z0, z1 and (2,3) -> z2, z3.
ITK_HD void normals4(const Philox4& w, float z[4]) {
  box_muller(w.v[0], w.v[1], &z[0], &z[1]);
  box_muller(w.v[2], w.v[3], &z[2], &z[3]);
}

}  // namespace itk

// Per-element arithmetic of the UNet forward pass (docs/design/unet.md §4) shared by the CPU
// ops (native/unet/unet_ops.cc) and the CUDA kernels (native/unet/cuda/unet_*.cu): GroupNorm's affine map,
// SiLU and the scaled residual. Separately rounded operations (itk_hd.h), so host and device
// evaluate the same expression tree; only expf differs (libm vs CUDA, ≤ 2 ulp).
#pragma once
#include <cmath>

#include "itk_hd.h"

namespace itk {

// SiLU(x) = x·σ(x) = x / (1 + e^(−x)).
ITK_HD float silu(float x) { return fdiv(x, fadd(1.0f, expf(-x))); }

// GroupNorm output of one element (§4): (x − μ)·(1/√(σ²+eps))·γ + β, μ and 1/√(σ²+eps) rounded to float.
ITK_HD float gn_affine(float x, float mean, float inv, float gamma, float beta) {
  return fadd(fmul(fmul(fsub(x, mean), inv), gamma), beta);
}

// Block output (§4 resnet step 5, attention step 7): (a + b)/s, the division skipped when s = 1.
ITK_HD float residual(float a, float b, float s) {
  const float v = fadd(a, b);
  return s == 1.0f ? v : fdiv(v, s);
}

}  // namespace itk

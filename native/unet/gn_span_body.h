// The one body of the GroupNorm span loops (gn_span.h), included by gn_span.cc (baseline) and
// gn_span_x86.cc (AVX2, AVX-512), where the caller's target attribute decides the vector width.
// Always inlined so each caller vectorises it for its own ISA.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels/quant_ops.h"
#include "../kernels/unet_elem.h"

namespace itk {
namespace unet {

__attribute__((always_inline)) inline void gn_quant_span_body(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool act,
                                                              float delta, float zero, uint8_t* codes) {
  if (act) {
    for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quant_code(silu(gn_affine(x[i], mf, inv, ga, be)), delta, zero, 255));
  } else {
    for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quant_code(gn_affine(x[i], mf, inv, ga, be), delta, zero, 255));
  }
}

__attribute__((always_inline)) inline void gn_span_body(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool act,
                                                        float* y) {
  if (act) {
    for (std::size_t i = 0; i < n; ++i) y[i] = silu(gn_affine(x[i], mf, inv, ga, be));
  } else {
    for (std::size_t i = 0; i < n; ++i) y[i] = gn_affine(x[i], mf, inv, ga, be);
  }
}

}  // namespace unet
}  // namespace itk

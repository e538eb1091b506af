// The one body of the span loops of elem_span.h, included by elem_span.cc (baseline) and
// elem_span_x86.cc (AVX2, AVX-512). ITK_ELEM_SPAN_TABLE(suffix, attr) defines one table whose
// functions carry `attr` (a target attribute, or nothing), so each is the compiler's vectorisation
// of the same scalar loop for that ISA.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels/quant_ops.h"
#include "../kernels/unet_elem.h"
#include "elem_span.h"

#define ITK_ELEM_SPAN_TABLE(SUFFIX, ATTR)                                                                                              \
  namespace {                                                                                                                          \
  ATTR void gn_quant_##SUFFIX(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool act, float delta, float zero, \
                              uint8_t* codes) {                                                                                        \
    if (act) {                                                                                                                         \
      for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quant_code(silu(gn_affine(x[i], mf, inv, ga, be)), delta, zero, 255)); \
    } else {                                                                                                                           \
      for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quant_code(gn_affine(x[i], mf, inv, ga, be), delta, zero, 255));       \
    }                                                                                                                                  \
  }                                                                                                                                    \
  ATTR void gn_##SUFFIX(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool act, float* y) {                   \
    if (act) {                                                                                                                         \
      for (std::size_t i = 0; i < n; ++i) y[i] = silu(gn_affine(x[i], mf, inv, ga, be));                                               \
    } else {                                                                                                                           \
      for (std::size_t i = 0; i < n; ++i) y[i] = gn_affine(x[i], mf, inv, ga, be);                                                     \
    }                                                                                                                                  \
  }                                                                                                                                    \
  ATTR void softmax_exp_##SUFFIX(float* s, std::size_t n, float mx) {                                                                   \
    for (std::size_t i = 0; i < n; ++i) s[i] = softmax_exp(s[i], mx);                                                                  \
  }                                                                                                                                    \
  ATTR void silu_##SUFFIX(float* x, std::size_t n) {                                                                                    \
    for (std::size_t i = 0; i < n; ++i) x[i] = silu(x[i]);                                                                             \
  }                                                                                                                                    \
  }                                                                                                                                    \
  ElemSpanKernels elem_span_table_##SUFFIX() {                                                                                         \
    ElemSpanKernels k;                                                                                                                 \
    k.gn_quant = gn_quant_##SUFFIX;                                                                                                    \
    k.gn = gn_##SUFFIX;                                                                                                                \
    k.softmax_exp = softmax_exp_##SUFFIX;                                                                                              \
    k.silu = silu_##SUFFIX;                                                                                                            \
    k.name = #SUFFIX;                                                                                                                  \
    return k;                                                                                                                          \
  }

// The one body of the span loops of elem_span.h, included by elem_span.cc (baseline) and
// elem_span_x86.cc (AVX2, AVX-512). ITK_ELEM_SPAN_TABLE(suffix, attr) defines one table whose
// functions carry `attr` (a target attribute, or nothing), so each is the compiler's vectorisation
// of the same scalar loop for that ISA.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cmath>
#include <cstring>

#include "../kernels/quant_ops.h"
#include "../kernels/unet_elem.h"
#include "elem_span.h"

namespace itk {
namespace unet {

// The 8-bit code of SiLU(a) (GroupNorm+SiLU+quantizer, gn_quant) is rint(v) clamped, with
// v = fl(fl(a / fl(1 + exp_f32(−a))) / Δ): an integer, so exp_f32's double polynomial (~30 double
// operations per element, most of gn_quant's time) is needed only where v lies near a rounding
// boundary k + ½. silu_code_hint evaluates v′ in float with a cheap e^x (Cody–Waite reduction
// x = n·ln2 + r, |r| ≤ 0.35, Taylor to degree 7: truncation < 6e-9) and a reciprocal of Δ, and
// returns rint(v′) and whether that is certain: |a| ≤ 80 (no overflow or underflow in the hint),
// |v′| < 2²² (v′ − rint(v′) exact) and v′ farther than kSiluHintTol·|v′| from the nearest
// boundary. The hint's SiLU is within 2.6e-7 relative of silu() (largest over every 13th float
// with |a| ≤ 80, tools/silu_code_check.cc), the two final roundings add ≤ 1.2e-7, and the
// tolerance 2^-18 = 3.8e-6 is 8 × that sum; about 0.02 % of the elements fall back (a spread of a
// like the model's activations, Δ = 0.0171).
// Uncertain elements take the exact path, so the codes are those of quant_code(silu(·)) bit for
// bit: tools/silu_code_check.cc compares every table against the exact path on 44M float bit
// patterns at 24 (Δ, z) (0 mismatches; with a zero tolerance it finds some), and
// test/unet-elem.test.ts runs dense ramps through group_norm_quant_nhwc against group_norm then
// quantize_nhwc.
constexpr float kSiluHintTol = 3.814697265625e-06f;  // 2^-18

// SiLU(a) in float with the cheap e^x: the hint's value, |a| clamped to 80 inside (the caller
// treats |a| > 80 as uncertain).
inline float silu_hint(float a) {
  // Selects and tests on the bits: float compares may trap (-ftrapping-math), which keeps GCC
  // from vectorising the loop.
  uint32_t ua;
  std::memcpy(&ua, &a, 4);
  const uint32_t aa = ua & 0x7fffffffu;
  // x = −a, its magnitude clamped to 80 so that 2^n below stays a normal float for any a
  const uint32_t ux = (aa <= 0x42a00000u ? aa : 0x42a00000u) | ((ua & 0x80000000u) ^ 0x80000000u);
  float x;
  std::memcpy(&x, &ux, 4);
  const float n = rintf(x * 1.44269504088896341f);  // |n| ≤ 116
  const float r = (x - n * 0.693359375f) - n * -2.12194440054690583e-4f;  // n·ln2_hi exact
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t eb = (static_cast<int32_t>(n) + 127) * 8388608;  // 2^n: n + 127 in the exponent bits
  float scale;
  std::memcpy(&scale, &eb, 4);
  return a / (1.0f + p * scale);
}

// rint(SiLU(a)/Δ) from the hint, and whether it is certain (see above). `and` of the tests as
// & on bools, not &&: no branch in the vectorised loop.
inline float silu_code_hint(float a, float delta, bool* sure) {
  uint32_t ua;
  std::memcpy(&ua, &a, 4);
  const bool in_range = (ua & 0x7fffffffu) <= 0x42a00000u;  // |a| ≤ 80 (NaN not)
  const float v = silu_hint(a) * (1.0f / delta);  // a reciprocal multiply: one more rounding, well inside the tolerance
  const float k = rintf(v);
  uint32_t uv;
  std::memcpy(&uv, &v, 4);
  const uint32_t av_bits = uv & 0x7fffffffu;
  float av;
  std::memcpy(&av, &av_bits, 4);
  // margin > 0 ⇔ its bits, as a signed integer, are > 0 (NaN excluded by the |v| < 2^22 test)
  const float margin = (0.5f - std::fabs(v - k)) - kSiluHintTol * av;
  int32_t mb;
  std::memcpy(&mb, &margin, 4);
  *sure = in_range & (av_bits < 0x4a800000u) & (mb > 0);
  return k;
}

// The tail of quant_code (quant_ops.h) from the rounded value k = rint(x/Δ): the same code.
inline uint8_t code_from_rint(float k, float zero) {
  float q = k + zero;
  if (!(q >= 0.0f)) q = 0.0f;
  if (q > 255.0f) q = 255.0f;
  return static_cast<uint8_t>(static_cast<int>(q));
}

}  // namespace unet
}  // namespace itk

#define ITK_ELEM_SPAN_TABLE(SUFFIX, ATTR)                                                                                              \
  namespace {                                                                                                                          \
  ATTR void gn_quant_##SUFFIX(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool act, float delta, float zero, \
                              uint8_t* codes) {                                                                                        \
    if (act) {                                                                                                                         \
      /* chunks: a vectorised pass of silu_code_hint, then the exact path for the uncertain few */                                    \
      for (std::size_t i0 = 0; i0 < n; i0 += 256) {                                                                                    \
        const std::size_t m = n - i0 < 256 ? n - i0 : 256;                                                                             \
        bool unsure[256];                                                                                                              \
        unsigned any = 0; /* the scan below runs only when some element is uncertain (rare) */                                       \
        for (std::size_t i = 0; i < m; ++i) {                                                                                          \
          bool sure;                                                                                                                   \
          const float k = silu_code_hint(gn_affine(x[i0 + i], mf, inv, ga, be), delta, &sure);                                         \
          codes[i0 + i] = code_from_rint(k, zero);                                                                                     \
          unsure[i] = !sure;                                                                                                           \
          any |= static_cast<unsigned>(!sure);                                                                                         \
        }                                                                                                                              \
        if (any)                                                                                                                       \
          for (std::size_t i = 0; i < m; ++i)                                                                                          \
            if (unsure[i]) codes[i0 + i] = static_cast<uint8_t>(quant_code(silu(gn_affine(x[i0 + i], mf, inv, ga, be)), delta, zero, 255)); \
      }                                                                                                                                \
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

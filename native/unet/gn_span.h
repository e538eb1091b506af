// Per-span loops of GroupNorm(+SiLU) (unet_ops.cc group_norm / group_norm_quant_nhwc): the
// per-element math of native/kernels/unet_elem.h and quant_ops.h applied to a contiguous span,
// compiled once per ISA and chosen at run time through native/core/isa.h (so ITOKIT_CPU reaches
// them, unlike ITK_ISA_CLONES).
//
// Why not target_clones: GCC's avx512f clone keeps its generic tuning, which prefers 256-bit
// vectors, so SiLU's double-precision exponential (exp_f32: ~30 double operations per element)
// ran 4 lanes per instruction. The AVX-512 table here is compiled with prefer-vector-width=512
// (8 double lanes). Every path is the compiler's vectorisation of the same scalar loop
// (-ffp-contract=off, no -ffast-math, no reassociation), so each lane performs exactly the IEEE
// operations of the scalar code and all tables give the same bits; the choice changes speed only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace itk {
namespace unet {

// codes[i] = quant_code(SiLU?(gn_affine(x[i], mf, inv, ga, be)), Δ, z, 255) for i < n.
using GnQuantSpanFn = void (*)(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta, float zero,
                               uint8_t* codes);
// y[i] = SiLU?(gn_affine(x[i], mf, inv, ga, be)) for i < n.
using GnSpanFn = void (*)(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y);

struct GnSpanKernels {
  GnQuantSpanFn quant = nullptr;
  GnSpanFn affine = nullptr;
  const char* name = "scalar";
};

// The table for this CPU under the ITOKIT_CPU cap (chosen once).
const GnSpanKernels& gn_span_kernels();
// A specific table ("scalar", "avx2", "avx512"); false when the CPU lacks it.
bool gn_span_kernels_named(const std::string& name, GnSpanKernels* out);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
void gn_quant_span_avx2(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta, float zero, uint8_t* codes);
void gn_span_avx2(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y);
void gn_quant_span_avx512(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta, float zero,
                          uint8_t* codes);
void gn_span_avx512(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y);
#endif

}  // namespace unet
}  // namespace itk

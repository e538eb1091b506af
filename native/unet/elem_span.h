// Span loops of the UNet's per-element math (native/kernels/unet_elem.h, quant_ops.h) as per-ISA
// tables chosen at run time through native/core/isa.h (so ITOKIT_CPU reaches them, unlike
// ITK_ISA_CLONES): GroupNorm(+SiLU)(+8-bit quantizer) for group_norm / group_norm_quant_nhwc,
// the softmax exponentials of an attention row, SiLU in place.
//
// Why not target_clones: GCC's avx512f clone keeps its generic tuning, which prefers 256-bit
// vectors, so exp_f32's double-precision polynomial (~30 double operations per element) ran 4
// lanes per instruction. The AVX-512 table here is compiled with prefer-vector-width=512 (8 double
// lanes). Every table is the compiler's vectorisation of the same scalar loop (elem_span_body.h;
// -ffp-contract=off, no -ffast-math, no reassociation), so each lane performs exactly the IEEE
// operations of the scalar code and all tables give the same bits; the choice changes speed only.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace itk {
namespace unet {

struct ElemSpanKernels {
  // codes[i] = quant_code(SiLU?(gn_affine(x[i], mf, inv, ga, be)), Δ, z, 255) for i < n.
  void (*gn_quant)(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta, float zero,
                   uint8_t* codes) = nullptr;
  // y[i] = SiLU?(gn_affine(x[i], mf, inv, ga, be)) for i < n.
  void (*gn)(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y) = nullptr;
  // s[i] = softmax_exp(s[i], mx) = exp_f32(s[i] − mx) for i < n.
  void (*softmax_exp)(float* s, std::size_t n, float mx) = nullptr;
  // x[i] = SiLU(x[i]) for i < n.
  void (*silu)(float* x, std::size_t n) = nullptr;
  const char* name = "scalar";
};

// The table for this CPU under the ITOKIT_CPU cap (chosen once).
const ElemSpanKernels& elem_span_kernels();
// A specific table ("scalar", "avx2", "avx512"); false when the CPU lacks it.
bool elem_span_kernels_named(const std::string& name, ElemSpanKernels* out);

ElemSpanKernels elem_span_table_scalar();
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
ElemSpanKernels elem_span_table_avx2();
ElemSpanKernels elem_span_table_avx512();
#endif

}  // namespace unet
}  // namespace itk

// The UNet's operators on NCHW float32 tensors (docs/design/unet.md §4, §9): convolution as
// tiled GEMM (FP32, and integer W4A8/W8A8 with the zero-point identity), GroupNorm(+SiLU),
// single/multi-head attention core, nearest upsampling, channel concatenation.
// Work is split into tiles that depend only on the shapes, never on the thread count.
#pragma once
#include <cstdint>
#include <vector>

#include "unet_model.h"
#include "unet_tensor.h"

namespace itk {
namespace unet {

// Weights [O, K] packed for the FP32 micro-kernels (fgemm.h): ceil(O/8) blocks of [K][8], rows
// past O zero.
std::vector<float> pack_weights(const float* w, int O, int K);

// Blocked implicit GEMM (fgemm.h): columns are the output pixels of all images, tiles of 48
// columns × 8 channels, K in blocks of 128 whose patch rows are copied from runs of consecutive
// input pixels. Every output is fma-accumulated over k = (ci·KH + ky)·KW + kx ascending, then
// + bias, then + add: the same bits on every ISA, thread count and on the GPU.
// y = conv(x) + bias (+ add[b, o] broadcast over H, W when add != nullptr), with weights `w`
// ([O, I, KH, KW]; the layer's own or its dequantized ones).
struct FGemmKernels;
// `kern`: a specific micro-kernel path (tests); nullptr: fgemm_kernels().
Tensor conv_fp(const Conv& c, const Tensor& x, const float* w, const float* add = nullptr, const FGemmKernels* kern = nullptr);
// conv_fp on weights already packed by pack_weights (w [O, K] → `wp`): the same bits.
Tensor conv_fp_packed(const Conv& c, const Tensor& x, const float* wp, const float* add = nullptr, const FGemmKernels* kern = nullptr);

// x quantized to u8 codes in NHWC layout with (Δ, z): [B, H, W, C].
std::vector<uint8_t> quantize_nhwc(const Tensor& x, float delta, float zero);

// Integer conv (§9): u8 activations (NHWC, from quantize_nhwc with the same Δ, z) times the
// layer's integer weights, int32 accumulators, zero-point identity in int64, then
// y = Δa·Δw·acc′ + bias (+ add). Padding taps use the zero point z.
Tensor conv_int(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                const float* add = nullptr);

// GroupNorm over G groups (statistics in double), optionally followed by SiLU.
Tensor group_norm(const GroupNorm& gn, const Tensor& x, bool silu);

// GroupNorm(+SiLU) fused with the 8-bit activation quantizer: the codes quantize_nhwc(group_norm(
// gn, x, silu), Δ, z) would give, bit for bit, in one pass that writes NHWC u8 directly (no FP32
// tensor in between). Statistics exactly as group_norm.
std::vector<uint8_t> group_norm_quant_nhwc(const GroupNorm& gn, const Tensor& x, bool silu, float delta, float zero);

// In place SiLU.
void silu_inplace(Tensor* x);

// Multi-head attention core on NCHW projections q, k, v ([B, C, H, W], tokens n = y·W + x):
// softmax(Q_h K_hᵀ / √d) V_h per head, FP32 with max subtraction. Returns [B, C, H, W].
Tensor attention_core(const Tensor& q, const Tensor& k, const Tensor& v, int head_dim);

// Nearest ×2 upsampling.
Tensor upsample2x(const Tensor& x);
// Nearest ×2 upsampling of NHWC u8 codes [B, H, W, C] → [B, 2H, 2W, C].
std::vector<uint8_t> upsample2x_nhwc(const std::vector<uint8_t>& q, int B, int H, int W, int C);
// Channel concatenation [a, b].
Tensor concat(const Tensor& a, const Tensor& b);
// a = (a + b) / s elementwise (shapes equal).
void add_scale_inplace(Tensor* a, const Tensor& b, float s);

}  // namespace unet
}  // namespace itk

// FP convolution on tensor cores for fpPrecision 'tf32' and 'bf16' (docs/unet.md "fpPrecision";
// sm_80+): the implicit GEMM of unet_conv.cu (M = C_out, N = B·Ho·Wo, K = C_in·KH·KW in OIHW order,
// same patch gather, padding taps 0) with operands rounded once when they enter shared memory —
// TF32 by cvt.rna (10 mantissa bits), bfloat16 by round-to-nearest-even (7 bits) — and multiplied by
// mma.sync m16n8k8 .tf32 / m16n8k16 .bf16 with FP32 accumulation. The sum order is the tensor
// core's, so results differ from the FP32 path by the operand rounding (about 2^-11 and 2^-8
// relative per product) plus reassociation; docs/unet.md gives the whole-model error.
//
// Tile: 64 channels × 64 columns, K in steps of 16 through shared memory, 4 warps as 2 × 2, each
// 32 × 32 = 2 m16 × 4 n8 tiles. Rows of 16 operands are kS = 20 words apart (the TF32 fragment
// loads of 8 rows × 4 words then hit 32 distinct banks). Fragment maps: qmma_frag.h.
#include <cuda_runtime.h>

#include "../../kernels/itk_hd.h"
#include "../unet_model.h"
#include "qmma_frag.h"
#include "unet_dev.cuh"
#include "unet_mma.cuh"
#include "unet_conv_mma_kernels.cuh"

namespace itk {
namespace unet {
namespace dev {
using namespace fmk;  // the kernels of unet_conv_mma_kernels.cuh

void conv_fp_mma(const ConvGeo& g, const float* x, const float* w, const float* bias, const float* add, int add_stride,
                 float* y, FpPrecision p, cudaStream_t s) {
  const long long Ntot = static_cast<long long>(g.B) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((Ntot + kTile - 1) / kTile), static_cast<unsigned>((g.O + kTile - 1) / kTile));
  require(grid.y <= 65535u, Code::Shape, "conv: too many output channels for one launch");
  if (p == FpPrecision::Tf32) {
    conv_mma_kernel<static_cast<int>(FpPrecision::Tf32)><<<grid, kThreads, 0, s>>>(g, x, w, bias, add, add_stride, y);
  } else {
    conv_mma_kernel<static_cast<int>(FpPrecision::Bf16)><<<grid, kThreads, 0, s>>>(g, x, w, bias, add, add_stride, y);
  }
  launched("unet FP conv (tensor cores)");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

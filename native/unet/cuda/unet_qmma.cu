// W4A8 / W8A8 integer convolution on integer tensor cores (docs/design/unet.md §9, "CUDA"; sm_80+):
// the implicit GEMM of unet_qconv.cu (same NHWC u8 activation codes, same kernel-layout weight
// codes, same gather, same group flushes, same epilogue) with the 32-code K block multiplied by
// mma.sync m16n8k32 u8·u8 → s32 instead of dp4a. Fragment layouts and shared-memory offsets are the
// functions of qmma_frag.h (checked on the CPU by tools/unet-cuda-emu).
//
// Tile: 64 output channels × 64 GEMM columns (pixels of all images), 4 warps as 2 × 2, each warp
// 32 × 32 = 2 m16 × 4 n8 MMA tiles. Per K block: the weight block goes to shared memory as 8 words
// per channel (4-bit codes unpacked to one byte each: a packed byte i holds code i | code i+16 << 4,
// so the low nibbles of word w are codes 4w.. and the high ones 16 + 4w..), the activation block as
// 8 words per column (CodeGather, as the dp4a kernel), then 8 MMAs per warp.
//
// Exactness: products of u8 codes summed in s32 are exact (a group sums at most K ≤ 2^15 codes:
// 255² · 2^15 < 2^31), so saw equals the dp4a kernel's and the CPU's whatever the order. Σa per
// column is summed by the gathering threads (dp4a against 0x01010101, also exact) and shared at
// each group's end. Then zero_corrected, qconv_accumulate and the quant_ops.h epilogue as in
// unet_qconv.cu: the outputs are bit-identical to both.
#include <cuda_runtime.h>

#include "../../kernels/quant_ops.h"
#include "qmma_frag.h"
#include "unet_dev.cuh"
#include "unet_mma.cuh"
#include "unet_qmma_kernels.cuh"

namespace itk {
namespace unet {
namespace dev {
using namespace qmk;  // the kernels of unet_qmma_kernels.cuh

void conv_int_mma(const ConvGeo& g, const uint8_t* xq, const QW& q, const float* bias, const float* aq,
                  const float* add, int add_stride, float* y, cudaStream_t s) {
  const long long Ntot = static_cast<long long>(g.B) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((Ntot + kTile - 1) / kTile), static_cast<unsigned>((g.O + kTile - 1) / kTile));
  require(grid.y <= 65535u, Code::Shape, "integer conv: too many output channels for one launch");
  qmma_kernel<<<grid, kMmaThreads, 0, s>>>(g, xq, q, bias, aq, add, add_stride, y);
  launched("unet integer conv (tensor cores)");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

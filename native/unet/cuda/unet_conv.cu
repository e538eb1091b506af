// FP32 convolution as an implicit GEMM (docs/design/unet.md §9, "Conv as GEMM"): M = C_out,
// N = B·Ho·Wo (all images of the batch in one GEMM, so small late-stage maps still fill tiles),
// K = C_in·KH·KW in OIHW order k = (ci·KH + ky)·KW + kx. Tiles of 64 channels × 64 pixels,
// K in steps of 16 through shared memory; the input patch is gathered on the fly (no im2col
// buffer), padding taps read 0. Each thread owns a 4 × 4 block of outputs.
//
// Accumulation matches the CPU's conv_fp exactly (native/unet/fgemm.h): every output starts at +0
// and takes acc = fma(w, x, acc) for k = 0, 1, …, K−1 in order (__fmaf_rn, one rounding per k),
// then + bias, then + add (separately rounded). Zero-filled tail columns of the last K tile
// leave acc unchanged, as the CPU's zero padding does.
#include "../../kernels/itk_hd.h"
#include "unet_dev.cuh"
#include "unet_conv_kernels.cuh"

namespace itk {
namespace unet {
namespace dev {
using namespace fpk;  // the kernels of unet_conv_kernels.cuh

void conv_fp(const ConvGeo& g, const float* x, const float* w, const float* bias, const float* add, int add_stride,
             float* y, cudaStream_t s) {
  const long long Ntot = static_cast<long long>(g.B) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((Ntot + kBN - 1) / kBN), static_cast<unsigned>((g.O + kBM - 1) / kBM));
  require(grid.y <= 65535u, Code::Shape, "conv: too many output channels for one launch");
  conv_fp_kernel<<<grid, kThreads, 0, s>>>(g, x, w, bias, add, add_stride, y);
  launched("unet FP32 conv");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

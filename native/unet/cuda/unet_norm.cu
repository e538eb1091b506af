// GroupNorm(+SiLU) on the GPU (docs/design/unet.md §4): one block per (image, group); the
// group's C/G·H·W values are contiguous in NCHW. Two passes as on the CPU: μ = Σx/n, then
// σ² = Σ(x − float(μ))²/n, each summed in double by a fixed thread→element mapping and a fixed
// shared-memory tree, so the result never depends on scheduling (deterministic, run to run).
// The affine map and SiLU are the ITK_HD functions of native/kernels/unet_elem.h.
#include "../../kernels/unet_elem.h"
#include "unet_dev.cuh"
#include "unet_norm_kernels.cuh"

namespace itk {
namespace unet {
namespace dev {
using namespace gnk;  // the kernels of unet_norm_kernels.cuh

void group_norm(const float* x, int B, int C, int HW, int G, float eps, const float* gamma, const float* beta,
                bool act, float* y, cudaStream_t s) {
  require(G > 0 && C % G == 0, Code::Shape, "GroupNorm: channels must be divisible by groups");
  gn_kernel<<<static_cast<unsigned>(B) * G, kThreads, 0, s>>>(x, C, HW, G, eps, gamma, beta, act, GnOut{y, nullptr, nullptr});
  launched("unet GroupNorm");
}

void group_norm_quant_nhwc(const float* x, int B, int C, int HW, int G, float eps, const float* gamma, const float* beta,
                           bool act, const float* aq, uint8_t* codes, cudaStream_t s) {
  require(G > 0 && C % G == 0, Code::Shape, "GroupNorm: channels must be divisible by groups");
  gn_kernel<<<static_cast<unsigned>(B) * G, kThreads, 0, s>>>(x, C, HW, G, eps, gamma, beta, act, GnOut{nullptr, codes, aq});
  launched("unet GroupNorm + activation quantizer");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

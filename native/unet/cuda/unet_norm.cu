// GroupNorm(+SiLU) on the GPU (docs/design/unet.md §4): one block per (image, group); the
// group's C/G·H·W values are contiguous in NCHW. Two passes as on the CPU: μ = Σx/n, then
// σ² = Σ(x − float(μ))²/n, each summed in double by a fixed thread→element mapping and a fixed
// shared-memory tree, so the result never depends on scheduling (deterministic, run to run).
// The affine map and SiLU are the ITK_HD functions of native/kernels/unet_elem.h.
#include "../../kernels/unet_elem.h"
#include "unet_dev.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace {

constexpr int kThreads = 256;

// Σ over the block of v (one value per thread), by a fixed tree; every thread gets the result.
__device__ double block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] = dadd(sh[threadIdx.x], sh[threadIdx.x + s]);
    __syncthreads();
  }
  const double r = sh[0];
  __syncthreads();  // sh is reused by the next call
  return r;
}

__global__ void __launch_bounds__(kThreads) gn_kernel(const float* __restrict x, int C, int HW, int G, float eps,
                                                      const float* __restrict gamma, const float* __restrict beta,
                                                      bool act, float* __restrict y) {
  __shared__ double sh[kThreads];
  const int b = blockIdx.x / G, g = blockIdx.x % G;
  const int cpg = C / G;
  const std::size_t n = static_cast<std::size_t>(cpg) * HW;
  const std::size_t base = (static_cast<std::size_t>(b) * C + static_cast<std::size_t>(g) * cpg) * HW;
  const float* xs = x + base;
  float* ys = y + base;
  double s = 0.0;
  for (std::size_t i = threadIdx.x; i < n; i += kThreads) s = dadd(s, static_cast<double>(xs[i]));
  const float mf = gn_mean(block_sum(s, sh), static_cast<double>(n));
  double q = 0.0;
  for (std::size_t i = threadIdx.x; i < n; i += kThreads) {
    const double d = static_cast<double>(fsub(xs[i], mf));
    q = dadd(q, dmul(d, d));
  }
  const float inv = gn_inv_std(block_sum(q, sh), static_cast<double>(n), eps);
  for (std::size_t i = threadIdx.x; i < n; i += kThreads) {
    const int ch = g * cpg + static_cast<int>(i / HW);
    const float t = gn_affine(xs[i], mf, inv, gamma[ch], beta[ch]);
    ys[i] = act ? itk::silu(t) : t;
  }
}

}  // namespace

void group_norm(const float* x, int B, int C, int HW, int G, float eps, const float* gamma, const float* beta,
                bool act, float* y, cudaStream_t s) {
  require(G > 0 && C % G == 0, Code::Shape, "GroupNorm: channels must be divisible by groups");
  gn_kernel<<<static_cast<unsigned>(B) * G, kThreads, 0, s>>>(x, C, HW, G, eps, gamma, beta, act, y);
  launched("unet GroupNorm");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

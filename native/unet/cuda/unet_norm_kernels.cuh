// The kernels of unet_norm.cu (see its header comment), device code only, so that the CPU emulation
// of their bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these very lines.
#pragma once
#include "../../kernels/unet_elem.h"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace gnk {

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

}  // namespace gnk
}  // namespace dev
}  // namespace unet
}  // namespace itk

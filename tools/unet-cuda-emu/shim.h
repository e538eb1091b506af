// Host shim that lets the bodies of native/unet/cuda/unet_conv.cu, unet_qconv.cu and unet_norm.cu compile as
// C++ (test/unet-device.test.ts): one OS thread per CUDA thread, std::barrier for __syncthreads,
// __shared__ arrays as function statics (blocks run one after another), __dp4a in plain integers,
// __fmaf_rn as std::fma (both round once).
#pragma once
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstddef>
#include <thread>
#include <vector>
#include "native/kernels/quant_ops.h"
#include "native/kernels/unet_elem.h"
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline std::barrier<>* g_bar = nullptr;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static
inline void __syncthreads() { g_bar->arrive_and_wait(); }
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
  for (int i = 0; i < 4; ++i) c += ((a >> (8 * i)) & 255u) * ((b >> (8 * i)) & 255u);
  return c;
}
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
using std::min;
using std::max;
namespace itk { using ::expf; }
// Runs kernel(args...) over grid × block, one OS thread per CUDA thread, blocks in sequence.
template <typename F, typename... A>
void launch(dim3 grid, unsigned block, F kernel, A... args) {
  gridDim = grid;
  blockDim = dim3{block, 1, 1};
  for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
      std::barrier<> bar(block);
      g_bar = &bar;
      std::vector<std::thread> th;
      for (unsigned t = 0; t < block; ++t)
        th.emplace_back([=] { threadIdx = dim3{t, 0, 0}; blockIdx = dim3{bx, by, 0}; kernel(args...); });
      for (auto& x : th) x.join();
    }
}

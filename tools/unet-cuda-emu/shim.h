// Host shim that lets the bodies of native/unet/cuda/unet_conv.cu, unet_qconv.cu and unet_norm.cu compile as
// C++ (test/unet-device.test.ts): one OS thread per CUDA thread, std::barrier for __syncthreads,
// __shared__ arrays as function statics (blocks run one after another), __dp4a in plain integers,
// __fmaf_rn as std::fma (both round once), and the warp-level mma.sync of unet_mma.cuh as a
// 32-lane exchange that rebuilds A, B and C from the lanes' registers by the PTX ISA tables
// (§9.7.14.5, m16n8k32 .u8), written here independently of the kernel's qmma_frag.h.
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
#include "native/unet/cuda/qmma_frag.h"
struct dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;
inline std::barrier<>* g_bar = nullptr;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(x)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
struct uint4 { unsigned x, y, z, w; };
inline uint4 make_uint4(unsigned a, unsigned b, unsigned c, unsigned d) { return uint4{a, b, c, d}; }
inline void __syncthreads() { g_bar->arrive_and_wait(); }
inline unsigned __dp4a(unsigned a, unsigned b, unsigned c) {
  for (int i = 0; i < 4; ++i) c += ((a >> (8 * i)) & 255u) * ((b >> (8 * i)) & 255u);
  return c;
}
// PTX ISA m16n8k32 .u8 tables (gid = lane >> 2, tig = lane & 3):
//   A element i (register i / 4, byte i % 4): row gid for i < 4 or 8 <= i < 12, else gid + 8;
//     column 4·tig + (i & 3), + 16 for i >= 8.
//   B element i (register i / 4, byte i % 4): row 4·tig + (i & 3), + 16 for i >= 4; column gid.
//   C element i: row gid, + 8 for i >= 2; column 2·tig + (i & 1).
inline void ptx_a_elem(int lane, int i, int& row, int& col) {
  row = (lane >> 2) + ((i < 4 || (i >= 8 && i < 12)) ? 0 : 8);
  col = 4 * (lane & 3) + (i & 3) + (i >= 8 ? 16 : 0);
}
inline void ptx_b_elem(int lane, int i, int& row, int& col) {
  row = 4 * (lane & 3) + (i & 3) + (i >= 4 ? 16 : 0);
  col = lane >> 2;
}
inline void ptx_c_elem(int lane, int i, int& row, int& col) {
  row = (lane >> 2) + (i >= 2 ? 8 : 0);
  col = 2 * (lane & 3) + (i & 1);
}
inline uint32_t g_mma_a[64][32][4], g_mma_b[64][32][2];
inline int g_mma_calls = 0;  // counts warp-level MMAs (lane 0 of each warp), for the test's sanity check
// Every thread of the block calls this the same number of times (the kernel's loop is uniform),
// so the block-wide barrier stands in for the warp's convergence.
inline void mma_u8_m16n8k32(int32_t* d, const uint32_t* a, const uint32_t* b) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int r = 0; r < 4; ++r) g_mma_a[warp][lane][r] = a[r];
  for (int r = 0; r < 2; ++r) g_mma_b[warp][lane][r] = b[r];
  g_bar->arrive_and_wait();
  int A[16][32], B[32][8];
  for (int l = 0; l < 32; ++l) {
    for (int i = 0; i < 16; ++i) {
      int row, col;
      ptx_a_elem(l, i, row, col);
      A[row][col] = (g_mma_a[warp][l][i / 4] >> (8 * (i % 4))) & 255;
    }
    for (int i = 0; i < 8; ++i) {
      int row, col;
      ptx_b_elem(l, i, row, col);
      B[row][col] = (g_mma_b[warp][l][i / 4] >> (8 * (i % 4))) & 255;
    }
  }
  for (int i = 0; i < 4; ++i) {
    int row, col;
    ptx_c_elem(lane, i, row, col);
    uint32_t s = static_cast<uint32_t>(d[i]);
    for (int k = 0; k < 32; ++k) s += static_cast<uint32_t>(A[row][k] * B[k][col]);
    d[i] = static_cast<int32_t>(s);
  }
  if (lane == 0) __atomic_add_fetch(&g_mma_calls, 1, __ATOMIC_RELAXED);
  g_bar->arrive_and_wait();  // the exchange is rewritten by the next call
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

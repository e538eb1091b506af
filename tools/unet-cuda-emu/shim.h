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
#include <cstring>
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
// The FP tensor-core shapes (PTX ISA §9.7.14.5; registers of 32 bits, gid = lane >> 2, tig = lane & 3):
//   m16n8k8 .tf32  A element i (register i): row gid (+8 for i = 1, 3), column tig (+4 for i = 2, 3);
//                  B element i (register i): row tig (+4 for i = 1), column gid.
//   m16n8k16 .bf16 A element i (register i / 2, half i % 2): row gid (+8 for i = 2, 3, 6, 7),
//                  column 2·tig + (i & 1) (+8 for i >= 4); B element i: row 2·tig + (i & 1) (+8 for i >= 2), column gid.
// Accumulators as in the integer shape. The emulation sums each MMA's products in double and rounds
// once (the hardware's order is unspecified; the test bounds the difference).
namespace itk { namespace unet { enum class FpPrecision { Fp32 = 0, Tf32 = 1, Bf16 = 2 }; } }
inline float bits_f(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t f_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
// TF32 rounding of cvt.rna (11 significant bits, ties away) and bfloat16 nearest-even (8 bits),
// here by frexp/ldexp arithmetic rather than the kernel's bit tricks.
inline uint32_t tf32_bits(float x) {
  if (x == 0.0f) return f_bits(x);
  int e;
  const double m = std::frexp(static_cast<double>(x), &e);
  return f_bits(static_cast<float>(std::ldexp(std::round(std::ldexp(m, 11)), e - 11)));
}
inline uint32_t bf16x2_bits(float lo, float hi) {
  auto r = [](float x) -> uint32_t {
    if (x == 0.0f) return f_bits(x) >> 16;
    int e;
    const double m = std::frexp(static_cast<double>(x), &e);
    return f_bits(static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8))) >> 16;
  };
  return r(lo) | (r(hi) << 16);
}
inline uint32_t g_fmma_a[64][32][4], g_fmma_b[64][32][2];
template <int KS>
inline void fp_mma(float* d, const uint32_t* a, const uint32_t* b) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int r = 0; r < 4; ++r) g_fmma_a[warp][lane][r] = a[r];
  for (int r = 0; r < 2; ++r) g_fmma_b[warp][lane][r] = b[r];
  g_bar->arrive_and_wait();
  double A[16][16] = {}, B[16][8] = {};
  for (int l = 0; l < 32; ++l) {
    const int gid = l >> 2, tig = l & 3;
    if (KS == 8) {
      for (int i = 0; i < 4; ++i) A[gid + ((i & 1) ? 8 : 0)][tig + (i >= 2 ? 4 : 0)] = bits_f(g_fmma_a[warp][l][i] & 0xFFFFE000u);
      for (int i = 0; i < 2; ++i) B[tig + (i ? 4 : 0)][gid] = bits_f(g_fmma_b[warp][l][i] & 0xFFFFE000u);
    } else {
      for (int i = 0; i < 8; ++i) {
        const uint32_t h = (g_fmma_a[warp][l][i / 2] >> (16 * (i % 2))) & 0xFFFFu;
        A[gid + ((i == 2 || i == 3 || i == 6 || i == 7) ? 8 : 0)][2 * tig + (i & 1) + (i >= 4 ? 8 : 0)] = bits_f(h << 16);
      }
      for (int i = 0; i < 4; ++i) {
        const uint32_t h = (g_fmma_b[warp][l][i / 2] >> (16 * (i % 2))) & 0xFFFFu;
        B[2 * tig + (i & 1) + (i >= 2 ? 8 : 0)][gid] = bits_f(h << 16);
      }
    }
  }
  for (int i = 0; i < 4; ++i) {
    int row, col;
    ptx_c_elem(lane, i, row, col);
    double s = d[i];
    for (int k = 0; k < KS; ++k) s += A[row][k] * B[k][col];
    d[i] = static_cast<float>(s);
  }
  g_bar->arrive_and_wait();
}
inline void mma_tf32_m16n8k8(float* d, const uint32_t* a, const uint32_t* b) { fp_mma<8>(d, a, b); }
inline void mma_bf16_m16n8k16(float* d, const uint32_t* a, const uint32_t* b) { fp_mma<16>(d, a, b); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
using std::min;
using std::max;
namespace itk { using ::expf; }
// Runs kernel(args...) over grid × block: one OS thread per CUDA thread of a block, created once per
// launch; every thread walks the blocks in the same order and all meet at a barrier between blocks
// (the __shared__ statics belong to one block at a time). Same schedule as one thread set per block,
// without creating block·grid threads.
template <typename F, typename... A>
void launch(dim3 grid, unsigned block, F kernel, A... args) {
  gridDim = grid;
  blockDim = dim3{block, 1, 1};
  std::barrier<> bar(block);
  g_bar = &bar;
  std::vector<std::thread> th;
  th.reserve(block);
  for (unsigned t = 0; t < block; ++t)
    th.emplace_back([=, &bar] {
      threadIdx = dim3{t, 0, 0};
      for (unsigned by = 0; by < grid.y; ++by)
        for (unsigned bx = 0; bx < grid.x; ++bx) {
          blockIdx = dim3{bx, by, 0};
          kernel(args...);
          bar.arrive_and_wait();
        }
    });
  for (auto& x : th) x.join();
}

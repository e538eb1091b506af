// The kernels of unet_conv_mma.cu (see its header comment), device code only, so that the CPU emulation
// of their bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these very lines.
// Needs the warp MMA wrappers declared first: unet_mma.cuh on the GPU, the emulation's shim on the CPU.
#pragma once
#include "../../kernels/itk_hd.h"
#include "qmma_frag.h"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace fmk {

constexpr int kTile = 64, kBK = 16, kS = kBK + 4, kThreads = 128;

// An operand as the shared tile stores it: TF32 bits, or the bfloat16 value in the high half.
template <int P>
__device__ __forceinline__ uint32_t rounded(float v) {
  if (P == static_cast<int>(FpPrecision::Tf32)) return tf32_bits(v);
  return bf16x2_bits(0.0f, v) & 0xFFFF0000u;
}

template <int P>
__global__ void __launch_bounds__(kThreads) conv_mma_kernel(ConvGeo g, const float* __restrict x, const float* __restrict w,
                                                            const float* __restrict bias, const float* __restrict add,
                                                            int add_stride, float* __restrict y) {
  __shared__ uint32_t As[kTile * kS];  // weights, row = output channel, k contiguous
  __shared__ uint32_t Bs[kTile * kS];  // patch, row = GEMM column, k contiguous
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = 32 * (warp >> 1), wn = 32 * (warp & 1);
  const int o0 = blockIdx.y * kTile;
  const long long n0 = static_cast<long long>(blockIdx.x) * kTile;
  const int taps = g.KH * g.KW;
  const int K = g.I * taps;

  const int ncol = tid % kTile, half = tid / kTile;  // the patch column this thread gathers, rows half + 2r
  const PatchColumn col = PatchColumn::at(g, n0 + ncol);
  const float* xb = x + static_cast<std::size_t>(col.b) * g.I * g.H * g.W;

  float acc[2][4][4];
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[mt][nt][r] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += kBK) {
    // weights: 64 × 16, element e = tid + 128r → row e / 16, k e % 16 (coalesced along k)
#pragma unroll
    for (int r = 0; r < 8; ++r) {
      const int e = tid + kThreads * r;
      const int row = e / kBK, kk = e % kBK;
      const int o = o0 + row, k = k0 + kk;
      As[row * kS + kk] = rounded<P>((o < g.O && k < K) ? w[static_cast<std::size_t>(o) * K + k] : 0.0f);
    }
    // patch: 16 × 64, rows kk = half + 2r of column ncol
#pragma unroll
    for (int r = 0; r < 8; ++r) {
      const int kk = half + 2 * r, k = k0 + kk;
      float v = 0.0f;
      if (col.ok && k < K) {
        const int ci = k / taps, tap = k - ci * taps;
        const int ky = tap / g.KW, kx = tap - ky * g.KW;
        const int iy = col.iy0 + ky, ix = col.ix0 + kx;
        if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) v = xb[(static_cast<std::size_t>(ci) * g.H + iy) * g.W + ix];
      }
      Bs[ncol * kS + kk] = rounded<P>(v);
    }
    __syncthreads();
    if (P == static_cast<int>(FpPrecision::Tf32)) {
#pragma unroll
      for (int ks = 0; ks < kBK; ks += 8) {
        uint32_t bf[4][2];
#pragma unroll
        for (int nt = 0; nt < 4; ++nt)
#pragma unroll
          for (int r = 0; r < 2; ++r) bf[nt][r] = Bs[(wn + 8 * nt + qmma_b_col(lane)) * kS + ks + qmma_b_word(lane, r)];
#pragma unroll
        for (int mt = 0; mt < 2; ++mt) {
          uint32_t af[4];
#pragma unroll
          for (int r = 0; r < 4; ++r) af[r] = As[(wm + 16 * mt + qmma_a_row(lane, r)) * kS + ks + qmma_a_word(lane, r)];
#pragma unroll
          for (int nt = 0; nt < 4; ++nt) mma_tf32_m16n8k8(acc[mt][nt], af, bf[nt]);
        }
      }
    } else {
      // register = two consecutive k, the lower one in the low half
      uint32_t bf[4][2];
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const uint32_t* p = &Bs[(wn + 8 * nt + qmma_b_col(lane)) * kS + 2 * qmma_b_word(lane, r)];
          bf[nt][r] = (p[0] >> 16) | (p[1] & 0xFFFF0000u);
        }
#pragma unroll
      for (int mt = 0; mt < 2; ++mt) {
        uint32_t af[4];
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const uint32_t* p = &As[(wm + 16 * mt + qmma_a_row(lane, r)) * kS + 2 * qmma_a_word(lane, r)];
          af[r] = (p[0] >> 16) | (p[1] & 0xFFFF0000u);
        }
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) mma_bf16_m16n8k16(acc[mt][nt], af, bf[nt]);
      }
    }
    __syncthreads();
  }

  TileStore::mma(g, n0, o0, wm, wn, lane, add, add_stride, y,
                 [&](int mt, int nt, int r, int o) { return fadd(acc[mt][nt][r], bias[o]); });
}

}  // namespace fmk
}  // namespace dev
}  // namespace unet
}  // namespace itk

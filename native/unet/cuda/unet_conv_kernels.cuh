// The kernels of unet_conv.cu (see its header comment), device code only, so that the CPU emulation
// of their bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these very lines.
#pragma once
#include "../../kernels/itk_hd.h"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace fpk {

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 256;

__global__ void __launch_bounds__(kThreads) conv_fp_kernel(ConvGeo g, const float* __restrict x, const float* __restrict w,
                                                           const float* __restrict bias, const float* __restrict add,
                                                           int add_stride, float* __restrict y) {
  __shared__ float As[kBK][kBM + 4];  // weights, As[kk][o]; +4 spreads the transposed stores over banks
  __shared__ float Bs[kBK][kBN];      // patch,   Bs[kk][n]
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;
  const int o0 = blockIdx.y * kBM;
  const long long n0 = static_cast<long long>(blockIdx.x) * kBN;
  const int taps = g.KH * g.KW;
  const int K = g.I * taps;

  // The patch column this thread gathers is fixed for the whole K loop: n = n0 + tid % 64.
  const int ncol = tid % kBN;
  const long long n_ld = n0 + ncol;
  const PatchColumn col = PatchColumn::at(g, n_ld);
  const bool n_ok = col.ok;
  const float* xb = x + static_cast<std::size_t>(col.b) * g.I * g.H * g.W;
  const int iy0 = col.iy0, ix0 = col.ix0;

  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;

  for (int k0 = 0; k0 < K; k0 += kBK) {
    // weights: 64 × 16 values, 4 per thread; element e → row e / 16, column e % 16 (16 consecutive
    // k of one row per 16 threads: coalesced reads)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int e = tid + kThreads * r;
      const int row = e / kBK, kk = e % kBK;
      const int o = o0 + row, k = k0 + kk;
      As[kk][row] = (o < g.O && k < K) ? w[static_cast<std::size_t>(o) * K + k] : 0.0f;
    }
    // patch: 16 × 64 values, 4 per thread, rows kk = tid / 64 + 4r of column ncol
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int kk = tid / kBN + 4 * r;
      const int k = k0 + kk;
      float v = 0.0f;
      if (n_ok && k < K) {
        const int ci = k / taps, tap = k - ci * taps;
        const int ky = tap / g.KW, kx = tap - ky * g.KW;
        const int iy = iy0 + ky, ix = ix0 + kx;
        if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) v = xb[(static_cast<std::size_t>(ci) * g.H + iy) * g.W + ix];
      }
      Bs[kk][ncol] = v;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      float a[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = Bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = __fmaf_rn(a[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }

  TileStore::run(g, n0, o0, tx, ty, add, add_stride, y, [&](int i, int j, int o) { return fadd(acc[i][j], bias[o]); });
}

}  // namespace fpk
}  // namespace dev
}  // namespace unet
}  // namespace itk

// FP convolution on tensor cores for fpPrecision 'tf32' and 'bf16' (docs/unet.md "fpPrecision";
// sm_80+): the implicit GEMM of unet_conv.cu (M = C_out, N = B·Ho·Wo, K = C_in·KH·KW in OIHW order,
// same patch gather, padding taps 0) with operands rounded once when they enter shared memory —
// TF32 by cvt.rna (10 mantissa bits), bfloat16 by round-to-nearest-even (7 bits) — and multiplied by
// mma.sync m16n8k8 .tf32 / m16n8k16 .bf16 with FP32 accumulation. The sum order is the tensor
// core's, so results differ from the FP32 path by the operand rounding (about 2^-11 and 2^-8
// relative per product) plus reassociation; docs/unet.md gives the whole-model error.
//
// Tile: 64 channels × 64 columns, K in steps of 16 through shared memory, 4 warps as 2 × 2, each
// 32 × 32 = 2 m16 × 4 n8 tiles. Rows of 16 operands are kS = 20 words apart (the TF32 fragment
// loads of 8 rows × 4 words then hit 32 distinct banks). Fragment maps: qmma_frag.h.
#include <cuda_runtime.h>

#include "../../kernels/itk_hd.h"
#include "../unet_model.h"
#include "qmma_frag.h"
#include "unet_dev.cuh"
#include "unet_mma.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace {

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

#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int o = o0 + wm + 16 * mt + qmma_c_row(lane, r);
        if (o >= g.O) continue;
        TileStore::one(g, n0 + wn + 8 * nt + qmma_c_col(lane, r), o, fadd(acc[mt][nt][r], bias[o]), add, add_stride, y);
      }
}

}  // namespace

void conv_fp_mma(const ConvGeo& g, const float* x, const float* w, const float* bias, const float* add, int add_stride,
                 float* y, FpPrecision p, cudaStream_t s) {
  const long long Ntot = static_cast<long long>(g.B) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((Ntot + kTile - 1) / kTile), static_cast<unsigned>((g.O + kTile - 1) / kTile));
  require(grid.y <= 65535u, Code::Shape, "conv: too many output channels for one launch");
  if (p == FpPrecision::Tf32) {
    conv_mma_kernel<static_cast<int>(FpPrecision::Tf32)><<<grid, kThreads, 0, s>>>(g, x, w, bias, add, add_stride, y);
  } else {
    conv_mma_kernel<static_cast<int>(FpPrecision::Bf16)><<<grid, kThreads, 0, s>>>(g, x, w, bias, add, add_stride, y);
  }
  launched("unet FP conv (tensor cores)");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

// The kernels of unet_qmma.cu (see its header comment), device code only, so that the CPU emulation
// of their bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these very lines.
// Needs the warp MMA wrappers declared first: unet_mma.cuh on the GPU, the emulation's shim on the CPU.
#pragma once
#include "../../kernels/quant_ops.h"
#include "qmma_frag.h"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace qmk {

constexpr int kTile = 64, kMmaThreads = 128;

__global__ void __launch_bounds__(kMmaThreads) qmma_kernel(ConvGeo g, const uint8_t* __restrict xq, QW q,
                                                           const float* __restrict bias, const float* __restrict aq,
                                                           const float* __restrict add, int add_stride,
                                                           float* __restrict y) {
  __shared__ __align__(16) uint32_t As[kTile * kQmmaStride];  // weight words, row = output channel
  __shared__ __align__(16) uint32_t Bs[kTile * kQmmaStride];  // activation words, row = GEMM column
  __shared__ uint32_t Sa[2][kTile];                            // Σa of the group, two halves per column
  const float delta = aq[0];               // the input quantizer {Δ, z}, read from device memory
  const int za = static_cast<int>(aq[1]);  // (act_params in unet_dev.cuh)
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = 32 * (warp >> 1), wn = 32 * (warp & 1);  // the warp's 32 × 32 sub-tile
  const int o0 = blockIdx.y * kTile;
  const long long n0 = static_cast<long long>(blockIdx.x) * kTile;

  // The activation column this thread gathers: ncol = tid % 64, words half + 2r (r < 4), half = tid / 64.
  const int ncol = tid % kTile, half = tid / kTile;
  const PatchColumn col = PatchColumn::at(g, n0 + ncol);
  const uint8_t* xb = xq + static_cast<std::size_t>(col.b) * g.H * g.W * g.I;
  const bool vec = (g.I & 3) == 0;
  uint32_t sa_part = 0;

  int32_t saw[2][4][4];
  double acc[2][4][4];  // as in unet_qconv.cu: acc′ (per channel) or Σ_g Δw·acc′_g (group-wise)
#pragma unroll
  for (int mt = 0; mt < 2; ++mt)
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        saw[mt][nt][r] = 0;
        acc[mt][nt][r] = 0.0;
      }

  for (int kb = 0; kb < q.nkb; ++kb) {
    // weights
    if (q.bits == 8) {
      // 64 rows × 32 bytes: thread → row tid / 2, 16-byte half tid % 2
      const int row = tid >> 1, h = tid & 1, o = o0 + row;
      uint4 v = make_uint4(0u, 0u, 0u, 0u);
      if (o < g.O) v = *reinterpret_cast<const uint4*>(q.kern + static_cast<std::size_t>(o) * q.row_bytes + kb * 32 + 16 * h);
      *reinterpret_cast<uint4*>(&As[qmma_smem(row, 4 * h)]) = v;
    } else if (tid < kTile) {
      // 64 rows × 16 packed bytes: thread → row tid
      const int row = tid, o = o0 + row;
      uint4 v = make_uint4(0u, 0u, 0u, 0u);
      if (o < g.O) v = *reinterpret_cast<const uint4*>(q.kern + static_cast<std::size_t>(o) * q.row_bytes + kb * 16);
      const uint32_t p[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
      for (int w = 0; w < 4; ++w) {
        As[qmma_smem(row, w)] = p[w] & 0x0F0F0F0Fu;
        As[qmma_smem(row, 4 + w)] = (p[w] >> 4) & 0x0F0F0F0Fu;
      }
    }
    // activations
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int w = half + 2 * r;
      const uint32_t word = col.ok ? CodeGather::word(g, xb, col.iy0, col.ix0, kb * 32 + 4 * w, q.K, za, vec) : 0u;
      sa_part = __dp4a(word, 0x01010101u, sa_part);
      Bs[qmma_smem(ncol, w)] = word;
    }
    __syncthreads();
    uint32_t bf[4][2];
#pragma unroll
    for (int nt = 0; nt < 4; ++nt)
#pragma unroll
      for (int r = 0; r < 2; ++r) bf[nt][r] = Bs[qmma_smem(wn + 8 * nt + qmma_b_col(lane), qmma_b_word(lane, r))];
#pragma unroll
    for (int mt = 0; mt < 2; ++mt) {
      uint32_t af[4];
#pragma unroll
      for (int r = 0; r < 4; ++r) af[r] = As[qmma_smem(wm + 16 * mt + qmma_a_row(lane, r), qmma_a_word(lane, r))];
#pragma unroll
      for (int nt = 0; nt < 4; ++nt) mma_u8_m16n8k32(saw[mt][nt], af, bf[nt]);
    }

    if (qconv_group_end(kb, q.nkb, q.ng, q.gsize)) {
      Sa[half][ncol] = sa_part;
      sa_part = 0;
      __syncthreads();
      const int gi = qconv_group_of(kb, q.ng, q.gsize);
      const int kg = qconv_group_len(gi, q.K, q.gsize);
#pragma unroll
      for (int mt = 0; mt < 2; ++mt)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt)
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            const int o = min(o0 + wm + 16 * mt + qmma_c_row(lane, r), g.O - 1);  // rows past O compute a discarded value
            const int n = wn + 8 * nt + qmma_c_col(lane, r);
            const std::size_t qi = static_cast<std::size_t>(o) * q.ng + gi;
            const int32_t sa = static_cast<int32_t>(Sa[0][n] + Sa[1][n]);
            const int64_t c = zero_corrected(saw[mt][nt][r], sa, q.wsum[qi], za, static_cast<int32_t>(q.zero[qi]), kg);
            acc[mt][nt][r] = q.ng == 1 ? static_cast<double>(c) : qconv_accumulate(acc[mt][nt][r], q.scale[qi], c);
            saw[mt][nt][r] = 0;
          }
    }
    __syncthreads();  // As, Bs and Sa are rewritten by the next block
  }

  TileStore::mma(g, n0, o0, wm, wn, lane, add, add_stride, y, [&](int mt, int nt, int r, int o) {
    return q.ng == 1 ? qconv_output_pc(static_cast<int64_t>(acc[mt][nt][r]), qconv_scale(q.scale[o], delta), bias[o])
                     : qconv_output(acc[mt][nt][r], delta, bias[o]);
  });
}

}  // namespace qmk
}  // namespace dev
}  // namespace unet
}  // namespace itk

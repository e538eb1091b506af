// The kernels of unet_qconv.cu (see its header comment), device code only, so that the CPU emulation
// of their bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these very lines.
#pragma once
#include "../../kernels/quant_ops.h"
#include "qmma_frag.h"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace qk {

constexpr int kBM = 64, kBN = 64, kThreads = 256;
constexpr int kWords = 8;  // 32 codes per K block

__global__ void __launch_bounds__(kThreads) qconv_kernel(ConvGeo g, const uint8_t* __restrict xq, QW q,
                                                         const float* __restrict bias, const float* __restrict aq,
                                                         const float* __restrict add, int add_stride,
                                                         float* __restrict y) {
  __shared__ uint32_t As[kWords][kBM];  // weight codes As[word][o]
  __shared__ uint32_t Bs[kWords][kBN];  // activation codes Bs[word][n]
  const float delta = aq[0];                  // the input quantizer {Δ, z}, read from device memory
  const int za = static_cast<int>(aq[1]);     // (act_params in unet_dev.cuh)
  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;
  const int o0 = blockIdx.y * kBM;
  const long long n0 = static_cast<long long>(blockIdx.x) * kBN;

  // The activation column this thread gathers: n = n0 + tid % 64, words tid / 64 and tid / 64 + 4.
  const int ncol = tid % kBN;
  const long long n_ld = n0 + ncol;
  const PatchColumn col = PatchColumn::at(g, n_ld);
  const bool n_ok = col.ok;
  const uint8_t* xb = xq + static_cast<std::size_t>(col.b) * g.H * g.W * g.I;
  const int iy0 = col.iy0, ix0 = col.ix0;
  const bool vec = (g.I & 3) == 0;  // 4 consecutive k share a tap and are 4-byte aligned

  uint32_t saw[4][4], sa[4];
  // Per channel: the corrected accumulator acc′ (an integer of magnitude below 2^53, so exact in a double);
  // group-wise: Σ_g Δw·acc′_g in double, as qconv_accumulate on the CPU.
  double acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    sa[i] = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      saw[i][j] = 0;
      acc[i][j] = 0.0;
    }
  }

  for (int kb = 0; kb < q.nkb; ++kb) {
    // weights
    if (q.bits == 8) {
      // 64 rows × 8 words: element e = tid + 256r → row e / 8, word e % 8
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int e = tid + kThreads * r;
        const int row = e / kWords, wd = e % kWords;
        const int o = o0 + row;
        As[wd][row] = o < g.O ? *reinterpret_cast<const uint32_t*>(q.kern + static_cast<std::size_t>(o) * q.row_bytes + kb * 32 + 4 * wd) : 0u;
      }
    } else {
      // 64 rows × 4 packed words (16 bytes per block, byte i = code i | code (i+16) << 4):
      // packed word w4 holds codes 4·w4..4·w4+3 in its low nibbles and 16+4·w4.. in its high ones
      const int row = tid / 4, w4 = tid % 4;
      const int o = o0 + row;
      const uint32_t v = o < g.O ? *reinterpret_cast<const uint32_t*>(q.kern + static_cast<std::size_t>(o) * q.row_bytes + kb * 16 + 4 * w4) : 0u;
      As[w4][row] = v & 0x0F0F0F0Fu;
      As[4 + w4][row] = (v >> 4) & 0x0F0F0F0Fu;
    }
    // activations: words wd = tid / 64 and tid / 64 + 4 of column ncol; word wd holds codes
    // k = 32·kb + 4·wd .. +3, byte 0 first (the order of the weight word's bytes)
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int wd = tid / kBN + 4 * r;
      Bs[wd][ncol] = n_ok ? CodeGather::word(g, xb, iy0, ix0, kb * 32 + 4 * wd, q.K, za, vec) : 0u;
    }
    __syncthreads();
#pragma unroll
    for (int wd = 0; wd < kWords; ++wd) {
      uint32_t a[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = As[wd][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        bv[j] = Bs[wd][tx + 16 * j];
        sa[j] = __dp4a(bv[j], 0x01010101u, sa[j]);
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) saw[i][j] = __dp4a(a[i], bv[j], saw[i][j]);
    }
    __syncthreads();

    // end of a group (group-wise: every gsize / 32 blocks; per channel: the last block)
    if (qconv_group_end(kb, q.nkb, q.ng, q.gsize)) {
      const int gi = qconv_group_of(kb, q.ng, q.gsize);
      const int kg = qconv_group_len(gi, q.K, q.gsize);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int o = min(o0 + ty + 16 * i, g.O - 1);  // rows past O compute a discarded value
        const std::size_t qi = static_cast<std::size_t>(o) * q.ng + gi;
        const int32_t zw = static_cast<int32_t>(q.zero[qi]), sw = q.wsum[qi];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const int64_t c = zero_corrected(static_cast<int32_t>(saw[i][j]), static_cast<int32_t>(sa[j]), sw, za, zw, kg);
          acc[i][j] = q.ng == 1 ? static_cast<double>(c) : qconv_accumulate(acc[i][j], q.scale[qi], c);
          saw[i][j] = 0;
        }
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) sa[j] = 0;
    }
  }

  TileStore::run(g, n0, o0, tx, ty, add, add_stride, y, [&](int i, int j, int o) {
    return q.ng == 1 ? qconv_output_pc(static_cast<int64_t>(acc[i][j]), qconv_scale(q.scale[o], delta), bias[o])
                     : qconv_output(acc[i][j], delta, bias[o]);
  });
}

}  // namespace qk
}  // namespace dev
}  // namespace unet
}  // namespace itk

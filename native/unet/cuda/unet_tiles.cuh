// Device-side pieces the CUDA UNet conv kernels share (geometry, patch gather, tile epilogue, integer
// weights): plain structs and __device__ functions with no CUDA runtime calls, so that the CPU
// emulation of the kernel bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these
// very lines. Included by unet_dev.cuh.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../../kernels/itk_hd.h"
#include "qmma_frag.h"

namespace itk {
namespace unet {
namespace dev {

// Convolution geometry shared by the FP and integer kernels: top/left padding pt, output size from
// pt + pb (pb = pt + 1 for diffusers' downsample_padding = 0, docs/design/unet.md §4 "Resamplers").
struct ConvGeo {
  int B, I, H, W, O, KH, KW, stride, pt, Ho, Wo;
};

// The output pixel a GEMM column n = b·Ho·Wo + oy·Wo + ox stands for, as both conv kernels gather
// it: its image b and the input position (iy0, ix0) of its top-left tap; ok is false past the end.
struct PatchColumn {
  bool ok;
  int b, iy0, ix0;
  __device__ static PatchColumn at(const ConvGeo& g, long long n) {
    const long long P = static_cast<long long>(g.Ho) * g.Wo;
    PatchColumn c;
    c.ok = n < g.B * P;
    c.b = c.iy0 = c.ix0 = 0;
    if (!c.ok) return c;
    c.b = static_cast<int>(n / P);
    const int p = static_cast<int>(n - c.b * P);
    const int oy = p / g.Wo, ox = p - oy * g.Wo;
    c.iy0 = oy * g.stride - g.pt;
    c.ix0 = ox * g.stride - g.pt;
    return c;
  }
};

// The epilogue the conv kernels share. one(): output (channel o, GEMM column n) gets v, then
// + add[b, o] when given, stored NCHW; edges are skipped. run(): a thread's 4 × 4 outputs of the
// FP32 and dp4a kernels (channels o0 + ty + 16i, columns n0 + tx + 16j) get value(i, j, o).
// Inlined and unrolled, so the caller's accumulator tile stays in registers (ptxas: no stack frame).
struct TileStore {
  __device__ __forceinline__ static void one(const ConvGeo& g, long long n, int o, float v, const float* add, int add_stride,
                                             float* y) {
    const long long P = static_cast<long long>(g.Ho) * g.Wo;
    if (n >= g.B * P || o >= g.O) return;
    const int b = static_cast<int>(n / P);
    const long long p = n - b * P;
    if (add) v = fadd(v, add[static_cast<std::size_t>(b) * add_stride + o]);
    y[(static_cast<std::size_t>(b) * g.O + o) * P + p] = v;
  }
  template <typename Value>
  __device__ __forceinline__ static void run(const ConvGeo& g, long long n0, int o0, int tx, int ty, const float* add,
                                             int add_stride, float* y, Value value) {
    const long long P = static_cast<long long>(g.Ho) * g.Wo;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const long long n = n0 + tx + 16 * j;
      if (n >= g.B * P) continue;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int o = o0 + ty + 16 * i;
        if (o >= g.O) continue;
        one(g, n, o, value(i, j, o), add, add_stride, y);
      }
    }
  }
  // The tensor-core kernels' epilogue (unet_qmma, unet_conv_mma): a warp's 2 m16 × 4 n8 accumulator
  // tiles at channel o0 + wm, column n0 + wn, element r of tile (mt, nt) at the C-fragment position
  // qmma_c_row/col(lane, r), get value(mt, nt, r, o) and go through one().
  template <typename Value>
  __device__ __forceinline__ static void mma(const ConvGeo& g, long long n0, int o0, int wm, int wn, int lane,
                                             const float* add, int add_stride, float* y, Value value) {
#pragma unroll
    for (int mt = 0; mt < 2; ++mt)
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int o = o0 + wm + 16 * mt + qmma_c_row(lane, r);
          if (o >= g.O) continue;
          one(g, n0 + wn + 8 * nt + qmma_c_col(lane, r), o, value(mt, nt, r, o), add, add_stride, y);
        }
  }
};

// The activation codes k..k+3 of one GEMM column (image base xb, top-left tap iy0, ix0) as one
// word, byte e = code k + e (the byte order of the weight words). NHWC patch order
// k = (ky·KW + kx)·I + ci; padding taps read the zero point z_a (they dequantize to exactly 0,
// docs/design/unet.md §9), codes past K read 0 (the weight rows are zero-padded there too).
// vec: I % 4 == 0, so the 4 codes share a tap and are one aligned 4-byte load.
struct CodeGather {
  __device__ __forceinline__ static uint32_t word(const ConvGeo& g, const uint8_t* xb, int iy0, int ix0, int k, int K, int za,
                                                  bool vec) {
    if (vec) {
      if (k >= K) return 0u;
      const int tap = k / g.I, ci = k - tap * g.I;
      const int ky = tap / g.KW, kx = tap - ky * g.KW;
      const int iy = iy0 + ky, ix = ix0 + kx;
      return (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W)
                 ? *reinterpret_cast<const uint32_t*>(xb + (static_cast<std::size_t>(iy) * g.W + ix) * g.I + ci)
                 : 0x01010101u * static_cast<uint32_t>(za);
    }
    uint32_t word = 0;
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int kk = k + e;
      if (kk >= K) break;
      const int tap = kk / g.I, ci = kk - tap * g.I;
      const int ky = tap / g.KW, kx = tap - ky * g.KW;
      const int iy = iy0 + ky, ix = ix0 + kx;
      const uint32_t c = (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) ? xb[(static_cast<std::size_t>(iy) * g.W + ix) * g.I + ci]
                                                                       : static_cast<uint32_t>(za);
      word |= c << (8 * e);
    }
    return word;
  }
};

// Integer weights of one layer on the device (kernel layout of native/unet/qdot.h).
struct QW {
  const uint8_t* kern;  // rows of row_bytes
  const int32_t* wsum;  // [O, ng]
  const float* scale;   // [O, ng]
  const float* zero;    // [O, ng]
  int bits, K, row_bytes, gsize, ng, nkb;  // nkb = Kp / 32 blocks
};

}  // namespace dev
}  // namespace unet
}  // namespace itk

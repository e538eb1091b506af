// The kernels of unet_norm.cu (see its header comment), device code only, so that the CPU emulation
// of their bodies (tools/unet-cuda-emu, test/unet-device.test.ts) compiles these very lines.
#pragma once
#include "../../kernels/quant_ops.h"
#include "../../kernels/unet_elem.h"
#include "../gn_sums.h"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace gnk {

constexpr int kThreads = 256;

// gn_sums.h's chunked sum of a span of n values, by a block: each pass gives the threads 16 chunks
// (thread t: chunk t/16, lane t%16, adding its lane's whole 16-groups in float); the first thread of
// a chunk then adds the 16 lanes and the chunk's tail in double, and thread 0 adds the chunk sums to
// the running total in chunk order. term(v) is v (Σx) or (v − μ)² in float; tail_term(v) its double
// form. Every thread gets the total. The same bits as gn_sum / gn_sq_dev on the CPU.
template <class Term, class TailTerm>
__device__ double chunked_sum(const float* __restrict xs, std::size_t n, Term term, TailTerm tail_term, float* lanes,
                              double* chunk_sum, double* total) {
  constexpr std::size_t kChunk = kGnChunk;
  constexpr int kChunksPerPass = kThreads / kGnLanes;
  const int t = threadIdx.x, j = t % kGnLanes;
  if (t == 0) *total = 0.0;
  for (std::size_t c0 = 0; c0 < n; c0 += kChunk * kChunksPerPass) {
    const std::size_t cs = c0 + static_cast<std::size_t>(t / kGnLanes) * kChunk;  // this thread's chunk start
    const std::size_t m = cs < n ? (n - cs < kChunk ? n - cs : kChunk) : 0, full = m / kGnLanes * kGnLanes;
    float acc = 0.0f;
    for (std::size_t i = 0; i < full; i += kGnLanes) acc = fadd(acc, term(xs[cs + i + j]));
    lanes[t] = acc;
    __syncthreads();
    if (j == 0 && m > 0) {
      double s = 0.0;
      for (int l = 0; l < kGnLanes; ++l) s = dadd(s, static_cast<double>(lanes[t + l]));
      for (std::size_t i = full; i < m; ++i) s = dadd(s, tail_term(xs[cs + i]));
      chunk_sum[t / kGnLanes] = s;
    }
    __syncthreads();
    if (t == 0)
      for (int q = 0; q < kChunksPerPass && c0 + q * kChunk < n; ++q) *total = dadd(*total, chunk_sum[q]);
    __syncthreads();
  }
  const double r = *total;
  __syncthreads();  // total is reset by the next call
  return r;
}

// Where gn_kernel writes: NCHW floats y, or (codes set) the u8 codes of the next layer's input
// quantizer in NHWC, quant_code of the very float y would hold: the bits of GroupNorm then
// quantize_nhwc, without the float tensor between them or the second launch (docs/design/unet.md §4.1).
struct GnOut {
  float* y;
  uint8_t* codes;
  const float* aq;  // codes: the quantizer {Δ, z} in device memory
};

__global__ void __launch_bounds__(kThreads) gn_kernel(const float* __restrict x, int C, int HW, int G, float eps,
                                                      const float* __restrict gamma, const float* __restrict beta,
                                                      bool act, GnOut out) {
  __shared__ float lanes[kThreads];
  __shared__ double chunk_sum[kThreads / kGnLanes], total;
  const int b = blockIdx.x / G, g = blockIdx.x % G;
  const int cpg = C / G;
  const std::size_t n = static_cast<std::size_t>(cpg) * HW;
  const std::size_t base = (static_cast<std::size_t>(b) * C + static_cast<std::size_t>(g) * cpg) * HW;
  const float* xs = x + base;
  const float mf = gn_mean(chunked_sum(xs, n, [](float v) { return v; }, [](float v) { return static_cast<double>(v); },
                                      lanes, chunk_sum, &total),
                          static_cast<double>(n));
  const auto dev2 = [mf](float v) {
    const float d = fsub(v, mf);
    return fmul(d, d);
  };
  const auto dev2_tail = [mf](float v) {
    const double d = dadd(static_cast<double>(v), -static_cast<double>(mf));
    return dmul(d, d);
  };
  const float inv = gn_inv_std(chunked_sum(xs, n, dev2, dev2_tail, lanes, chunk_sum, &total), static_cast<double>(n), eps);
  const float qd = out.codes ? out.aq[0] : 0.f, qz = out.codes ? out.aq[1] : 0.f;
  for (std::size_t i = threadIdx.x; i < n; i += kThreads) {
    const int ch = g * cpg + static_cast<int>(i / HW);
    const float t = gn_affine(xs[i], mf, inv, gamma[ch], beta[ch]);
    const float v = act ? itk::silu(t) : t;
    if (out.codes) {
      const std::size_t p = i % HW;
      out.codes[(static_cast<std::size_t>(b) * HW + p) * C + ch] = static_cast<uint8_t>(quant_code(v, qd, qz, 255));
    } else {
      out.y[base + i] = v;
    }
  }
}

}  // namespace gnk
}  // namespace dev
}  // namespace unet
}  // namespace itk

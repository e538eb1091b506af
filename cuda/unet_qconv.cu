// W4A8 / W8A8 integer convolution on the GPU (spec/quantized-unet.md §9 "CUDA"): one thread per
// output (image, channel, pixel); 4 K-codes at a time with __dp4a (u8 × u8 → u32, exact), Σa with
// __dp4a against 0x01010101; the zero-point identity, per-group scaling and the epilogue are the
// ITK_HD functions the CPU kernel runs, so accumulators and outputs equal the CPU's bit for bit.
#include <cuda_runtime.h>

#include "../native/core/cuda_api.h"
#include "../native/kernels/quant_ops.h"
#include "../native/unet/unet_cuda.h"
#include "common.cuh"

namespace itk {
namespace unet {
namespace {

struct QConvArgs {
  const uint8_t* x;     // [B, H, W, I] codes
  const uint8_t* w;     // kernel layout rows
  const int32_t* wsum;  // [O, ng]
  const float* scale;   // [O, ng]
  const float* zero;    // [O, ng]
  const float* bias;    // [O]
  const float* add;     // [B, O] or null
  float* y;             // [B, O, Ho, Wo]
  int B, H, W, I, O, KH, KW, stride, pt, Ho, Wo;
  int bits, K, row_bytes, gsize, ng, za;
  float delta;
};

// Four consecutive codes k..k+3 (k % 4 == 0, all in one 32-code block) as packed bytes.
__device__ __forceinline__ uint32_t codes4(const uint8_t* row, int bits, int k) {
  if (bits == 8) return *reinterpret_cast<const uint32_t*>(row + k);
  const int blk = k >> 5, j = k & 31;
  const uint32_t v = *reinterpret_cast<const uint32_t*>(row + blk * 16 + (j & 15));
  return j < 16 ? (v & 0x0F0F0F0Fu) : ((v >> 4) & 0x0F0F0F0Fu);
}

__global__ void qconv_kernel(QConvArgs a) {
  const std::size_t total = static_cast<std::size_t>(a.B) * a.O * a.Ho * a.Wo;
  const int N = a.Ho * a.Wo;
  const uint32_t zfill = 0x01010101u * static_cast<uint32_t>(a.za);
  for (std::size_t idx = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const int n = static_cast<int>(idx % N);
    const int o = static_cast<int>((idx / N) % a.O);
    const int b = static_cast<int>(idx / (static_cast<std::size_t>(N) * a.O));
    const int oy = n / a.Wo, ox = n % a.Wo;
    const uint8_t* row = a.w + static_cast<std::size_t>(o) * a.row_bytes;
    double acc = 0.0;
    int64_t acc_pc = 0;
    for (int g = 0; g < a.ng; ++g) {
      const int k0 = g * a.gsize, k1 = min(a.K, k0 + a.gsize);
      uint32_t saw = 0, sa = 0;
      int k = k0;
      if ((a.I & 3) == 0) {
        for (; k + 4 <= k1; k += 4) {
          const int tap = k / a.I, ci = k - tap * a.I;
          const int iy = oy * a.stride - a.pt + tap / a.KW, ix = ox * a.stride - a.pt + tap % a.KW;
          const bool in = iy >= 0 && iy < a.H && ix >= 0 && ix < a.W;
          const uint32_t x4 = in ? *reinterpret_cast<const uint32_t*>(a.x + ((static_cast<std::size_t>(b) * a.H + iy) * a.W + ix) * a.I + ci) : zfill;
          saw = __dp4a(x4, codes4(row, a.bits, k), saw);
          sa = __dp4a(x4, 0x01010101u, sa);
        }
      }
      for (; k < k1; ++k) {
        const int tap = k / a.I, ci = k - tap * a.I;
        const int iy = oy * a.stride - a.pt + tap / a.KW, ix = ox * a.stride - a.pt + tap % a.KW;
        const bool in = iy >= 0 && iy < a.H && ix >= 0 && ix < a.W;
        const uint32_t xv = in ? a.x[((static_cast<std::size_t>(b) * a.H + iy) * a.W + ix) * a.I + ci] : static_cast<uint32_t>(a.za);
        saw += xv * static_cast<uint32_t>(kern_code(row, a.bits, k));
        sa += xv;
      }
      const std::size_t qi = static_cast<std::size_t>(o) * a.ng + g;
      const int64_t accp = zero_corrected(static_cast<int32_t>(saw), static_cast<int32_t>(sa), a.wsum[qi], a.za,
                                          static_cast<int32_t>(a.zero[qi]), k1 - k0);
      if (a.ng == 1) {
        acc_pc = accp;  // per-channel: float epilogue, as the CPU kernel
      } else {
        acc = qconv_accumulate(acc, a.scale[qi], accp);
      }
    }
    float v = a.ng == 1 ? qconv_output_pc(acc_pc, qconv_scale(a.scale[o], a.delta), a.bias[o]) : qconv_output(acc, a.delta, a.bias[o]);
    if (a.add) v = fadd(v, a.add[static_cast<std::size_t>(b) * a.O + o]);
    a.y[(static_cast<std::size_t>(b) * a.O + o) * N + n] = v;
  }
}

// RAII device buffer for this file's uploads.
struct Dev {
  void* p = nullptr;
  explicit Dev(std::size_t bytes) { p = bytes ? itk::cuda::malloc_bytes(bytes) : nullptr; }
  ~Dev() { itk::cuda::free_bytes(p); }
  template <typename T>
  T* as() const { return static_cast<T*>(p); }
};

template <typename T>
void upload(Dev& d, const T* src, std::size_t n) {
  if (n) itk::cuda::copy_to_device(d.p, src, n * sizeof(T));
}

}  // namespace

Tensor conv_int_cuda(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                     const float* add) {
  itk::cuda::require_available();
  const QWeights& q = c.q;
  require(q.bits == 4 || q.bits == 8, Code::Internal, c.name + ": layer has no integer weights");
  const int pt = c.pad, pb = c.pad + (c.pad_br ? 1 : 0);
  const int Ho = (H + pt + pb - c.KH) / c.stride + 1, Wo = (W + pt + pb - c.KW) / c.stride + 1;
  Tensor y(B, c.O, Ho, Wo);
  Dev dx(xq.size()), dw(q.kern.size()), ds(q.wsum.size() * 4), dsc(q.scale.size() * 4), dz(q.zero.size() * 4),
      db(c.b.size() * 4), dadd(add ? static_cast<std::size_t>(B) * c.O * 4 : 0), dy(y.size() * 4);
  upload(dx, xq.data(), xq.size());
  upload(dw, q.kern.data(), q.kern.size());
  upload(ds, q.wsum.data(), q.wsum.size());
  upload(dsc, q.scale.data(), q.scale.size());
  upload(dz, q.zero.data(), q.zero.size());
  upload(db, c.b.data(), c.b.size());
  if (add) upload(dadd, add, static_cast<std::size_t>(B) * c.O);
  QConvArgs a;
  a.x = dx.as<uint8_t>();
  a.w = dw.as<uint8_t>();
  a.wsum = ds.as<int32_t>();
  a.scale = dsc.as<float>();
  a.zero = dz.as<float>();
  a.bias = db.as<float>();
  a.add = add ? dadd.as<float>() : nullptr;
  a.y = dy.as<float>();
  a.B = B; a.H = H; a.W = W; a.I = c.I; a.O = c.O; a.KH = c.KH; a.KW = c.KW; a.stride = c.stride; a.pt = pt;
  a.Ho = Ho; a.Wo = Wo; a.bits = q.bits; a.K = q.K; a.row_bytes = q.bits == 4 ? q.Kp / 2 : q.Kp;
  a.gsize = q.group > 0 ? q.group : q.K; a.ng = q.ng; a.za = static_cast<int>(zero); a.delta = delta;
  qconv_kernel<<<itk::cuda::grid_for(y.size()), itk::cuda::kBlock>>>(a);
  itk::cuda::check_launch("unet integer conv");
  itk::cuda::copy_to_host(y.d.data(), dy.p, y.size() * 4);
  return y;
}

}  // namespace unet
}  // namespace itk

// Internal interface of the CUDA UNet (cuda/unet_*.cu): device tensors and the launchers of the
// per-operation kernels. Every launcher enqueues on `stream`, checks the launch (cudaGetLastError)
// and returns without waiting; faults inside a kernel surface at the next synchronising call,
// which forward_cuda checks before returning.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "../../kernels/itk_hd.h"
#include "../../core/cuda/common.cuh"
#include "unet_tiles.cuh"

namespace itk {
namespace unet {

enum class FpPrecision;  // unet_model.h (opaque here: the kernels files need no model types)

namespace dev {

// Stream-ordered device memory (cudaMallocAsync from the device's default pool), freed on scope
// exit. Used for activations, which live for one forward call.
class Buf {
 public:
  Buf() = default;
  Buf(std::size_t bytes, cudaStream_t s) : s_(s) {
    if (bytes) cuda::check(cudaMallocAsync(&p_, bytes, s), "cudaMallocAsync");
  }
  ~Buf() {
    if (p_) cudaFreeAsync(p_, s_);
  }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  Buf(Buf&& o) noexcept : p_(o.p_), s_(o.s_) { o.p_ = nullptr; }
  Buf& operator=(Buf&& o) noexcept {
    if (this != &o) {
      if (p_) cudaFreeAsync(p_, s_);
      p_ = o.p_;
      s_ = o.s_;
      o.p_ = nullptr;
    }
    return *this;
  }
  template <typename T>
  T* as() const { return static_cast<T*>(p_); }

 private:
  void* p_ = nullptr;
  cudaStream_t s_ = nullptr;
};

// A float32 NCHW activation [B, C, H, W] on the device.
struct Act {
  int B = 0, C = 0, H = 1, W = 1;
  Buf buf;
  Act() = default;
  Act(int b, int c, int h, int w, cudaStream_t s)
      : B(b), C(c), H(h), W(w), buf(static_cast<std::size_t>(b) * c * h * w * sizeof(float), s) {}
  std::size_t size() const { return static_cast<std::size_t>(B) * C * H * W; }
  std::size_t plane() const { return static_cast<std::size_t>(H) * W; }
  float* p() const { return buf.as<float>(); }
};

// Checks a launch without waiting for it.
inline void launched(const char* what) { cuda::check(cudaGetLastError(), what); }

// FP32 implicit-GEMM convolution (native/unet/cuda/unet_conv.cu): y = conv(x; w) + bias (+ add[b·add_stride + o]),
// x NCHW, w [O, I·KH·KW] (OIHW), y NCHW. Each output sums k = 0..K−1 in order with separately
// rounded products and sums, as the CPU's conv_fp does, so both give identical bits.
void conv_fp(const ConvGeo& g, const float* x, const float* w, const float* bias, const float* add, int add_stride,
             float* y, cudaStream_t s);

// The same GEMM on tensor cores (native/unet/cuda/unet_conv_mma.cu, sm_80+) with operands rounded to
// TF32 or bfloat16 and FP32 accumulation in the tensor core's order (p: FpPrecision::Tf32 or Bf16).
void conv_fp_mma(const ConvGeo& g, const float* x, const float* w, const float* bias, const float* add, int add_stride,
                 float* y, FpPrecision p, cudaStream_t s);


// Every kernel that quantizes or dequantizes activations reads its quantizer's step parameters from
// device memory, aq = {Δ, z} (z an integer value): the values change at every DDIM step, the pointer
// does not, so one captured CUDA graph serves all the steps of a shape (docs/design/unet.md §9).

// W4A8 / W8A8 implicit-GEMM convolution (native/unet/cuda/unet_qconv.cu): xq u8 NHWC codes with aq = {Δ, z_a},
// int32 accumulators by dp4a, zero-point identity and epilogue of quant_ops.h; y NCHW float.
// kernel: which implementation runs (QconvKernel::Auto: the tensor-core one on sm_80+, dp4a below;
// both give the same bits). ITOKIT_UNET_QCONV=dp4a|mma overrides Auto (tests, benchmarks).
enum class QconvKernel { Auto, Dp4a, Mma };
int compute_major();                // compute capability major of the current device (cached)
QconvKernel qconv_kernel_choice();  // Dp4a or Mma for the current device and the environment
void conv_int(const ConvGeo& g, const uint8_t* xq, const QW& q, const float* bias, const float* aq,
              const float* add, int add_stride, float* y, cudaStream_t s, QconvKernel kernel = QconvKernel::Auto);
// The tensor-core implementation (native/unet/cuda/unet_qmma.cu, sm_80+): mma.sync m16n8k32 u8·u8 → s32.
void conv_int_mma(const ConvGeo& g, const uint8_t* xq, const QW& q, const float* bias, const float* aq,
                  const float* add, int add_stride, float* y, cudaStream_t s);

// GroupNorm over G groups of NCHW x (native/unet/cuda/unet_norm.cu), statistics in double with a fixed
// reduction tree, optionally followed by SiLU.
void group_norm(const float* x, int B, int C, int HW, int G, float eps, const float* gamma, const float* beta,
                bool silu, float* y, cudaStream_t s);

// The same GroupNorm(+SiLU) writing the next layer's u8 input codes (aq = {Δ, z}) in NHWC instead of y: the
// bits of group_norm then quantize_nhwc, in one launch and without the FP32 tensor between.
void group_norm_quant_nhwc(const float* x, int B, int C, int HW, int G, float eps, const float* gamma, const float* beta,
                           bool silu, const float* aq, uint8_t* codes, cudaStream_t s);

// softmax(Q_h K_hᵀ/√d) V_h per head on NCHW projections (native/unet/cuda/unet_attn.cu).
void attention(const float* q, const float* k, const float* v, int B, int C, int N, int head_dim, float* out,
               cudaStream_t s);

// Elementwise and layout kernels (native/unet/cuda/unet_misc.cu).
void upsample2x(const float* x, int B, int C, int H, int W, float* y, cudaStream_t s);  // y [B, C, 2H, 2W]
void concat(const float* a, int Ca, const float* b, int Cb, int B, int HW, float* y, cudaStream_t s);
void residual(float* a, const float* b, std::size_t n, float scale, cudaStream_t s);  // a = (a + b)/scale
void silu(float* x, std::size_t n, cudaStream_t s);
void center(float* x, std::size_t n, cudaStream_t s);  // x = 2x − 1
// Index of the first NaN or ±Inf of x[0, n) (n when all are finite); waits for stream s.
std::size_t first_nonfinite(const float* x, std::size_t n, cudaStream_t s);
// codes[b, y, x, c] = quant_code(x[b, c, y, x], Δ, z, 255)
void quantize_nhwc(const float* x, int B, int C, int HW, const float* aq, uint8_t* codes, cudaStream_t s);
// y = fake_quant(x, Δ, z, 255)
void fake_quant(const float* x, std::size_t n, const float* aq, float* y, cudaStream_t s);

}  // namespace dev
}  // namespace unet
}  // namespace itk

// Elementwise and layout kernels of the CUDA UNet (docs/design/unet.md §4, §7.4): nearest ×2
// upsampling, channel concatenation, the scaled residual, SiLU, input centring, and the
// activation quantizer (u8 NHWC codes for the integer GEMM; quantize-dequantize for fake quant).
// Per-element math is the ITK_HD code the CPU runs (unet_elem.h, quant_ops.h). Grid-stride loops.
#include "../../kernels/quant_ops.h"
#include "../../kernels/unet_elem.h"
#include "../../core/device_buffer.h"
#include "unet_dev.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace {

#define ITK_GRID_LOOP(i, n) \
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < (n); i += static_cast<std::size_t>(gridDim.x) * blockDim.x)

__global__ void upsample_kernel(const float* __restrict x, int H, int W, std::size_t n, float* __restrict y) {
  const int Wo = 2 * W, Ho = 2 * H;
  ITK_GRID_LOOP(i, n) {
    const int xx = static_cast<int>(i % Wo);
    const int yy = static_cast<int>((i / Wo) % Ho);
    const std::size_t bc = i / (static_cast<std::size_t>(Wo) * Ho);
    y[i] = x[(bc * H + yy / 2) * W + xx / 2];
  }
}

__global__ void concat_kernel(const float* __restrict a, int Ca, const float* __restrict b, int Cb, int HW, std::size_t n,
                              float* __restrict y) {
  const std::size_t per = static_cast<std::size_t>(Ca + Cb) * HW;  // one image of y
  ITK_GRID_LOOP(i, n) {
    const std::size_t img = i / per, r = i % per;
    const std::size_t na = static_cast<std::size_t>(Ca) * HW;
    y[i] = r < na ? a[img * na + r] : b[img * static_cast<std::size_t>(Cb) * HW + (r - na)];
  }
}

__global__ void residual_kernel(float* __restrict a, const float* __restrict b, std::size_t n, float s) {
  ITK_GRID_LOOP(i, n) a[i] = itk::residual(a[i], b[i], s);
}

__global__ void silu_kernel(float* __restrict x, std::size_t n) {
  ITK_GRID_LOOP(i, n) x[i] = itk::silu(x[i]);
}

__global__ void center_kernel(float* __restrict x, std::size_t n) {
  ITK_GRID_LOOP(i, n) x[i] = fsub(fmul(2.0f, x[i]), 1.0f);
}

// One thread per code, in NHWC order (coalesced writes; the NCHW reads are strided by H·W).
__global__ void quantize_kernel(const float* __restrict x, int C, int HW, std::size_t n, const float* __restrict aq,
                                uint8_t* __restrict codes) {
  const float delta = aq[0], zero = aq[1];
  ITK_GRID_LOOP(i, n) {
    const int c = static_cast<int>(i % C);
    const std::size_t bp = i / C;  // b·HW + p
    const std::size_t b = bp / HW, p = bp % HW;
    codes[i] = static_cast<uint8_t>(quant_code(x[(b * C + c) * HW + p], delta, zero, 255));
  }
}

__global__ void fake_quant_kernel(const float* __restrict x, std::size_t n, const float* __restrict aq, float* __restrict y) {
  const float delta = aq[0], zero = aq[1];
  ITK_GRID_LOOP(i, n) y[i] = itk::fake_quant(x[i], delta, zero, 255);
}

// Smallest index of a non-finite value (exponent bits all ones), by atomicMin.
__global__ void nonfinite_kernel(const float* __restrict x, std::size_t n, unsigned long long* first) {
  ITK_GRID_LOOP(i, n) if ((__float_as_uint(x[i]) & 0x7F800000u) == 0x7F800000u) atomicMin(first, static_cast<unsigned long long>(i));
}

#undef ITK_GRID_LOOP

unsigned blocks(std::size_t n) { return cuda::grid_for(n); }

}  // namespace

void upsample2x(const float* x, int B, int C, int H, int W, float* y, cudaStream_t s) {
  const std::size_t n = static_cast<std::size_t>(B) * C * 4 * H * W;
  upsample_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(x, H, W, n, y);
  launched("unet upsample");
}

void concat(const float* a, int Ca, const float* b, int Cb, int B, int HW, float* y, cudaStream_t s) {
  const std::size_t n = static_cast<std::size_t>(B) * (Ca + Cb) * HW;
  concat_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(a, Ca, b, Cb, HW, n, y);
  launched("unet concat");
}

void residual(float* a, const float* b, std::size_t n, float scale, cudaStream_t s) {
  residual_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(a, b, n, scale);
  launched("unet residual");
}

void silu(float* x, std::size_t n, cudaStream_t s) {
  silu_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(x, n);
  launched("unet SiLU");
}

void center(float* x, std::size_t n, cudaStream_t s) {
  center_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(x, n);
  launched("unet centre input");
}

void quantize_nhwc(const float* x, int B, int C, int HW, const float* aq, uint8_t* codes, cudaStream_t s) {
  const std::size_t n = static_cast<std::size_t>(B) * C * HW;
  quantize_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(x, C, HW, n, aq, codes);
  launched("unet activation quantizer");
}

std::size_t first_nonfinite(const float* x, std::size_t n, cudaStream_t s) {
  if (n == 0) return 0;
  DeviceBuffer first(sizeof(unsigned long long));
  const unsigned long long none = n;
  cuda::check(cudaMemcpyAsync(first.get(), &none, sizeof none, cudaMemcpyHostToDevice, s), "unet finiteness check");
  nonfinite_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(x, n, static_cast<unsigned long long*>(first.get()));
  launched("unet finiteness check");
  unsigned long long host = n;
  cuda::check(cudaMemcpyAsync(&host, first.get(), sizeof host, cudaMemcpyDeviceToHost, s), "unet finiteness check");
  cuda::check(cudaStreamSynchronize(s), "unet finiteness check");
  return static_cast<std::size_t>(host);
}

void fake_quant(const float* x, std::size_t n, const float* aq, float* y, cudaStream_t s) {
  fake_quant_kernel<<<blocks(n), cuda::kBlock, 0, s>>>(x, n, aq, y);
  launched("unet fake quantizer");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

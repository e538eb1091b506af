// W4A8 / W8A8 integer convolution on the GPU (docs/design/unet.md §9, "CUDA"): an implicit GEMM
// over NHWC u8 activation codes and the kernel-layout weight codes of native/unet/qdot.h.
// Tiles of 64 channels × 64 pixels (pixels of all images in one GEMM); K advances one 32-code
// block at a time through shared memory as eight 4-code words; each thread owns 4 × 4 outputs
// and multiplies words with __dp4a (u8 × u8 → u32, exact). Σa is a __dp4a against 0x01010101.
// Padding taps read the activation zero point z_a, so they dequantize to exactly 0 (§9); codes
// past K read 0 (the weight rows are zero-padded there too).
//
// Groups (§7.3) are multiples of 32 codes, so a K block never straddles two groups: at each group's
// last block the thread applies the zero-point identity (zero_corrected) and, for group-wise
// layers, accumulates Δw·acc′ in double in ascending group order, exactly as conv_int on the CPU.
// Accumulators are exact integers, so they equal the CPU's whatever the summation order, and
// the epilogue (quant_ops.h) is the same code: outputs are bit-identical.
#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "../../core/cuda_api.h"
#include "../../core/device_buffer.h"
#include "../../kernels/quant_ops.h"
#include "../unet_cuda.h"
#include "qmma_frag.h"
#include "unet_host.cuh"
#include "unet_qconv_kernels.cuh"

namespace itk {
namespace unet {
namespace dev {
using namespace qk;  // the kernels of unet_qconv_kernels.cuh

int compute_major() {
  // Compute capability per device, read once (cudaDeviceGetAttribute is not a stream operation,
  // so this is also safe while a stream is being captured into a CUDA graph).
  static std::atomic<int> major[64];
  int dev = 0;
  cuda::check(cudaGetDevice(&dev), "cudaGetDevice");
  int m = major[dev & 63].load(std::memory_order_relaxed);
  if (m == 0) {
    cuda::check(cudaDeviceGetAttribute(&m, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
    major[dev & 63].store(m, std::memory_order_relaxed);
  }
  return m;
}

QconvKernel qconv_kernel_choice() {
  const int m = compute_major();
  const char* env = std::getenv("ITOKIT_UNET_QCONV");
  if (env && std::strcmp(env, "dp4a") == 0) return QconvKernel::Dp4a;
  if (env && std::strcmp(env, "mma") == 0) {
    require(m >= 8, Code::DeviceUnavailable, "ITOKIT_UNET_QCONV=mma needs compute capability 8.0 or newer");
    return QconvKernel::Mma;
  }
  return m >= 8 ? QconvKernel::Mma : QconvKernel::Dp4a;
}

void conv_int(const ConvGeo& g, const uint8_t* xq, const QW& q, const float* bias, const float* aq,
              const float* add, int add_stride, float* y, cudaStream_t s, QconvKernel kernel) {
  require(q.bits == 4 || q.bits == 8, Code::Internal, "integer conv: bits must be 4 or 8");
  require(q.ng == 1 || q.gsize % 32 == 0, Code::Internal, "integer conv: group size must be a multiple of 32");
  if (kernel == QconvKernel::Auto) kernel = qconv_kernel_choice();
  // The MMA kernel's s32 accumulators are exact while a group holds at most 2^15 codes
  // (255² · 2^15 < 2^31); longer groups (no layer of the supported models) take dp4a's u32 sums.
  const int glen = q.ng > 1 ? q.gsize : q.K;
  if (kernel == QconvKernel::Mma && glen <= (1 << 15)) {
    conv_int_mma(g, xq, q, bias, aq, add, add_stride, y, s);
    return;
  }
  const long long Ntot = static_cast<long long>(g.B) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((Ntot + kBN - 1) / kBN), static_cast<unsigned>((g.O + kBM - 1) / kBM));
  require(grid.y <= 65535u, Code::Shape, "integer conv: too many output channels for one launch");
  qconv_kernel<<<grid, kThreads, 0, s>>>(g, xq, q, bias, aq, add, add_stride, y);
  launched("unet integer conv");
}

}  // namespace dev

// Single-layer checks: uploads and kernels on the legacy stream, in order.
using dev::conv_geometry;
using dev::upload;

Tensor conv_int_cuda(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                     const float* add) {
  cuda::require_available();
  const QWeights& q = c.q;
  require(q.bits == 4 || q.bits == 8, Code::Internal, c.name + ": layer has no integer weights");
  require(xq.size() == static_cast<std::size_t>(B) * H * W * c.I, Code::Shape, c.name + ": codes must be [B, H, W, I]");
  const dev::ConvGeo g = conv_geometry(c, B, H, W);
  Tensor y(B, c.O, g.Ho, g.Wo);
  cudaStream_t legacy = nullptr;
  const float aq[2] = {delta, zero};
  DeviceBuffer dx = upload(xq.data(), xq.size(), legacy), dw = upload(q.kern.data(), q.kern.size(), legacy),
               ds = upload(q.wsum.data(), q.wsum.size(), legacy), dsc = upload(q.scale.data(), q.scale.size(), legacy),
               dz = upload(q.zero.data(), q.zero.size(), legacy), db = upload(c.b.data(), c.b.size(), legacy),
               daq = upload(aq, 2, legacy),
               dadd = add ? upload(add, static_cast<std::size_t>(B) * c.O, legacy) : DeviceBuffer(),
               dy(y.size() * sizeof(float));
  dev::QW w{static_cast<const uint8_t*>(dw.get()), static_cast<const int32_t*>(ds.get()), static_cast<const float*>(dsc.get()),
            static_cast<const float*>(dz.get()), q.bits, q.K, q.bits == 4 ? q.Kp / 2 : q.Kp,
            q.group > 0 ? q.group : q.K, q.ng, q.Kp / 32};
  dev::conv_int(g, static_cast<const uint8_t*>(dx.get()), w, static_cast<const float*>(db.get()),
                static_cast<const float*>(daq.get()), static_cast<const float*>(dadd.get()), c.O, static_cast<float*>(dy.get()), nullptr);
  cuda::check(cudaDeviceSynchronize(), "unet integer conv");
  cuda::copy_to_host(y.d.data(), dy.get(), y.size() * sizeof(float));
  return y;
}

Tensor conv_fp_cuda(const Conv& c, const Tensor& x, const float* w, const float* add) {
  cuda::require_available();
  require(x.C == c.I, Code::Shape, c.name + ": channel mismatch");
  const dev::ConvGeo g = conv_geometry(c, x.B, x.H, x.W);
  Tensor y(x.B, c.O, g.Ho, g.Wo);
  cudaStream_t legacy = nullptr;
  DeviceBuffer dx = upload(x.d.data(), x.size(), legacy),
               dw = upload(w, static_cast<std::size_t>(c.O) * c.I * c.KH * c.KW, legacy),
               db = upload(c.b.data(), c.b.size(), legacy),
               dadd = add ? upload(add, static_cast<std::size_t>(x.B) * c.O, legacy) : DeviceBuffer(),
               dy(y.size() * sizeof(float));
  dev::conv_fp(g, static_cast<const float*>(dx.get()), static_cast<const float*>(dw.get()), static_cast<const float*>(db.get()),
               static_cast<const float*>(dadd.get()), c.O, static_cast<float*>(dy.get()), nullptr);
  cuda::check(cudaDeviceSynchronize(), "unet FP32 conv");
  cuda::copy_to_host(y.d.data(), dy.get(), y.size() * sizeof(float));
  return y;
}

}  // namespace unet
}  // namespace itk

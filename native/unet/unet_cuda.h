// CUDA side of the unet area (cuda/unet_qconv.cu; native/unet/unet_cuda_stub.cc in CPU-only
// builds). Device data are uploaded per call here; whole-model residency is future work.
#pragma once
#include <cstdint>
#include <vector>

#include "unet_model.h"
#include "unet_tensor.h"

namespace itk {
namespace unet {

// The integer convolution of conv_int (same inputs, same outputs bit for bit): u8 NHWC codes,
// dp4a dot products, int32 accumulators, the zero-point identity and the shared epilogue
// (native/kernels/quant_ops.h).
Tensor conv_int_cuda(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                     const float* add = nullptr);

}  // namespace unet
}  // namespace itk

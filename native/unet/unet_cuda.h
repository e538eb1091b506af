// CUDA side of the unet area (native/unet/cuda/unet_*.cu; native/unet/unet_cuda_stub.cc in CPU-only builds,
// where every entry point throws DeviceUnavailable).
//
// forward_cuda runs the model's op graph (unet_graph.h) on the device: the model's weights are
// uploaded on the first call and stay resident (Model::cuda, freed with the model); activations
// stay on the device for the whole call; only x, t, the temporal features of quantized models
// (read from the exact cache on the host) and ε̂ cross the bus.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "unet_model.h"
#include "unet_step.h"
#include "unet_tensor.h"

namespace itk {
namespace unet {

// ε̂ = UNet(x, t) on the device, for o.mode Fp, Integer or FakeQuant (the same layer plan,
// quantizers and epilogues as the CPU forward). Called by forward() when o.cuda is set, after
// the shape checks. Throws DeviceUnavailable without a usable device, Device on CUDA failures,
// Aborted when o.ctl fires (checked between blocks).
Tensor forward_cuda(const Model& m, const Tensor& x, const std::vector<int64_t>& t, const ForwardOpts& o);

// The same forward with x [B, in_ch, H, W] and y [B, out_ch, H, W] in device memory (DeviceArray
// input and output: nothing crosses the bus but t and the scalars of two finiteness checks). A
// non-finite x is InvalidArg naming its index, a non-finite output Numerical, as in forward().
void forward_device(const Model& m, const float* x, int B, int H, int W, const std::vector<int64_t>& t, const ForwardOpts& o,
                    float* y);

// One whole sampler step on the device: ε̂ = UNet(x, t) as forward_device, then u; x [B, in_ch, H, W]
// (device memory, in_ch = out_ch) is replaced by x′. With CUDA graphs on, the forward and the update
// are one captured graph per shape, replayed with each step's t, activation parameters and
// coefficients. Errors as forward_device (a non-finite x′ is Numerical); u is checked by
// check_step_update.
void forward_step_device(const Model& m, float* x, int B, int H, int W, const std::vector<int64_t>& t, const ForwardOpts& o,
                         const StepUpdate& u);

// The integer convolution of conv_int (same inputs, same outputs bit for bit): u8 NHWC codes,
// dp4a dot products, int32 accumulators, the zero-point identity and the shared epilogue
// (native/kernels/quant_ops.h). Host data in and out (uploaded per call; a test entry point).
Tensor conv_int_cuda(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                     const float* add = nullptr);

// The FP32 convolution of conv_fp on the device (weights w [O, I, KH, KW]); bit-identical to the
// CPU's (k summed in the same order with separately rounded products and sums). Test entry point.
Tensor conv_fp_cuda(const Conv& c, const Tensor& x, const float* w, const float* add = nullptr);

// Bytes of the model's device-resident weights (Model::cuda): 0 before its first CUDA call and in
// CPU-only builds. The binding reports them to V8 as external memory (docs/design/runtime.md).
std::size_t device_bytes(const Model& m);

}  // namespace unet
}  // namespace itk

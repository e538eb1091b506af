// CPU-only builds: stands in for native/unet/cuda/unet_*.cu (tools/sources.js compiles *cuda_stub.cc only
// when CUDA is off), so a CUDA request gets a coded DeviceUnavailable error.
#include "../core/cuda_api.h"
#include "../core/error.h"
#include "unet_cuda.h"

namespace itk {
namespace unet {
namespace {

[[noreturn]] void no_cuda() {
  throw Error(Code::DeviceUnavailable, cuda::kBuiltWithoutCuda);
}

}  // namespace

Tensor forward_cuda(const Model&, const Tensor&, const std::vector<int64_t>&, const ForwardOpts&) { no_cuda(); }
void forward_device(const Model&, const float*, int, int, int, const std::vector<int64_t>&, const ForwardOpts&, float*) {
  no_cuda();
}
void forward_step_device(const Model&, float*, int, int, int, const std::vector<int64_t>&, const ForwardOpts&, const StepUpdate&) {
  no_cuda();
}

Tensor conv_int_cuda(const Conv&, const std::vector<uint8_t>&, int, int, int, float, float, const float*) { no_cuda(); }

Tensor conv_fp_cuda(const Conv&, const Tensor&, const float*, const float*) { no_cuda(); }

std::size_t device_bytes(const Model&) { return 0; }

}  // namespace unet
}  // namespace itk

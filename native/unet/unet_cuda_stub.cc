// CPU-only builds: stands in for cuda/unet_qconv.cu (tools/sources.js compiles *cuda_stub.cc only
// when CUDA is off), so a CUDA request gets a coded DeviceUnavailable error.
#include "../core/error.h"
#include "unet_cuda.h"

namespace itk {
namespace unet {

Tensor conv_int_cuda(const Conv&, const std::vector<uint8_t>&, int, int, int, float, float, const float*) {
  throw Error(Code::DeviceUnavailable, "this itokit binary was built without CUDA (npm run build with a CUDA compiler)");
}

}  // namespace unet
}  // namespace itk

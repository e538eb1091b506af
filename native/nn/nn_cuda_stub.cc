// CPU-only builds: the CUDA MLP entry points report that CUDA is not compiled in.
#include "../core/cuda_api.h"
#include "nn_cuda.h"

namespace itk {
namespace nn {

template <typename T>
void mlp_forward_cuda(const MlpLayout&, const T*, const T*, std::size_t, T*, T*) {
  cuda::require_available();
}
template <typename T>
void mlp_backward_cuda(const MlpLayout&, const T*, const T*, std::size_t, const T*, const T*, T*, T*) {
  cuda::require_available();
}

template void mlp_forward_cuda<float>(const MlpLayout&, const float*, const float*, std::size_t, float*, float*);
template void mlp_forward_cuda<double>(const MlpLayout&, const double*, const double*, std::size_t, double*, double*);
template void mlp_backward_cuda<float>(const MlpLayout&, const float*, const float*, std::size_t, const float*,
                                       const float*, float*, float*);
template void mlp_backward_cuda<double>(const MlpLayout&, const double*, const double*, std::size_t, const double*,
                                        const double*, double*, double*);

}  // namespace nn
}  // namespace itk

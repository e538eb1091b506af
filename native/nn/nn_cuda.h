// CUDA MLP forward/backward on host buffers (copied in and out per call): the same contract as
// mlp_forward / mlp_backward in mlp.h, with the tape in the row-major per-layer layout of one
// chunk holding every row. Implemented in native/nn/cuda/nn.cu, stubbed by nn_cuda_stub.cc in CPU builds.
// Activations are the ITK_HD functions of kernels/nn_act.h; sums over a layer's inputs and over
// the batch run in the same order as on the CPU, but libm-vs-CUDA tanh/exp differ in the last
// bits, so CUDA is checked against CPU to a tolerance (test/gpu/nn.test.ts).
#pragma once
#include <cstddef>

#include "mlp.h"

namespace itk {
namespace nn {

template <typename T>
void mlp_forward_cuda(const MlpLayout& L, const T* params, const T* x, std::size_t rows, T* tape, T* y);
template <typename T>
void mlp_backward_cuda(const MlpLayout& L, const T* params, const T* x, std::size_t rows, const T* tape, const T* dy,
                       T* dx, T* grad);

}  // namespace nn
}  // namespace itk

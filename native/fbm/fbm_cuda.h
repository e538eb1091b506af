// CUDA entry points of the fBM family, implemented in native/fbm/cuda/fbm_markov.cu and by
// native/fbm/fbm_cuda_stub.cc in CPU-only builds.
#pragma once
#include <cstddef>
#include <cstdint>

#include "fbm_markov.h"

namespace itk {
namespace cuda {

// Runs the Markov sampler on the GPU with the host-built setup and copies the result to the host
// buffers of r (r.out, r.bro).
void fbm_markov_sample(const fbm::MarkovRequest& r, const fbm::MarkovSetup& s);

}  // namespace cuda
}  // namespace itk

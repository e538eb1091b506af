// The samplers' linear combination as a stream-ordered launch for other CUDA code (the UNet's fused
// DDIM step, native/unet/cuda/unet_forward.cu): t.coef, t.in[] and out are device memory, and sp
// (device memory too, may be null) supplies the noise parameters and clip, so the launch can be
// captured once in a CUDA graph and replayed with each step's values. Enqueued on s; checks the
// launch and returns without waiting. Same kernel, same bits as sampler_lincomb_f32.
#pragma once
#include <cuda_runtime.h>

#include "../../kernels/sampler_ops.h"

namespace itk {
namespace cuda {

void sampler_lincomb_f32_async(const LincombTerms& t, const LincombStepParams* sp, float* out, cudaStream_t s);

}  // namespace cuda
}  // namespace itk

// CUDA entry points of the SDE area (native/sde/cuda/sde.cu; native/sde/sde_cuda_stub.cc without CUDA).
// Pointers in the argument structs are device pointers.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels/sde_fused.h"
#include "../kernels/sde_generic.h"

namespace itk {
namespace cuda {

void sde_fused_f32(const sde::FusedArgs<float>& a);
void sde_fused_f64(const sde::FusedArgs<double>& a);
// Brownian increments of one coarse step for the callback path: dW and (J != nullptr) J, [P, m].
void sde_brownian_f32(const sde::NoiseSpec<float>& ns, uint64_t paths, uint64_t path_offset, uint32_t n,
                      float* dW, float* J);
// One elementwise callback-path update (native/kernels/sde_generic.h) over [paths, d], float32.
void sde_generic_f32(const sde::GenericArgs<float>& a);

}  // namespace cuda
}  // namespace itk

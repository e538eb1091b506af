// CUDA entry points of the SDE area (native/sde/cuda/sde.cu; native/sde/sde_cuda_stub.cc without CUDA).
// Pointers in the argument structs are device pointers.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels/sde_fused.h"
#include "../kernels/sampler_ops.h"
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

// The samplers' building blocks on device arrays (native/sde/cuda/sampler_ops.cu): t.in and out
// are device pointers, t.coef a host array (uploaded); row stats land in a host array [3P]; the
// RK45 norm reads device arrays.
void sampler_lincomb_f32(const LincombTerms& t, float* out);
void sampler_row_stats_f32(const float* x, uint64_t P, uint64_t D, double* out_host);
double sampler_rk45_norm_f32(const Rk45Terms& t);

}  // namespace cuda
}  // namespace itk

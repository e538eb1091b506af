// SDE kernels on the GPU: one thread per work unit (a path, or a 4-element chunk of a path for
// elementwise models), grid-stride, calling the same ITK_HD trajectory code as the CPU loop
// (native/kernels/sde_fused.h), so float32 results match the CPU bit for bit.
#include <cstdlib>
#include <string>

#include "../../core/cuda_api.h"
#include "../../kernels/sde_fused.h"
#include "../sde_cuda.h"
#include "../../core/cuda/common.cuh"

namespace itk {
namespace cuda {
namespace {

template <typename T, typename Model>
__global__ void fused_kernel(sde::FusedArgs<T> a, uint64_t units) {
  const Model md(a);
  for (uint64_t u = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; u < units;
       u += static_cast<uint64_t>(gridDim.x) * blockDim.x)
    sde::run_unit(a, md, u);
}

__global__ void brownian_kernel(sde::NoiseSpec<float> ns, uint64_t paths, uint64_t path_offset, uint32_t n, float* dW,
                                float* J) {
  const uint32_t chunks = (ns.m + sde::kMaxLocal - 1) / sde::kMaxLocal;
  for (uint64_t t = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; t < paths * chunks;
       t += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint64_t p = t / chunks;
    const uint32_t k0 = static_cast<uint32_t>(t % chunks) * sde::kMaxLocal;
    const int cnt = static_cast<int>(ns.m - k0 < static_cast<uint32_t>(sde::kMaxLocal) ? ns.m - k0 : sde::kMaxLocal);
    sde::BrownianCache nc;  // one step per launch: nothing to share across steps
    sde::brownian(ns, path_offset + p, n, k0, cnt, dW + p * ns.m + k0, J ? J + p * ns.m + k0 : nullptr, &nc);
  }
}

__global__ void generic_kernel(sde::GenericArgs<float> a) {
  const uint64_t n = a.paths * a.d;
  for (uint64_t e = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<uint64_t>(gridDim.x) * blockDim.x)
    sde::generic_update(a, e / a.d, static_cast<uint32_t>(e % a.d));
}

template <typename T, typename Model>
void launch_as(const sde::FusedArgs<T>& a, uint64_t units) {
  fused_kernel<T, Model><<<grid_for(units), kBlock>>>(a, units);
}

// ITOKIT_SDE_KERNEL=runtime forces the run-time-shape kernel (A/B timing in the benchmark, and
// the bit-identity test of the two).
bool fixed_kernels_enabled() {
  const char* v = std::getenv("ITOKIT_SDE_KERNEL");
  return !(v && std::string(v) == "runtime");
}

template <typename T>
void launch_fused(const sde::FusedArgs<T>& a) {
  const uint64_t units = sde::unit_count(a);
  if (units == 0) return;
  const bool fixed = fixed_kernels_enabled() &&
                     sde::with_fixed_model(a, [&](auto md) { launch_as<T, decltype(md)>(a, units); });
  if (!fixed) launch_as<T, sde::RuntimeModel<T>>(a, units);
  check_launch("sde fused kernel");
}

}  // namespace

void sde_fused_f32(const sde::FusedArgs<float>& a) { launch_fused(a); }
void sde_fused_f64(const sde::FusedArgs<double>& a) { launch_fused(a); }

void sde_brownian_f32(const sde::NoiseSpec<float>& ns, uint64_t paths, uint64_t path_offset, uint32_t n, float* dW,
                      float* J) {
  if (paths == 0) return;
  const uint64_t chunks = (ns.m + sde::kMaxLocal - 1) / sde::kMaxLocal;
  brownian_kernel<<<grid_for(paths * chunks), kBlock>>>(ns, paths, path_offset, n, dW, J);
  check_launch("sde brownian kernel");
}

void sde_generic_f32(const sde::GenericArgs<float>& a) {
  if (a.paths == 0 || a.d == 0) return;
  generic_kernel<<<grid_for(a.paths * a.d), kBlock>>>(a);
  check_launch("sde generic update kernel");
}

}  // namespace cuda
}  // namespace itk

// The diffusion samplers' building blocks on the GPU (native/sde/sde_ops.h on the CPU): the linear
// combination with Philox noise, per-row statistics and the RK45 error norm, each thread running
// the single-source element code of native/kernels/sampler_ops.h, so results equal the CPU's bit
// for bit. Inputs and outputs are device pointers; only the coefficients (a few doubles per row)
// and the RK45 chunk sums cross the bus.
#include <vector>

#include "../../core/cuda/common.cuh"
#include "../../core/cuda_api.h"
#include "../../core/device_buffer.h"
#include "../../kernels/sampler_ops.h"
#include "../sde_cuda.h"
#include "sampler_ops.cuh"

namespace itk {
namespace cuda {
namespace {

// One thread per (row, 4-element group): the group shares one Philox block of noise. sp (may be
// null): the noise parameters and clip, read from device memory instead of t's.
__global__ void lincomb_kernel(LincombTerms t, const LincombStepParams* sp, float* out, uint64_t groups) {
  if (sp) set_step_params(t, *sp);
  const uint64_t units = t.P * groups;
  for (uint64_t u = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; u < units;
       u += static_cast<uint64_t>(gridDim.x) * blockDim.x)
    lincomb_group(t, out, u / groups, u % groups);
}

__global__ void row_stats_kernel(const float* x, uint64_t P, uint64_t D, double* out) {
  for (uint64_t p = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; p < P;
       p += static_cast<uint64_t>(gridDim.x) * blockDim.x)
    row_stats(x + p * D, D, out + 3 * p);
}

// One thread per chunk of kRk45Grain elements, summed in order as on the CPU.
__global__ void rk45_chunks_kernel(Rk45Terms t, uint64_t chunks, double* part) {
  for (uint64_t c = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; c < chunks;
       c += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint64_t i0 = c * kRk45Grain, i1 = i0 + kRk45Grain < t.n ? i0 + kRk45Grain : t.n;
    part[c] = rk45_chunk(t, i0, i1);
  }
}

}  // namespace

void sampler_lincomb_f32(const LincombTerms& t_host_coef, float* out) {
  if (t_host_coef.P == 0 || t_host_coef.D == 0) return;
  // The coefficients come from the host ((K + 1)·P doubles); everything else is on the device.
  const std::size_t coef_bytes = (t_host_coef.K + 1) * t_host_coef.P * sizeof(double);
  DeviceBuffer coef(coef_bytes);
  copy_to_device(coef.get(), t_host_coef.coef, coef_bytes);
  LincombTerms t = t_host_coef;
  t.coef = static_cast<const double*>(coef.get());
  sampler_lincomb_f32_async(t, nullptr, out, cudaStreamPerThread);
  check_launch("sampler lincomb kernel");  // waits for this thread's stream (coef is freed on return)
}

void sampler_lincomb_f32_async(const LincombTerms& t, const LincombStepParams* sp, float* out, cudaStream_t s) {
  if (t.P == 0 || t.D == 0) return;
  const uint64_t groups = (t.D + 3) / 4;
  lincomb_kernel<<<grid_for(t.P * groups), kBlock, 0, s>>>(t, sp, out, groups);
  check(cudaGetLastError(), "sampler lincomb kernel");
}

void sampler_row_stats_f32(const float* x, uint64_t P, uint64_t D, double* out_host) {
  if (P == 0) return;
  DeviceBuffer out(3 * P * sizeof(double));
  row_stats_kernel<<<grid_for(P), kBlock>>>(x, P, D, static_cast<double*>(out.get()));
  check_launch("sampler row stats kernel");
  copy_to_host(out_host, out.get(), 3 * P * sizeof(double));
}

double sampler_rk45_norm_f32(const Rk45Terms& t) {
  const uint64_t chunks = (t.n + kRk45Grain - 1) / kRk45Grain;
  if (chunks == 0) return 0.0;
  DeviceBuffer part(chunks * sizeof(double));
  rk45_chunks_kernel<<<grid_for(chunks), kBlock>>>(t, chunks, static_cast<double*>(part.get()));
  check_launch("sampler rk45 norm kernel");
  std::vector<double> host(chunks);
  copy_to_host(host.data(), part.get(), chunks * sizeof(double));
  return rk45_finish(host.data(), chunks, t.n);
}

}  // namespace cuda
}  // namespace itk

// What bit-identity with the CPU costs the fused SDE kernels on the GPU (issue #11 item 4, docs/sde.md
// "GPU: the price of identical bits"). The library's kernel body (native/kernels/sde_fused.h, run_unit
// with the compile-time FixedModel, as native/sde/cuda/sde.cu launches it) is compiled twice by
// tools/device-check.sh's `fastmath` step:
//   exact:  nvcc -O3 --fmad=false -prec-div=true -prec-sqrt=true   (the library's flags: separately
//           rounded operations, the project's polynomial log/sincos/exp — the CPU's bits)
//   fast:   nvcc -O3 --use_fast_math -DITK_FAST_MATH               (contractible operators, approximate
//           division/sqrt, the SFU's __logf/__sincosf/__expf; itk_hd.h ITK_DEVICE_EXACT)
// Each binary times GBM Euler (d = 1) and Heston log-Euler FT on 1e7 paths × 252 steps, float32, the
// state kept on the device, and prints path-steps/s and the mean of the final state as a sanity check
// (GBM: E S_T = S_0 e^{μT}). Not part of the library build.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../native/kernels/sde_fused.h"

namespace {

using itk::sde::FusedArgs;

template <typename Model>
__global__ void fused_kernel(FusedArgs<float> a, uint64_t units) {
  const Model md(a);
  for (uint64_t u = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; u < units;
       u += static_cast<uint64_t>(gridDim.x) * blockDim.x)
    itk::sde::run_unit(a, md, u);
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}

// Device copy of a host vector (freed at exit; a benchmark tool).
template <typename T>
T* to_device(const std::vector<T>& v) {
  T* d = nullptr;
  check(cudaMalloc(&d, v.size() * sizeof(T)), "cudaMalloc");
  check(cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
  return d;
}

FusedArgs<float> base_args(int32_t kind, int32_t method, uint32_t dim, uint64_t paths, uint32_t steps, double T1) {
  FusedArgs<float> a;
  a.kind = kind;
  a.method = method;
  a.dim = dim;
  a.m = kind == itk::sde::kHeston ? 2 : 1;
  a.paths = paths;
  a.step_begin = 0;
  a.step_end = steps;
  const double h = T1 / steps;
  a.h = static_cast<float>(h);
  a.noise.key_lo = 1;
  a.noise.key_hi = 0;
  a.noise.stream = 0;
  a.noise.m = a.m;
  a.noise.refine = 1;
  a.noise.h = a.noise.hf = static_cast<float>(h);
  a.noise.sqrt_hf = static_cast<float>(std::sqrt(h));
  a.noise.sqrt_hf12 = static_cast<float>(std::sqrt(h / 12));
  a.tcoef = to_device(std::vector<float>(7, 1.0f));
  return a;
}

template <typename Model>
void time_case(const char* name, FusedArgs<float> a, const std::vector<float>& x0) {
  std::vector<float> x(a.paths * a.dim);
  for (uint64_t p = 0; p < a.paths; ++p)
    for (uint32_t i = 0; i < a.dim; ++i) x[p * a.dim + i] = x0[i];
  float* dx = to_device(x);
  a.x = dx;
  const uint64_t units = itk::sde::unit_count(a);
  const unsigned block = 256;
  const unsigned grid = static_cast<unsigned>((units + block - 1) / block);
  cudaEvent_t e0, e1;
  check(cudaEventCreate(&e0), "event");
  check(cudaEventCreate(&e1), "event");
  float best = 1e30f;
  for (int rep = 0; rep < 6; ++rep) {  // rep 0 warms up; the state restarts from x0 each time
    check(cudaMemcpy(dx, x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice), "reset");
    check(cudaEventRecord(e0), "record");
    fused_kernel<Model><<<grid, block>>>(a, units);
    check(cudaEventRecord(e1), "record");
    check(cudaEventSynchronize(e1), "sync");
    check(cudaGetLastError(), "kernel");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, e0, e1), "elapsed");
    if (rep > 0 && ms < best) best = ms;
  }
  std::vector<float> out(x.size());
  check(cudaMemcpy(out.data(), dx, out.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
  double mean = 0;
  for (uint64_t p = 0; p < a.paths; ++p) mean += out[p * a.dim];
  mean /= static_cast<double>(a.paths);
  const double rate = static_cast<double>(a.paths) * (a.step_end - a.step_begin) / (best * 1e-3);
  std::printf("%-26s %-6s %9.3f ms  %.3e path-steps/s  mean S_T %.5f\n", name,
#ifdef ITK_FAST_MATH
              "fast",
#else
              "exact",
#endif
              best, rate, mean);
  cudaFree(dx);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t paths = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000000ull;
  const uint32_t steps = 252;
  const double mu = 0.05, sigma = 0.2, T1 = 1;
  {  // GBM, par = [μ | σ | (μ − σ²/2)h | L] (sde_fused.h)
    FusedArgs<float> a = base_args(itk::sde::kGbm, itk::sde::kEuler, 1, paths, steps, T1);
    a.par = to_device(std::vector<float>{float(mu), float(sigma), float((mu - sigma * sigma / 2) * T1 / steps), 1.0f});
    time_case<itk::sde::FixedModel<itk::sde::kGbm, itk::sde::kEuler, 1>>("GBM Euler 1e7x252", a, {1.0f});
    std::printf("%-26s        expected mean S_T %.5f\n", "", std::exp(mu * T1));
  }
  {  // Heston, par = [μ, κ, θ, ξ, ρ, sqrt(1 − ρ²)], state (S, v)
    const double rho = -0.7;
    FusedArgs<float> a = base_args(itk::sde::kHeston, itk::sde::kLogEulerFT, 2, paths, steps, T1);
    a.par = to_device(std::vector<float>{0.05f, 2.0f, 0.04f, 0.5f, float(rho), float(std::sqrt(1 - rho * rho))});
    time_case<itk::sde::FixedModel<itk::sde::kHeston, itk::sde::kLogEulerFT, 2>>("Heston log-Euler FT 1e7x252", a,
                                                                                   {100.0f, 0.04f});
  }
  return 0;
}

// MA-fBM sampler on the GPU (spec/fbm.md §4, §10): one thread per (path, dimension), the time
// loop inside the kernel, state in registers/local memory, and the same fbm_markov_path as the
// CPU loop so both backends produce the same bits.
#include "../native/core/cuda_api.h"
#include "../native/core/device_buffer.h"
#include "../native/fbm/fbm_cuda.h"
#include "../native/kernels/fbm_step.h"
#include "common.cuh"

#include <vector>

namespace itk {
namespace cuda {
namespace {

template <typename T, typename Out>
__global__ void fbm_markov_kernel(FbmMarkovArgs<T> a, std::size_t paths, uint64_t path_offset, Out* out,
                                  Out* bro) {
  const std::size_t row = (static_cast<std::size_t>(a.n) + 1) * a.dims;
  const std::size_t total = paths * a.dims;
  for (std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t p = t / a.dims;
    const int d = static_cast<int>(t % a.dims);
    fbm_markov_path<T, Out>(a, path_offset + p, d, out + p * row + d, bro ? bro + p * row + d : nullptr,
                            static_cast<std::size_t>(a.dims));
  }
}

// Casts a float64 host constant array to T and copies it into buf (sized v.size()*sizeof(T)).
template <typename T>
void upload(DeviceBuffer* buf, const std::vector<double>& v) {
  if (v.empty()) return;
  std::vector<T> h(v.begin(), v.end());
  copy_to_device(buf->get(), h.data(), h.size() * sizeof(T));
}

template <typename T>
void run(const fbm::MarkovRequest& r, const fbm::MarkovSetup& s) {
  DeviceBuffer decay(s.decay.size() * sizeof(T)), m(s.m.size() * sizeof(T)), lc(s.lc.size() * sizeof(T)),
      lC(s.lC.size() * sizeof(T)), omega(s.omega.size() * sizeof(double));
  upload<T>(&decay, s.decay);
  upload<T>(&m, s.m);
  upload<T>(&lc, s.lc);
  upload<T>(&lC, s.lC);
  upload<double>(&omega, s.omega);
  FbmMarkovArgs<T> a;
  a.K = s.K;
  a.dims = r.dims;
  a.n = r.n;
  a.exact = r.exact ? 1 : 0;
  a.stationary = r.stationary ? 1 : 0;
  a.key_lo = r.key_lo;
  a.key_hi = r.key_hi;
  a.sqrt_dt = static_cast<T>(s.sqrt_dt);
  a.decay = static_cast<const T*>(decay.get());
  a.m = static_cast<const T*>(m.get());
  a.lc = static_cast<const T*>(lc.get());
  a.lC = static_cast<const T*>(lC.get());
  a.omega = static_cast<const double*>(omega.get());
  const std::size_t bytes = r.paths * (static_cast<std::size_t>(r.n) + 1) * r.dims * sizeof(T);
  DeviceBuffer out(bytes);
  DeviceBuffer bro(r.bro ? bytes : 0);
  const std::size_t threads = r.paths * r.dims;
  fbm_markov_kernel<T, T><<<grid_for(threads, 128), 128>>>(a, r.paths, r.path_offset, static_cast<T*>(out.get()),
                                                          r.bro ? static_cast<T*>(bro.get()) : nullptr);
  check_launch("fbm markov kernel");
  copy_to_host(r.out, out.get(), bytes);
  if (r.bro) copy_to_host(r.bro, bro.get(), bytes);
}

}  // namespace

void fbm_markov_sample(const fbm::MarkovRequest& r, const fbm::MarkovSetup& s) {
  if (r.f64) run<double>(r, s);
  else run<float>(r, s);
}

}  // namespace cuda
}  // namespace itk

// MA-fBM sampler on the GPU (docs/design/fbm.md): one thread per (path, dimension), the time
// loop inside the kernel, state in registers/local memory, and the same fbm_markov_path as the
// CPU loop so both backends produce the same bits.
#include "../../core/cuda_api.h"
#include "../../core/device_buffer.h"
#include "../fbm_cuda.h"
#include "../../kernels/fbm_step.h"
#include "../../core/cuda/common.cuh"

#include <vector>

namespace itk {
namespace cuda {
namespace {

// One thread per (path, dimension). Writes go to a time-major buffer [n+1, paths·dims], so at
// every step consecutive threads store consecutive addresses (coalesced); a tiled transpose then
// produces the row-major [paths, n+1, dims] layout of the API.
template <typename T, typename Out, int KFixed>
__global__ void fbm_markov_kernel(FbmMarkovArgs<T> a, std::size_t paths, uint64_t path_offset, Out* out_tm,
                                  Out* bro_tm) {
  const std::size_t cols = paths * a.dims;
  for (std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; t < cols;
       t += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t p = t / a.dims;
    const int d = static_cast<int>(t % a.dims);
    fbm_markov_path<T, Out, KFixed>(a, path_offset + p, d, out_tm + t, bro_tm ? bro_tm + t : nullptr, cols);
  }
}

// K = 1..8 (the library's defaults and typical choices) get a compile-time K; larger K the
// run-time kernel.
template <typename T, typename Out>
void launch_markov(const FbmMarkovArgs<T>& a, std::size_t paths, uint64_t path_offset, Out* out_tm, Out* bro_tm) {
  const unsigned grid = grid_for(paths * a.dims, 128);
  const bool fixed = with_fixed_k(a.K, [&](auto k) {
    fbm_markov_kernel<T, Out, decltype(k)::value><<<grid, 128>>>(a, paths, path_offset, out_tm, bro_tm);
  });
  if (!fixed) fbm_markov_kernel<T, Out, 0><<<grid, 128>>>(a, paths, path_offset, out_tm, bro_tm);
  check_launch("fbm markov kernel");
}

// [rows, paths, dims] (time-major) -> [paths, dst_rows, dims]: a 32x32 shared-memory tile
// transpose over (time, path), one pass per dimension; `rows` is the band being moved.
template <typename Out>
__global__ void fbm_transpose_kernel(const Out* src, Out* dst, std::size_t rows, std::size_t dst_rows, std::size_t paths,
                                     int dims) {
  __shared__ Out tile[32][33];
  const std::size_t p0 = static_cast<std::size_t>(blockIdx.x) * 32, r0 = static_cast<std::size_t>(blockIdx.y) * 32;
  for (int d = 0; d < dims; ++d) {
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
      const std::size_t r = r0 + k, p = p0 + threadIdx.x;
      if (r < rows && p < paths) tile[k][threadIdx.x] = src[(r * paths + p) * dims + d];
    }
    __syncthreads();
    for (int k = threadIdx.y; k < 32; k += blockDim.y) {
      const std::size_t p = p0 + k, r = r0 + threadIdx.x;
      if (r < rows && p < paths) dst[(p * dst_rows + r) * dims + d] = tile[threadIdx.x][k];
    }
    __syncthreads();
  }
}

template <typename Out>
void transpose(const Out* src, Out* dst, std::size_t rows, std::size_t paths, int dims) {
  const std::size_t gx = (paths + 31) / 32;
  // Grid y is limited to 65535 blocks: run row bands of at most 65535·32 rows.
  const std::size_t band = 65535u * 32u;
  for (std::size_t r = 0; r < rows; r += band) {
    const std::size_t nr = rows - r < band ? rows - r : band;
    dim3 grid(static_cast<unsigned>(gx), static_cast<unsigned>((nr + 31) / 32));
    fbm_transpose_kernel<Out><<<grid, dim3(32, 8)>>>(src + r * paths * dims, dst + r * dims, nr, rows, paths, dims);
  }
  check_launch("fbm transpose kernel");
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
  const FbmMarkovArgs<T> a = fbm::markov_args<T>(r, s, static_cast<const T*>(decay.get()), static_cast<const T*>(m.get()),
                                                 static_cast<const T*>(lc.get()), static_cast<const T*>(lC.get()),
                                                 static_cast<const double*>(omega.get()));
  const std::size_t rows = static_cast<std::size_t>(r.n) + 1;
  const std::size_t bytes = r.paths * rows * r.dims * sizeof(T);
  DeviceBuffer tm(bytes), out(r.device_io ? 0 : bytes);
  DeviceBuffer bro_tm(r.bro ? bytes : 0);
  launch_markov<T, T>(a, r.paths, r.path_offset, static_cast<T*>(tm.get()), r.bro ? static_cast<T*>(bro_tm.get()) : nullptr);
  // Device-resident results are transposed straight into the caller's arrays.
  T* dst = static_cast<T*>(r.device_io ? r.out : out.get());
  transpose<T>(static_cast<const T*>(tm.get()), dst, rows, r.paths, r.dims);
  if (!r.device_io) copy_to_host(r.out, out.get(), bytes);
  if (r.bro) {
    T* bdst = static_cast<T*>(r.device_io ? r.bro : out.get());
    transpose<T>(static_cast<const T*>(bro_tm.get()), bdst, rows, r.paths, r.dims);
    if (!r.device_io) copy_to_host(r.bro, out.get(), bytes);
  }
}

}  // namespace

void fbm_markov_sample(const fbm::MarkovRequest& r, const fbm::MarkovSetup& s) {
  if (r.f64) run<double>(r, s);
  else run<float>(r, s);
}

}  // namespace cuda
}  // namespace itk

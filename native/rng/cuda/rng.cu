// Counter-based random numbers on the GPU: one thread per Philox block, the same ITK_HD functions
// as the CPU loops (native/kernels/normal.h), so uniforms and normals agree bit for bit.
#include <cstring>

#include "../../core/cuda_api.h"
#include "../../kernels/normal.h"
#include "../../kernels/step_noise.h"
#include "../../core/cuda/common.cuh"

namespace itk {
namespace cuda {
namespace {

// The draws of block `block` in the element type of Kind, written with one vector store when the
// block lies wholly inside [first, first + n) and its destination is aligned (the common case),
// else word by word. Kind is a template parameter so the four values stay in registers; a
// run-time switch indexing z[i] would put them in local memory.
template <int Kind>
struct FillOut;
template <> struct FillOut<0> { using T = float; static __device__ T of(uint32_t w, float) { return u24(w); } };
template <> struct FillOut<1> { using T = double; static __device__ T of(uint32_t w, float) { return u32d(w); } };
template <> struct FillOut<2> { using T = float; static __device__ T of(uint32_t, float z) { return z; } };
template <> struct FillOut<3> { using T = double; static __device__ T of(uint32_t, float z) { return static_cast<double>(z); } };
template <> struct FillOut<4> { using T = uint32_t; static __device__ T of(uint32_t w, float) { return w; } };

template <int Kind>
__global__ void fill_kernel(typename FillOut<Kind>::T* out, std::size_t n, uint32_t key_lo, uint32_t key_hi,
                            uint32_t stream, uint64_t path, uint32_t step, uint64_t first) {
  using Out = FillOut<Kind>;
  using T = typename Out::T;
  const uint64_t first_block = first >> 2;
  const uint64_t n_blocks = ((first + n - 1) >> 2) - first_block + 1;
  for (uint64_t b = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; b < n_blocks;
       b += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint64_t block = first_block + b;
    const uint64_t j0 = block << 2;
    const Philox4 w = philox_block(key_lo, key_hi, stream, path, step, static_cast<uint32_t>(block));
    float z[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (Kind == 2 || Kind == 3) normals4(w, z);
    const T v[4] = {Out::of(w.v[0], z[0]), Out::of(w.v[1], z[1]), Out::of(w.v[2], z[2]), Out::of(w.v[3], z[3])};
    T* dst = out + static_cast<std::ptrdiff_t>(j0 - first);  // element 0 of this block (may precede out)
    const bool whole = j0 >= first && j0 + 4 <= first + n;
    if (whole && sizeof(T) == 4 && (reinterpret_cast<uintptr_t>(dst) & 15u) == 0) {
      uint4 q;
      memcpy(&q, v, 16);
      *reinterpret_cast<uint4*>(dst) = q;
    } else if (whole && sizeof(T) == 8 && (reinterpret_cast<uintptr_t>(dst) & 15u) == 0) {
      double2 q0, q1;
      memcpy(&q0, v, 16);
      memcpy(&q1, reinterpret_cast<const char*>(v) + 16, 16);
      reinterpret_cast<double2*>(dst)[0] = q0;
      reinterpret_cast<double2*>(dst)[1] = q1;
    } else {
#pragma unroll
      for (unsigned i = 0; i < 4; ++i)
        if (j0 + i >= first && j0 + i < first + n) dst[i] = v[i];
    }
  }
}

// One thread per (row, draw): draw k of the step in the per-step layout (step_noise.h), the
// function the CPU's rng_randn_cpu and sde.simulate agree with.
__global__ void randn_kernel(float* out, std::size_t paths, std::size_t dim, uint32_t key_lo,
                             uint32_t key_hi, uint32_t stream, uint64_t path_offset, uint32_t step) {
  const std::size_t total = paths * dim;
  for (std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t p = t / dim;
    const uint32_t k = static_cast<uint32_t>(t % dim);
    out[t] = step_normal(key_lo, key_hi, stream, path_offset + p, step, k);
  }
}

}  // namespace

void rng_fill(void* out, std::size_t n, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream,
              uint64_t path, uint32_t step, uint64_t first) {
  if (n == 0) return;
  const std::size_t blocks = ((first + n - 1) >> 2) - (first >> 2) + 1;
  const unsigned grid = grid_for(blocks);
  switch (kind) {
    case 0: fill_kernel<0><<<grid, kBlock>>>(static_cast<float*>(out), n, key_lo, key_hi, stream, path, step, first); break;
    case 1: fill_kernel<1><<<grid, kBlock>>>(static_cast<double*>(out), n, key_lo, key_hi, stream, path, step, first); break;
    case 2: fill_kernel<2><<<grid, kBlock>>>(static_cast<float*>(out), n, key_lo, key_hi, stream, path, step, first); break;
    case 3: fill_kernel<3><<<grid, kBlock>>>(static_cast<double*>(out), n, key_lo, key_hi, stream, path, step, first); break;
    default: fill_kernel<4><<<grid, kBlock>>>(static_cast<uint32_t*>(out), n, key_lo, key_hi, stream, path, step, first); break;
  }
  check_launch("rng fill kernel");
}

void rng_randn(float* out, std::size_t paths, std::size_t dim, uint32_t key_lo, uint32_t key_hi,
               uint32_t stream, uint64_t path_offset, uint32_t step) {
  if (paths == 0 || dim == 0) return;
  randn_kernel<<<grid_for(paths * dim), kBlock>>>(out, paths, dim, key_lo, key_hi, stream, path_offset, step);
  check_launch("rng randn kernel");
}

}  // namespace cuda
}  // namespace itk

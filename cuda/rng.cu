// Counter-based random numbers on the GPU: one thread per Philox block, the same ITK_HD functions
// as the CPU loops (native/kernels/normal.h), so uniforms and normals agree bit for bit.
#include "../native/core/cuda_api.h"
#include "../native/kernels/normal.h"
#include "common.cuh"

namespace itk {
namespace cuda {
namespace {

__global__ void fill_kernel(void* out, std::size_t n, int kind, uint32_t key_lo, uint32_t key_hi,
                            uint32_t stream, uint64_t path, uint32_t step, uint64_t first) {
  const uint64_t first_block = first >> 2;
  const uint64_t n_blocks = ((first + n - 1) >> 2) - first_block + 1;
  for (uint64_t b = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x; b < n_blocks;
       b += static_cast<uint64_t>(gridDim.x) * blockDim.x) {
    const uint64_t block = first_block + b;
    const uint64_t j0 = block << 2;
    const unsigned lo = j0 < first ? static_cast<unsigned>(first - j0) : 0u;
    const unsigned hi = static_cast<unsigned>(min(uint64_t{4}, first + n - j0));
    const Philox4 w = philox_block(key_lo, key_hi, stream, path, step, static_cast<uint32_t>(block));
    const std::size_t o = static_cast<std::size_t>(j0 - first);
    float z[4];
    if (kind == 2 || kind == 3) normals4(w, z);
    for (unsigned i = lo; i < hi; ++i) {
      switch (kind) {
        case 0: static_cast<float*>(out)[o + i] = u24(w.v[i]); break;
        case 1: static_cast<double*>(out)[o + i] = u32d(w.v[i]); break;
        case 2: static_cast<float*>(out)[o + i] = z[i]; break;
        case 3: static_cast<double*>(out)[o + i] = static_cast<double>(z[i]); break;
        default: static_cast<uint32_t*>(out)[o + i] = w.v[i]; break;
      }
    }
  }
}

__global__ void randn_kernel(float* out, std::size_t paths, std::size_t dim, uint32_t key_lo,
                             uint32_t key_hi, uint32_t stream, uint64_t path_offset, uint32_t step) {
  const std::size_t blocks_per_row = (dim + 3) / 4;
  const std::size_t total = paths * blocks_per_row;
  for (std::size_t t = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::size_t p = t / blocks_per_row;
    const std::size_t k = (t % blocks_per_row) * 4;
    const Philox4 w = philox_block(key_lo, key_hi, stream, path_offset + p, step, static_cast<uint32_t>(k >> 2));
    float z[4];
    normals4(w, z);
    const std::size_t m = dim - k < 4 ? dim - k : 4;
    for (std::size_t i = 0; i < m; ++i) out[p * dim + k + i] = z[i];
  }
}

}  // namespace

void rng_fill(void* out, std::size_t n, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream,
              uint64_t path, uint32_t step, uint64_t first) {
  if (n == 0) return;
  const std::size_t blocks = ((first + n - 1) >> 2) - (first >> 2) + 1;
  fill_kernel<<<grid_for(blocks), kBlock>>>(out, n, kind, key_lo, key_hi, stream, path, step, first);
  check_launch("rng fill kernel");
}

void rng_randn(float* out, std::size_t paths, std::size_t dim, uint32_t key_lo, uint32_t key_hi,
               uint32_t stream, uint64_t path_offset, uint32_t step) {
  if (paths == 0 || dim == 0) return;
  randn_kernel<<<grid_for(paths * ((dim + 3) / 4)), kBlock>>>(out, paths, dim, key_lo, key_hi, stream,
                                                              path_offset, step);
  check_launch("rng randn kernel");
}

}  // namespace cuda
}  // namespace itk

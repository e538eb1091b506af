// Fills device memory with copies of one row: how a simulation's shared initial state x0 (d values)
// becomes the [paths, d] state on the device without building paths·d values on the host.
#include "../cuda_api.h"
#include "common.cuh"

namespace itk {
namespace cuda {
namespace {

template <typename T>
__global__ void broadcast_kernel(T* out, const T* row, std::size_t d, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] = row[i % d];
}

template <typename T>
void broadcast(T* out, const T* row_host, std::size_t d, std::size_t rows) {
  const std::size_t n = d * rows;
  if (n == 0) return;
  T* row = nullptr;
  check(cudaMalloc(&row, d * sizeof(T)), "cudaMalloc");
  try {
    check(cudaMemcpy(row, row_host, d * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy row");
    broadcast_kernel<T><<<grid_for(n), kBlock>>>(out, row, d, n);
    check_launch("broadcast kernel");
  } catch (...) {
    cudaFree(row);
    throw;
  }
  cudaFree(row);
}

}  // namespace

void broadcast_rows(void* out, const void* row_host, std::size_t d, std::size_t rows, bool f64) {
  if (f64)
    broadcast(static_cast<double*>(out), static_cast<const double*>(row_host), d, rows);
  else
    broadcast(static_cast<float*>(out), static_cast<const float*>(row_host), d, rows);
}

}  // namespace cuda
}  // namespace itk

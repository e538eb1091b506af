// Shared CUDA helpers: error mapping to itk::Error and launch geometry.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "../error.h"

namespace itk {
namespace cuda {

// Turns a CUDA status into a coded error. Errors that mean "no usable GPU" become
// DeviceUnavailable so callers can fall back; everything else is Device.
inline void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  const bool unavailable = status == cudaErrorNoDevice || status == cudaErrorInsufficientDriver ||
                           status == cudaErrorInitializationError || status == cudaErrorStubLibrary;
  const std::string msg = std::string(what) + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")";
  if (status == cudaErrorMemoryAllocation) throw Error(Code::OutOfMemory, msg);
  throw Error(unavailable ? Code::DeviceUnavailable : Code::Device, msg);
}

// Checks the launch and waits for the kernel, so a failing kernel is reported by the call that
// launched it. Only this host thread's stream is waited for (the build uses per-thread default
// streams), so another call's kernels running at the same time are not waited for.
inline void check_launch(const char* what) {
  check(cudaGetLastError(), what);
  check(cudaStreamSynchronize(cudaStreamPerThread), what);
}

constexpr int kBlock = 256;

inline unsigned grid_for(std::size_t n, int block = kBlock) {
  const std::size_t g = (n + block - 1) / block;
  return static_cast<unsigned>(g < 65535u * 32u ? (g == 0 ? 1 : g) : 65535u * 32u);  // grid-stride beyond
}

}  // namespace cuda
}  // namespace itk

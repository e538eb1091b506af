// Device discovery and memory for the CUDA backend. The runtime is linked statically and loads
// libcuda at run time, so on a machine without a driver these calls report the reason instead of
// failing to load the addon.
#include <mutex>

#include "../cuda_api.h"
#include "common.cuh"

namespace itk {
namespace cuda {
namespace {

struct Probe {
  bool ok = false;
  std::string reason;
};

const Probe& probe() {
  static Probe p;
  static std::once_flag once;
  std::call_once(once, [] {
    int count = 0;
    const cudaError_t st = cudaGetDeviceCount(&count);
    int driver = 0;
    if (cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0) {
      p.reason = "no NVIDIA driver found (libcuda could not be loaded)";
      cudaGetLastError();
      return;
    }
    if (st != cudaSuccess) {
      p.reason = std::string("CUDA runtime reports ") + cudaGetErrorName(st) + ": " + cudaGetErrorString(st);
      cudaGetLastError();  // clear the sticky status
      return;
    }
    if (count == 0) {
      p.reason = "no CUDA device is present";
      return;
    }
    p.ok = true;
  });
  return p;
}

}  // namespace

bool compiled() { return true; }

bool available(std::string* reason) {
  const Probe& p = probe();
  if (!p.ok && reason) *reason = p.reason;
  return p.ok;
}

void require_available() {
  std::string reason;
  if (!available(&reason)) throw Error(Code::DeviceUnavailable, "CUDA is unavailable: " + reason);
}

std::vector<DeviceInfo> devices() {
  std::vector<DeviceInfo> out;
  if (!available(nullptr)) return out;
  int count = 0;
  check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties");
    DeviceInfo d;
    d.index = i;
    d.name = prop.name;
    d.total_memory = prop.totalGlobalMem;
    d.major = prop.major;
    d.minor = prop.minor;
    d.multiprocessors = prop.multiProcessorCount;
    out.push_back(d);
  }
  return out;
}

int runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) return 0;
  return v;
}

int driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
  return v;
}

void* malloc_bytes(std::size_t bytes) {
  require_available();
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "cudaMalloc");
  return p;
}

void free_bytes(void* p) noexcept {
  if (p) cudaFree(p);
}

void synchronize() { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }

}  // namespace cuda
}  // namespace itk

// The CUDA backend as seen from plain C++. Implemented in cuda/*.cu when the build has CUDA and by
// native/core/cuda_stub.cc otherwise, so bindings and dispatchers never need #ifdefs. Every
// function throws itk::Error (DeviceUnavailable / Device) instead of returning CUDA error codes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace itk {
namespace cuda {

// Why a CPU-only binary has no CUDA, and how to get it (one text for every area's stub).
inline constexpr const char* kBuiltWithoutCuda =
    "this itokit binary was built without CUDA; from a checkout, `npm run build` on a machine with the CUDA "
    "toolkit (nvcc) adds it (an installed package cannot build CUDA itself)";

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::size_t total_memory = 0;
  int major = 0;
  int minor = 0;
  int multiprocessors = 0;
};

// True when the binary was compiled with CUDA support.
bool compiled();
// True when a usable device exists; otherwise *reason says why (no driver, no device, ...).
bool available(std::string* reason);
std::vector<DeviceInfo> devices();
// CUDA runtime and driver versions (0 when unknown).
int runtime_version();
int driver_version();
// Throws DeviceUnavailable with the reason when !available().
void require_available();

// Device memory. Pointers are opaque to callers outside cuda/.
void* malloc_bytes(std::size_t bytes);
void free_bytes(void* p) noexcept;
void copy_to_device(void* dst, const void* src, std::size_t bytes);
void copy_to_host(void* dst, const void* src, std::size_t bytes);
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);
// out[r*d + i] = row_host[i] for r < rows: a [rows, d] device array from one host row.
void broadcast_rows(void* out, const void* row_host, std::size_t d, std::size_t rows, bool f64);
// Seconds for one cudaMemcpy of `bytes` from the device into page-locked host memory (best of 3):
// the reference the benchmark sets beside the staged copy into JS memory.
double pinned_copy_seconds(std::size_t bytes);
void synchronize();

// Fills out (on the device) with draws j = first..first+n-1 of (seed, stream, path, step).
// kind: 0 = float32 uniform (U24), 1 = float64 uniform (U32), 2 = float32 normal,
// 3 = float64 normal (widened float32), 4 = raw uint32 words.
void rng_fill(void* out, std::size_t n, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream,
              uint64_t path, uint32_t step, uint64_t first);
// paths x dim normals of a simulation step, row p = path_offset + p (docs/design/randomness.md).
void rng_randn(float* out, std::size_t paths, std::size_t dim, uint32_t key_lo, uint32_t key_hi,
               uint32_t stream, uint64_t path_offset, uint32_t step);

}  // namespace cuda
}  // namespace itk

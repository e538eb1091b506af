// Stand-in for the CUDA backend in CPU-only builds (node-gyp, or cmake with ITOKIT_CUDA=OFF).
#include "cuda_api.h"
#include "error.h"

namespace itk {
namespace cuda {
namespace {
const char* kReason = kBuiltWithoutCuda;
[[noreturn]] void unavailable() { throw Error(Code::DeviceUnavailable, kReason); }
}  // namespace

bool compiled() { return false; }
bool available(std::string* reason) {
  if (reason) *reason = kReason;
  return false;
}
std::vector<DeviceInfo> devices() { return {}; }
int runtime_version() { return 0; }
int driver_version() { return 0; }
void require_available() { unavailable(); }
void* malloc_bytes(std::size_t) { unavailable(); }
void free_bytes(void*) noexcept {}
void copy_to_device(void*, const void*, std::size_t) { unavailable(); }
void copy_to_host(void*, const void*, std::size_t) { unavailable(); }
void copy_device_to_device(void*, const void*, std::size_t) { unavailable(); }
void broadcast_rows(void*, const void*, std::size_t, std::size_t, bool) { unavailable(); }
double pinned_copy_seconds(std::size_t) { unavailable(); }
void synchronize() { unavailable(); }
void rng_fill(void*, std::size_t, int, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t, uint64_t) {
  unavailable();
}
void rng_randn(float*, std::size_t, std::size_t, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t) {
  unavailable();
}

}  // namespace cuda
}  // namespace itk

// Host <-> device copies of large buffers through a pinned double buffer. The caller's arrays are
// pageable (JS ArrayBuffers), and on the H200 machine a plain pageable cudaMemcpy moved 1.2 GB/s
// (device to host, 256 MiB), so a 2^26-normal draw spent 97 % of its time copying. Chunks of
// kStageBytes go through two page-locked buffers: the DMA of one chunk overlaps the host memcpy
// of the other. Copies run on the legacy default stream, as cudaMemcpy does, and return only
// when complete, so callers see the same ordering and synchronous semantics as before.
#include <algorithm>
#include <cstring>
#include <mutex>

#include "../native/core/cuda_api.h"
#include "common.cuh"

namespace itk {
namespace cuda {
namespace {

constexpr std::size_t kStageBytes = std::size_t{8} << 20;  // one chunk
constexpr std::size_t kStageMin = std::size_t{1} << 20;    // smaller copies go direct

struct Stage {
  std::mutex mu;
  bool tried = false, ok = false;
  void* buf[2] = {nullptr, nullptr};
  cudaEvent_t done[2] = {nullptr, nullptr};
};

Stage& stage() {
  static Stage s;
  return s;
}

// Allocates the pinned pair on first use; if that fails (pinned memory is limited), copies stay
// direct for the rest of the process. Called with s.mu held.
bool ready(Stage& s) {
  if (s.tried) return s.ok;
  s.tried = true;
  s.ok = true;
  for (int i = 0; i < 2 && s.ok; ++i) {
    s.ok = cudaMallocHost(&s.buf[i], kStageBytes) == cudaSuccess &&
           cudaEventCreateWithFlags(&s.done[i], cudaEventDisableTiming) == cudaSuccess;
  }
  if (!s.ok) {
    cudaGetLastError();  // clear the error the failed call left behind
    for (int i = 0; i < 2; ++i) {
      if (s.buf[i]) cudaFreeHost(s.buf[i]);
      if (s.done[i]) cudaEventDestroy(s.done[i]);
      s.buf[i] = nullptr;
      s.done[i] = nullptr;
    }
  }
  return s.ok;
}

std::size_t chunk_len(std::size_t bytes, std::size_t k) { return std::min(kStageBytes, bytes - k * kStageBytes); }

void staged_to_host(Stage& s, char* dst, const char* src, std::size_t bytes) {
  const std::size_t n = (bytes + kStageBytes - 1) / kStageBytes;
  auto issue = [&](std::size_t k) {
    check(cudaMemcpyAsync(s.buf[k & 1], src + k * kStageBytes, chunk_len(bytes, k), cudaMemcpyDeviceToHost, 0),
          "cudaMemcpyAsync to host");
    check(cudaEventRecord(s.done[k & 1], 0), "cudaEventRecord");
  };
  issue(0);
  for (std::size_t k = 0; k < n; ++k) {
    if (k + 1 < n) issue(k + 1);  // its buffer's previous chunk (k − 1) was copied out last round
    check(cudaEventSynchronize(s.done[k & 1]), "copy to host");
    std::memcpy(dst + k * kStageBytes, s.buf[k & 1], chunk_len(bytes, k));
  }
}

void staged_to_device(Stage& s, char* dst, const char* src, std::size_t bytes) {
  const std::size_t n = (bytes + kStageBytes - 1) / kStageBytes;
  for (std::size_t k = 0; k < n; ++k) {
    if (k >= 2) check(cudaEventSynchronize(s.done[k & 1]), "copy to device");  // buffer free again
    std::memcpy(s.buf[k & 1], src + k * kStageBytes, chunk_len(bytes, k));
    check(cudaMemcpyAsync(dst + k * kStageBytes, s.buf[k & 1], chunk_len(bytes, k), cudaMemcpyHostToDevice, 0),
          "cudaMemcpyAsync to device");
    check(cudaEventRecord(s.done[k & 1], 0), "cudaEventRecord");
  }
  for (std::size_t k = n > 2 ? n - 2 : 0; k < n; ++k) check(cudaEventSynchronize(s.done[k & 1]), "copy to device");
}

}  // namespace

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes >= kStageMin) {
    Stage& s = stage();
    std::lock_guard<std::mutex> lock(s.mu);
    if (ready(s)) return staged_to_device(s, static_cast<char*>(dst), static_cast<const char*>(src), bytes);
  }
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes >= kStageMin) {
    Stage& s = stage();
    std::lock_guard<std::mutex> lock(s.mu);
    if (ready(s)) return staged_to_host(s, static_cast<char*>(dst), static_cast<const char*>(src), bytes);
  }
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
}

}  // namespace cuda
}  // namespace itk

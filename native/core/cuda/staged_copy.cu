// Host <-> device copies of large buffers between device memory and pageable host memory (JS
// ArrayBuffers). A plain pageable cudaMemcpy moved 1.2 GB/s on the H200 machine, and a single
// pinned double buffer 1.85 GB/s: the limit is not the link (≈ 50 GB/s pinned) but the host side,
// one thread copying out of the pinned buffer and first-touch faulting the fresh destination
// pages. So the copy is cut into kChunkBytes chunks dealt round-robin to kLanes host threads, each
// with its own page-locked buffer and stream: while one lane's DMA runs, the others copy and fault
// their pages in parallel. Large destinations are also advised to use transparent huge pages, so
// a fresh 256 MiB array faults 128 times instead of 65,536. Calls return only when the copy is
// complete and order after all earlier work of the calling thread's default stream, as cudaMemcpy
// does.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "../cuda_api.h"
#include "../huge_pages.h"
#include "common.cuh"

namespace itk {
namespace cuda {
namespace {

constexpr std::size_t kChunkBytes = std::size_t{8} << 20;  // one DMA
constexpr std::size_t kStageMin = std::size_t{1} << 20;    // smaller copies go direct
constexpr int kMaxLanes = 8;

struct Lane {
  void* buf = nullptr;
  cudaStream_t stream = nullptr;
};

struct Stage {
  std::mutex mu;
  bool tried = false, ok = false;
  std::vector<Lane> lanes;
};

Stage& stage() {
  static Stage s;
  return s;
}

void release(std::vector<Lane>& lanes) {
  for (Lane& l : lanes) {
    if (l.buf) cudaFreeHost(l.buf);
    if (l.stream) cudaStreamDestroy(l.stream);
  }
  lanes.clear();
}

// Allocates the lanes on first use; if pinned memory is refused, copies stay direct for the rest
// of the process. Called with s.mu held.
bool ready(Stage& s) {
  if (s.tried) return s.ok;
  s.tried = true;
  const int n = std::max(1, std::min<int>(kMaxLanes, static_cast<int>(std::thread::hardware_concurrency())));
  s.lanes.resize(static_cast<std::size_t>(n));
  s.ok = true;
  for (Lane& l : s.lanes) {
    s.ok = s.ok && cudaMallocHost(&l.buf, kChunkBytes) == cudaSuccess &&
           cudaStreamCreate(&l.stream) == cudaSuccess;
  }
  if (!s.ok) {
    cudaGetLastError();  // clear the error the failed call left behind
    release(s.lanes);
  }
  return s.ok;
}

enum class Dir { ToHost, ToDevice };

// Lane i moves chunks i, i + L, i + 2L, ... ; the first error any lane meets is rethrown.
void staged(Stage& s, Dir dir, char* dst, const char* src, std::size_t bytes) {
  // The lanes' streams do not order after this thread's per-thread default stream: wait for it.
  check(cudaStreamSynchronize(cudaStreamPerThread), "copy: wait for the producing stream");
  const std::size_t chunks = (bytes + kChunkBytes - 1) / kChunkBytes;
  const std::size_t lanes = std::min(s.lanes.size(), chunks);
  std::exception_ptr error;
  std::mutex error_mu;
  auto run_lane = [&](std::size_t i) {
    try {
      const Lane& l = s.lanes[i];
      for (std::size_t k = i; k < chunks; k += lanes) {
        const std::size_t off = k * kChunkBytes;
        const std::size_t len = std::min(kChunkBytes, bytes - off);
        if (dir == Dir::ToHost) {
          check(cudaMemcpyAsync(l.buf, src + off, len, cudaMemcpyDeviceToHost, l.stream), "cudaMemcpyAsync to host");
          check(cudaStreamSynchronize(l.stream), "copy to host");
          std::memcpy(dst + off, l.buf, len);
        } else {
          std::memcpy(l.buf, src + off, len);
          check(cudaMemcpyAsync(dst + off, l.buf, len, cudaMemcpyHostToDevice, l.stream), "cudaMemcpyAsync to device");
          check(cudaStreamSynchronize(l.stream), "copy to device");
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(lanes - 1);
  for (std::size_t i = 1; i < lanes; ++i) threads.emplace_back(run_lane, i);
  run_lane(0);
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes >= kStageMin) {
    Stage& s = stage();
    std::lock_guard<std::mutex> lock(s.mu);
    if (ready(s)) return staged(s, Dir::ToDevice, static_cast<char*>(dst), static_cast<const char*>(src), bytes);
  }
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy to device");
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes >= kStageMin) {
    advise_huge_pages(dst, bytes);
    Stage& s = stage();
    std::lock_guard<std::mutex> lock(s.mu);
    if (ready(s)) return staged(s, Dir::ToHost, static_cast<char*>(dst), static_cast<const char*>(src), bytes);
  }
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
}

void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy device to device");
}

// Pinned reference for the benchmark: one cudaMemcpy of `bytes` from device memory into a
// page-locked host buffer, in seconds (the link's rate that the staged copy is measured against).
double pinned_copy_seconds(std::size_t bytes) {
  require_available();
  void* host = nullptr;
  void* dev = nullptr;
  check(cudaMallocHost(&host, bytes), "cudaMallocHost");
  double secs = 0;
  try {
    check(cudaMalloc(&dev, bytes), "cudaMalloc");
    check(cudaMemset(dev, 0, bytes), "cudaMemset");
    cudaEvent_t a, b;
    check(cudaEventCreate(&a), "cudaEventCreate");
    check(cudaEventCreate(&b), "cudaEventCreate");
    check(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost), "warm-up copy");
    float best = 1e30f;
    for (int r = 0; r < 3; ++r) {
      check(cudaEventRecord(a, 0), "cudaEventRecord");
      check(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost), "pinned copy");
      check(cudaEventRecord(b, 0), "cudaEventRecord");
      check(cudaEventSynchronize(b), "cudaEventSynchronize");
      float ms = 0;
      check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
      best = std::min(best, ms);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    secs = best / 1e3;
  } catch (...) {
    cudaFree(dev);
    cudaFreeHost(host);
    throw;
  }
  cudaFree(dev);
  cudaFreeHost(host);
  return secs;
}

}  // namespace cuda
}  // namespace itk

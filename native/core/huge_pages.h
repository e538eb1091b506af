// First-touch page faults dominate writing a fresh large output on some hosts (measured here: a
// fresh 40 MB Float32Array takes 100-300 ms to fill, a reused one 1 ms, in a Firecracker VM).
// Asking the kernel for transparent huge pages on the output turns 512 faults into one, as numpy
// does for its large allocations. Advice only: where it is refused nothing changes.
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace itk {

// Advises huge pages for the 2 MiB-aligned interior of [p, p + bytes) when it spans at least
// 8 MiB (smaller outputs fault in quickly and are not worth a compaction attempt).
inline void advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (bytes < (std::size_t{8} << 20)) return;
  const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t e = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace itk

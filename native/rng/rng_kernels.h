// The CPU generator kernels of one instruction set, as a table of plain functions. rng_batch.cc
// holds the portable (scalar, auto-vectorized) table and picks one table once per process from
// cpu_features() (rng_simd_path()); rng_batch_avx512.cc and rng_batch_avx2.cc build theirs from
// the single generic source rng_batch_simd.h. Callers use rng_batch.h, not this header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "rng_batch.h"

namespace itk {

struct RngKernels {
  const char* name;
  // w = Philox4x32-10(c) for kRngLanes lanes of arbitrary counters (structure of arrays).
  void (*philox)(const uint32_t (*c)[kRngLanes], uint32_t key_lo, uint32_t key_hi, uint32_t (*w)[kRngLanes]);
  // z0[l], z1[l] = box_muller(a[l], b[l]) for kRngLanes lanes.
  void (*box_muller)(const uint32_t* a, const uint32_t* b, float* z0, float* z1);
  // All four draws of blocks block0 .. block0 + nblocks - 1 of (stream, path, step) in the
  // element type of `kind` (RngKind): element 4 (block - block0) + word.
  void (*fill)(void* out, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
               uint32_t step, uint32_t block0, std::size_t nblocks);
};

// The fill loop shared by every table: batch(dst, i) writes the 4 kBatch draws of blocks
// i .. i + kBatch - 1 (element size kEsize) to dst; whole batches go straight to out, a last
// partial one is made whole in scratch and copied in part. The ISA fills inline it together with
// their batch lambda (flatten), so batch runs with that unit's target and no call per batch.
template <std::size_t kBatch, std::size_t kEsize, class Batch>
inline void fill_batches(void* out, std::size_t nblocks, const Batch& batch) {
  char* o = static_cast<char*>(out);
  std::size_t i = 0;
  for (; i + kBatch <= nblocks; i += kBatch) batch(o + 4 * i * kEsize, i);
  if (i < nblocks) {
    alignas(64) char tmp[4 * kBatch * kEsize];
    batch(tmp, i);
    std::memcpy(o + 4 * i * kEsize, tmp, 4 * (nblocks - i) * kEsize);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define ITK_RNG_X86_SIMD 1
const RngKernels& rng_kernels_avx512();
const RngKernels& rng_kernels_avx2();
#endif
#if defined(__aarch64__) && defined(__GNUC__)
#define ITK_RNG_NEON_SIMD 1
const RngKernels& rng_kernels_neon();
#endif

}  // namespace itk

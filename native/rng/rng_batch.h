// Batched generation for the CPU: kRngLanes consecutive Philox blocks at a time in
// structure-of-arrays form, so the compiler vectorizes across blocks (the scalar code in
// native/kernels/ computes one block per call). Every lane runs the same ITK_HD round and
// Box-Muller functions as the scalar path and the GPU, so the bits are identical.
#pragma once
#include <cstdint>

namespace itk {

constexpr int kRngLanes = 16;

struct RngBatch {
  uint32_t w[4][kRngLanes];  // w[i][l] = word i of block (block0 + l)
  float z[4][kRngLanes];     // z[i][l] = normal from word i of block (block0 + l)
};

// Words of blocks block0 .. block0 + kRngLanes - 1 of (key, stream, path, step).
void rng_batch_words(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                     uint32_t step, uint32_t block0);
// Block `block` of paths path0 .. path0 + kRngLanes - 1 at one step: lane l is path path0 + l.
// This is how fused simulations draw one step's noise for a group of paths at once.
void rng_batch_words_paths(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path0,
                           uint32_t step, uint32_t block);
// Box-Muller over the words already in b: (w0, w1) -> z0, z1 and (w2, w3) -> z2, z3.
void rng_batch_normals(RngBatch* b);
// Only the first pair: (w0, w1) -> z0, z1 (what a step needing at most two normals uses).
void rng_batch_normals01(RngBatch* b);

}  // namespace itk

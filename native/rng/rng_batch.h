// Batched generation for the CPU: kRngLanes Philox blocks at a time in structure-of-arrays form.
// The kernels behind these functions are chosen once per process (rng_simd_path()): AVX-512 or
// AVX2 intrinsics (rng_batch_avx512.cc, rng_batch_avx2.cc, one generic source rng_simd.h) or
// portable loops over the scalar ITK_HD functions. Every lane computes the same IEEE operations
// as the scalar round and Box–Muller functions of native/kernels/, so the bits are identical on
// every path, and to the GPU's.
#pragma once
#include <cstddef>
#include <cstdint>

namespace itk {

constexpr int kRngLanes = 16;

struct RngBatch {
  uint32_t w[4][kRngLanes];  // w[i][l] = word i of block (block0 + l)
  float z[4][kRngLanes];     // z[i][l] = normal from word i of block (block0 + l)
};

// The instruction set of the CPU generator kernels, fixed at the first call: the widest that
// cpu_features() reports (AVX-512 needs F, DQ, BW and VL), or what the environment variable
// ITOKIT_CPU names ("scalar", "avx2") when that is supported; the same variable picks the qdot
// kernels (native/unet/qdot_scalar.cc). AArch64 builds use NEON (part of every ARMv8-A core)
// unless ITOKIT_CPU is "scalar"; other builds always use Scalar.
enum class SimdPath { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };
SimdPath rng_simd_path();

// Words of blocks block0 .. block0 + kRngLanes - 1 of (key, stream, path, step).
void rng_batch_words(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                     uint32_t step, uint32_t block0);
// Block `block` of paths path0 .. path0 + kRngLanes - 1 at one step: lane l is path path0 + l.
void rng_batch_words_paths(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path0,
                           uint32_t step, uint32_t block);
// Box-Muller over the words already in b: (w0, w1) -> z0, z1 and (w2, w3) -> z2, z3.
void rng_batch_normals(RngBatch* b);
// Only the first pair: (w0, w1) -> z0, z1 (what a step needing at most two normals uses).
void rng_batch_normals01(RngBatch* b);

// Per-step layout (native/kernels/step_noise.h): draw j of steps 4·group .. 4·group + 3 of paths
// path0 .. path0 + kRngLanes - 1, i.e. z[s][l] = draw j of step 4·group + s of path path0 + l.
void rng_batch_step_normals(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path0,
                            uint32_t group, uint32_t j);

// w = Philox4x32-10(c) under (k0, k1) for kRngLanes arbitrary counters c[word][lane].
void rng_philox_lanes(const uint32_t (*c)[kRngLanes], uint32_t k0, uint32_t k1, uint32_t (*w)[kRngLanes]);
// z0[l], z1[l] = box_muller(a[l], b[l]) (normal.h) for kRngLanes lanes.
void rng_box_muller_lanes(const uint32_t* a, const uint32_t* b, float* z0, float* z1);

// All four draws of blocks block0 .. block0 + nblocks - 1 of (stream, path, step), written to out
// as draw 4 (block - block0) + word in the element type of kind (an RngKind, rng_fill.h).
void rng_fill_blocks(void* out, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                     uint32_t step, uint32_t block0, std::size_t nblocks);

}  // namespace itk

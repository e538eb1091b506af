// Philox4x32-10 and Box–Muller over 16 independent counters at once (structure of arrays), by
// the generators' batch kernels (native/rng/rng_batch.h; AVX-512, AVX2 or portable, chosen at run
// time). The arithmetic is the scalar ITK_HD code (philox.h, normal.h) lane by lane, so every bit
// equals the scalar and CUDA results.
#pragma once
#include <cstddef>
#include <cstdint>

namespace itk {
namespace fbm {

constexpr int kLanes = 16;

struct Lanes4 {
  alignas(64) uint32_t v[4][kLanes];
};

// out = Philox4x32-10(counter c, key (k0, k1)) for each of the 16 lanes.
void philox_lanes(uint32_t k0, uint32_t k1, const Lanes4& c, Lanes4* out);

// z0[i], z1[i] = Box–Muller(a[i], b[i]) (normal.h box_muller) for the 16 lanes.
void box_muller_lanes(const uint32_t* a, const uint32_t* b, float* z0, float* z1);

// Normals 0..count-1 of one (stream, path, step), equal to normal_lanes() bit for bit.
void normals_of_path(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                     std::size_t count, float* z);

}  // namespace fbm
}  // namespace itk

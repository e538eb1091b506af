// Normals of one (stream, path, step) through the generators' batch kernels (native/rng/rng_batch.h:
// AVX-512, AVX2 or portable, chosen at run time). The arithmetic is the scalar ITK_HD code
// (philox.h, normal.h) lane by lane, so every bit equals the scalar and CUDA results.
#pragma once
#include <cstddef>
#include <cstdint>

namespace itk {
namespace fbm {

// Normals 0..count-1 of one (stream, path, step), equal to normal_lanes() bit for bit.
void normals_of_path(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                     std::size_t count, float* z);

}  // namespace fbm
}  // namespace itk

#include "fbm_lanes.h"

#include "../kernels/fbm_rng.h"
#include "../rng/rng_batch.h"
#include "../rng/rng_fill.h"

namespace itk {
namespace fbm {

void normals_of_path(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                     std::size_t count, float* z) {
  // Normals 0 .. count-1 are all four draws of blocks 0 .. count/4 - 1, then part of one block.
  const std::size_t whole = count / 4;
  rng_fill_blocks(z, static_cast<int>(RngKind::NormalF32), key_lo, key_hi, stream, path, step, 0, whole);
  if (4 * whole < count)
    normal_lanes(key_lo, key_hi, stream, path, step, 4 * whole, static_cast<int>(count - 4 * whole), z + 4 * whole);
}

}  // namespace fbm
}  // namespace itk

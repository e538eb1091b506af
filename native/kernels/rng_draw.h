// One draw of a given kind from one Philox block: shared by the CPU loops and the CUDA kernels.
#pragma once
#include "normal.h"

namespace itk {

// Normal draw j (word j & 3 of block j >> 2) of (key, stream, path, step).
ITK_HD float normal_draw(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                         uint32_t step, uint64_t j) {
  const Philox4 w = philox_block(key_lo, key_hi, stream, path, step, static_cast<uint32_t>(j >> 2));
  float z[4];
  normals4(w, z);
  return z[j & 3];
}

}  // namespace itk

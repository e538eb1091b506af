// Noise streams and per-lane normal draws of the fBM family (docs/design/fbm.md).
// The FBM_* stream ids (kStreamFbmOu, kStreamFbmInit, kStreamFbmExact) are listed with the
// others in philox.h.
#pragma once
#include "normal.h"

namespace itk {

// Normal of word j & 3 from an already computed block: only the needed Box–Muller pair is formed.
ITK_HD float normal_of_block(const Philox4& w, uint32_t word) {
  float z0, z1;
  if (word < 2) {
    box_muller(w.v[0], w.v[1], &z0, &z1);
  } else {
    box_muller(w.v[2], w.v[3], &z0, &z1);
  }
  return (word & 1u) ? z1 : z0;
}

// Lanes first..first+count-1 of (stream, path, step) into z, one Philox block per four lanes and
// one Box–Muller per pair actually used.
ITK_HD void normal_lanes(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                         uint64_t first, int count, float* z) {
  int i = 0;
  while (i < count) {
    const uint64_t lane = first + static_cast<uint64_t>(i);
    const Philox4 w = philox_block(key_lo, key_hi, stream, path, step, static_cast<uint32_t>(lane >> 2));
    uint32_t word = static_cast<uint32_t>(lane & 3u);
    while (word < 4 && i < count) {
      if ((word & 1u) == 0 && i + 1 < count) {
        box_muller(w.v[word], w.v[word + 1], &z[i], &z[i + 1]);
        i += 2;
        word += 2;
      } else {
        z[i] = normal_of_block(w, word);
        ++i;
        ++word;
      }
    }
  }
}

// normal_lanes for a compile-time count: the same value for every lane (lane j is the cos or sin
// half of the Box–Muller pair holding word j & 3 of block j >> 2), with constant indices so the
// GPU keeps z, the block and the pair in registers.
template <int Count>
ITK_HD void normal_lanes_n(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                           uint64_t first, float* z) {
  Philox4 w{{0, 0, 0, 0}};
  float c = 0.0f, s = 0.0f;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
  for (int i = 0; i < Count; ++i) {
    const uint64_t lane = first + static_cast<uint64_t>(i);
    const uint32_t word = static_cast<uint32_t>(lane & 3u);
    if (i == 0 || word == 0) w = philox_block(key_lo, key_hi, stream, path, step, static_cast<uint32_t>(lane >> 2));
    if (i == 0 || (word & 1u) == 0) {
      const bool hi = (word & 2u) != 0;
      box_muller(hi ? w.v[2] : w.v[0], hi ? w.v[3] : w.v[1], &c, &s);
    }
    z[i] = (word & 1u) ? s : c;
  }
}

}  // namespace itk

// Noise streams and per-lane normal draws of the fBM family (spec/fbm.md §4 "Randomness").
// FBM_* stream ids are fBM's own: the shared RNG header (philox.h) stops at USER = 6, so they sit
// at 32.. to leave room for new generic streams; the lead may move them into philox.h.
#pragma once
#include "normal.h"

namespace itk {

constexpr uint32_t kStreamFbmOu = 32;     // z_1..z_K of the exact OU step: step j, lane d·K + k
constexpr uint32_t kStreamFbmInit = 33;   // type I Y(0) ~ N(0, C): step 0, lane d·K + k
constexpr uint32_t kStreamFbmExact = 34;  // exact generators: step 0, lane = index of the normal

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

}  // namespace itk

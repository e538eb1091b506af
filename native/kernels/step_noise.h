// Per-step noise streams: four steps per Philox block (docs/design/noise-layout.md,
// docs/design/randomness.md §2). Draw j of (stream, path, step s) is word s & 3 of the block whose
// counter is (c0, c1, c2, c3) = (j, s >> 2, path bits 0-31, path bits 32-47 | stream << 16), and
// the Box–Muller pairs are words (0,1) and (2,3): steps (4g, 4g+1) and (4g+2, 4g+3) of one draw.
// So a scalar model pays one block per four steps and one pair per two steps, and noise stays a
// pure function of (seed, stream, path, step, j).
//
// Streams read one step at a time use this layout: the Brownian stream of sde.simulate, fbm.sample
// (Markov) and the fBM SDEs, rng.randn, and the OU normals of the exact MA-fBM step. Streams drawn
// many-at-one-step (rng.normal, the diffusion prior, the exact fBM generators, type I fBM starts)
// keep word j & 3 of block j >> 2 at one step (rng_draw.h, fbm_rng.h).
#pragma once
#include "normal.h"

namespace itk {

// The block holding draw j of steps 4·group .. 4·group + 3.
ITK_HD Philox4 step_block(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t group,
                          uint32_t j) {
  return philox4x32(philox_counter(stream, path, group, j), key_lo, key_hi);
}

// Draw j of steps 4·group + 0..3, both Box–Muller pairs of the block.
ITK_HD void step_normals4(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t group,
                          uint32_t j, float z[4]) {
  normals4(step_block(key_lo, key_hi, stream, path, group, j), z);
}

// z[s & 3] as selects, so a GPU thread keeps z in registers (a run-time index would spill it).
ITK_HD float pick4(const float z[4], uint32_t s) {
  const float lo = (s & 1u) ? z[1] : z[0];
  const float hi = (s & 1u) ? z[3] : z[2];
  return (s & 2u) ? hi : lo;
}

// One draw j of one step: one block, the one Box–Muller pair holding the step.
ITK_HD float step_normal(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                         uint32_t j) {
  const Philox4 w = step_block(key_lo, key_hi, stream, path, step >> 2, j);
  float z0, z1;
  if (step & 2u)
    box_muller(w.v[2], w.v[3], &z0, &z1);
  else
    box_muller(w.v[0], w.v[1], &z0, &z1);
  return (step & 1u) ? z1 : z0;
}

// Draws j0 .. j0 + cnt - 1 of one (key, stream, path) for the four steps of a group, kept while a
// caller walks through the group's steps: each draw costs one block and two pairs per four steps.
// Cap bounds cnt. One cache serves one (key, stream, path); it refills when the group, j0 or cnt
// changes, so any order of calls gives the same values.
template <int Cap>
struct StepNormals {
  uint32_t group = 0xFFFFFFFFu, j0 = 0xFFFFFFFFu;
  int cnt = -1;
  float z[Cap][4];

  ITK_HD void get(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step, uint32_t j,
                  int n, float* out) {
    if ((step >> 2) != group || j != j0 || n != cnt) {
      group = step >> 2;
      j0 = j;
      cnt = n;
      for (int c = 0; c < n; ++c)
        step_normals4(key_lo, key_hi, stream, path, group, j + static_cast<uint32_t>(c), z[c]);
    }
    for (int c = 0; c < n; ++c) out[c] = pick4(z[c], step);
  }
};

}  // namespace itk

// Philox4x32-10 (Salmon et al., SC'11; Random123 philox.h): a 10-round bijection of a 128-bit
// counter under a 64-bit key. docs/design/randomness.md §1 describes the rounds and the known answers.
#pragma once
#include "itk_hd.h"

namespace itk {

struct Philox4 {
  uint32_t v[4];
};

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

ITK_HD void mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// One round: (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0) with (hi0, lo0) = M0*c0, (hi1, lo1) = M1*c2.
ITK_HD Philox4 philox_round(Philox4 c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo32(kPhiloxM0, c.v[0], &hi0, &lo0);
  mulhilo32(kPhiloxM1, c.v[2], &hi1, &lo1);
  Philox4 r;
  r.v[0] = hi1 ^ c.v[1] ^ k0;
  r.v[1] = lo1;
  r.v[2] = hi0 ^ c.v[3] ^ k1;
  r.v[3] = lo0;
  return r;
}

// Key schedule: round 1 uses the key as given; before each later round k0 += W0, k1 += W1.
ITK_HD void philox_bump_key(uint32_t* k0, uint32_t* k1) {
  *k0 += kPhiloxW0;
  *k1 += kPhiloxW1;
}

// `rounds` is 10 for Philox4x32-10; other counts exist only for Random123's reduced-round KATs.
ITK_HD Philox4 philox4x32(Philox4 c, uint32_t k0, uint32_t k1, int rounds = 10) {
  for (int i = 0; i < rounds; ++i) {
    if (i > 0) philox_bump_key(&k0, &k1);
    c = philox_round(c, k0, k1);
  }
  return c;
}

// The counter of block `block` under the layout below (shared by scalar and batched callers).
ITK_HD Philox4 philox_counter(uint32_t stream, uint64_t path, uint32_t step, uint32_t block) {
  Philox4 c;
  c.v[0] = block;
  c.v[1] = step;
  c.v[2] = static_cast<uint32_t>(path);
  c.v[3] = static_cast<uint32_t>((path >> 32) & 0xFFFFu) | (stream << 16);
  return c;
}

// Counter layout of docs/design/randomness.md §2: noise is a pure function of (seed, stream, path, step, j).
// c0 = j >> 2, c1 = step, c2 = path bits 0-31, c3 = path bits 32-47 | stream << 16.
ITK_HD Philox4 philox_block(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                            uint32_t step, uint32_t block) {
  return philox4x32(philox_counter(stream, path, step, block), key_lo, key_hi);
}

// Named streams (docs/design/randomness.md §3).
enum RngStream : uint32_t {
  kStreamBrownian = 0,
  kStreamPrior = 1,
  kStreamPredictor = 2,
  kStreamCorrector = 3,
  kStreamResample = 4,
  kStreamProbe = 5,
  kStreamUser = 6,
  // Family-specific streams start at 32, leaving room for new generic ones.
  kStreamFbmOu = 32,     // fBM: z_1..z_K of the exact OU step (step j, lane d*K + k)
  kStreamFbmInit = 33,   // fBM: type I Y(0) ~ N(0, C) (step 0, lane d*K + k)
  kStreamFbmExact = 34,  // fBM: exact generators (step 0, lane = index of the normal)
};

}  // namespace itk

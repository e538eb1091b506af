#include "rng_batch.h"

#include "../kernels/normal.h"

// x86-64 Linux with GCC/Clang: compile each batch function for AVX-512, AVX2 and baseline and let
// the loader pick one at run time (ifunc), so the prebuilt binary stays portable. -ffp-contract=off
// keeps the AVX2/AVX-512 clones free of FMA contraction, hence bit-identical to the baseline.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define ITK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ITK_CLONES
#endif

namespace itk {

namespace {

// One Philox round on every lane (the scalar philox_round, applied lane by lane).
inline void philox_round_lanes(uint32_t (&c)[4][kRngLanes], uint32_t k0, uint32_t k1) {
  for (int l = 0; l < kRngLanes; ++l) {
    Philox4 in;
    in.v[0] = c[0][l];
    in.v[1] = c[1][l];
    in.v[2] = c[2][l];
    in.v[3] = c[3][l];
    const Philox4 r = philox_round(in, k0, k1);
    c[0][l] = r.v[0];
    c[1][l] = r.v[1];
    c[2][l] = r.v[2];
    c[3][l] = r.v[3];
  }
}

// Ten rounds over counters already laid out in c, written to b->w.
inline void philox_lanes(RngBatch* b, uint32_t (&c)[4][kRngLanes], uint32_t key_lo, uint32_t key_hi) {
  uint32_t k0 = key_lo, k1 = key_hi;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) philox_bump_key(&k0, &k1);
    philox_round_lanes(c, k0, k1);
  }
  for (int i = 0; i < 4; ++i)
    for (int l = 0; l < kRngLanes; ++l) b->w[i][l] = c[i][l];
}

}  // namespace

ITK_CLONES
void rng_batch_words(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                     uint32_t step, uint32_t block0) {
  uint32_t c[4][kRngLanes];
  for (int l = 0; l < kRngLanes; ++l) {
    const Philox4 ctr = philox_counter(stream, path, step, block0 + static_cast<uint32_t>(l));
    for (int i = 0; i < 4; ++i) c[i][l] = ctr.v[i];
  }
  philox_lanes(b, c, key_lo, key_hi);
}

ITK_CLONES
void rng_batch_words_paths(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path0,
                           uint32_t step, uint32_t block) {
  uint32_t c[4][kRngLanes];
  for (int l = 0; l < kRngLanes; ++l) {
    const Philox4 ctr = philox_counter(stream, path0 + static_cast<uint64_t>(l), step, block);
    for (int i = 0; i < 4; ++i) c[i][l] = ctr.v[i];
  }
  philox_lanes(b, c, key_lo, key_hi);
}

ITK_CLONES
void rng_batch_normals(RngBatch* b) {
  for (int l = 0; l < kRngLanes; ++l) box_muller(b->w[0][l], b->w[1][l], &b->z[0][l], &b->z[1][l]);
  for (int l = 0; l < kRngLanes; ++l) box_muller(b->w[2][l], b->w[3][l], &b->z[2][l], &b->z[3][l]);
}

ITK_CLONES
void rng_batch_normals01(RngBatch* b) {
  for (int l = 0; l < kRngLanes; ++l) box_muller(b->w[0][l], b->w[1][l], &b->z[0][l], &b->z[1][l]);
}

}  // namespace itk

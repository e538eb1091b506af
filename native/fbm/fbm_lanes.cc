#include "fbm_lanes.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ITK_FBM_X86 1
#endif

#include "../core/cpu_features.h"
#include "../kernels/fbm_rng.h"

namespace itk {
namespace fbm {
namespace {

// Written as simple loops over the 16 lanes so the compiler vectorises each (checked with
// -fopt-info-vec); the per-lane arithmetic is philox_round / box_muller verbatim.
#define ITK_FBM_PHILOX_BODY                                                                  \
  uint32_t v0[kLanes], v1[kLanes], v2[kLanes], v3[kLanes];                                   \
  for (int i = 0; i < kLanes; ++i) {                                                         \
    v0[i] = c.v[0][i];                                                                       \
    v1[i] = c.v[1][i];                                                                       \
    v2[i] = c.v[2][i];                                                                       \
    v3[i] = c.v[3][i];                                                                       \
  }                                                                                          \
  for (int r = 0; r < 10; ++r) {                                                             \
    if (r > 0) {                                                                             \
      k0 += kPhiloxW0;                                                                       \
      k1 += kPhiloxW1;                                                                       \
    }                                                                                        \
    uint32_t hi0[kLanes], lo0[kLanes], hi1[kLanes], lo1[kLanes];                             \
    for (int i = 0; i < kLanes; ++i) {                                                       \
      const uint64_t p = static_cast<uint64_t>(kPhiloxM0) * v0[i];                           \
      hi0[i] = static_cast<uint32_t>(p >> 32);                                               \
      lo0[i] = static_cast<uint32_t>(p);                                                     \
    }                                                                                        \
    for (int i = 0; i < kLanes; ++i) {                                                       \
      const uint64_t p = static_cast<uint64_t>(kPhiloxM1) * v2[i];                           \
      hi1[i] = static_cast<uint32_t>(p >> 32);                                               \
      lo1[i] = static_cast<uint32_t>(p);                                                     \
    }                                                                                        \
    for (int i = 0; i < kLanes; ++i) {                                                       \
      v0[i] = hi1[i] ^ v1[i] ^ k0;                                                           \
      v2[i] = hi0[i] ^ v3[i] ^ k1;                                                           \
      v1[i] = lo1[i];                                                                        \
      v3[i] = lo0[i];                                                                        \
    }                                                                                        \
  }                                                                                          \
  for (int i = 0; i < kLanes; ++i) {                                                         \
    out->v[0][i] = v0[i];                                                                    \
    out->v[1][i] = v1[i];                                                                    \
    out->v[2][i] = v2[i];                                                                    \
    out->v[3][i] = v3[i];                                                                    \
  }

void philox_default(uint32_t k0, uint32_t k1, const Lanes4& c, Lanes4* out) { ITK_FBM_PHILOX_BODY }

void box_muller_default(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
  for (int i = 0; i < kLanes; ++i) box_muller(a[i], b[i], &z0[i], &z1[i]);
}

#ifdef ITK_FBM_X86
__attribute__((target("avx2"))) void philox_avx2(uint32_t k0, uint32_t k1, const Lanes4& c, Lanes4* out) {
  ITK_FBM_PHILOX_BODY
}

// sqrtf sets errno in this build (no -fno-math-errno), which blocks vectorisation, so the square
// root is the correctly rounded _mm256_sqrt_ps: the same IEEE result as fsqrt.
__attribute__((target("avx2"))) void box_muller_avx2(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
  float t[kLanes], s[kLanes], co[kLanes];
  for (int i = 0; i < kLanes; ++i) t[i] = fmul(-2.0f, ik_logf(u24(a[i])));
  for (int i = 0; i < kLanes; ++i) ik_sincos_turn24((b[i] >> 8) | 1u, &s[i], &co[i]);
  for (int i = 0; i < kLanes; i += 8) _mm256_storeu_ps(t + i, _mm256_sqrt_ps(_mm256_loadu_ps(t + i)));
  for (int i = 0; i < kLanes; ++i) {
    z0[i] = fmul(t[i], co[i]);
    z1[i] = fmul(t[i], s[i]);
  }
}
#endif

bool use_avx2() {
#ifdef ITK_FBM_X86
  static const bool avx2 = cpu_features().avx2;
  return avx2;
#else
  return false;
#endif
}

}  // namespace

void philox_lanes(uint32_t k0, uint32_t k1, const Lanes4& c, Lanes4* out) {
#ifdef ITK_FBM_X86
  if (use_avx2()) return philox_avx2(k0, k1, c, out);
#endif
  philox_default(k0, k1, c, out);
}

void box_muller_lanes(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
#ifdef ITK_FBM_X86
  if (use_avx2()) return box_muller_avx2(a, b, z0, z1);
#endif
  box_muller_default(a, b, z0, z1);
}

void normals_of_path(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                     std::size_t count, float* z) {
  // Lanes are consecutive Philox blocks (counter word 0) of one (stream, path, step).
  std::size_t j = 0;
  Lanes4 c, w;
  for (int i = 0; i < kLanes; ++i) {
    c.v[1][i] = step;
    c.v[2][i] = static_cast<uint32_t>(path);
    c.v[3][i] = static_cast<uint32_t>((path >> 32) & 0xFFFFu) | (stream << 16);
  }
  const std::size_t per = 4 * kLanes;
  for (; j + per <= count; j += per) {
    for (int i = 0; i < kLanes; ++i) c.v[0][i] = static_cast<uint32_t>((j >> 2) + i);
    philox_lanes(key_lo, key_hi, c, &w);
    float a0[kLanes], a1[kLanes], a2[kLanes], a3[kLanes];
    box_muller_lanes(w.v[0], w.v[1], a0, a1);
    box_muller_lanes(w.v[2], w.v[3], a2, a3);
    for (int i = 0; i < kLanes; ++i) {
      z[j + 4 * i] = a0[i];
      z[j + 4 * i + 1] = a1[i];
      z[j + 4 * i + 2] = a2[i];
      z[j + 4 * i + 3] = a3[i];
    }
  }
  if (j < count) normal_lanes(key_lo, key_hi, stream, path, step, j, static_cast<int>(count - j), z + j);
}

}  // namespace fbm
}  // namespace itk

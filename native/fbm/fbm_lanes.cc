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
// mulhilo32 on 8 lanes: _mm256_mul_epu32 multiplies the even 32-bit lanes; the odd lanes are
// shifted down and multiplied separately, then the high and low halves are blended back.
__attribute__((target("avx2"))) inline void mulhilo8(__m256i a, __m256i m, __m256i* hi, __m256i* lo) {
  const __m256i pe = _mm256_mul_epu32(a, m);
  const __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
  *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
  *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
}

__attribute__((target("avx2"))) void philox_avx2(uint32_t k0, uint32_t k1, const Lanes4& c, Lanes4* out) {
  const __m256i m0 = _mm256_set1_epi32(static_cast<int>(kPhiloxM0));
  const __m256i m1 = _mm256_set1_epi32(static_cast<int>(kPhiloxM1));
  for (int h = 0; h < kLanes; h += 8) {
    __m256i v0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(&c.v[0][h]));
    __m256i v1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(&c.v[1][h]));
    __m256i v2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(&c.v[2][h]));
    __m256i v3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(&c.v[3][h]));
    uint32_t a = k0, b = k1;
    for (int r = 0; r < 10; ++r) {
      if (r > 0) {
        a += kPhiloxW0;
        b += kPhiloxW1;
      }
      __m256i hi0, lo0, hi1, lo1;
      mulhilo8(v0, m0, &hi0, &lo0);
      mulhilo8(v2, m1, &hi1, &lo1);
      const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(hi1, v1), _mm256_set1_epi32(static_cast<int>(a)));
      const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(hi0, v3), _mm256_set1_epi32(static_cast<int>(b)));
      v0 = n0;
      v1 = lo1;
      v2 = n2;
      v3 = lo0;
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(&out->v[0][h]), v0);
    _mm256_store_si256(reinterpret_cast<__m256i*>(&out->v[1][h]), v1);
    _mm256_store_si256(reinterpret_cast<__m256i*>(&out->v[2][h]), v2);
    _mm256_store_si256(reinterpret_cast<__m256i*>(&out->v[3][h]), v3);
  }
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

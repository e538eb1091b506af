// AVX2 and AVX-512 VNNI integer dot products (docs/design/unet.md §9), compiled with per-function target attributes
// so the binary itself needs no -march flag; qdot_kernels() calls them only when cpuid says so.
#if defined(__x86_64__) && defined(__GNUC__)  // GCC and Clang: per-function target attributes
#include <immintrin.h>

#include "qdot.h"

namespace itk {
namespace unet {

#define ITK_AVX2 __attribute__((target("avx2")))
#define ITK_VNNI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))

namespace {
ITK_AVX2 inline int32_t hsum8(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// 32 4-bit codes of one block as 32 bytes in K order.
ITK_AVX2 inline __m256i unpack_w4(const uint8_t* wb) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wb));
  const __m128i m = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(v, m);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}
}  // namespace

ITK_AVX2 void qdot4_w4_avx2(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                            const uint8_t* a3, int nblk, int32_t* out) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (int b = 0; b < nblk; ++b) {
    const __m256i wv = unpack_w4(w + 16 * b);
    const int o = 32 * b;
    // maddubs(u8 a, s8 w): pairs ≤ 2·255·15 = 7650, never saturates.
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + o)), wv), ones));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + o)), wv), ones));
    s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a2 + o)), wv), ones));
    s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a3 + o)), wv), ones));
  }
  out[0] = hsum8(s0); out[1] = hsum8(s1); out[2] = hsum8(s2); out[3] = hsum8(s3);
}

ITK_AVX2 void qdot4_w8_avx2(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                            const uint8_t* a3, int nblk, int32_t* out) {
  // maddubs could saturate with 8-bit weights (2·255·255): widen to 16 bits and madd (exact).
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  const int n = 32 * nblk;
  for (int i = 0; i < n; i += 16) {
    const __m256i wv = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + i)));
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a0 + i))), wv));
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a1 + i))), wv));
    s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a2 + i))), wv));
    s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a3 + i))), wv));
  }
  out[0] = hsum8(s0); out[1] = hsum8(s1); out[2] = hsum8(s2); out[3] = hsum8(s3);
}

ITK_VNNI void qdot4_w4_vnni(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                            const uint8_t* a3, int nblk, int32_t* out) {
  // vpdpbusd: u8 × s8 → i32 with no intermediate saturation; 4-bit codes are valid s8.
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (int b = 0; b < nblk; ++b) {
    const __m256i wv = unpack_w4(w + 16 * b);
    const int o = 32 * b;
    s0 = _mm256_dpbusd_epi32(s0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + o)), wv);
    s1 = _mm256_dpbusd_epi32(s1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + o)), wv);
    s2 = _mm256_dpbusd_epi32(s2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a2 + o)), wv);
    s3 = _mm256_dpbusd_epi32(s3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a3 + o)), wv);
  }
  out[0] = hsum8(s0); out[1] = hsum8(s1); out[2] = hsum8(s2); out[3] = hsum8(s3);
}

ITK_VNNI void qdot16_w4_vnni(const uint8_t* w, int wstride, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                             const uint8_t* a3, int nblk, int32_t* out) {
  // 4 weight rows × 4 activation rows: 16 accumulators, each loaded activation block feeds 4 rows.
  __m256i acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_setzero_si256();
  for (int b = 0; b < nblk; ++b) {
    const int o = 32 * b;
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + o));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + o));
    const __m256i v2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a2 + o));
    const __m256i v3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a3 + o));
    for (int i = 0; i < 4; ++i) {
      const __m256i wv = unpack_w4(w + static_cast<std::size_t>(i) * wstride + 16 * b);
      acc[4 * i + 0] = _mm256_dpbusd_epi32(acc[4 * i + 0], v0, wv);
      acc[4 * i + 1] = _mm256_dpbusd_epi32(acc[4 * i + 1], v1, wv);
      acc[4 * i + 2] = _mm256_dpbusd_epi32(acc[4 * i + 2], v2, wv);
      acc[4 * i + 3] = _mm256_dpbusd_epi32(acc[4 * i + 3], v3, wv);
    }
  }
  for (int i = 0; i < 16; ++i) out[i] = hsum8(acc[i]);
}

ITK_VNNI void qdot4_w8_vnni(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                            const uint8_t* a3, int nblk, int32_t* out) {
  // u8 weights are not s8: use w−128 and add back 128·Σa (exact in int32 within K ≤ 33,000).
  const __m256i off = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i ones = _mm256_set1_epi8(1);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  __m256i t0 = s0, t1 = s0, t2 = s0, t3 = s0;
  for (int b = 0; b < nblk; ++b) {
    const int o = 32 * b;
    const __m256i wv = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + o)), off);  // w−128 as s8
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0 + o));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1 + o));
    const __m256i v2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a2 + o));
    const __m256i v3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a3 + o));
    s0 = _mm256_dpbusd_epi32(s0, v0, wv); t0 = _mm256_dpbusd_epi32(t0, v0, ones);
    s1 = _mm256_dpbusd_epi32(s1, v1, wv); t1 = _mm256_dpbusd_epi32(t1, v1, ones);
    s2 = _mm256_dpbusd_epi32(s2, v2, wv); t2 = _mm256_dpbusd_epi32(t2, v2, ones);
    s3 = _mm256_dpbusd_epi32(s3, v3, wv); t3 = _mm256_dpbusd_epi32(t3, v3, ones);
  }
  out[0] = hsum8(s0) + 128 * hsum8(t0);
  out[1] = hsum8(s1) + 128 * hsum8(t1);
  out[2] = hsum8(s2) + 128 * hsum8(t2);
  out[3] = hsum8(s3) + 128 * hsum8(t3);
}

// GCC 12's unpack/extract intrinsics start from a self-initialised _mm512_undefined_*(), which
// -Wuninitialized reports at -O3 once inlined; the value is fully overwritten.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace {
// Channel c's 8 pixels (one ymm) into the NCHW output: y[c·ldy + r] for r < nr, nothing for c ≥ ni.
__attribute__((target("avx2,avx512f,avx512vl"))) inline void store_run(const QEpi& e, int c, __m256 v) {
  if (c >= e.ni) return;
  float* yc = e.y + static_cast<std::size_t>(c) * e.ldy;
  if (e.nr == kQr)
    _mm256_storeu_ps(yc, v);
  else
    _mm256_mask_storeu_ps(yc, static_cast<__mmask8>((1u << e.nr) - 1), v);
}
}  // namespace

// 8 pixels × 32 channels: 16 zmm accumulators; per quad of k two 64-byte weight loads and eight
// broadcast activation quads feed 16 vpdpbusd (1,024 multiply-adds). Runs of quads (qdot.h): the
// accumulators stay in registers across the taps of an implicit conv. The epilogue (qdot.h QEpi,
// the operations of qtile_epilogue in the same order) runs on the accumulators in registers, 16
// channels per vector, then an 8 × 16 transpose per half (24 shuffles) gives each channel's 8
// pixels as one ymm stored straight into the NCHW output: no int32 round trip through memory and
// no strided scalar stores (those cost as much as a 1×1 tile).
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"))) void qtile_vnni(const int8_t* wp, int ntaps, const int* tapoff,
                                                                                  int qpt, const uint8_t* const* a, const QEpi& e) {
  __m512i acc[kQr][2];
  for (int r = 0; r < kQr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
  for (int tp = 0; tp < ntaps; ++tp) {
    const int off = tapoff[tp];
    const uint8_t* rows[kQr];
    for (int r = 0; r < kQr; ++r) rows[r] = a[r] + off;
    const int8_t* wt = wp + static_cast<std::size_t>(tp) * qpt * kQo * 4;
    for (int q = 0; q < qpt; ++q) {
      const __m512i w0 = _mm512_loadu_si512(wt + static_cast<std::size_t>(q) * kQo * 4);
      const __m512i w1 = _mm512_loadu_si512(wt + static_cast<std::size_t>(q) * kQo * 4 + 64);
#pragma GCC unroll 8
      for (int r = 0; r < kQr; ++r) {
        int32_t quad;
        __builtin_memcpy(&quad, rows[r] + 4 * q, 4);
        const __m512i av = _mm512_set1_epi32(quad);
        acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, w0);
        acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, w1);
      }
    }
  }
  // Epilogue, 16 channels per vector: acc′ = acc + czw·sa[r] + kc (wrapping int32, exact), then
  // float(acc′)·so + bias (+ extra), each rounded separately as in qtile_epilogue.
  __m512 f[kQr][2];
  for (int h = 0; h < 2; ++h) {
    const __m512i cz = _mm512_loadu_si512(e.czw + 16 * h), kc = _mm512_loadu_si512(e.kc + 16 * h);
    const __m512 so = _mm512_loadu_ps(e.so + 16 * h), bias = _mm512_loadu_ps(e.bias + 16 * h);
    const int nh = e.ni - 16 * h;  // channels of this half that exist (extra has ni entries)
    const __mmask16 mh = nh >= 16 ? static_cast<__mmask16>(0xFFFF) : nh <= 0 ? 0 : static_cast<__mmask16>((1u << nh) - 1);
    const __m512 ex = e.extra ? _mm512_maskz_loadu_ps(mh, e.extra + 16 * h) : _mm512_setzero_ps();
    for (int r = 0; r < kQr; ++r) {
      const __m512i s = _mm512_set1_epi32(e.sa[r < e.nr ? r : 0]);
      const __m512i t = _mm512_add_epi32(_mm512_add_epi32(acc[r][h], _mm512_mullo_epi32(cz, s)), kc);
      __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(t), so), bias);
      if (e.extra) v = _mm512_add_ps(v, ex);
      f[r][h] = v;
    }
  }
  // Channel-major transpose and store: y[c·ldy + r] for c < ni, r < nr.
  const __m512i lo2 = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), hi2 = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
  for (int h = 0; h < 2; ++h) {
    __m512i x[4], y[4];  // lane L of x[k] / y[k]: channel 4L + k, pixels 0–3 / 4–7
    for (int half = 0; half < 2; ++half) {
      const int r0 = 4 * half;
      const __m512i p0 = _mm512_castps_si512(f[r0][h]), p1 = _mm512_castps_si512(f[r0 + 1][h]);
      const __m512i p2 = _mm512_castps_si512(f[r0 + 2][h]), p3 = _mm512_castps_si512(f[r0 + 3][h]);
      const __m512i ab0 = _mm512_unpacklo_epi32(p0, p1), ab1 = _mm512_unpackhi_epi32(p0, p1);
      const __m512i cd0 = _mm512_unpacklo_epi32(p2, p3), cd1 = _mm512_unpackhi_epi32(p2, p3);
      __m512i* d = half ? y : x;
      d[0] = _mm512_unpacklo_epi64(ab0, cd0);
      d[1] = _mm512_unpackhi_epi64(ab0, cd0);
      d[2] = _mm512_unpacklo_epi64(ab1, cd1);
      d[3] = _mm512_unpackhi_epi64(ab1, cd1);
    }
    for (int k = 0; k < 4; ++k) {
      const __m512 l = _mm512_castsi512_ps(_mm512_permutex2var_epi64(x[k], lo2, y[k]));  // channels k, 4 + k
      const __m512 u = _mm512_castsi512_ps(_mm512_permutex2var_epi64(x[k], hi2, y[k]));  // channels 8 + k, 12 + k
      const int c = 16 * h + k;
      store_run(e, c, _mm512_castps512_ps256(l));
      store_run(e, c + 4, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(l), 1)));
      store_run(e, c + 8, _mm512_castps512_ps256(u));
      store_run(e, c + 12, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(u), 1)));
    }
  }
}
#pragma GCC diagnostic pop

}  // namespace unet
}  // namespace itk
#endif

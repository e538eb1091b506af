// AVX-512 and AVX2+FMA FP32 micro-kernels (fgemm.h). Compiled for baseline x86-64 with
// per-function target attributes; chosen at run time by fgemm_kernels().
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "fgemm.h"

namespace itk {
namespace unet {

// 8 × 48: 24 zmm accumulators; per k three 16-float patch loads and eight broadcast weights feed
// 24 FMAs (12 cycles on two 512-bit FMA pipes), so each accumulator chain waits 12 cycles > the
// 4-cycle FMA latency.
__attribute__((target("avx512f"))) void fgemm_tile_avx512(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c,
                                                          bool accumulate) {
  __m512 a[kMr][3];
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) a[r][v] = accumulate ? _mm512_loadu_ps(c + r * kNr + 16 * v) : _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const float* pk = rows[k] + off;
    const __m512 p0 = _mm512_loadu_ps(pk), p1 = _mm512_loadu_ps(pk + 16), p2 = _mm512_loadu_ps(pk + 32);
    const float* wk = wp + k * kMr;
#pragma GCC unroll 8
    for (int r = 0; r < kMr; ++r) {
      const __m512 w = _mm512_set1_ps(wk[r]);
      a[r][0] = _mm512_fmadd_ps(w, p0, a[r][0]);
      a[r][1] = _mm512_fmadd_ps(w, p1, a[r][1]);
      a[r][2] = _mm512_fmadd_ps(w, p2, a[r][2]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) _mm512_storeu_ps(c + r * kNr + 16 * v, a[r][v]);
}

// Row 0 only (FGemmKernels::tile1): 3 zmm accumulators, the same fma sequence per output as the
// 8 × 48 tile. Bound by the 4-cycle FMA latency (3 chains: ~4 cycles per k instead of the full
// tile's 12), a 3× shorter tile for a block with one real channel.
__attribute__((target("avx512f"))) void fgemm_tile1_avx512(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c,
                                                           bool accumulate) {
  __m512 a0 = accumulate ? _mm512_loadu_ps(c) : _mm512_setzero_ps();
  __m512 a1 = accumulate ? _mm512_loadu_ps(c + 16) : _mm512_setzero_ps();
  __m512 a2 = accumulate ? _mm512_loadu_ps(c + 32) : _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const float* pk = rows[k] + off;
    const __m512 w = _mm512_set1_ps(wp[k * kMr]);
    a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(pk), a0);
    a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(pk + 16), a1);
    a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(pk + 32), a2);
  }
  _mm512_storeu_ps(c, a0);
  _mm512_storeu_ps(c + 16, a1);
  _mm512_storeu_ps(c + 32, a2);
}

// The tile epilogue with masked 16-wide loads/stores: a run of len ≤ 48 columns is ⌈len/16⌉
// vector steps, never a scalar tail.
__attribute__((target("avx512f"))) void fstore_avx512(const float* c, int nrows, const float* bias, const float* add, const FStoreRun* runs,
                                                      int nrun, float* y, std::size_t ystride) {
  for (int row = 0; row < nrows; ++row) {
    const float* cr = c + static_cast<std::size_t>(row) * kNr;
    float* yr = y + row * ystride;
    const __m512 b = _mm512_set1_ps(bias[row]);
    for (int r = 0; r < nrun; ++r) {
      const float* s = cr + runs[r].j0;
      float* d = yr + runs[r].yoff;
      const int len = runs[r].len;
      const __m512 e = _mm512_set1_ps(add ? add[runs[r].aoff + row] : 0.0f);
      for (int i = 0; i < len; i += 16) {
        const __mmask16 m = len - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (len - i)) - 1u);
        __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + i), b);
        if (add) v = _mm512_add_ps(v, e);
        _mm512_mask_storeu_ps(d + i, m, v);
      }
    }
  }
}

// 4 rows × 24 columns: 12 ymm accumulators + 3 patch registers + 1 broadcast (16 registers).
__attribute__((target("avx2,fma"))) static inline void quarter_avx2(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c,
                                                                   bool accumulate) {
  __m256 a[4][3];
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) a[r][v] = accumulate ? _mm256_loadu_ps(c + r * kNr + 8 * v) : _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const float* pk = rows[k] + off;
    const __m256 p0 = _mm256_loadu_ps(pk), p1 = _mm256_loadu_ps(pk + 8), p2 = _mm256_loadu_ps(pk + 16);
    const float* wk = wp + k * kMr;
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r) {
      const __m256 w = _mm256_broadcast_ss(wk + r);
      a[r][0] = _mm256_fmadd_ps(w, p0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(w, p1, a[r][1]);
      a[r][2] = _mm256_fmadd_ps(w, p2, a[r][2]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < 4; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) _mm256_storeu_ps(c + r * kNr + 8 * v, a[r][v]);
}

__attribute__((target("avx2,fma"))) void fgemm_tile_avx2(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c,
                                                         bool accumulate) {
  for (int rh = 0; rh < kMr; rh += 4)
    for (int ch = 0; ch < kNr; ch += 24) quarter_avx2(kc, wp + rh, rows, off + ch, c + rh * kNr + ch, accumulate);
}

}  // namespace unet
}  // namespace itk
#endif

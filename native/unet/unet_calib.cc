#include "unet_calib.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "../core/cpu_features.h"
#include "../core/isa.h"
#include "../kernels/quant_ops.h"
#include "lp_pow.h"

namespace itk {
namespace unet {

QParams lp_search(const float* x, std::size_t n, std::size_t stride, int qmax, bool clamp_zero, float p) {
  float m = INFINITY, M = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    m = std::min(m, x[i * stride]);
    M = std::max(M, x[i * stride]);
  }
  return lp_search_range(x, n, stride, qmax, m, M, clamp_zero, p);
}

namespace {

// The k-th candidate of docs/design/unet.md §7.3: r = 1 − 0.01·k, Δ = max(r·(hi−lo)/qmax, 1e-8), z = round(−r·lo/Δ).
QParams candidate(int k, float lo, float hi, int qmax, bool clamp_zero) {
  QParams q;
  const float r = 1.0f - 0.01f * static_cast<float>(k);
  q.delta = std::max(r * (hi - lo) / static_cast<float>(qmax), 1e-8f);
  q.zero = std::nearbyint(-r * lo / q.delta) + 0.0f;  // + 0 turns −0 into +0
  if (clamp_zero) q.zero = std::min(std::max(q.zero, 0.0f), static_cast<float>(qmax));
  return q;
}

// One element's term: |x − x̂|^p as a float (0 when x is reproduced exactly).
inline float lp_term(float v, float delta, float zero, int qmax, bool square, double p) {
  const float e = std::fabs(v - fake_quant(v, delta, zero, qmax));
  if (!(e > 0.0f)) return 0.0f;
  return square ? e * e : pow_pos(e, p);
}

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// |x − x̂| on 16 lanes: fake_quant's divisions, roundings and operation order lane for lane, so
// the exact score (lp_lanes_avx512) and the bound pass (lp_bound_sum_avx512) see the same e.
__attribute__((target("avx512f,avx512dq"))) inline __m512 lp_err16(__m512 v, __m512 vd, __m512 vz, __m512 vq) {
  const __m512 f0 = _mm512_setzero_ps();
  __m512 qv = _mm512_add_ps(_mm512_roundscale_ps(_mm512_div_ps(v, vd), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vz);
  qv = _mm512_max_ps(qv, f0);  // NaN → 0, as quant_code
  qv = _mm512_min_ps(qv, vq);
  const __m512 deq = _mm512_mul_ps(vd, _mm512_sub_ps(qv, vz));
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(v, deq)), _mm512_set1_epi32(0x7FFFFFFF)));
}

// 16 elements per step, the scalar arithmetic lane for lane (same divisions, roundings and
// operation order as fake_quant and pow_pos), terms added to the 8 double lanes in element
// order: elements i..i+7 then i+8..i+15. Returns the elements done (a multiple of 16).
__attribute__((target("avx512f,avx512dq"))) std::size_t lp_lanes_avx512(const float* x, std::size_t n, float delta,
                                                                         float zero, int qmax, bool square, double p,
                                                                         double* lanes) {
  const __m512 vd = _mm512_set1_ps(delta), vz = _mm512_set1_ps(zero), vq = _mm512_set1_ps(static_cast<float>(qmax));
  const __m512 f0 = _mm512_setzero_ps();
  const __m512d pd = _mm512_set1_pd(p);
  __m512d acc = _mm512_loadu_pd(lanes);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = lp_err16(_mm512_loadu_ps(x + i), vd, vz, vq);
    const __mmask16 pos = _mm512_cmp_ps_mask(e, f0, _CMP_GT_OQ);
    __m512d lo, hi;
    if (square) {
      const __m512 e2 = _mm512_mul_ps(e, e);
      lo = _mm512_cvtps_pd(_mm512_castps512_ps256(e2));
      hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e2), 1)));
    } else {
      lo = pow_pos8(_mm512_castps512_ps256(e), pd);
      hi = pow_pos8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)), pd);
    }
    acc = _mm512_mask_add_pd(acc, static_cast<__mmask8>(pos & 0xFF), acc, lo);
    acc = _mm512_mask_add_pd(acc, static_cast<__mmask8>(pos >> 8), acc, hi);
  }
  _mm512_storeu_pd(lanes, acc);
  return i;
}

// Bound pass of the search: Σ pow_approx16(|x − x̂|) over all n elements (any order: only its
// error bound matters), or +∞ as soon as the lower bound it gives of the exact mean score, taken
// after a chunk, exceeds `cut` (then the candidate provably loses, see lp_search_range).
// lower(s) = (s·(1 − 4ε) − 2n·η) / n with ε, η = kPowApproxRel, kPowApproxAbs.
__attribute__((target("avx512f,avx512dq"))) double lp_bound_sum_avx512(const float* x, std::size_t n, float delta, float zero,
                                                                       int qmax, float p, double cut) {
  // first check after 32 elements (candidates far from the best stop there; groups of 32–128
  // elements get a check at all), then every 128 (CIFAR rows: 23 row-equivalents per row in
  // this pass, 1.01 in the exact one)
  constexpr std::size_t kFirst = 32, kChunk = 128;
  const __m512 vd = _mm512_set1_ps(delta), vz = _mm512_set1_ps(zero), vq = _mm512_set1_ps(static_cast<float>(qmax));
  const __m512 vp = _mm512_set1_ps(p), f0 = _mm512_setzero_ps();
  const double dn = static_cast<double>(n), keep = 1.0 - 4.0 * kPowApproxRel, slack = 2.0 * dn * kPowApproxAbs;
  __m512d a0 = _mm512_setzero_pd(), a1 = _mm512_setzero_pd();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t end = std::min(n, i + (i == 0 ? kFirst : kChunk));
    for (; i < end; i += 16) {
      const __mmask16 live = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
      const __m512 e = lp_err16(_mm512_maskz_loadu_ps(live, x + i), vd, vz, vq);
      const __m512 t = pow_approx16(e, _mm512_mask_cmp_ps_mask(live, e, f0, _CMP_GT_OQ), vp);
      a0 = _mm512_add_pd(a0, _mm512_cvtps_pd(_mm512_castps512_ps256(t)));
      a1 = _mm512_add_pd(a1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(t), 1))));
    }
    if (i < n && (_mm512_reduce_add_pd(_mm512_add_pd(a0, a1)) * keep - slack) / dn > cut) return INFINITY;
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(a0, a1));
}

__attribute__((target("avx2,fma"))) inline double hsum4(__m256d v) {
  alignas(32) double l[4];
  _mm256_store_pd(l, v);
  return (l[0] + l[1]) + (l[2] + l[3]);
}

// lp_bound_sum_avx512 on 8 AVX2 lanes (FMA needed): e as fake_quant, pow_approx8_avx2, the same
// chunks, bound and cut.
__attribute__((target("avx2,fma"))) double lp_bound_sum_avx2(const float* x, std::size_t n, float delta, float zero, int qmax,
                                                             float p, double cut) {
  constexpr std::size_t kFirst = 32, kChunk = 128;
  const __m256 vd = _mm256_set1_ps(delta), vz = _mm256_set1_ps(zero), vq = _mm256_set1_ps(static_cast<float>(qmax));
  const __m256 vp = _mm256_set1_ps(p), f0 = _mm256_setzero_ps(), absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const double dn = static_cast<double>(n), keep = 1.0 - 4.0 * kPowApproxRel, slack = 2.0 * dn * kPowApproxAbs;
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t end = std::min(n, i + (i == 0 ? kFirst : kChunk));
    for (; i < end; i += 8) {
      const int left = static_cast<int>(std::min<std::size_t>(n - i, 8));
      const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      const __m256 v = _mm256_maskload_ps(x + i, live);
      __m256 qv = _mm256_add_ps(_mm256_round_ps(_mm256_div_ps(v, vd), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vz);
      qv = _mm256_max_ps(qv, f0);  // NaN → 0, as quant_code
      qv = _mm256_min_ps(qv, vq);
      const __m256 e = _mm256_and_ps(_mm256_sub_ps(v, _mm256_mul_ps(vd, _mm256_sub_ps(qv, vz))), absmask);
      const __m256 pos = _mm256_and_ps(_mm256_cmp_ps(e, f0, _CMP_GT_OQ), _mm256_castsi256_ps(live));
      const __m256 t = pow_approx8_avx2(e, pos, vp);
      a0 = _mm256_add_pd(a0, _mm256_cvtps_pd(_mm256_castps256_ps128(t)));
      a1 = _mm256_add_pd(a1, _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1)));
    }
    if (i < n && (hsum4(_mm256_add_pd(a0, a1)) * keep - slack) / dn > cut) return INFINITY;
  }
  return hsum4(_mm256_add_pd(a0, a1));
}
#pragma GCC diagnostic pop
#endif

// Σ_j |x_j − x̂_j|^p / n over a contiguous span in 8 fixed double lanes (element j goes to lane
// j mod 8 in order, lanes summed in order, the < 8 tail last, then / n): the same value on every
// ISA. Pruning: every term is ≥ 0 and adding one never lowers a float sum, so the lanes' ordered
// sum after any chunk is a lower bound of the final sum; once that bound / n exceeds `best` (or
// reaches it, when `ties_lose`) the candidate cannot be chosen and +∞ is returned early.
double lp_score(const float* x, std::size_t n, float delta, float zero, int qmax, float p, double best, bool ties_lose) {
  constexpr std::size_t kChunk = 512;
  double lanes[8] = {};
  const double pd = p;
  const bool square = p == 2.0f;
  const double dn = static_cast<double>(n);
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx512 = cpu_isa() == Isa::Avx512;  // native/core/isa.h: F, DQ, BW, VL, under ITOKIT_CPU
#else
  constexpr bool avx512 = false;
#endif
  std::size_t i = 0;
  const std::size_t n8 = n / 8 * 8;
  while (i < n8) {
    const std::size_t end = std::min(n8, i + kChunk);
#if defined(__x86_64__) && defined(__GNUC__)
    if (avx512) i += lp_lanes_avx512(x + i, end - i, delta, zero, qmax, square, pd, lanes);
#endif
    for (; i < end; i += 8)
      for (int j = 0; j < 8; ++j) lanes[j] += static_cast<double>(lp_term(x[i + j], delta, zero, qmax, square, pd));
    if (i < n8) {
      double bound = 0;
      for (int j = 0; j < 8; ++j) bound += lanes[j];
      bound /= dn;
      if (bound > best || (ties_lose && bound >= best)) return INFINITY;
    }
  }
  double s = 0;
  for (int j = 0; j < 8; ++j) s += lanes[j];
  for (; i < n; ++i) s += static_cast<double>(lp_term(x[i], delta, zero, qmax, square, pd));
  return s / dn;
}

}  // namespace

QParams lp_search_range(const float* x, std::size_t n, std::size_t stride, int qmax, float m, float M, bool clamp_zero,
                        float p) {
  std::vector<float> packed;
  if (stride != 1) {
    packed.resize(n);
    for (std::size_t j = 0; j < n; ++j) packed[j] = x[j * stride];
    x = packed.data();
  }
  // The first strict minimum over k = 0..79 is the candidate with the least score, ties to the
  // smaller k, whatever order they are scored in, and whichever candidates are left out as long as
  // each one left out provably scores strictly more than another: the result is the same as
  // scanning all 80 in order, on any thread and ISA.
  QParams cand[80];
  for (int k = 0; k < 80; ++k) cand[k] = candidate(k, m, M, qmax, clamp_zero);
  // Scoring the previous search's winner first (neighbouring rows of a layer have similar
  // ranges) makes most others stop after a chunk or two (pruning in lp_score and in the bound pass).
  thread_local int guess = 0;
  int order[80];
  for (int step = 0; step < 80; ++step) order[step] = step == 0 ? guess : (step <= guess ? step - 1 : step);
  int n_exact = 80;
  const double dn = static_cast<double>(n);
#if defined(__x86_64__) && defined(__GNUC__)
  // native/core/isa.h's level (AVX-512: F, DQ, BW, VL; AVX2 with FMA), under ITOKIT_CPU
  static const int bound_isa = cpu_isa() == Isa::Avx512 ? 2 : (cpu_isa() == Isa::Avx2 && cpu_features().fma ? 1 : 0);
  // e = |x − x̂| ≤ |x| + |x̂| and |x̂| ≤ 3·max(|lo|, |hi|) + 255·1e-8 (Δ ≤ (hi − lo)/qmax, |Δ·z| ≤ r·|lo| + Δ/2)
  float amax = std::max(std::fabs(m), std::fabs(M));  // NaN here turns the bound pass off; NaN in x is masked
  for (std::size_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  // Bound pass (lp_pow.h): approximate scores with a proven error bound give each candidate a
  // lower and an upper bound of its exact mean score. A candidate whose lower bound exceeds the
  // least upper bound scores strictly more than that candidate (rounded divisions by n are
  // monotone) and is left out; the exact scores of the rest (usually one or two) decide. The
  // bound holds for p ∈ [1, 4] and e < 2^22 (amax < 2^19 keeps e ≤ 4·amax below it); p = 2 is a
  // plain square and is scored exactly at once.
  if (bound_isa > 0 && n >= 16 && p != 2.0f && p >= 1.0f && p <= 4.0f && amax < kPowApproxMaxE / 8) {
    double lower[80], cut = INFINITY;
    for (int step = 0; step < 80; ++step) {
      const int k = order[step];
      const double s = bound_isa == 2 ? lp_bound_sum_avx512(x, n, cand[k].delta, cand[k].zero, qmax, p, cut)
                                      : lp_bound_sum_avx2(x, n, cand[k].delta, cand[k].zero, qmax, p, cut);
      lower[k] = s < INFINITY ? (s * (1.0 - 4.0 * kPowApproxRel) - 2.0 * dn * kPowApproxAbs) / dn : INFINITY;
      if (s < INFINITY) cut = std::min(cut, (s * (1.0 + 4.0 * kPowApproxRel) + 2.0 * dn * kPowApproxAbs) / dn);
    }
    if (cut < INFINITY) {
      n_exact = 0;
      for (int step = 0; step < 80; ++step)
        if (lower[order[step]] <= cut) order[n_exact++] = order[step];
      // least lower bound first: the likely winner prunes the others' exact scores early
      std::stable_sort(order, order + n_exact, [&](int a, int b) { return lower[a] < lower[b]; });
    }
  }
#endif
  QParams best;
  double best_score = INFINITY;
  int best_k = -1;
  for (int step = 0; step < n_exact; ++step) {
    const int k = order[step];
    const bool ties_lose = best_k >= 0 && k > best_k;
    const double s = lp_score(x, n, cand[k].delta, cand[k].zero, qmax, p, best_score, ties_lose);
    if (s < best_score || (s == best_score && best_k >= 0 && k < best_k)) {
      best_score = s;
      best = cand[k];
      best_k = k;
    }
  }
  if (best_k >= 0) guess = best_k;
  return best;
}

QParams lp_search_range_reference(const float* x, std::size_t n, std::size_t stride, int qmax, float m, float M,
                                  bool clamp_zero, float p) {
  QParams best;
  double best_score = INFINITY;
  for (int i = 0; i < 80; ++i) {
    const QParams q = candidate(i, m, M, qmax, clamp_zero);
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const float v = x[j * stride];
      const float e = std::fabs(v - fake_quant(v, q.delta, q.zero, qmax));
      if (e > 0.0f) s += p == 2.0f ? static_cast<double>(e * e) : static_cast<double>(std::pow(e, p));
    }
    s /= static_cast<double>(n);
    if (s < best_score) {
      best_score = s;
      best = q;
    }
  }
  return best;
}

QParams minmax_params(float m, float M) {
  const float lo = std::min(m, 0.0f), hi = std::max(M, 0.0f);
  QParams q;
  q.delta = std::max((hi - lo) / 255.0f, 1e-8f);
  q.zero = std::min(std::max(std::nearbyint(-lo / q.delta), 0.0f), 255.0f) + 0.0f;
  return q;
}

void calib_update(ActStat* st, const float* x, std::size_t n, bool ema) {
  float mn = INFINITY, mx = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    mn = std::min(mn, x[i]);
    mx = std::max(mx, x[i]);
  }
  if (!st->init || !ema) {
    if (st->init) return;  // initialisation uses the first tensor only
    st->init = true;
    st->m = mn;
    st->M = mx;
    // The search scores 80 candidates; on large tensors it runs on a fixed strided subsample
    // (at most 4,096 values, plus the extremes so the candidate ranges are unchanged).
    QParams q;
    if (n <= 4096) {
      q = lp_search(x, n, 1, 255, true);
    } else {
      const std::size_t stride = (n + 4095) / 4096;
      std::vector<float> sub;
      for (std::size_t i = 0; i < n; i += stride) sub.push_back(x[i]);
      sub.push_back(mn);
      sub.push_back(mx);
      q = lp_search(sub.data(), sub.size(), 1, 255, true);
    }
    st->delta = q.delta;
    st->zero = q.zero;
    return;
  }
  if (st->keep_sample) {
    std::size_t stride = (n + kActSamplePerTensor - 1) / kActSamplePerTensor;
    stride |= 1;  // odd: see kActSamplePerTensor
    for (std::size_t i = 0; i < n; i += stride) st->sample.push_back(x[i]);
  }
  st->m = 0.95f * st->m + 0.05f * mn;
  st->M = 0.95f * st->M + 0.05f * mx;
  const QParams q = minmax_params(st->m, st->M);
  st->delta = q.delta;
  st->zero = q.zero;
}

void act_search(ActStat* st, float p) {
  if (st->sample.empty()) return;
  const QParams q = lp_search_range(st->sample.data(), st->sample.size(), 1, 255, std::min(st->m, 0.0f),
                                    std::max(st->M, 0.0f), true, p);
  st->delta = q.delta;
  st->zero = q.zero;
}

}  // namespace unet
}  // namespace itk

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

double bits_to_double(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

// e^p for a float e > 0, as float(2^(p·log2 e)) evaluated in double: log2 from the exponent and
// 2·atanh((m−1)/(m+1)) of the mantissa m ∈ [√½, √2) (10 odd terms, |t| ≤ 0.1716, truncation
// < 1e-17), 2^y as 2^n·exp(f·ln 2) with f ∈ [−½, ½] (Taylor to degree 13, truncation < 1e-17).
// Relative error ≈ 1e-14 before the float rounding, so the float equals the correctly rounded
// e^p except within 1e-14 of a rounding midpoint: the value powf gives, without a libm call per
// element (the search scored 80 × 33 M weights with scalar powf: 17 s on the CIFAR shape).
// Plain multiply-adds (no FMA contraction in this build): the same bits on every ISA.
inline float pow_pos(float e, double p) {
  const double d = static_cast<double>(e);
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  int64_t E = static_cast<int64_t>((u >> 52) & 0x7FF) - 1023;
  double m = bits_to_double((u & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull);  // [1, 2)
  const bool big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  E = big ? E + 1 : E;
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  double s = 1.0 / 19;
  s = s * t2 + 1.0 / 17;
  s = s * t2 + 1.0 / 15;
  s = s * t2 + 1.0 / 13;
  s = s * t2 + 1.0 / 11;
  s = s * t2 + 1.0 / 9;
  s = s * t2 + 1.0 / 7;
  s = s * t2 + 1.0 / 5;
  s = s * t2 + 1.0 / 3;
  s = s * t2 + 1.0;
  const double ln_m = 2.0 * t * s;
  const double y = p * static_cast<double>(E) + p * (ln_m * 1.4426950408889634);  // p·log2 e
  const double n = std::nearbyint(y);
  const double g = (y - n) * 0.6931471805599453;  // |g| ≤ 0.347
  double q = 1.0 / 6227020800.0;                  // 1/13!
  q = q * g + 1.0 / 479001600.0;
  q = q * g + 1.0 / 39916800.0;
  q = q * g + 1.0 / 3628800.0;
  q = q * g + 1.0 / 362880.0;
  q = q * g + 1.0 / 40320.0;
  q = q * g + 1.0 / 5040.0;
  q = q * g + 1.0 / 720.0;
  q = q * g + 1.0 / 120.0;
  q = q * g + 1.0 / 24.0;
  q = q * g + 1.0 / 6.0;
  q = q * g + 0.5;
  q = q * g + 1.0;
  q = q * g + 1.0;
  // 2^n for n in [−1022, 1023] (e ≥ 2^-149 and p ≤ 8 keep y well inside)
  const int64_t ni = static_cast<int64_t>(n);
  const double scale = bits_to_double(static_cast<uint64_t>(std::min<int64_t>(std::max<int64_t>(ni, -1022), 1023) + 1023) << 52);
  return static_cast<float>(q * scale);
}

// One element's term: |x − x̂|^p as a float (0 when x is reproduced exactly).
inline float lp_term(float v, float delta, float zero, int qmax, bool square, double p) {
  const float e = std::fabs(v - fake_quant(v, delta, zero, qmax));
  if (!(e > 0.0f)) return 0.0f;
  return square ? e * e : pow_pos(e, p);
}

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own undefined-vector idiom.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// pow_pos on 8 lanes.
__attribute__((target("avx512f,avx512dq"))) inline __m512d pow_pos8(__m256 e8, __m512d pd) {
  const __m512d d = _mm512_cvtps_pd(e8);
  const __m512i u = _mm512_castpd_si512(d);
  __m512i E = _mm512_sub_epi64(_mm512_and_si512(_mm512_srli_epi64(u, 52), _mm512_set1_epi64(0x7FF)), _mm512_set1_epi64(1023));
  __m512d m = _mm512_castsi512_pd(_mm512_or_si512(_mm512_and_si512(u, _mm512_set1_epi64(0x000FFFFFFFFFFFFFll)),
                                                  _mm512_set1_epi64(0x3FF0000000000000ll)));
  const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(1.4142135623730951), _CMP_GT_OQ);
  m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
  E = _mm512_mask_add_epi64(E, big, E, _mm512_set1_epi64(1));
  const __m512d one = _mm512_set1_pd(1.0);
  const __m512d t = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one)), t2 = _mm512_mul_pd(t, t);
  const double cs[] = {1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0};
  __m512d sp = _mm512_set1_pd(1.0 / 19);
  for (double cf : cs) sp = _mm512_add_pd(_mm512_mul_pd(sp, t2), _mm512_set1_pd(cf));
  const __m512d ln_m = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(2.0), t), sp);
  const __m512d y = _mm512_add_pd(_mm512_mul_pd(pd, _mm512_cvtepi64_pd(E)),
                                  _mm512_mul_pd(pd, _mm512_mul_pd(ln_m, _mm512_set1_pd(1.4426950408889634))));
  const __m512d nn = _mm512_roundscale_pd(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512d g = _mm512_mul_pd(_mm512_sub_pd(y, nn), _mm512_set1_pd(0.6931471805599453));
  const double cq[] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0,
                       1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  __m512d q = _mm512_set1_pd(1.0 / 6227020800.0);
  for (double cf : cq) q = _mm512_add_pd(_mm512_mul_pd(q, g), _mm512_set1_pd(cf));
  __m512i ni = _mm512_cvtpd_epi64(nn);
  ni = _mm512_min_epi64(_mm512_max_epi64(ni, _mm512_set1_epi64(-1022)), _mm512_set1_epi64(1023));
  const __m512d scale = _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_add_epi64(ni, _mm512_set1_epi64(1023)), 52));
  return _mm512_cvtps_pd(_mm512_cvtpd_ps(_mm512_mul_pd(q, scale)));  // rounded to float, as pow_pos
}

// 16 elements per step, the scalar arithmetic lane for lane (same divisions, roundings and
// operation order as fake_quant and pow_pos), terms added to the 8 double lanes in element
// order: elements i..i+7 then i+8..i+15. Returns the elements done (a multiple of 16).
__attribute__((target("avx512f,avx512dq"))) std::size_t lp_lanes_avx512(const float* x, std::size_t n, float delta,
                                                                         float zero, int qmax, bool square, double p,
                                                                         double* lanes) {
  const __m512 vd = _mm512_set1_ps(delta), vz = _mm512_set1_ps(zero), vq = _mm512_set1_ps(static_cast<float>(qmax));
  const __m512 f0 = _mm512_setzero_ps();
  const __m512i absmask = _mm512_set1_epi32(0x7FFFFFFF);
  const __m512d pd = _mm512_set1_pd(p);
  __m512d acc = _mm512_loadu_pd(lanes);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(x + i);
    __m512 qv = _mm512_add_ps(_mm512_roundscale_ps(_mm512_div_ps(v, vd), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), vz);
    qv = _mm512_max_ps(qv, f0);  // NaN → 0, as quant_code
    qv = _mm512_min_ps(qv, vq);
    const __m512 deq = _mm512_mul_ps(vd, _mm512_sub_ps(qv, vz));
    const __m512 e = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_sub_ps(v, deq)), absmask));
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
  // smaller k, whatever order they are scored in. Scoring the previous search's winner first
  // (neighbouring rows of a layer have similar ranges) makes most others stop after a chunk or
  // two (lp_score pruning); the result is the same as scanning in order, on any thread.
  thread_local int guess = 0;
  QParams best;
  double best_score = INFINITY;
  int best_k = -1;
  for (int step = 0; step < 80; ++step) {
    const int k = step == 0 ? guess : (step <= guess ? step - 1 : step);
    const QParams q = candidate(k, m, M, qmax, clamp_zero);
    const bool ties_lose = best_k >= 0 && k > best_k;
    const double s = lp_score(x, n, q.delta, q.zero, qmax, p, best_score, ties_lose);
    if (s < best_score || (s == best_score && best_k >= 0 && k < best_k)) {
      best_score = s;
      best = q;
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

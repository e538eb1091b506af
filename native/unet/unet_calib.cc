#include "unet_calib.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

QParams lp_search_range(const float* x, std::size_t n, std::size_t stride, int qmax, float m, float M, bool clamp_zero,
                        float p) {
  QParams best;
  double best_score = INFINITY;
  for (int i = 0; i < 80; ++i) {
    const float r = 1.0f - 0.01f * static_cast<float>(i);
    const float delta = std::max(r * (M - m) / static_cast<float>(qmax), 1e-8f);
    float zero = std::nearbyint(-r * m / delta) + 0.0f;  // + 0 turns −0 into +0
    if (clamp_zero) zero = std::min(std::max(zero, 0.0f), static_cast<float>(qmax));
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const float v = x[j * stride];
      const float e = std::fabs(v - fake_quant(v, delta, zero, qmax));
      // float pow: the score only ranks candidates; p = 2 is the plain square (same value, faster)
      if (e > 0.0f) s += p == 2.0f ? static_cast<double>(e * e) : static_cast<double>(std::pow(e, p));
    }
    s /= static_cast<double>(n);
    if (s < best_score) {
      best_score = s;
      best.delta = delta;
      best.zero = zero;
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

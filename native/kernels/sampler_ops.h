// Per-element math of the diffusion samplers' building blocks (native/sde/sde_ops.h), written once
// for the CPU (native/sde/sde_ops.cc) and the GPU (native/sde/cuda/sampler_ops.cu): the same
// separately rounded float64 operations in the same order, so both give the same bits.
#pragma once
#include <cstdint>

#include "itk_hd.h"
#include "normal.h"

namespace itk {

// Terms of one linear combination out = Σ_k c_k[p]·A_k + c_z[p]·z (docs/design/sde.md §7).
constexpr int kMaxLincombTerms = 16;
struct LincombTerms {
  const float* in[kMaxLincombTerms];  // K arrays [P, D]
  const double* coef;                 // [(K + 1), P]: row k scales input k; row K scales the noise
  uint32_t K;
  uint64_t P, D;
  bool noise;
  uint32_t key_lo, key_hi, stream, step;
  uint64_t sample_offset;
  double clip;  // > 0: clamp to [−clip, clip] before rounding to float32
};

// The per-call values of a lincomb held in device memory (the UNet's fused DDIM step,
// native/unet/cuda/unet_forward.cu): a captured CUDA graph replays the launch with the values of
// each step without being captured again. They replace the same fields of LincombTerms.
struct LincombStepParams {
  uint32_t key_lo, key_hi, stream, step;
  uint64_t sample_offset;
  double clip;
};

ITK_HD void set_step_params(LincombTerms& t, const LincombStepParams& p) {
  t.key_lo = p.key_lo;
  t.key_hi = p.key_hi;
  t.stream = p.stream;
  t.step = p.step;
  t.sample_offset = p.sample_offset;
  t.clip = p.clip;
}

// The normals of elements 4g .. 4g + 3 of row p: one Philox block of (stream, sample, step), block g.
ITK_HD void lincomb_noise(const LincombTerms& t, uint64_t p, uint64_t g, float z[4]) {
  normals4(philox_block(t.key_lo, t.key_hi, t.stream, t.sample_offset + p, t.step, static_cast<uint32_t>(g)), z);
}

// Element e of row p (z: its normal when t.noise): the float64 sum in term order, clamped, rounded.
ITK_HD float lincomb_element(const LincombTerms& t, uint64_t p, uint64_t e, float z) {
  double s = 0;
  for (uint32_t k = 0; k < t.K; ++k) s = dadd(s, dmul(t.coef[k * t.P + p], static_cast<double>(t.in[k][e])));
  if (t.noise) s = dadd(s, dmul(t.coef[t.K * t.P + p], static_cast<double>(z)));
  if (t.clip > 0) {
    s = s < -t.clip ? -t.clip : s;  // max(s, −clip), keeping a NaN
    s = t.clip < s ? t.clip : s;    // min(s, clip)
  }
  return static_cast<float>(s);
}

// Row p's four outputs 4g .. 4g + 3 (fewer at the row's end).
ITK_HD void lincomb_group(const LincombTerms& t, float* out, uint64_t p, uint64_t g) {
  float z[4] = {0, 0, 0, 0};
  if (t.noise) lincomb_noise(t, p, g, z);
  const uint64_t i0 = 4 * g;
  const uint64_t w = t.D - i0 < 4 ? t.D - i0 : 4;
  for (uint64_t q = 0; q < w; ++q) {
    const uint64_t e = p * t.D + i0 + q;
    out[e] = lincomb_element(t, p, e, z[q]);
  }
}

// [Σx², mean, unbiased variance] of one row r[0 .. D) in float64, summed in element order.
ITK_HD void row_stats(const float* r, uint64_t D, double out[3]) {
  double s = 0, s2 = 0;
  for (uint64_t i = 0; i < D; ++i) {
    const double x = static_cast<double>(r[i]);
    s = dadd(s, x);
    s2 = dadd(s2, dmul(x, x));
  }
  const double mean = D ? ddiv(s, static_cast<double>(D)) : 0;
  double v = 0;
  for (uint64_t i = 0; i < D; ++i) {
    const double c = static_cast<double>(r[i]) - mean;
    v = dadd(v, dmul(c, c));
  }
  out[0] = s2;
  out[1] = mean;
  out[2] = D > 1 ? ddiv(v, static_cast<double>(D - 1)) : 0;
}

// Dormand–Prince error terms (docs/design/sde.md §7, RK45), summed over a chunk of elements in
// order: Σ_i (h·Σ_j e_j k_j[i] / (atol + rtol·max(|y_i|, |y'_i|)))². Chunks of kRk45Grain elements
// are summed separately and the chunk sums added in chunk order by the caller.
constexpr uint64_t kRk45Grain = 1 << 14;
constexpr int kRk45Stages = 7;
struct Rk45Terms {
  const float* y;
  const float* ynew;
  const float* k[kRk45Stages];
  double e[kRk45Stages];
  int stages;
  uint64_t n;
  double h, atol, rtol;
};

ITK_HD double rk45_chunk(const Rk45Terms& t, uint64_t i0, uint64_t i1) {
  double s = 0;
  for (uint64_t i = i0; i < i1; ++i) {
    double err = 0;
    for (int j = 0; j < t.stages; ++j)
      if (t.e[j] != 0) err = dadd(err, dmul(t.e[j], static_cast<double>(t.k[j][i])));
    err = dmul(err, t.h);
    const double ay = static_cast<double>(t.y[i] < 0 ? -t.y[i] : t.y[i]);
    const double an = static_cast<double>(t.ynew[i] < 0 ? -t.ynew[i] : t.ynew[i]);
    const double sc = dadd(t.atol, dmul(t.rtol, ay < an ? an : ay));
    const double q = ddiv(err, sc);
    s = dadd(s, dmul(q, q));
  }
  return s;
}

// The norm from the chunk sums, added in chunk order: sqrt(Σ / n).
ITK_HD double rk45_finish(const double* part, uint64_t chunks, uint64_t n) {
  double total = 0;
  for (uint64_t c = 0; c < chunks; ++c) total = dadd(total, part[c]);
  return n ? dsqrt(ddiv(total, static_cast<double>(n))) : 0.0;
}

}  // namespace itk

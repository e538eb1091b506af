// Elementwise and per-row operations the diffusion samplers (lib/samplers) compose, so that the
// TypeScript loops never touch elements: every predictor, corrector, DDPM/DDIM/Karras update is
// out = Σ_k c_k[p]·A_k + c_noise[p]·z with z from (seed, stream, sampleOffset + p, step).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../kernels/sampler_ops.h"

namespace itk {

struct LincombCall {
  float* out = nullptr;                // [P, D]; may alias an input
  std::vector<const float*> inputs;    // K arrays [P, D]
  const double* coef = nullptr;        // [(K + 1), P]: row k scales input k; row K scales the noise
  bool noise = false;
  uint64_t P = 0, D = 0;
  uint32_t key_lo = 0, key_hi = 0, stream = 0, step = 0;
  uint64_t sample_offset = 0;
  double clip = 0;  // > 0: clamp each output to [−clip, clip] (DDIM clip_sample, docs/design/sde.md §7)
};
void sde_lincomb(const LincombCall& c);
// The same over terms already checked (t.in[] and out [t.P, t.D]; out may alias an input).
void sde_lincomb_terms(const LincombTerms& t, float* out);
// The call as the per-element kernels read it (native/kernels/sampler_ops.h); checks the limits.
LincombTerms lincomb_terms(const LincombCall& c);

// Per row: [Σx², mean, unbiased variance] in float64, out[3P].
void sde_row_stats(const float* x, uint64_t P, uint64_t D, double* out);

// Score of a diagonal Gaussian mixture diffused to per-sample (scale s_p, added variance a_p):
// components N(s_p μ_k, s_p² v_k + a_p), weights π_k. Evaluated in float64.
void sde_gmm_score(const float* x, uint64_t P, uint64_t D, uint32_t K, const double* logw, const double* means,
                   const double* vars, const double* scale, const double* addvar, float* out);

// Dormand–Prince error norm: RMS over all elements of h·Σ_j e_j k_j / (atol + rtol·max(|y|, |y'|)),
// in float64, summed in a fixed order (docs/design/sde.md §7, RK45).
double sde_rk45_norm(const float* y, const float* ynew, const std::vector<const float*>& k, const double* e,
                     uint64_t n, double h, double atol, double rtol);
// The arguments as the per-element kernels read them; checks the stage count.
Rk45Terms rk45_terms(const float* y, const float* ynew, const std::vector<const float*>& k, const double* e,
                     uint64_t n, double h, double atol, double rtol);

}  // namespace itk

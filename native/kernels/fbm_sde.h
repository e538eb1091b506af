// fBM-driven SDEs as augmented Markov systems (docs/design/fbm.md §5): Z = (X, Y_1..Y_K) per
// dimension, the K OU factors and X driven by one Brownian motion W. Every scheme moves Y first
// and then X by its drift and the increment ΔB̂ = Σ_k ω_k ΔY_k, which equals the augmented-system
// prior −σΣω_kγ_kY_k·Δ + σω̄ΔW under Euler and uses the exact MA-fBM increment under the exact OU
// step. With a control u (posterior): ΔY_k += u·Δ, so ΔB̂ gains ω̄u·Δ, and the Girsanov KL of the
// step is ½u²Δ (docs/design/fbm.md §5). σ never depends on X in the built-in models, so Itô = Stratonovich.
#pragma once
#include <cmath>

#include "fbm_step.h"

namespace itk {

enum FbmSdeModel : int {
  kFbmSdeFou = 0,       // dX_d = θ_d(μ_d − X_d)dt + σ_d dB̂_d
  kFbmSdeRoughVol = 1,  // X = log σ: dX = κ(m − X)dt + ν dB̂; dL = (μ − ½e^{2X})dt + e^X dW_S
};

// Model parameters (float64, per dimension for fOU; rough volatility has one dimension).
struct FbmSdeParams {
  int model = kFbmSdeFou;
  const double* theta = nullptr;  // fOU θ_d; rough vol: {κ, m, ν, μ, ρ}
  const double* mu = nullptr;
  const double* sigma = nullptr;
};

// Drift b(X) and diffusion σ of the fBM-driven component of dimension d.
ITK_HD void fbm_sde_coeffs(const FbmSdeParams& p, int d, double x, double* b, double* s) {
  if (p.model == kFbmSdeFou) {
    *b = dmul(p.theta[d], dadd(p.mu[d], -x));
    *s = p.sigma[d];
  } else {
    *b = dmul(p.theta[0], dadd(p.theta[1], -x));
    *s = p.theta[2];
  }
}

// One step of one path: x[D] (plus the log-price x[D] for rough volatility), y[D·K] in T. The
// Brownian draws are those of the MA-fBM sampler (BROWNIAN draw d, FBM_OU draws d·K+k at step j,
// per-step layout of step_noise.h); rough volatility's independent W⊥ is BROWNIAN draw 1.
template <typename T>
ITK_HD void fbm_sde_step(const FbmMarkovArgs<T>& a, const FbmSdeParams& p, double dt, uint64_t path, uint32_t j,
                         double* x, T* y, const double* u, double* kl) {
  const int K = a.K;
  float z[kFbmMaxK];
  for (int d = 0; d < a.dims; ++d) {
    const float z0 = step_normal(a.key_lo, a.key_hi, kStreamBrownian, path, j, static_cast<uint32_t>(d));
    const T dw = hd_mul(a.sqrt_dt, T(z0));
    const double ud = u ? u[d] : 0.0;
    T* yd = y + static_cast<std::size_t>(d) * K;
    double dB = 0.0;
    if (a.exact) {
      for (int k = 0; k < K; ++k)
        z[k] = step_normal(a.key_lo, a.key_hi, kStreamFbmOu, path, j, static_cast<uint32_t>(d * K + k));
      for (int k = 0; k < K; ++k) {
        T s = hd_add(hd_mul(a.decay[k], yd[k]), hd_mul(a.m[k], dw));
        for (int l = 0; l < K; ++l) s = hd_add(s, hd_mul(a.lc[k * K + l], T(z[l])));
        dB = dadd(dB, dmul(a.omega[k], dadd(static_cast<double>(s), -static_cast<double>(yd[k]))));
        yd[k] = s;
      }
    } else {
      const T uk = T(dmul(ud, dt));
      for (int k = 0; k < K; ++k) {
        const T s = hd_add(hd_add(hd_mul(a.decay[k], yd[k]), uk), dw);
        dB = dadd(dB, dmul(a.omega[k], dadd(static_cast<double>(s), -static_cast<double>(yd[k]))));
        yd[k] = s;
      }
      if (u && kl) *kl = dadd(*kl, dmul(0.5 * dt, dmul(ud, ud)));
    }
    double b, s;
    fbm_sde_coeffs(p, d, x[d], &b, &s);
    const double x_old = x[d];
    x[d] = dadd(x[d], dadd(dmul(b, dt), dmul(s, dB)));
    if (p.model == kFbmSdeRoughVol) {
      // Asset log-price with the volatility of the step start; dW_S = ρ dW + √(1−ρ²) dW⊥.
      const float zp = step_normal(a.key_lo, a.key_hi, kStreamBrownian, path, j, 1);
      const double dwp = dmul(static_cast<double>(a.sqrt_dt), static_cast<double>(zp));
      const double rho = p.theta[4];
      const double vol = exp(x_old);
      const double dws = dadd(dmul(rho, static_cast<double>(dw)), dmul(sqrt(1.0 - rho * rho), dwp));
      x[1] = dadd(x[1], dadd(dmul(dadd(p.theta[3], -0.5 * vol * vol), dt), dmul(vol, dws)));
    }
  }
}

// Type I start: Y(0) = L_C z (FBM_INIT lanes d·K + k); type II: Y(0) = 0.
template <typename T>
ITK_HD void fbm_sde_init_y(const FbmMarkovArgs<T>& a, uint64_t path, T* y) {
  const int K = a.K;
  float z[kFbmMaxK];
  for (int d = 0; d < a.dims; ++d) {
    T* yd = y + static_cast<std::size_t>(d) * K;
    if (!a.stationary) {
      for (int k = 0; k < K; ++k) yd[k] = T(0);
      continue;
    }
    normal_lanes(a.key_lo, a.key_hi, kStreamFbmInit, path, 0, static_cast<uint64_t>(d) * K, K, z);
    for (int k = 0; k < K; ++k) {
      T s = T(0);
      for (int l = 0; l < K; ++l) s = hd_add(s, hd_mul(a.lC[k * K + l], T(z[l])));
      yd[k] = s;
    }
  }
}

}  // namespace itk

// Per-element SDE update rules (docs/design/sde.md §3), shared by the fused model kernels, the generic
// callback-path updates and CUDA. y = X_n, f = drift, g = diffusion, h = step, dw = ΔW.
#pragma once
#include "sde_math.h"

namespace itk {
namespace sde {

// Euler–Maruyama: y' = y + f h + g ΔW.
template <typename T>
ITK_HD T step_em(T y, T f, T g_dw, T h) {
  return ad(ad(y, mu(f, h)), g_dw);
}

// Milstein (Itô, diagonal/scalar): y' = y + f h + g ΔW + ½ g ∂g/∂x (ΔW² − h); gdg = g·∂g/∂x.
template <typename T>
ITK_HD T step_milstein(T y, T f, T g, T gdg, T dw, T h) {
  return ad(step_em(y, f, mu(g, dw), h), mu(mu(T(0.5), gdg), sb(mu(dw, dw), h)));
}

// Stochastic Heun corrector (Stratonovich): y' = y + ½(f₁ + f₂)h + ½(G₁ΔW + G₂ΔW).
template <typename T>
ITK_HD T step_heun(T y, T f1, T f2, T g1_dw, T g2_dw, T h) {
  return ad(ad(y, mu(mu(T(0.5), ad(f1, f2)), h)), mu(T(0.5), ad(g1_dw, g2_dw)));
}

// SRA1 (Rößler 2010, torchsde tableau): stage H₂ = y + ¾h·k₁ + (3/2)·G(t+h)J.
template <typename T>
ITK_HD T sra1_stage(T y, T k1, T g1_J, T h) {
  return ad(ad(y, mu(mu(T(0.75), h), k1)), mu(T(1.5), g1_J));
}

// SRA1 result: y' = y + h(k₁/3 + 2k₂/3) + G(t+h)(ΔW − J) + G(t)J, noise terms precomputed.
template <typename T>
ITK_HD T sra1_final(T y, T k1, T k2, T g1_dwmj, T g0_J, T h) {
  const T drift = mu(h, ad(mu(T(1.0 / 3.0), k1), mu(T(2.0 / 3.0), k2)));
  return ad(ad(ad(y, drift), g1_dwmj), g0_J);
}

// Exact OU transition: y' = μ + (y − μ)a + b̃ΔW with a = e^{−θh}, b̃ = b/sqrt|h| (host-computed).
template <typename T>
ITK_HD T step_exact_ou(T y, T mean, T a, T bt, T dw) {
  return ad(mean, ad(mu(sb(y, mean), a), mu(bt, dw)));
}

// Exact GBM: S' = S·exp((μ − σ²/2)h + σΔW), drift_h = (μ − σ²/2)h computed on the host.
template <typename T>
ITK_HD T step_exact_gbm(T s, T drift_h, T sigma, T dw) {
  return mu(s, ex(ad(drift_h, mu(sigma, dw))));
}

}  // namespace sde
}  // namespace itk

// Special functions of the fBM family in float64 on the host (docs/design/fbm.md §1, "Special
// functions"): E(a,z) = Q(a,z)·e^z without overflow, the regularised lower incomplete gamma
// P(a,x), the normalising variances V_I / V_II and the Riemann–Liouville covariance via 2F1.
#pragma once

namespace itk {
namespace fbm {

// E(a,z) = Q(a,z)·e^z for a > 0, z >= 0. Series below z = a+1, modified Lentz continued fraction
// above; never forms e^z for large z. Throws Numerical when the fraction does not converge.
double q_exp(double a, double z);
// Regularised lower incomplete gamma P(a,x), x >= 0.
double gamma_p(double a, double x);
// ∂P(a,x)/∂a = Σ_n t_n (ln x − ψ(a+n+1)), t_n = exp((a+n) ln x − x − lnΓ(a+n+1)) (docs/design/fbm.md §8).
double gamma_p_da(double a, double x);
// Digamma ψ(x), x > 0.
double digamma(double x);
// Var B_I^Γ(1) = 1/(Γ(2H+1) sin(πH)) and Var B_II^Γ(1) = 1/(2H Γ(H+1/2)^2) (§1).
double variance_type1(double hurst);
double variance_type2(double hurst);
// Cov(B_II^Γ(s), B_II^Γ(t)) for s, t >= 0, Γ normalisation (§1, the 2F1 formula).
double cov_type2_gamma(double hurst, double s, double t);
// The H-only constants of that formula, hoisted out of loops over (s, t).
struct Cov2Constants {
  explicit Cov2Constants(double hurst);
  double h, a, inv_norm, conn;
  bool bm;
};
double cov_type2_gamma(const Cov2Constants& k, double s, double t);
// fGn autocovariance ρ(k) of unit fBM, stable for large k (§6: binomial series for k >= 8).
double fgn_autocov(double hurst, double k);

}  // namespace fbm
}  // namespace itk

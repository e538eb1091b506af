#include "fbm_coeffs.h"

#include <cmath>
#include <string>

#include "../core/error.h"
#include "fbm_linalg.h"
#include "fbm_special.h"

namespace itk {
namespace fbm {
namespace {

void check_gammas(const double* g, int K) {
  require(K >= 1 && K <= 32, Code::InvalidArg, "K must be an integer in [1, 32]");
  for (int k = 0; k < K; ++k) {
    require(std::isfinite(g[k]) && g[k] > 0, Code::InvalidArg, "gammas must be finite and > 0");
    require(k == 0 || g[k] > g[k - 1], Code::InvalidArg, "gammas must be strictly increasing");
  }
}

// b_k in the Γ normalisation (docs/design/fbm.md §3). Powers through exp(-a ln γ); E(a,z) = Q(a,z)e^z from the
// continued fraction for large z.
double b_gamma(FbmType type, double hurst, double T, double g) {
  const double a = hurst + 0.5;
  const double ga = std::exp(-a * std::log(g));  // γ^{-a}
  const double z = g * T;
  if (type == FbmType::II) return T * gamma_p(a, z) * ga - a * gamma_p(a + 1.0, z) * ga / g;
  return 2.0 * T * ga - std::exp(a * std::log(T) - std::lgamma(a + 1.0)) / g +
         (std::exp(-z) - q_exp(a, z)) * ga / g;
}

// d b_k/dH for type II from the analytic ∂P/∂a series (docs/design/fbm.md §8): with a = H + ½,
// b_Γ = Tγ^{-a}P(a,z) − aγ^{-a-1}P(a+1,z); unit: b_u = b_Γ V^{-1/2}, d ln V_II/dH = −1/H − 2ψ(a).
double db_type2(double hurst, double T, bool unit, double g) {
  const double a = hurst + 0.5, z = g * T, lg = std::log(g);
  const double ga = std::exp(-a * lg), ga1 = ga / g;
  const double p0 = gamma_p(a, z), p1 = gamma_p(a + 1.0, z);
  const double b = T * ga * p0 - a * ga1 * p1;
  const double db = T * ga * (gamma_p_da(a, z) - lg * p0) - ga1 * p1 - a * ga1 * (gamma_p_da(a + 1.0, z) - lg * p1);
  if (!unit) return db;
  const double V = variance_type2(hurst);
  const double dlnV = -1.0 / hurst - 2.0 * digamma(a);
  return (db - 0.5 * b * dlnV) / std::sqrt(V);
}

void b_vector(FbmType type, double hurst, double T, bool unit, const double* g, int K, double* b) {
  const double s = unit ? 1.0 / std::sqrt(type_variance(type, hurst)) : 1.0;
  for (int k = 0; k < K; ++k) b[k] = b_gamma(type, hurst, T, g[k]) * s;
}

}  // namespace

std::vector<double> gamma_by_ratio(int K, double r, double offset) {
  require(K >= 1 && K <= 32, Code::InvalidArg, "K must be an integer in [1, 32]");
  require(std::isfinite(r) && r > 1.0, Code::InvalidArg, "ratio must be > 1");
  const double n = (K + 1) / 2.0 + offset;
  std::vector<double> g(K);
  for (int k = 1; k <= K; ++k) g[k - 1] = std::pow(r, k - n);
  return g;
}

std::vector<double> gamma_by_gamma_max(int K, double gamma_max, double offset) {
  require(K >= 1 && K <= 32, Code::InvalidArg, "K must be an integer in [1, 32]");
  require(std::isfinite(gamma_max) && gamma_max > 1.0, Code::InvalidArg, "gammaMax must be > 1");
  if (K == 1) return std::vector<double>(1, 1.0);
  const double den = K - 1 - 2.0 * offset;
  require(den > 0, Code::InvalidArg, "gammaByGammaMax needs K - 1 - 2*offset > 0");
  return gamma_by_ratio(K, std::pow(gamma_max, 2.0 / den), offset);
}

double type_variance(FbmType type, double hurst) {
  return type == FbmType::I ? variance_type1(hurst) : variance_type2(hurst);
}

void markov_matrices(FbmType type, double hurst, double T, bool unit, const double* g, int K,
                     std::vector<double>* A, std::vector<double>* b, double* c) {
  require(hurst > 0 && hurst < 1, Code::InvalidArg, "hurst must be in (0, 1)");
  require(std::isfinite(T) && T > 0, Code::InvalidArg, "T must be finite and > 0");
  check_gammas(g, K);
  A->assign(static_cast<std::size_t>(K) * K, 0.0);
  for (int i = 0; i < K; ++i) {
    for (int j = 0; j < K; ++j) {
      const double s = g[i] + g[j];
      (*A)[i * K + j] = type == FbmType::II
                            ? (T + std::expm1(-s * T) / s) / s
                            : (2.0 * T + std::expm1(-g[i] * T) / g[i] + std::expm1(-g[j] * T) / g[j]) / s;
    }
  }
  b->resize(K);
  b_vector(type, hurst, T, unit, g, K, b->data());
  const double V = type_variance(type, hurst);
  *c = (unit ? 1.0 : V) * std::pow(T, 2.0 * hurst + 1.0) / (2.0 * hurst + 1.0);
}

// d ln V/dH: type I V = 1/(Γ(2H+1) sin πH), type II V = 1/(2H Γ(H+½)²).
double dlog_variance(FbmType type, double hurst) {
  const double pi = 3.14159265358979323846;
  if (type == FbmType::I) return -2.0 * digamma(2.0 * hurst + 1.0) - pi / std::tan(pi * hurst);
  return -1.0 / hurst - 2.0 * digamma(hurst + 0.5);
}

MarkovCoefficients markov_coefficients(FbmType type, double hurst, double T, bool unit, const double* g,
                                       int K, int derivative) {
  // Solved in the Γ normalisation; the unit weights are ω_Γ/√V exactly (docs/design/fbm.md §1),
  // so both normalisations give the same ω to one rounding.
  std::vector<double> A, b;
  double c = 0;
  markov_matrices(type, hurst, T, false, g, K, &A, &b, &c);
  const double su = unit ? 1.0 / std::sqrt(type_variance(type, hurst)) : 1.0;
  const std::size_t n = static_cast<std::size_t>(K);
  // Jacobi scaling: Ã = D⁻¹AD⁻¹ has a unit diagonal, which removes the γ-dependent row scales
  // from the conditioning (docs/design/fbm.md §3, "Solve").
  std::vector<double> d(n), As(n * n);
  for (std::size_t i = 0; i < n; ++i) d[i] = std::sqrt(A[i * n + i]);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) As[i * n + j] = A[i * n + j] / (d[i] * d[j]);
  MarkovCoefficients r;
  {
    std::vector<double> w, u;
    sym_eig(As, n, &w, &u);
    double lo = w[0], hi = w[0];
    for (double x : w) {
      lo = x < lo ? x : lo;
      hi = x > hi ? x : hi;
    }
    r.cond = lo > 0 ? hi / lo : INFINITY;
    r.ill_conditioned = !(r.cond <= 1e12);
  }
  std::vector<double> L;
  bool ok = false;
  for (double eps = 1e-14; eps <= 1.0001e-10; eps *= 10.0) {
    L = As;
    for (std::size_t i = 0; i < n; ++i) L[i * n + i] += eps;
    if (cholesky(&L, n)) {
      r.ridge = eps;
      ok = true;
      break;
    }
  }
  if (!ok) throw Error(Code::Numerical, "markovCoefficients: the scaled normal matrix is not positive definite even with ridge 1e-10");
  std::vector<double> w(n);
  for (std::size_t i = 0; i < n; ++i) w[i] = b[i] / d[i];
  cholesky_solve(L, n, w.data());
  for (std::size_t i = 0; i < n; ++i) w[i] /= d[i];
  double bw = 0, wAw = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bw += b[i] * w[i];
    for (std::size_t j = 0; j < n; ++j) wAw += w[i] * A[i * n + j] * w[j];
  }
  r.relative_error = 1.0 - bw / c;
  r.quadratic_error = (c - 2.0 * bw + wAw) / c;
  r.omegas.resize(n);
  for (std::size_t i = 0; i < n; ++i) r.omegas[i] = w[i] * su;
  if (derivative != kDerivNone) {
    // dω_Γ/dH = A⁻¹ db_Γ/dH (A does not depend on H, docs/design/fbm.md §8), then for 'unit'
    // d(ω_Γ/√V)/dH = (dω_Γ/dH)/√V − ½ ω_unit d ln V/dH.
    std::vector<double> dw(n);
    if (derivative == kDerivAnalytic) {
      require(type == FbmType::II, Code::InvalidArg, "the analytic dω/dH exists for type II only");
      for (std::size_t i = 0; i < n; ++i) dw[i] = db_type2(hurst, T, false, g[i]) / d[i];
    } else {
      // Central differences, h = 1e-5, kept inside (0, 1).
      const double h = 1e-5;
      const double hp = hurst + h < 1.0 ? hurst + h : hurst;
      const double hm = hurst - h > 0.0 ? hurst - h : hurst;
      std::vector<double> bp(n), bm(n);
      b_vector(type, hp, T, false, g, K, bp.data());
      b_vector(type, hm, T, false, g, K, bm.data());
      for (std::size_t i = 0; i < n; ++i) dw[i] = (bp[i] - bm[i]) / (hp - hm) / d[i];
    }
    cholesky_solve(L, n, dw.data());
    const double dl = unit ? dlog_variance(type, hurst) : 0.0;
    r.d_omega_d_hurst.resize(n);
    for (std::size_t i = 0; i < n; ++i) r.d_omega_d_hurst[i] = dw[i] / d[i] * su - 0.5 * r.omegas[i] * dl;
  }
  return r;
}

}  // namespace fbm
}  // namespace itk

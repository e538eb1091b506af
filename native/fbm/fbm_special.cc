#include "fbm_special.h"

#include <cmath>

#include "../core/error.h"

namespace itk {
namespace fbm {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Modified Lentz evaluation of Γ(a,z)·e^z·z^{-a} = 1/(z+1-a- 1(1-a)/(z+3-a- 2(2-a)/(z+5-a-…)))
// (Numerical Recipes §6.2, eq. 6.2.7), valid and fast for z >= a+1.
double upper_cf(double a, double z) {
  constexpr double tiny = 1e-300;
  double b = z + 1.0 - a;
  double c = 1.0 / tiny;
  double d = 1.0 / b;
  double h = d;
  for (int i = 1; i <= 1000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-16) return h;
  }
  throw Error(Code::Numerical, "incomplete gamma continued fraction did not converge");
}

// S = Σ_n z^n / ((a+1)(a+2)…(a+n)), the series of P(a,z) = z^a e^{-z} S / Γ(a+1) for z < a+1.
double lower_series(double a, double z) {
  double term = 1.0, sum = 1.0, ap = a;
  for (int n = 1; n <= 1000; ++n) {
    ap += 1.0;
    term *= z / ap;
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-17) return sum;
  }
  throw Error(Code::Numerical, "incomplete gamma series did not converge");
}

}  // namespace

double q_exp(double a, double z) {
  if (z <= 0.0) return 1.0;
  if (z < a + 1.0) return std::exp(z) - std::exp(a * std::log(z) - std::lgamma(a + 1.0)) * lower_series(a, z);
  return std::exp(a * std::log(z) - std::lgamma(a)) * upper_cf(a, z);
}

double gamma_p(double a, double x) {
  if (x <= 0.0) return 0.0;
  if (x < a + 1.0) return std::exp(a * std::log(x) - x - std::lgamma(a + 1.0)) * lower_series(a, x);
  return -std::expm1(a * std::log(x) - x - std::lgamma(a) + std::log(upper_cf(a, x)));
}

double digamma(double x) {
  // Recurrence ψ(x) = ψ(x+1) − 1/x up to x >= 10, then the asymptotic series
  // ψ(x) ~ ln x − 1/(2x) − Σ B_2k/(2k x^{2k}) (Abramowitz & Stegun 6.3.18).
  double r = 0.0;
  while (x < 10.0) {
    r -= 1.0 / x;
    x += 1.0;
  }
  const double f = 1.0 / (x * x);
  const double t = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132 - f * (691.0 / 32760 - f / 12.0))))));
  return r + std::log(x) - 0.5 / x - t;
}

double gamma_p_da(double a, double x) {
  if (x <= 0.0) return 0.0;
  const double lx = std::log(x);
  double sum = 0.0;
  for (int n = 0; n < 100000; ++n) {
    const double tn = std::exp((a + n) * lx - x - std::lgamma(a + n + 1.0));
    sum += tn * (lx - digamma(a + n + 1.0));
    if (n > x && tn < 1e-17) return sum;
  }
  throw Error(Code::Numerical, "dP/da series did not converge");
}

double variance_type1(double hurst) {
  return 1.0 / (std::tgamma(2.0 * hurst + 1.0) * std::sin(kPi * hurst));
}

double variance_type2(double hurst) {
  const double g = std::tgamma(hurst + 0.5);
  return 1.0 / (2.0 * hurst * g * g);
}

Cov2Constants::Cov2Constants(double hurst) : h(hurst), a(hurst + 0.5) {
  const double g = std::tgamma(a);
  inv_norm = 1.0 / (a * g * g);
  bm = std::fabs(hurst - 0.5) < 1e-9;
  conn = bm ? 0.0 : std::tgamma(a + 1.0) * std::tgamma(-2.0 * hurst) / std::tgamma(0.5 - hurst);
}

double cov_type2_gamma(double hurst, double s, double t) { return cov_type2_gamma(Cov2Constants(hurst), s, t); }

double cov_type2_gamma(const Cov2Constants& k, double s, double t) {
  const double hurst = k.h;
  if (s > t) {
    const double x = s;
    s = t;
    t = x;
  }
  if (s <= 0.0) return 0.0;
  const double a = k.a;
  if (k.bm) return s;  // 2F1 = 1: Brownian motion
  const double z = s / t;
  double f;
  if (z <= 0.5) {
    // Power series c_{n+1} = c_n (1-a+n)/(a+1+n), at most 50 terms for z <= 1/2.
    double c = 1.0, sum = 1.0, zn = 1.0;
    for (int n = 0; n < 60; ++n) {
      c *= (1.0 - a + n) / (a + 1.0 + n);
      zn *= z;
      const double term = c * zn;
      sum += term;
      if (std::fabs(term) < 1e-17 * std::fabs(sum)) break;
    }
    f = sum;
  } else {
    // Connection formula at w = 1-z: (a/(2H)) S(w) + Γ(a+1)Γ(-2H)/Γ(1/2-H) w^{2H} z^{-a}.
    const double w = 1.0 - z;
    double d = 1.0, sum = 1.0, wn = 1.0;
    for (int n = 0; n < 80; ++n) {
      d *= (1.0 - a + n) / (1.0 - 2.0 * hurst + n);
      wn *= w;
      const double term = d * wn;
      sum += term;
      if (std::fabs(term) < 1e-17 * std::fabs(sum)) break;
    }
    f = a / (2.0 * hurst) * sum + k.conn * std::pow(w, 2.0 * hurst) * std::pow(z, -a);
  }
  return std::pow(s, a) * std::pow(t, a - 1.0) * f * k.inv_norm;
}

double fgn_autocov(double hurst, double k) {
  k = std::fabs(k);
  const double h2 = 2.0 * hurst;
  if (k < 8.0) {
    return 0.5 * (std::pow(k + 1.0, h2) - 2.0 * std::pow(k, h2) + std::pow(std::fabs(k - 1.0), h2));
  }
  // ρ(k) = k^{2H} Σ_{j=1}^{12} C(2H, 2j) k^{-2j}: the second difference of x^{2H} expanded in 1/k,
  // free of the cancellation of the textbook form (docs/design/fbm.md §6).
  double binom = 1.0;  // C(2H, 0)
  double sum = 0.0;
  const double inv2 = 1.0 / (k * k);
  double kp = 1.0;
  for (int j = 1; j <= 12; ++j) {
    // C(2H, 2j) from C(2H, 2j-2): two factors (2H-i)/(i+1).
    const int i0 = 2 * j - 2;
    binom *= (h2 - i0) / (i0 + 1.0);
    binom *= (h2 - i0 - 1.0) / (i0 + 2.0);
    kp *= inv2;
    sum += binom * kp;
  }
  return std::pow(k, h2) * sum;
}

}  // namespace fbm
}  // namespace itk

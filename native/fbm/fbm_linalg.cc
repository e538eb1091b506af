#include "fbm_linalg.h"

#include <cmath>

namespace itk {
namespace fbm {

void sym_eig(const std::vector<double>& a_in, std::size_t n, std::vector<double>* w, std::vector<double>* u) {
  std::vector<double> a = a_in;
  u->assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) (*u)[i * n + i] = 1.0;
  // Cyclic Jacobi with the rotation of Golub & Van Loan §8.5 (Algorithm 8.5.2); converges
  // quadratically and keeps small eigenvalues to absolute accuracy ~ eps·||A||.
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, diag = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      diag += a[i * n + i] * a[i * n + i];
      for (std::size_t j = i + 1; j < n; ++j) off += a[i * n + j] * a[i * n + j];
    }
    if (off <= 1e-36 * diag || off == 0.0) break;
    for (std::size_t p = 0; p < n; ++p) {
      for (std::size_t q = p + 1; q < n; ++q) {
        const double apq = a[p * n + q];
        if (apq == 0.0) continue;
        const double tau = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
        const double t = (tau >= 0 ? 1.0 : -1.0) / (std::fabs(tau) + std::sqrt(1.0 + tau * tau));
        const double c = 1.0 / std::sqrt(1.0 + t * t);
        const double s = t * c;
        for (std::size_t k = 0; k < n; ++k) {  // A <- A J (columns p, q)
          const double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (std::size_t k = 0; k < n; ++k) {  // A <- J^T A (rows p, q)
          const double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (std::size_t k = 0; k < n; ++k) {  // U <- U J
          const double ukp = (*u)[k * n + p], ukq = (*u)[k * n + q];
          (*u)[k * n + p] = c * ukp - s * ukq;
          (*u)[k * n + q] = s * ukp + c * ukq;
        }
      }
    }
  }
  w->resize(n);
  for (std::size_t i = 0; i < n; ++i) (*w)[i] = a[i * n + i];
}

std::vector<double> sqrt_clipped(const std::vector<double>& a, std::size_t n) {
  std::vector<double> w, u;
  sym_eig(a, n, &w, &u);
  std::vector<double> l(n * n);
  for (std::size_t j = 0; j < n; ++j) {
    const double s = w[j] > 0.0 ? std::sqrt(w[j]) : 0.0;
    for (std::size_t i = 0; i < n; ++i) l[i * n + j] = u[i * n + j] * s;
  }
  return l;
}

bool cholesky(std::vector<double>* m, std::size_t n) {
  std::vector<double>& a = *m;
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) return false;
    const double ljj = std::sqrt(d);
    a[j * n + j] = ljj;
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
  }
  return true;
}

void cholesky_solve(const std::vector<double>& l, std::size_t n, double* x) {
  for (std::size_t i = 0; i < n; ++i) {
    double s = x[i];
    for (std::size_t k = 0; k < i; ++k) s -= l[i * n + k] * x[k];
    x[i] = s / l[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {
    double s = x[i];
    for (std::size_t k = i + 1; k < n; ++k) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
}

}  // namespace fbm
}  // namespace itk

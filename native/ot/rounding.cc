#include "rounding.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace itk {
namespace ot {
namespace {

template <typename T>
void round_t(T* P, std::size_t n, std::size_t m, const double* a, const double* b) {
  std::vector<double> col(m, 0.0), y(m), ea(n), eb(m);
  for (std::size_t i = 0; i < n; ++i) {
    T* p = P + i * m;
    double r = 0;
    for (std::size_t j = 0; j < m; ++j) r += static_cast<double>(p[j]);
    const double x = r > 0 ? std::min(a[i] / r, 1.0) : 1.0;
    for (std::size_t j = 0; j < m; ++j) {
      p[j] = static_cast<T>(x * static_cast<double>(p[j]));
      col[j] += static_cast<double>(p[j]);
    }
  }
  for (std::size_t j = 0; j < m; ++j) y[j] = col[j] > 0 ? std::min(b[j] / col[j], 1.0) : 1.0;
  std::fill(col.begin(), col.end(), 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    T* p = P + i * m;
    double r = 0;
    for (std::size_t j = 0; j < m; ++j) {
      p[j] = static_cast<T>(static_cast<double>(p[j]) * y[j]);
      r += static_cast<double>(p[j]);
      col[j] += static_cast<double>(p[j]);
    }
    ea[i] = a[i] - r;
  }
  double l1 = 0;
  for (std::size_t j = 0; j < m; ++j) {
    eb[j] = b[j] - col[j];
    l1 += std::fabs(eb[j]);
  }
  if (!(l1 > 0)) return;
  for (std::size_t i = 0; i < n; ++i) {
    T* p = P + i * m;
    const double s = ea[i] / l1;
    for (std::size_t j = 0; j < m; ++j) p[j] = static_cast<T>(static_cast<double>(p[j]) + s * eb[j]);
  }
}

}  // namespace

void round_plan(void* plan, bool f32, std::size_t n, std::size_t m, const double* a, const double* b) {
  if (f32)
    round_t(static_cast<float*>(plan), n, m, a, b);
  else
    round_t(static_cast<double*>(plan), n, m, a, b);
}

}  // namespace ot
}  // namespace itk

#include "cost.h"

#include <cmath>

#include "../core/threadpool.h"
#include "../kernels/ot_entry.h"

namespace itk {
namespace ot {
namespace {

template <typename T>
void pairwise_t(const T* X, const T* Y, std::size_t n, std::size_t m, std::size_t d, bool squared, T* C) {
  parallel_range(n, 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      const T* x = X + i * d;
      for (std::size_t j = 0; j < m; ++j) {
        const T* y = Y + j * d;
        double s = 0;  // accumulate in float64 for both dtypes
        for (std::size_t k = 0; k < d; ++k) s = sq_term(s, static_cast<double>(x[k]), static_cast<double>(y[k]));
        C[i * m + j] = static_cast<T>(squared ? s : std::sqrt(s));
      }
    }
  });
}

}  // namespace

void pairwise_cost(const void* X, const void* Y, bool f32, std::size_t n, std::size_t m, std::size_t d, bool squared,
                   void* C) {
  if (f32)
    pairwise_t(static_cast<const float*>(X), static_cast<const float*>(Y), n, m, d, squared, static_cast<float*>(C));
  else
    pairwise_t(static_cast<const double*>(X), static_cast<const double*>(Y), n, m, d, squared, static_cast<double*>(C));
}

void grid_cost(std::size_t h, std::size_t w, double p, double* C) {
  const std::size_t N = h * w;
  parallel_range(N, 64, [&](std::size_t b, std::size_t e) {
    for (std::size_t q = b; q < e; ++q) {
      const double u = static_cast<double>(q / w), v = static_cast<double>(q % w);
      for (std::size_t r = 0; r < N; ++r) {
        const double du = std::fabs(u - static_cast<double>(r / w)), dv = std::fabs(v - static_cast<double>(r % w));
        C[q * N + r] = p == 1.0 ? du + dv : p == 2.0 ? du * du + dv * dv : std::pow(du, p) + std::pow(dv, p);
      }
    }
  });
}

}  // namespace ot
}  // namespace itk

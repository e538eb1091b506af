#include "fbm_augment.h"

#include <cstring>

#include "../core/threadpool.h"

namespace itk {
namespace fbm {
namespace {

template <typename T>
void gather(const T* z, T* x, std::size_t P, int D, int K) {
  const std::size_t w = static_cast<std::size_t>(D) * (K + 1);
  parallel_range(P, 4096, [&](std::size_t a, std::size_t b) {
    for (std::size_t p = a; p < b; ++p)
      for (int d = 0; d < D; ++d) x[p * D + d] = z[p * w + static_cast<std::size_t>(d) * (K + 1)];
  });
}

template <typename T>
void drift(const T* z, const T* f, const T* s, const T* ic, T* out, std::size_t P, int D, const double* g,
           const double* om, int K) {
  const std::size_t w = static_cast<std::size_t>(D) * (K + 1);
  double wbar = 0.0;
  for (int k = 0; k < K; ++k) wbar += om[k];
  parallel_range(P, 2048, [&](std::size_t a, std::size_t b) {
    for (std::size_t p = a; p < b; ++p) {
      for (int d = 0; d < D; ++d) {
        const T* zb = z + p * w + static_cast<std::size_t>(d) * (K + 1);
        T* ob = out + p * w + static_cast<std::size_t>(d) * (K + 1);
        double acc = 0.0;
        for (int k = 0; k < K; ++k) {
          acc += om[k] * g[k] * static_cast<double>(zb[1 + k]);
          ob[1 + k] = static_cast<T>(-g[k] * static_cast<double>(zb[1 + k]));
        }
        const double sd = static_cast<double>(s[p * D + d]);
        double fx = static_cast<double>(f[p * D + d]) - sd * acc;
        if (ic) fx += 0.5 * wbar * wbar * sd * static_cast<double>(ic[p * D + d]);  // ½ω̄²σ∂ₓσ
        ob[0] = static_cast<T>(fx);
      }
    }
  });
}

template <typename T>
void diffusion(const T* s, T* g, std::size_t P, int D, const double* om, int K) {
  double wbar = 0.0;
  for (int k = 0; k < K; ++k) wbar += om[k];
  const std::size_t rows = static_cast<std::size_t>(D) * (K + 1);
  parallel_range(P, 1024, [&](std::size_t a, std::size_t b) {
    for (std::size_t p = a; p < b; ++p) {
      T* gp = g + p * rows * D;
      std::memset(gp, 0, rows * D * sizeof(T));
      for (int d = 0; d < D; ++d) {
        const std::size_t r0 = static_cast<std::size_t>(d) * (K + 1);
        gp[r0 * D + d] = static_cast<T>(static_cast<double>(s[p * D + d]) * wbar);
        for (int k = 0; k < K; ++k) gp[(r0 + 1 + k) * D + d] = T(1);
      }
    }
  });
}

}  // namespace

void augment_gather(const void* z, void* x, bool f64, std::size_t P, int D, int K) {
  if (f64) gather(static_cast<const double*>(z), static_cast<double*>(x), P, D, K);
  else gather(static_cast<const float*>(z), static_cast<float*>(x), P, D, K);
}

void augment_drift(const void* z, const void* f, const void* s, const void* ic, void* out, bool f64, std::size_t P,
                   int D, const double* g, const double* om, int K) {
  if (f64)
    drift(static_cast<const double*>(z), static_cast<const double*>(f), static_cast<const double*>(s),
          static_cast<const double*>(ic), static_cast<double*>(out), P, D, g, om, K);
  else
    drift(static_cast<const float*>(z), static_cast<const float*>(f), static_cast<const float*>(s),
          static_cast<const float*>(ic), static_cast<float*>(out), P, D, g, om, K);
}

void augment_diffusion(const void* s, void* g, bool f64, std::size_t P, int D, const double* om, int K) {
  if (f64) diffusion(static_cast<const double*>(s), static_cast<double*>(g), P, D, om, K);
  else diffusion(static_cast<const float*>(s), static_cast<float*>(g), P, D, om, K);
}

}  // namespace fbm
}  // namespace itk

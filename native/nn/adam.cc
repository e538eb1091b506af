// Adam/AdamW update (see adam.h). Follows torch.optim.Adam/AdamW (non-amsgrad, non-fused):
// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − (lr/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε).
#include "adam.h"

#include <cmath>
#include <vector>

#include "../core/error.h"
#include "../core/threadpool.h"

namespace itk {
namespace nn {

template <typename T>
double grad_norm(const T* g, std::size_t n) {
  const std::size_t grain = 16384;
  const std::size_t chunks = (n + grain - 1) / grain;
  std::vector<double> part(chunks, 0.0);
  parallel_range(n, grain, [&](std::size_t b, std::size_t e) {
    double s = 0;
    for (std::size_t k = b; k < e; ++k) s += static_cast<double>(g[k]) * static_cast<double>(g[k]);
    part[b / grain] = s;
  });
  double s = 0;
  for (double p : part) s += p;
  return std::sqrt(s);
}

template <typename T>
double adam_step(T* params, const T* grad, T* m, T* v, std::size_t n, long t, const AdamConfig& cfg) {
  require(t >= 1, Code::InvalidArg, "Adam step counter must be >= 1");
  const double norm = grad_norm(grad, n);
  require(std::isfinite(norm), Code::Numerical, "gradient is not finite");
  double scale = 1;
  if (cfg.max_norm > 0) {
    const double c = cfg.max_norm / (norm + 1e-6);
    if (c < 1) scale = c;
  }
  const double bc1 = 1 - std::pow(cfg.beta1, static_cast<double>(t));
  const double bc2 = 1 - std::pow(cfg.beta2, static_cast<double>(t));
  const T step = static_cast<T>(cfg.lr / bc1);
  const T sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
  const T b1 = static_cast<T>(cfg.beta1), b2 = static_cast<T>(cfg.beta2);
  const T eps = static_cast<T>(cfg.eps), wd = static_cast<T>(cfg.weight_decay);
  const T decay = static_cast<T>(1 - cfg.lr * cfg.weight_decay);
  const T sc = static_cast<T>(scale);
  const bool decoupled = cfg.decoupled, l2 = !cfg.decoupled && cfg.weight_decay != 0;
  parallel_range(n, 16384, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) {
      T g = scale != 1 ? grad[k] * sc : grad[k];
      if (decoupled) params[k] *= decay;
      if (l2) g += wd * params[k];
      m[k] = b1 * m[k] + (T(1) - b1) * g;
      v[k] = b2 * v[k] + (T(1) - b2) * g * g;
      const T denom = std::sqrt(v[k]) / sqrt_bc2 + eps;
      params[k] -= step * (m[k] / denom);
    }
  });
  return norm;
}

template double grad_norm<float>(const float*, std::size_t);
template double grad_norm<double>(const double*, std::size_t);
template double adam_step<float>(float*, const float*, float*, float*, std::size_t, long, const AdamConfig&);
template double adam_step<double>(double*, const double*, double*, double*, std::size_t, long, const AdamConfig&);

}  // namespace nn
}  // namespace itk

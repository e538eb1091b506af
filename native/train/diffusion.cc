// Denoising score matching and flow matching steps (see diffusion.h).
//
// Score matching, ε-parameterisation with λ(t) = σ_t² (docs/design/trainers.md §3, Song et al. 2021):
//   L = E_{t, x₀, ε} ‖ε_θ(m_t x₀ + σ_t ε, t) − ε‖² / D.
// Flow matching (Lipman et al. 2023; Tong et al. 2024 for the OT coupling):
//   x_t = (1 − t)x₀ + t x₁ + σ ε,  L = E ‖v_θ(x_t, t) − (x₁ − x₀)‖² / D.
#include "diffusion.h"

#include <algorithm>
#include <cmath>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/rng_draw.h"

namespace itk {
namespace train {

void diffusion_marginal(DiffusionMode mode, double a, double b, double t, double* m, double* s) {
  if (mode == DiffusionMode::ScoreVE) {
    *m = 1;
    *s = a * std::pow(b / a, t);
    return;
  }
  const double lm = -0.25 * t * t * (b - a) - 0.5 * t * a;
  *m = std::exp(lm);
  *s = std::sqrt(-std::expm1(2 * lm));
}

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

template <typename T>
void features(const std::vector<double>& freqs, int D, const T* x, double t, T* f) {
  for (int d = 0; d < D; ++d) f[d] = x[d];
  const std::size_t F = freqs.size();
  for (std::size_t j = 0; j < F; ++j) {
    const double a = kTwoPi * freqs[j] * t;
    f[D + j] = static_cast<T>(std::sin(a));
    f[D + F + j] = static_cast<T>(std::cos(a));
  }
}

constexpr std::size_t kRowsPerChunk = 64;

}  // namespace

template <typename T>
double diffusion_step(const nn::MlpLayout& L, const T* params, const DiffusionConfig& cfg, const T* data, std::size_t M,
                      const T* x0, const int32_t* pair, T* grad, const Control& ctl) {
  const int D = cfg.D;
  const std::size_t B = cfg.B, F = cfg.freqs.size();
  const std::size_t in_dim = D + 2 * F;
  require(L.in() == static_cast<int>(in_dim) && L.out() == D, Code::Shape, "model must map D + 2F inputs to D outputs");
  require(M >= 1, Code::InvalidArg, "data set is empty");
  require(D >= 1 && D <= 64, Code::InvalidArg, "data dimension must be in [1, 64]");
  const bool fm = cfg.mode == DiffusionMode::FlowMatching;
  require(!fm || (x0 != nullptr && pair != nullptr), Code::InvalidArg, "flow matching needs x0 and the coupling");
  std::vector<T> wt(L.n_params);
  nn::transpose_weights(L, params, wt.data());
  const std::size_t chunks = (B + kRowsPerChunk - 1) / kRowsPerChunk;
  std::vector<T> partial(chunks * L.n_params, T(0));
  std::vector<double> loss(chunks, 0.0);
  const T inv = static_cast<T>(2.0 / (static_cast<double>(B) * D));
  parallel_for(chunks, [&](std::size_t c) {
    ctl.check();
    const std::size_t r0 = c * kRowsPerChunk, R = std::min(B, r0 + kRowsPerChunk) - r0;
    std::vector<T> feat(R * in_dim), target(R * D), tape(R * L.tape_per_row), y(R * D), dy(R * D);
    std::vector<T> scratch(2 * R * L.max_width);
    for (std::size_t i = 0; i < R; ++i) {
      const uint64_t row = r0 + i;
      const Philox4 w = philox_block(cfg.key_lo, cfg.key_hi, kStreamUser, row, cfg.step, 0);
      const double u_t = u32d(w.v[1]);
      const double t = fm ? u_t : cfg.t_eps + (1 - cfg.t_eps) * u_t;
      // ε: normal draws 4.. of the same counter (blocks ≥ 1).
      T xt[64];
      if (!fm) {
        const std::size_t idx = std::min<std::size_t>(M - 1, static_cast<std::size_t>(u32d(w.v[0]) * M));
        double m, s;
        diffusion_marginal(cfg.mode, cfg.a, cfg.b, t, &m, &s);
        for (int d = 0; d < D; ++d) {
          const T e = static_cast<T>(normal_draw(cfg.key_lo, cfg.key_hi, kStreamUser, row, cfg.step, 4 + d));
          xt[d] = static_cast<T>(m) * data[idx * D + d] + static_cast<T>(s) * e;
          target[i * D + d] = e;
        }
      } else {
        const int32_t j = pair[row];
        require(j >= 0 && static_cast<std::size_t>(j) < M, Code::InvalidArg, "coupling index out of range");
        const T tt = static_cast<T>(t);
        for (int d = 0; d < D; ++d) {
          const T a0 = x0[row * D + d], a1 = data[j * D + d];
          const T e = cfg.sigma_fm > 0
                          ? static_cast<T>(cfg.sigma_fm) * static_cast<T>(normal_draw(cfg.key_lo, cfg.key_hi, kStreamUser, row, cfg.step, 4 + d))
                          : T(0);
          xt[d] = (T(1) - tt) * a0 + tt * a1 + e;
          target[i * D + d] = a1 - a0;
        }
      }
      features(cfg.freqs, D, xt, t, &feat[i * in_dim]);
    }
    nn::mlp_forward_rows(L, params, wt.data(), feat.data(), R, tape.data(), y.data());
    double l = 0;
    for (std::size_t k = 0; k < R * D; ++k) {
      const T e = y[k] - target[k];
      l += static_cast<double>(e) * static_cast<double>(e);
      dy[k] = inv * e;
    }
    loss[c] = l;
    nn::mlp_backward_rows(L, params, feat.data(), R, tape.data(), dy.data(), static_cast<T*>(nullptr),
                          partial.data() + c * L.n_params, scratch.data());
  });
  double total = 0;
  for (double l : loss) total += l;
  for (std::size_t p = 0; p < L.n_params; ++p) grad[p] = T(0);
  for (std::size_t c = 0; c < chunks; ++c)
    for (std::size_t p = 0; p < L.n_params; ++p) grad[p] += partial[c * L.n_params + p];
  return total / (static_cast<double>(B) * D);
}

template <typename T>
void diffusion_eval(const nn::MlpLayout& L, const T* params, const std::vector<double>& freqs, int D, const T* x,
                    std::size_t n, const double* t, std::size_t nt, double alpha, double beta, T* out, const Control& ctl) {
  const bool raw = alpha == 0 && beta == 1;
  const std::size_t F = freqs.size(), in_dim = D + 2 * F;
  require(L.in() == static_cast<int>(in_dim), Code::Shape, "model input must be D + 2F wide");
  require(raw || L.out() == D, Code::Shape, "the affine form needs a model with D outputs");
  require(nt == n || nt == 1, Code::Shape, "t must hold one value or one per row");
  std::vector<T> wt(L.n_params);
  nn::transpose_weights(L, params, wt.data());
  const std::size_t chunks = (n + kRowsPerChunk - 1) / kRowsPerChunk;
  const int O = L.out();
  parallel_for(chunks, [&](std::size_t c) {
    ctl.check();
    const std::size_t r0 = c * kRowsPerChunk, R = std::min(n, r0 + kRowsPerChunk) - r0;
    std::vector<T> feat(R * in_dim), tape(R * L.tape_per_row), y(R * O);
    for (std::size_t i = 0; i < R; ++i) features(freqs, D, x + (r0 + i) * D, t[nt == 1 ? 0 : r0 + i], &feat[i * in_dim]);
    nn::mlp_forward_rows(L, params, wt.data(), feat.data(), R, tape.data(), y.data());
    T* o = out + r0 * O;
    if (raw) {
      std::copy(y.begin(), y.end(), o);
    } else {
      const T a = static_cast<T>(alpha), b = static_cast<T>(beta);
      const T* xr = x + r0 * D;
      for (std::size_t k = 0; k < R * D; ++k) o[k] = a * xr[k] + b * y[k];
    }
  });
}

template <typename T>
void draw_batch(const T* data, std::size_t M, int D, std::size_t B, uint32_t key_lo, uint32_t key_hi, uint32_t step,
                T* x0, T* x1, int32_t* idx) {
  require(M >= 1 && M < (std::size_t{1} << 31), Code::InvalidArg, "data set size must be in [1, 2^31)");
  for (std::size_t r = 0; r < B; ++r) {
    const Philox4 w = philox_block(key_lo, key_hi, kStreamResample, r, step, 0);
    const std::size_t i = std::min<std::size_t>(M - 1, static_cast<std::size_t>(u32d(w.v[0]) * M));
    idx[r] = static_cast<int32_t>(i);
    for (int d = 0; d < D; ++d) {
      x0[r * D + d] = static_cast<T>(normal_draw(key_lo, key_hi, kStreamPrior, r, step, d));
      x1[r * D + d] = data[i * D + d];
    }
  }
}

void plan_pairs(const double* plan, std::size_t B, const int32_t* idx, bool argmax, uint32_t key_lo, uint32_t key_hi,
                uint32_t step, int32_t* pair) {
  for (std::size_t r = 0; r < B; ++r) {
    const double* row = plan + r * B;
    std::size_t pick = 0;
    if (argmax) {
      for (std::size_t j = 1; j < B; ++j)
        if (row[j] > row[pick]) pick = j;
    } else {
      double total = 0;
      for (std::size_t j = 0; j < B; ++j) total += row[j] > 0 ? row[j] : 0;
      require(total > 0 && std::isfinite(total), Code::Numerical, "transport plan row has no mass");
      const Philox4 w = philox_block(key_lo, key_hi, kStreamResample, r, step, 0);
      const double u = u32d(w.v[1]) * total;
      double acc = 0;
      pick = B - 1;
      for (std::size_t j = 0; j < B; ++j) {
        acc += row[j] > 0 ? row[j] : 0;
        if (u < acc) {
          pick = j;
          break;
        }
      }
    }
    pair[r] = idx[pick];
  }
}

#define ITK_DIFF_INSTANTIATE(T)                                                                                   \
  template double diffusion_step<T>(const nn::MlpLayout&, const T*, const DiffusionConfig&, const T*, std::size_t, \
                                    const T*, const int32_t*, T*, const Control&);                                \
  template void diffusion_eval<T>(const nn::MlpLayout&, const T*, const std::vector<double>&, int, const T*,      \
                                  std::size_t, const double*, std::size_t, double, double, T*, const Control&);   \
  template void draw_batch<T>(const T*, std::size_t, int, std::size_t, uint32_t, uint32_t, uint32_t, T*, T*, int32_t*);
ITK_DIFF_INSTANTIATE(float)
ITK_DIFF_INSTANTIATE(double)

}  // namespace train
}  // namespace itk

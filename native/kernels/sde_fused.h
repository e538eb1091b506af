// Fused whole-trajectory kernels of the built-in models (docs/design/sde.md). One work unit is a
// path (coupled models: GBM, CIR, Heston, GMM Langevin) or a 4-element chunk of a path
// (elementwise models: OU, VP, sub-VP, VE); it keeps its state in registers for all steps and
// writes only at save points. run_unit() is called by the CPU loop (native/sde/sde_fused.cc) and
// by the CUDA kernel (native/sde/cuda/sde.cu) alike, so both backends run the same arithmetic.
//
// Model representation (extensible; docs/design/sde.md): a `kind`, a `method` and a flat parameter array
// `par` of the state type, cast on the host once so CPU and CUDA see identical constants:
//   kLinearAdditive  dX_i = A(t)(κ_i − θ_i X_i)dt + B(t)σ_i dW_i  (OU: A = B = 1; VP, sub-VP, VE
//                    put their β(t), g(t) in A, B). par = [θ | κ=θμ | σ | μ | ea | eb], each d long;
//                    exact: X' = μ + (X − μ)·ea·at + eb·bt·ΔW. tcoef rows (per global step, or one
//                    shared row when tcoef_stride = 0): [A(t), A(t+¾h), A(t+h), B(t), B(t+h), at, bt].
//   kGbm             par = [μ | σ | (μ − σ²/2)h | L (d×d, lower Cholesky of the correlation)].
//   kCir             par = [κ, θ, ξ].  Full-truncation Euler; saves v⁺, `x` keeps the raw v̂.
//   kHeston          par = [μ, κ, θ, ξ, ρ, sqrt(1−ρ²)]; state (S, v̂); S' = S·exp(log-Euler increment).
//   kGmm             par = [sqrt(2τ) | c_k (K) | μ_k (K×d) | 1/v_k (K×d)], c_k = ln π_k − ½Σ ln 2πv_ki.
// A new model (e.g. an fBM-driven system: state plus K OU factors driven by one Brownian motion)
// adds a kind, its parameter layout, a branch in step_coupled() and its Brownian dimension m.
#pragma once
#include "sde_noise.h"
#include "sde_steps.h"

namespace itk {
namespace sde {

enum FusedKind : int32_t { kLinearAdditive = 0, kGbm = 1, kCir = 2, kHeston = 3, kGmm = 4 };
enum Method : int32_t { kEuler = 0, kMilstein = 1, kHeun = 2, kSra1 = 3, kExact = 4, kEulerFT = 5, kLogEulerFT = 6 };
constexpr int kTcoef = 7;
constexpr int kMaxMixture = 64;

template <typename T>
struct FusedArgs {
  int32_t kind = 0, method = 0;
  uint32_t dim = 1, m = 1, mixture = 0;  // state dim, Brownian dim, GMM components
  uint64_t paths = 0, path_offset = 0;   // rows in this call; path id of row 0
  uint32_t step_begin = 0, step_end = 0; // global step ids [a, b)
  NoiseSpec<T> noise;
  T h = T(0);
  const T* par = nullptr;
  const T* tcoef = nullptr;
  uint32_t tcoef_stride = 0;             // 0: one row for all steps; kTcoef: one row per step
  const uint32_t* save_n0 = nullptr;     // save entry s: state after save_n0[s] steps ...
  const T* save_w = nullptr;             // ... interpolated with weight w toward the next state
  uint32_t n_saves = 0;
  T* x = nullptr;                        // [paths, dim]: state at step_begin in, step_end out
  T* out = nullptr;                      // [n_saves, paths, dim]
};

// How a kernel knows the model. RuntimeModel reads kind, method and dim from the call (serves
// every model). FixedModel makes them compile-time constants for the common scalar models: every
// loop over the state then has a constant trip count, so nvcc keeps y, ΔW and the Box–Muller
// cache in registers; with run-time bounds over kMaxLocal-sized arrays they live in local memory
// (the cause of the 10–30x gap to a plain PyTorch loop measured on the H200). Both run the same
// operations in the same order, so the bits do not depend on which one a launch picked.
template <typename T>
struct RuntimeModel {
  int32_t kind, method;
  uint32_t dim;
  ITK_HD explicit RuntimeModel(const FusedArgs<T>& a) : kind(a.kind), method(a.method), dim(a.dim) {}
};

template <int32_t Kind, int32_t Method, uint32_t Dim>
struct FixedModel {
  static constexpr int32_t kind = Kind;
  static constexpr int32_t method = Method;
  static constexpr uint32_t dim = Dim;
  template <typename Args>
  ITK_HD explicit FixedModel(const Args&) {}
};

// Units per path and elements per unit.
template <typename T>
ITK_HD uint32_t unit_width(const FusedArgs<T>& a) {
  return a.kind == kLinearAdditive ? 4u : a.dim;
}
template <typename T>
ITK_HD uint64_t unit_count(const FusedArgs<T>& a) {
  const uint32_t w = unit_width(a);
  return a.paths * ((a.dim + w - 1) / w);
}

// What a save point stores: CIR and Heston save v⁺ and S (docs/design/sde.md); the rest the raw state.
template <typename T>
ITK_HD T save_value(const FusedArgs<T>& a, uint32_t i, T v) {
  if ((a.kind == kCir && i == 0) || (a.kind == kHeston && i == 1)) return pos(v);
  return v;
}

// ∇log p(x) of the Gaussian mixture, r = softmax(c_k − ½Σ(x−μ)²/v) with max subtraction.
template <typename T>
ITK_HD void gmm_score(const T* par, uint32_t K, uint32_t d, const T* x, T* s) {
  const T* c = par + 1;
  const T* means = c + K;
  const T* iv = means + K * d;
  T logit[kMaxMixture];
  T mx = T(0);
  for (uint32_t k = 0; k < K; ++k) {
    T q = T(0);
    for (uint32_t i = 0; i < d; ++i) {
      const T e = sb(x[i], means[k * d + i]);
      q = ad(q, mu(mu(e, e), iv[k * d + i]));
    }
    logit[k] = sb(c[k], mu(T(0.5), q));
    if (k == 0 || logit[k] > mx) mx = logit[k];
  }
  T z = T(0);
  for (uint32_t k = 0; k < K; ++k) {
    logit[k] = ex(sb(logit[k], mx));
    z = ad(z, logit[k]);
  }
  for (uint32_t i = 0; i < d; ++i) s[i] = T(0);
  for (uint32_t k = 0; k < K; ++k) {
    const T r = dv(logit[k], z);
    for (uint32_t i = 0; i < d; ++i) s[i] = ad(s[i], mu(r, mu(sb(means[k * d + i], x[i]), iv[k * d + i])));
  }
}

// One step of an elementwise linear additive-noise unit (elements i0 .. i0+w-1).
template <typename T>
ITK_HD void step_linear(const FusedArgs<T>& a, const T* tc, uint64_t path, uint32_t n, uint32_t i0, int w,
                        T* y, BrownianCache* nc) {
  const uint32_t d = a.dim;
  const T* th = a.par;
  const T* ka = th + d;
  const T* sg = ka + d;
  const T* mean = sg + d;
  const T* ea = mean + d;
  const T* eb = ea + d;
  const T h = a.h;
  T dW[kMaxLocal], J[kMaxLocal];
  brownian(a.noise, path, n, i0, w, dW, a.method == kSra1 ? J : nullptr, nc);
  for (int c = 0; c < w; ++c) {
    const uint32_t i = i0 + c;
    const T f0 = mu(tc[0], sb(ka[i], mu(th[i], y[c])));
    switch (a.method) {
      case kExact:
        y[c] = step_exact_ou(y[c], mean[i], mu(ea[i], tc[5]), mu(eb[i], tc[6]), dW[c]);
        break;
      case kHeun: {
        const T g0 = mu(tc[3], sg[i]), g1 = mu(tc[4], sg[i]);
        const T yt = step_em(y[c], f0, mu(g0, dW[c]), h);
        const T f1 = mu(tc[2], sb(ka[i], mu(th[i], yt)));
        y[c] = step_heun(y[c], f0, f1, mu(g0, dW[c]), mu(g1, dW[c]), h);
        break;
      }
      case kSra1: {
        const T g0 = mu(tc[3], sg[i]), g1 = mu(tc[4], sg[i]);
        const T h2 = sra1_stage(y[c], f0, mu(g1, J[c]), h);
        const T f1 = mu(tc[1], sb(ka[i], mu(th[i], h2)));
        y[c] = sra1_final(y[c], f0, f1, mu(g1, sb(dW[c], J[c])), mu(g0, J[c]), h);
        break;
      }
      default:  // kEuler
        y[c] = step_em(y[c], f0, mu(mu(tc[3], sg[i]), dW[c]), h);
        break;
    }
  }
}

// One step of a coupled model (the whole path in y[0..d)).
// Brownian draws per step of the coupled kinds other than the mixture: GBM d, CIR 1, Heston 2.
template <typename Model>
ITK_HD int coupled_noise_count(const Model& md) {
  return md.kind == kGbm ? static_cast<int>(md.dim) : md.kind == kHeston ? 2 : 1;
}

// One step of GBM, CIR or Heston from this step's increments dW (GBM mixes dW in place). Split
// from the noise so the CPU can draw a group of paths' noise at once (native/sde/sde_fused.cc).
template <typename T, typename Model>
ITK_HD void coupled_update(const FusedArgs<T>& a, const Model& md, T* y, T* dW) {
  const uint32_t d = md.dim;
  const T h = a.h;
  const T* p = a.par;
  switch (md.kind) {
    case kGbm: {
      const T* muv = p;
      const T* sg = p + d;
      const T* dh = sg + d;
      const T* L = dh + d;
      for (uint32_t i = d; i-- > 0;) {  // ΔW̃ = L·ΔB, in place from the last row (L lower triangular)
        T s = T(0);
        for (uint32_t k = 0; k <= i; ++k) s = ad(s, mu(L[i * d + k], dW[k]));
        dW[i] = s;
      }
      for (uint32_t i = 0; i < d; ++i) {
        if (md.method == kExact) {
          y[i] = step_exact_gbm(y[i], dh[i], sg[i], dW[i]);
        } else {
          const T f = mu(muv[i], y[i]);
          const T g = mu(sg[i], y[i]);
          if (md.method == kMilstein)  // g ∂g/∂S = σ²S
            y[i] = step_milstein(y[i], f, g, mu(g, sg[i]), dW[i], h);
          else
            y[i] = step_em(y[i], f, mu(g, dW[i]), h);
        }
      }
      break;
    }
    case kCir: {  // v̂' = v̂ + κ(θ − v̂⁺)h + ξ sqrt(v̂⁺)ΔW
      const T vp = pos(y[0]);
      y[0] = step_em(y[0], mu(p[0], sb(p[1], vp)), mu(mu(p[2], sq(vp)), dW[0]), h);
      break;
    }
    case kHeston: {  // ΔW₁ = √h z₀, ΔW₂ = ρΔW₁ + sqrt(1−ρ²)√h z₁
      const T vp = pos(y[1]);
      const T sv = sq(vp);
      const T dw2 = ad(mu(p[4], dW[0]), mu(p[5], dW[1]));
      const T dx = ad(mu(sb(p[0], mu(T(0.5), vp)), h), mu(sv, dW[0]));
      y[0] = mu(y[0], ex(dx));
      y[1] = step_em(y[1], mu(p[1], sb(p[2], vp)), mu(mu(p[3], sv), dw2), h);
      break;
    }
    default:
      break;
  }
}

// The same update with the model read from the call (the CPU lanes loop uses this form).
template <typename T>
ITK_HD void coupled_update(const FusedArgs<T>& a, T* y, T* dW) {
  coupled_update(a, RuntimeModel<T>(a), y, dW);
}

template <typename T, typename Model>
ITK_HD void step_coupled(const FusedArgs<T>& a, const Model& md, uint64_t path, uint32_t n, T* y,
                         BrownianCache* nc) {
  const uint32_t d = md.dim;
  const T h = a.h;
  const T* p = a.par;
  T dW[kMaxLocal], J[kMaxLocal];
  switch (md.kind) {
    case kGbm:
    case kCir:
    case kHeston:
      brownian(a.noise, path, n, 0, coupled_noise_count(md), dW, static_cast<T*>(nullptr), nc);
      coupled_update(a, md, y, dW);
      break;
    case kGmm: {  // dX = ∇log p dt + sqrt(2τ) dW (additive noise)
      const T g = p[0];
      const uint32_t K = a.mixture;
      T f0[kMaxLocal], f1[kMaxLocal], yt[kMaxLocal];
      brownian(a.noise, path, n, 0, static_cast<int>(d), dW, a.method == kSra1 ? J : nullptr, nc);
      gmm_score(p, K, d, y, f0);
      if (a.method == kEuler) {
        for (uint32_t i = 0; i < d; ++i) y[i] = step_em(y[i], f0[i], mu(g, dW[i]), h);
      } else if (a.method == kHeun) {
        for (uint32_t i = 0; i < d; ++i) yt[i] = step_em(y[i], f0[i], mu(g, dW[i]), h);
        gmm_score(p, K, d, yt, f1);
        for (uint32_t i = 0; i < d; ++i) y[i] = step_heun(y[i], f0[i], f1[i], mu(g, dW[i]), mu(g, dW[i]), h);
      } else {  // kSra1
        for (uint32_t i = 0; i < d; ++i) yt[i] = sra1_stage(y[i], f0[i], mu(g, J[i]), h);
        gmm_score(p, K, d, yt, f1);
        for (uint32_t i = 0; i < d; ++i)
          y[i] = sra1_final(y[i], f0[i], f1[i], mu(g, sb(dW[i], J[i])), mu(g, J[i]), h);
      }
      break;
    }
    default:
      break;
  }
}

// Writes the save entries that the state after step n contributes to (entries sorted by n0).
template <typename T>
ITK_HD void emit_saves(const FusedArgs<T>& a, uint32_t n, uint64_t row, uint32_t i0, int w, const T* y,
                       uint32_t* sp) {
  while (*sp < a.n_saves && a.save_n0[*sp] + 1 < n) ++*sp;
  for (uint32_t s = *sp; s < a.n_saves && a.save_n0[s] <= n; ++s) {
    const T wt = a.save_w[s];
    T* o = a.out + (static_cast<uint64_t>(s) * a.paths + row) * a.dim + i0;
    if (a.save_n0[s] == n) {
      for (int c = 0; c < w; ++c) {
        const T v = save_value(a, i0 + c, y[c]);
        o[c] = wt == T(0) ? v : mu(sb(T(1), wt), v);
      }
    } else if (wt != T(0)) {  // save_n0[s] == n − 1: the interpolation's right end
      for (int c = 0; c < w; ++c) o[c] = ad(o[c], mu(wt, save_value(a, i0 + c, y[c])));
    }
  }
}

// The whole trajectory of work unit u over steps [step_begin, step_end).
template <typename T, typename Model>
ITK_HD void run_unit(const FusedArgs<T>& a, const Model& md, uint64_t u) {
  const uint32_t width = md.kind == kLinearAdditive ? 4u : md.dim;
  const uint32_t per_path = (md.dim + width - 1) / width;
  const uint64_t row = u / per_path;
  const uint32_t i0 = static_cast<uint32_t>(u % per_path) * width;
  const int w = static_cast<int>(md.dim - i0 < width ? md.dim - i0 : width);
  const uint64_t path = a.path_offset + row;
  T y[kMaxLocal];
  T* xr = a.x + row * a.dim + i0;
  for (int c = 0; c < w; ++c) y[c] = xr[c];
  uint32_t sp = 0;
  emit_saves(a, a.step_begin, row, i0, w, y, &sp);
  BrownianCache nc;  // the unit's normals of the current four-step group
  for (uint32_t n = a.step_begin; n < a.step_end; ++n) {
    if (md.kind == kLinearAdditive)
      step_linear(a, a.tcoef + static_cast<uint64_t>(n) * a.tcoef_stride, path, n, i0, w, y, &nc);
    else
      step_coupled(a, md, path, n, y, &nc);
    if (a.n_saves) emit_saves(a, n + 1, row, i0, w, y, &sp);
  }
  for (int c = 0; c < w; ++c) xr[c] = y[c];
}

template <typename T>
ITK_HD void run_unit(const FusedArgs<T>& a, uint64_t u) {
  run_unit(a, RuntimeModel<T>(a), u);
}

// The one list of models with a compile-time shape: calls fn(model) with the FixedModel of the
// call and returns true, or returns false when the call's model has none (then RuntimeModel
// serves it). Host-side dispatch shared by the CPU loop and the CUDA launcher.
template <typename T, typename Fn>
bool with_fixed_model(const FusedArgs<T>& a, Fn&& fn) {
  if (a.kind == kGbm && a.dim == 1) {
    switch (a.method) {
      case kEuler: fn(FixedModel<kGbm, kEuler, 1>(a)); return true;
      case kMilstein: fn(FixedModel<kGbm, kMilstein, 1>(a)); return true;
      case kExact: fn(FixedModel<kGbm, kExact, 1>(a)); return true;
      default: return false;
    }
  }
  if (a.kind == kHeston && a.dim == 2 && a.method == kLogEulerFT) {
    fn(FixedModel<kHeston, kLogEulerFT, 2>(a));
    return true;
  }
  if (a.kind == kCir && a.dim == 1 && a.method == kEulerFT) {
    fn(FixedModel<kCir, kEulerFT, 1>(a));
    return true;
  }
  return false;
}

}  // namespace sde
}  // namespace itk

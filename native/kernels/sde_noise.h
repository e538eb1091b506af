// Brownian increments and space-time areas (docs/design/randomness.md §2, §6). Draw j of (seed,
// stream, path, step) follows the per-step layout of step_noise.h (four steps per Philox block,
// docs/design/noise-layout.md); ΔW_k uses j = k and the space-time area H_k uses j = m + k, so
// every method sees the same ΔW for one seed. With noiseRefinement r, coarse step n sums the r
// fine increments with step ids n·r + q, so every resolution samples the same Brownian path
// (what strong-order tests rely on).
#pragma once
#include "sde_math.h"
#include "step_noise.h"

namespace itk {
namespace sde {

// Largest number of state elements one work unit holds in registers (docs/design/sde.md §5: thread per path
// for d <= 32, thread per 4-element chunk for elementwise models).
constexpr int kMaxLocal = 32;

// The normals of the current four-step group of one path: increments (draws k0..) and areas
// (draws m + k0..). A work unit keeps one for its whole trajectory, so each draw costs one
// Philox block per four steps and one Box–Muller pair per two (the layout's point).
struct BrownianCache {
  StepNormals<kMaxLocal> w, a;
};

// Everything a kernel needs to turn counters into increments of one coarse step of size h.
template <typename T>
struct NoiseSpec {
  uint32_t key_lo = 0, key_hi = 0, stream = 0;
  uint32_t m = 1;        // Brownian dimension: area H_k is draw m + k
  uint32_t refine = 1;   // r fine steps per coarse step (a power of two)
  T h = T(0);            // signed coarse step
  T hf = T(0);           // signed fine step h / r
  T sqrt_hf = T(0);      // sqrt(|h| / r)
  T sqrt_hf12 = T(0);    // sqrt(|h| / (12 r)): scale of the space-time area
};

// ΔW = sqrt(|h|)·z for one standard normal z of an unrefined step (refine = 1).
template <typename T>
ITK_HD T increment(const NoiseSpec<T>& ns, float z) {
  return mu(ns.sqrt_hf, static_cast<T>(z));
}

// ΔW_k and (when J != nullptr) J_k = I_(k,0)/h for k = k0 .. k0+cnt-1 of coarse step n.
// r = 1: ΔW = sqrt(h)·z, J = ΔW/2 + H with H = sqrt(h/12)·z'. r > 1: ΔW = Σ_q ΔW_q and
// I_(k,0) = Σ_q [h_f(ΔW_q/2 + H_q) + h_f·W_q], W_q the fine path before fine step q (docs/design/randomness.md §6).
// `cache` belongs to this (path, k0, cnt): kept across the steps of a trajectory it saves the
// blocks and pairs that four steps share; a fresh one per call gives the same values.
template <typename T>
ITK_HD void brownian(const NoiseSpec<T>& ns, uint64_t path, uint32_t n, uint32_t k0, int cnt, T* dW,
                     T* J, BrownianCache* cache) {
  float z[kMaxLocal], za[kMaxLocal];
  if (ns.refine == 1) {
    cache->w.get(ns.key_lo, ns.key_hi, ns.stream, path, n, k0, cnt, z);
    if (J) cache->a.get(ns.key_lo, ns.key_hi, ns.stream, path, n, ns.m + k0, cnt, za);
    for (int c = 0; c < cnt; ++c) {
      dW[c] = increment(ns, z[c]);
      if (J) J[c] = ad(mu(T(0.5), dW[c]), mu(ns.sqrt_hf12, static_cast<T>(za[c])));
    }
    return;
  }
  T U[kMaxLocal];
  for (int c = 0; c < cnt; ++c) {
    dW[c] = T(0);
    U[c] = T(0);
  }
  for (uint32_t q = 0; q < ns.refine; ++q) {
    const uint32_t step = n * ns.refine + q;
    cache->w.get(ns.key_lo, ns.key_hi, ns.stream, path, step, k0, cnt, z);
    if (J) cache->a.get(ns.key_lo, ns.key_hi, ns.stream, path, step, ns.m + k0, cnt, za);
    for (int c = 0; c < cnt; ++c) {
      const T dw = mu(ns.sqrt_hf, static_cast<T>(z[c]));
      if (J) {
        const T uq = mu(ns.hf, ad(mu(T(0.5), dw), mu(ns.sqrt_hf12, static_cast<T>(za[c]))));
        U[c] = ad(U[c], ad(uq, mu(ns.hf, dW[c])));
      }
      dW[c] = ad(dW[c], dw);
    }
  }
  if (J)
    for (int c = 0; c < cnt; ++c) J[c] = dv(U[c], ns.h);
}

}  // namespace sde
}  // namespace itk

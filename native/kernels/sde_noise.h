// Brownian increments and space-time areas from the Philox counter layout (docs/design/randomness.md §2, §6).
// Draw j of (seed, stream, path, step) is word j & 3 of block j >> 2; ΔW_k uses j = k and the
// space-time area H_k uses j = m + k, so every method sees the same ΔW for one seed. With
// noiseRefinement r, coarse step n sums the r fine increments with step ids n·r + q, so every
// resolution samples the same Brownian path (what strong-order tests rely on).
#pragma once
#include "normal.h"
#include "sde_math.h"

namespace itk {
namespace sde {

// Largest number of state elements one work unit holds in registers (docs/design/sde.md §5: thread per path
// for d <= 32, thread per 4-element chunk for elementwise models).
constexpr int kMaxLocal = 32;

// Remembers the last Philox block and Box–Muller pair, so that draws sharing them (ΔW_k and the
// area H_k of a scalar model are the two halves of one pair) are computed once.
struct DrawCache {
  uint32_t block = 0xFFFFFFFFu, pair = 0xFFFFFFFFu;
  Philox4 w{{0, 0, 0, 0}};
  float z0 = 0.0f, z1 = 0.0f;
};

// Normal draws j0 .. j0+cnt-1 of one (stream, path, step). Only the Box–Muller pairs that are
// used get computed (a scalar model needs one pair of the four-word block).
ITK_HD void normal_range(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                         uint32_t step, uint32_t j0, int cnt, float* z, DrawCache* cache) {
  DrawCache& k = *cache;
  for (int c = 0; c < cnt; ++c) {
    const uint32_t j = j0 + static_cast<uint32_t>(c);
    if ((j >> 2) != k.block) {
      k.block = j >> 2;
      k.w = philox_block(key_lo, key_hi, stream, path, step, k.block);
      k.pair = 0xFFFFFFFFu;
    }
    const uint32_t p = (j >> 1) & 1u;
    if (p != k.pair) {
      k.pair = p;
      box_muller(k.w.v[2 * p], k.w.v[2 * p + 1], &k.z0, &k.z1);
    }
    z[c] = (j & 1u) ? k.z1 : k.z0;
  }
}

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
template <typename T>
ITK_HD void brownian(const NoiseSpec<T>& ns, uint64_t path, uint32_t n, uint32_t k0, int cnt, T* dW,
                     T* J) {
  float z[kMaxLocal], za[kMaxLocal];
  if (ns.refine == 1) {
    DrawCache cache;
    normal_range(ns.key_lo, ns.key_hi, ns.stream, path, n, k0, cnt, z, &cache);
    if (J) normal_range(ns.key_lo, ns.key_hi, ns.stream, path, n, ns.m + k0, cnt, za, &cache);
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
    DrawCache cache;
    normal_range(ns.key_lo, ns.key_hi, ns.stream, path, step, k0, cnt, z, &cache);
    if (J) normal_range(ns.key_lo, ns.key_hi, ns.stream, path, step, ns.m + k0, cnt, za, &cache);
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

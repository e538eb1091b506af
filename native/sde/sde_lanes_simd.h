// Whole float32 trajectories of S::kLanes paths of GBM (d <= 2), CIR or Heston with the state in
// vector registers: per step, Philox block 0 of every path (lane l = path path0 + l), the first
// Box–Muller pair, and the model update, all as one vector sequence (native/rng/rng_simd.h).
// Included once by each ISA unit (sde_lanes_avx512.cc, sde_lanes_avx2.cc) after its
// operation-set header; sde_lanes.cc chooses the unit at run time.
//
// The updates are coupled_update() of native/kernels/sde_fused.h with T = float, operation for
// operation (same IEEE ops, same order, same constants), so every path has the bits of
// sde::run_unit() and of the CUDA kernel. When changing one, change the other; the bit-exact
// tests (test/sde-lanes.test.ts, test/sde.test.ts) cover both.
#pragma once
#include "../kernels/sde_fused.h"
#include "../rng/rng_simd.h"
#include "../rng/simd_dual.h"
#include "sde_lanes.h"

namespace itk {
namespace simd {
namespace {

// Noise of one path group: the first pair of block 0 at step n (sde_noise.h normal_range with
// j0 = 0), ΔW = sqrt(h) z (increment() with refine = 1). Counter words 2 and 3 (the paths) and the
// round keys are fixed for the whole trajectory; words 0 (block 0) and 1 (the step) are not.
// V is S or Dual<...<S>>: its kParts parts draw steps n .. n + kParts - 1 at once, independent
// chains that the core overlaps (simd_dual.h).
template <class V>
struct LaneNoise {
  using S = typename V::Base;
  using F = typename S::F;
  static constexpr int K = V::kParts;
  PhiloxKeys<V> keys;
  typename V::U step_of_part, c2, c3;  // step_of_part: p in every lane of part p
  F sqrt_h;
  ITK_SIMD_FN LaneNoise(const sde::NoiseSpec<float>& ns, uint64_t path0)
      : keys(ns.key_lo, ns.key_hi), sqrt_h(S::fset1(ns.sqrt_hf)) {
    typename S::U p2, p3;
    path_counters<S>(ns.stream, path0, &p2, &p3);
    c2 = V::dup(p2);
    c3 = V::dup(p3);
    alignas(64) uint32_t part[V::kLanes];
    for (int l = 0; l < V::kLanes; ++l) part[l] = static_cast<uint32_t>(l / S::kLanes);
    step_of_part = V::load(part);
  }
  // Words 0 and 1 of block 0 at steps n .. n + K - 1 (the rest is never read, so never computed).
  ITK_SIMD_FN Words4<V> words(uint32_t n) const {
    return philox10<V>(keys, Words4<V>{V::set1(0u), V::add(V::set1(n), step_of_part), c2, c3});
  }
  // ΔW of draws 0 and 1 at those steps; a model using only draw 0 leaves z1 to dead-code removal.
  ITK_SIMD_FN void increments(uint32_t n, F dw[K][2]) const { increments(words(n), dw); }
  ITK_SIMD_FN void increments(const Words4<V>& w, F dw[K][2]) const {
    typename V::F z0, z1;
    box_muller<V>(w.v0, w.v1, &z0, &z1);
    F a[K], b[K];
    V::split(z0, a);
    V::split(z1, b);
    for (int k = 0; k < K; ++k) {
      dw[k][0] = S::fmul(sqrt_h, a[k]);
      dw[k][1] = S::fmul(sqrt_h, b[k]);
    }
  }
};

// y' = y + f h + g ΔW (sde_steps.h step_em).
template <class S>
ITK_SIMD_FN typename S::F step_em(typename S::F y, typename S::F f, typename S::F g_dw, typename S::F h) {
  return S::fadd(S::fadd(y, S::fmul(f, h)), g_dw);
}

// max(v, 0) keeping NaN and -0 as sde_math.h pos() does (v < 0 ? 0 : v).
template <class S>
ITK_SIMD_FN typename S::F pos(typename S::F v) {
  return S::fsel(S::flt(v, S::fset1(0.0f)), S::fset1(0.0f), v);
}

// GBM with D assets: ΔW̃ = L ΔB in place from the last row, then per asset Euler, Milstein
// (g ∂g/∂S = σ² S) or the exact step S' = S exp((μ - σ²/2)h + σ ΔW̃).
template <class S, int D, int METHOD>
struct GbmStep {
  using F = typename S::F;
  F mu[D], sg[D], dh[D], L[D][D], h;
  ITK_SIMD_FN explicit GbmStep(const sde::FusedArgs<float>& a) : h(S::fset1(a.h)) {
    const float* p = a.par;
    for (int i = 0; i < D; ++i) {
      mu[i] = S::fset1(p[i]);
      sg[i] = S::fset1(p[D + i]);
      dh[i] = S::fset1(p[2 * D + i]);
      for (int k = 0; k < D; ++k) L[i][k] = S::fset1(p[3 * D + i * D + k]);
    }
  }
  ITK_SIMD_FN void operator()(F* y, F* dW) const {
    for (int i = D; i-- > 0;) {
      F s = S::fset1(0.0f);  // 0 + x, not x: keeps -0 -> +0 as the scalar sum does
      for (int k = 0; k <= i; ++k) s = S::fadd(s, S::fmul(L[i][k], dW[k]));
      dW[i] = s;
    }
    for (int i = 0; i < D; ++i) {
      if (METHOD == sde::kExact) {
        y[i] = S::fmul(y[i], exp<S>(S::fadd(dh[i], S::fmul(sg[i], dW[i]))));
      } else {
        const F f = S::fmul(mu[i], y[i]);
        const F g = S::fmul(sg[i], y[i]);
        if (METHOD == sde::kMilstein)
          y[i] = S::fadd(step_em<S>(y[i], f, S::fmul(g, dW[i]), h),
                         S::fmul(S::fmul(S::fset1(0.5f), S::fmul(g, sg[i])), S::fsub(S::fmul(dW[i], dW[i]), h)));
        else
          y[i] = step_em<S>(y[i], f, S::fmul(g, dW[i]), h);
      }
    }
  }
};

// CIR, full truncation: v̂' = v̂ + κ(θ − v̂⁺)h + ξ sqrt(v̂⁺) ΔW.
template <class S>
struct CirStep {
  using F = typename S::F;
  F kappa, theta, xi, h;
  ITK_SIMD_FN explicit CirStep(const sde::FusedArgs<float>& a)
      : kappa(S::fset1(a.par[0])), theta(S::fset1(a.par[1])), xi(S::fset1(a.par[2])), h(S::fset1(a.h)) {}
  ITK_SIMD_FN void operator()(F* y, F* dW) const {
    const F vp = pos<S>(y[0]);
    y[0] = step_em<S>(y[0], S::fmul(kappa, S::fsub(theta, vp)), S::fmul(S::fmul(xi, S::fsqrt(vp)), dW[0]), h);
  }
};

// Heston, log-Euler for S and full-truncation Euler for v̂: ΔW₂ = ρΔW₁ + sqrt(1−ρ²)ΔB₂,
// S' = S exp((μ − v̂⁺/2)h + sqrt(v̂⁺)ΔW₁), v̂' = v̂ + κ(θ − v̂⁺)h + ξ sqrt(v̂⁺)ΔW₂.
template <class S>
struct HestonStep {
  using F = typename S::F;
  F p[6], h;
  ITK_SIMD_FN explicit HestonStep(const sde::FusedArgs<float>& a) : h(S::fset1(a.h)) {
    for (int i = 0; i < 6; ++i) p[i] = S::fset1(a.par[i]);
  }
  ITK_SIMD_FN void operator()(F* y, F* dW) const {
    const F vp = pos<S>(y[1]);
    const F sv = S::fsqrt(vp);
    const F dw2 = S::fadd(S::fmul(p[4], dW[0]), S::fmul(p[5], dW[1]));
    const F dx = S::fadd(S::fmul(S::fsub(p[0], S::fmul(S::fset1(0.5f), vp)), h), S::fmul(sv, dW[0]));
    y[0] = S::fmul(y[0], exp<S>(dx));
    y[1] = step_em<S>(y[1], S::fmul(p[1], S::fsub(p[2], vp)), S::fmul(S::fmul(p[3], sv), dw2), h);
  }
};

// The state of lanes rows row0 .. row0 + lanes - 1 (lanes <= S::kLanes) through all steps;
// lanes past `lanes` run on zeros and are dropped. Saves go through the scalar emit_saves() of
// each path, on the steps where it has something to write.
template <class S, int D, class Step>
ITK_SIMD_TARGET void run_group(const sde::FusedArgs<float>& a, uint64_t row0, int lanes) {
  using F = typename S::F;
  constexpr int L = S::kLanes;
  const Step step(a);
  // Noise for four steps per draw (Dual<Dual<S>>): measured 5-15 % faster than two on AVX-512
  // and AVX2; eight run out of registers. noise1 draws the last step_count mod 4 steps.
  using V = Dual<Dual<S>>;
  constexpr int kSteps = V::kParts;
  const LaneNoise<V> noise(a.noise, a.path_offset + row0);
  const LaneNoise<S> noise1(a.noise, a.path_offset + row0);
  alignas(64) float buf[D][L] = {};
  for (int l = 0; l < lanes; ++l)
    for (int i = 0; i < D; ++i) buf[i][l] = a.x[(row0 + l) * D + i];
  uint32_t sp = 0;
  auto saves = [&](uint32_t n) {
    // emit_saves() is a no-op unless, after skipping entries older than step n - 1, the next
    // entry is at n - 1 or n; all lanes share the schedule, so one test serves the group.
    while (sp < a.n_saves && a.save_n0[sp] + 1 < n) ++sp;
    if (sp >= a.n_saves || a.save_n0[sp] > n) return;
    uint32_t next = sp;
    for (int l = 0; l < lanes; ++l) {
      float yl[D];
      for (int i = 0; i < D; ++i) yl[i] = buf[i][l];
      next = sp;
      sde::emit_saves(a, n, row0 + l, 0, D, yl, &next);
    }
    sp = next;
  };
  saves(a.step_begin);
  F y[D];
  for (int i = 0; i < D; ++i) y[i] = S::fload(buf[i]);
  auto advance = [&](uint32_t n, F* dW) ITK_SIMD_TARGET {  // step n, then the saves after it
    step(y, dW);
    if (a.n_saves) {
      for (int i = 0; i < D; ++i) S::fstore(buf[i], y[i]);
      saves(n + 1);
    }
  };
  uint32_t n = a.step_begin;
  if (a.step_end - n >= static_cast<uint32_t>(kSteps)) {
    // The Philox words of the next four steps are computed in the same iteration as the
    // Box–Muller and updates of the current four: two independent halves in flight (~3 %).
    Words4<V> w = noise.words(n);
    for (; a.step_end - n >= static_cast<uint32_t>(kSteps); n += kSteps) {
      const Words4<V> next = noise.words(n + kSteps);  // past the end on the last pass, unused
      F dW[kSteps][2];
      noise.increments(w, dW);
      for (int k = 0; k < kSteps; ++k) advance(n + k, dW[k]);
      w = next;
    }
  }
  for (; n < a.step_end; ++n) {
    F dW[1][2];
    noise1.increments(n, dW);
    advance(n, dW[0]);
  }
  for (int i = 0; i < D; ++i) S::fstore(buf[i], y[i]);
  for (int l = 0; l < lanes; ++l)
    for (int i = 0; i < D; ++i) a.x[(row0 + l) * D + i] = buf[i][l];
}

template <class S, int D, class Step>
void run_lanes_of(const sde::FusedArgs<float>& a, uint64_t row0, int lanes) {
  for (int g = 0; g < lanes; g += S::kLanes)
    run_group<S, D, Step>(a, row0 + g, lanes - g < S::kLanes ? lanes - g : S::kLanes);
}

// One entry per model and method; nullptr where this file has no kernel (sde_lanes.h).
template <class S>
SdeLanesFn sde_lanes_kernel(const sde::FusedArgs<float>& a) {
  switch (a.kind) {
    case sde::kGbm:
      if (a.dim == 1) {
        if (a.method == sde::kExact) return run_lanes_of<S, 1, GbmStep<S, 1, sde::kExact>>;
        if (a.method == sde::kMilstein) return run_lanes_of<S, 1, GbmStep<S, 1, sde::kMilstein>>;
        return run_lanes_of<S, 1, GbmStep<S, 1, sde::kEuler>>;
      }
      if (a.dim == 2) {
        if (a.method == sde::kExact) return run_lanes_of<S, 2, GbmStep<S, 2, sde::kExact>>;
        if (a.method == sde::kMilstein) return run_lanes_of<S, 2, GbmStep<S, 2, sde::kMilstein>>;
        return run_lanes_of<S, 2, GbmStep<S, 2, sde::kEuler>>;
      }
      return nullptr;
    case sde::kCir: return a.dim == 1 ? run_lanes_of<S, 1, CirStep<S>> : nullptr;
    case sde::kHeston: return a.dim == 2 ? run_lanes_of<S, 2, HestonStep<S>> : nullptr;
    default: return nullptr;
  }
}

}  // namespace
}  // namespace simd
}  // namespace itk

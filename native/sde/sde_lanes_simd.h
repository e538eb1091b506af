// Whole float32 trajectories of S::kLanes paths of GBM (d <= 8, correlated), CIR, Heston and the
// linear additive models (OU, VP, sub-VP, VE; 4-element chunks of a path, as their work units) with
// the state in vector registers: per step, the Philox blocks of every path (lane l = path
// path0 + l) holding the step's draws, their Box–Muller pairs, and the model update, all as one
// vector sequence (native/rng/rng_simd.h).
// Included once by each ISA unit (sde_lanes_avx512.cc, sde_lanes_avx2.cc) after its
// operation-set header; sde_lanes.cc chooses the unit at run time.
//
// The updates are coupled_update() and step_linear() of native/kernels/sde_fused.h with T = float,
// operation for operation (same IEEE ops, same order, same constants), so every path has the bits of
// sde::run_unit() and of the CUDA kernel. When changing one, change the other; the bit-exact
// tests (test/sde-lanes.test.ts, test/sde.test.ts) cover both.
#pragma once
#include <type_traits>

#include "../kernels/sde_fused.h"
#include "../rng/rng_simd.h"
#include "../rng/simd_dual.h"
#include "sde_lanes.h"

namespace itk {
namespace simd {
namespace {

// Noise of one path group: draws 4·block0 .. 4·block0 + Draws - 1 at step n (sde_noise.h
// normal_range with j0 = 4·block0: word j & 3 of block j >> 2, pairs (0,1) and (2,3)), ΔW = sqrt(h) z
// (increment() with refine = 1). Counter words 2 and 3 (the paths) and the round keys are fixed
// for the whole trajectory; words 0 (the block) and 1 (the step) are not. V is S or
// Dual<...<S>>: its kParts parts draw steps n .. n + kParts - 1 at once, independent chains that
// the core overlaps (simd_dual.h).
template <class V, int Draws>
struct LaneNoise {
  using S = typename V::Base;
  using F = typename S::F;
  static constexpr int K = V::kParts;
  static constexpr int kBlocks = (Draws + 3) / 4;
  struct Words {
    Words4<V> b[kBlocks];
  };
  PhiloxKeys<V> keys;
  typename V::U step_of_part, c2, c3;  // step_of_part: p in every lane of part p
  uint32_t block0;
  F sqrt_h;
  ITK_SIMD_FN LaneNoise(const sde::NoiseSpec<float>& ns, uint64_t path0, uint32_t first_block)
      : keys(ns.key_lo, ns.key_hi), block0(first_block), sqrt_h(S::fset1(ns.sqrt_hf)) {
    typename S::U p2, p3;
    path_counters<S>(ns.stream, path0, &p2, &p3);
    c2 = V::dup(p2);
    c3 = V::dup(p3);
    alignas(64) uint32_t part[V::kLanes];
    for (int l = 0; l < V::kLanes; ++l) part[l] = static_cast<uint32_t>(l / S::kLanes);
    step_of_part = V::load(part);
  }
  // The blocks at steps n .. n + K - 1 (words no draw reads are never computed).
  ITK_SIMD_FN Words words(uint32_t n) const {
    Words w;
    for (int b = 0; b < kBlocks; ++b)
      w.b[b] = philox10<V>(keys, Words4<V>{V::set1(block0 + static_cast<uint32_t>(b)), V::add(V::set1(n), step_of_part), c2, c3});
    return w;
  }
  // ΔW of the Draws draws at those steps: one Box–Muller pair per two draws.
  ITK_SIMD_FN void increments(uint32_t n, F dw[K][Draws]) const { increments(words(n), dw); }
  ITK_SIMD_FN void increments(const Words& w, F dw[K][Draws]) const {
    for (int j = 0; j < Draws; j += 2) {
      const Words4<V>& b = w.b[j >> 2];
      typename V::F z0, z1;
      box_muller<V>((j & 2) ? b.v2 : b.v0, (j & 2) ? b.v3 : b.v1, &z0, &z1);
      F a[K], c[K];
      V::split(z0, a);
      V::split(z1, c);
      for (int k = 0; k < K; ++k) {
        dw[k][j] = S::fmul(sqrt_h, a[k]);
        if (j + 1 < Draws) dw[k][j + 1] = S::fmul(sqrt_h, c[k]);
      }
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
  ITK_SIMD_FN GbmStep(const sde::FusedArgs<float>& a, uint32_t) : h(S::fset1(a.h)) {
    const float* p = a.par;
    for (int i = 0; i < D; ++i) {
      mu[i] = S::fset1(p[i]);
      sg[i] = S::fset1(p[D + i]);
      dh[i] = S::fset1(p[2 * D + i]);
      for (int k = 0; k < D; ++k) L[i][k] = S::fset1(p[3 * D + i * D + k]);
    }
  }
  ITK_SIMD_FN void operator()(F* y, F* dW, uint32_t) const {
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
  ITK_SIMD_FN CirStep(const sde::FusedArgs<float>& a, uint32_t)
      : kappa(S::fset1(a.par[0])), theta(S::fset1(a.par[1])), xi(S::fset1(a.par[2])), h(S::fset1(a.h)) {}
  ITK_SIMD_FN void operator()(F* y, F* dW, uint32_t) const {
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
  ITK_SIMD_FN HestonStep(const sde::FusedArgs<float>& a, uint32_t) : h(S::fset1(a.h)) {
    for (int i = 0; i < 6; ++i) p[i] = S::fset1(a.par[i]);
  }
  ITK_SIMD_FN void operator()(F* y, F* dW, uint32_t) const {
    const F vp = pos<S>(y[1]);
    const F sv = S::fsqrt(vp);
    const F dw2 = S::fadd(S::fmul(p[4], dW[0]), S::fmul(p[5], dW[1]));
    const F dx = S::fadd(S::fmul(S::fsub(p[0], S::fmul(S::fset1(0.5f), vp)), h), S::fmul(sv, dW[0]));
    y[0] = S::fmul(y[0], exp<S>(dx));
    y[1] = step_em<S>(y[1], S::fmul(p[1], S::fsub(p[2], vp)), S::fmul(S::fmul(p[3], sv), dw2), h);
  }
};

// Linear additive noise (OU; VP, sub-VP and VE with their β(t), g(t) in the step's coefficient
// row tc), elements i0 .. i0 + W - 1 of the path (step_linear): f₀ = A(t)(κ − θy);
// Euler y' = y + f₀h + (B(t)σ)ΔW; exact y' = μ + ((y − μ)(e_a·a_t) + (e_b·b_t)ΔW); Heun
// ỹ = y + f₀h + g₀ΔW, f₁ = A(t+h)(κ − θỹ), y' = y + ½(f₀ + f₁)h + ½(g₀ΔW + g₁ΔW). Products of two
// per-step scalars are formed in scalar float (the same IEEE products) and broadcast.
template <class S, int W, int METHOD>
struct LinStep {
  using F = typename S::F;
  const sde::FusedArgs<float>& a;
  F th[W], ka[W], mean[W], h;
  float sg[W], ea[W], eb[W];
  ITK_SIMD_FN LinStep(const sde::FusedArgs<float>& args, uint32_t i0) : a(args), h(S::fset1(args.h)) {
    const uint32_t d = a.dim;
    for (int c = 0; c < W; ++c) {
      const uint32_t i = i0 + static_cast<uint32_t>(c);
      th[c] = S::fset1(a.par[i]);
      ka[c] = S::fset1(a.par[d + i]);
      sg[c] = a.par[2 * d + i];
      mean[c] = S::fset1(a.par[3 * d + i]);
      ea[c] = a.par[4 * d + i];
      eb[c] = a.par[5 * d + i];
    }
  }
  ITK_SIMD_FN void operator()(F* y, F* dW, uint32_t n) const {
    const float* tc = a.tcoef + static_cast<uint64_t>(n) * a.tcoef_stride;
    for (int c = 0; c < W; ++c) {
      if (METHOD == sde::kExact) {
        const F at = S::fset1(fmul(ea[c], tc[5])), bt = S::fset1(fmul(eb[c], tc[6]));
        y[c] = S::fadd(mean[c], S::fadd(S::fmul(S::fsub(y[c], mean[c]), at), S::fmul(bt, dW[c])));
        continue;
      }
      const F A0 = S::fset1(tc[0]);
      const F f0 = S::fmul(A0, S::fsub(ka[c], S::fmul(th[c], y[c])));
      const F g0dw = S::fmul(S::fset1(fmul(tc[3], sg[c])), dW[c]);
      if (METHOD == sde::kHeun) {
        const F g1dw = S::fmul(S::fset1(fmul(tc[4], sg[c])), dW[c]);
        const F yt = step_em<S>(y[c], f0, g0dw, h);
        const F f1 = S::fmul(S::fset1(tc[2]), S::fsub(ka[c], S::fmul(th[c], yt)));
        const F half = S::fset1(0.5f);
        y[c] = S::fadd(S::fadd(y[c], S::fmul(S::fmul(half, S::fadd(f0, f1)), h)), S::fmul(half, S::fadd(g0dw, g1dw)));
      } else {
        y[c] = step_em<S>(y[c], f0, g0dw, h);
      }
    }
  }
};

// The state of lanes rows row0 .. row0 + lanes - 1 (lanes <= S::kLanes), elements i0 .. i0 + D - 1
// of each (the whole path for the coupled models, one 4-element unit for the linear ones),
// through all steps; lanes past `lanes` run on zeros and are dropped. Saves go through the scalar
// emit_saves() of each path, on the steps where it has something to write.
template <class S, int D, class Step>
ITK_SIMD_TARGET void run_group(const sde::FusedArgs<float>& a, uint64_t row0, int lanes, uint32_t i0) {
  using F = typename S::F;
  constexpr int L = S::kLanes;
  const Step step(a, i0);
  // Noise for four steps per draw (Dual<Dual<S>>) when a step needs one Box–Muller pair: measured
  // 5-15 % faster than two on AVX-512 and AVX2; eight run out of registers. Steps needing two
  // pairs (three or four draws) draw two steps at once, more draws one: the chains are then
  // already independent within a step. noise1 draws the steps left over.
  using V = typename std::conditional<(D <= 2), Dual<Dual<S>>, typename std::conditional<(D <= 4), Dual<S>, S>::type>::type;
  constexpr int kSteps = V::kParts;
  const LaneNoise<V, D> noise(a.noise, a.path_offset + row0, i0 >> 2);
  const LaneNoise<S, D> noise1(a.noise, a.path_offset + row0, i0 >> 2);
  alignas(64) float buf[D][L] = {};
  for (int l = 0; l < lanes; ++l)
    for (int i = 0; i < D; ++i) buf[i][l] = a.x[(row0 + l) * a.dim + i0 + i];
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
      sde::emit_saves(a, n, row0 + l, i0, D, yl, &next);
    }
    sp = next;
  };
  saves(a.step_begin);
  F y[D];
  for (int i = 0; i < D; ++i) y[i] = S::fload(buf[i]);
  auto advance = [&](uint32_t n, F* dW) ITK_SIMD_TARGET {  // step n, then the saves after it
    step(y, dW, n);
    if (a.n_saves) {
      for (int i = 0; i < D; ++i) S::fstore(buf[i], y[i]);
      saves(n + 1);
    }
  };
  uint32_t n = a.step_begin;
  if (a.step_end - n >= static_cast<uint32_t>(kSteps)) {
    // The Philox words of the next kSteps steps are computed in the same iteration as the
    // Box–Muller and updates of the current ones: two independent halves in flight (~3 %).
    auto w = noise.words(n);
    for (; a.step_end - n >= static_cast<uint32_t>(kSteps); n += kSteps) {
      const auto next = noise.words(n + kSteps);  // past the end on the last pass, unused
      F dW[kSteps][D];
      noise.increments(w, dW);
      for (int k = 0; k < kSteps; ++k) advance(n + k, dW[k]);
      w = next;
    }
  }
  for (; n < a.step_end; ++n) {
    F dW[1][D];
    noise1.increments(n, dW);
    advance(n, dW[0]);
  }
  for (int i = 0; i < D; ++i) S::fstore(buf[i], y[i]);
  for (int l = 0; l < lanes; ++l)
    for (int i = 0; i < D; ++i) a.x[(row0 + l) * a.dim + i0 + i] = buf[i][l];
}

template <class S, int D, class Step>
void run_lanes_of(const sde::FusedArgs<float>& a, uint64_t row0, int lanes) {
  for (int g = 0; g < lanes; g += S::kLanes)
    run_group<S, D, Step>(a, row0 + g, lanes - g < S::kLanes ? lanes - g : S::kLanes, 0);
}

// Every 4-element unit of the rows (the last one W = dim mod 4 wide), as run_unit() splits a path.
template <class S, int METHOD>
void run_linear_lanes(const sde::FusedArgs<float>& a, uint64_t row0, int lanes) {
  for (int g = 0; g < lanes; g += S::kLanes) {
    const int n = lanes - g < S::kLanes ? lanes - g : S::kLanes;
    for (uint32_t i0 = 0; i0 < a.dim; i0 += 4) {
      switch (a.dim - i0 < 4 ? a.dim - i0 : 4) {
        case 1: run_group<S, 1, LinStep<S, 1, METHOD>>(a, row0 + g, n, i0); break;
        case 2: run_group<S, 2, LinStep<S, 2, METHOD>>(a, row0 + g, n, i0); break;
        case 3: run_group<S, 3, LinStep<S, 3, METHOD>>(a, row0 + g, n, i0); break;
        default: run_group<S, 4, LinStep<S, 4, METHOD>>(a, row0 + g, n, i0); break;
      }
    }
  }
}

template <class S, int D>
SdeLanesFn gbm_lanes(int32_t method) {
  if (method == sde::kExact) return run_lanes_of<S, D, GbmStep<S, D, sde::kExact>>;
  if (method == sde::kMilstein) return run_lanes_of<S, D, GbmStep<S, D, sde::kMilstein>>;
  return run_lanes_of<S, D, GbmStep<S, D, sde::kEuler>>;
}

// One entry per model and method; nullptr where this file has no kernel (sde_lanes.h): GBM with
// more than 8 assets, SRA1 (its areas are draws m + i, another block) and the Gaussian mixture.
template <class S>
SdeLanesFn sde_lanes_kernel(const sde::FusedArgs<float>& a) {
  switch (a.kind) {
    case sde::kGbm:
      switch (a.dim) {
        case 1: return gbm_lanes<S, 1>(a.method);
        case 2: return gbm_lanes<S, 2>(a.method);
        case 3: return gbm_lanes<S, 3>(a.method);
        case 4: return gbm_lanes<S, 4>(a.method);
        case 5: return gbm_lanes<S, 5>(a.method);
        case 6: return gbm_lanes<S, 6>(a.method);
        case 7: return gbm_lanes<S, 7>(a.method);
        case 8: return gbm_lanes<S, 8>(a.method);
        default: return nullptr;
      }
    case sde::kCir: return a.dim == 1 ? run_lanes_of<S, 1, CirStep<S>> : nullptr;
    case sde::kHeston: return a.dim == 2 ? run_lanes_of<S, 2, HestonStep<S>> : nullptr;
    case sde::kLinearAdditive:
      switch (a.method) {
        case sde::kExact: return run_linear_lanes<S, sde::kExact>;
        case sde::kEuler: return run_linear_lanes<S, sde::kEuler>;
        case sde::kHeun: return run_linear_lanes<S, sde::kHeun>;
        default: return nullptr;
      }
    default: return nullptr;
  }
}

}  // namespace
}  // namespace simd
}  // namespace itk

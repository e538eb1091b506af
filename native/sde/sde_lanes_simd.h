// Whole float32 trajectories of S::kLanes paths of GBM (d <= 8, correlated), CIR, Heston, the
// Gaussian-mixture Langevin model (d <= 4; Euler, Heun, SRA1) and the linear additive models (OU, VP, sub-VP, VE; 4-element chunks of a path, as their work units) with
// the state in vector registers: per four steps, one Philox block per draw of every path (lane l =
// path path0 + l), its two Box–Muller pairs, and four model updates, all as one vector sequence
// (native/rng/rng_simd.h).
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
#include "../rng/step_noise_simd.h"
#include "sde_lanes.h"

namespace itk {
namespace simd {
namespace {

// Noise of one path group in the per-step layout (native/kernels/step_noise.h, docs/design/
// noise-layout.md): draw j0 + j of steps 4g .. 4g + 3 is one Philox block with counter
// (j0 + j, g, path), whose pairs (w0, w1) and (w2, w3) are steps (4g, 4g + 1) and (4g + 2, 4g + 3);
// ΔW = sqrt(h) z (increment() with refine = 1). So a draw costs one block per four steps and one
// Box–Muller pair per two, and no word is computed that a step does not use. Counter words 0 (the
// draw), 2 and 3 (the paths) and the round keys are fixed for the whole trajectory; word 1 (the
// group) is not. V is S or Dual<...<S>>: its kParts parts draw groups g .. g + kParts - 1 at once,
// independent chains that the core overlaps (simd_dual.h).
// Draws 0 .. W − 1 are the increments of draws first_draw + j, ΔW = sqrt(h) z; with areas (SRA1,
// Draws = 2W) draws W .. 2W − 1 are draws area_draw + j scaled to H = sqrt(h/12) z', the
// space-time area's independent part (sde_noise.h brownian(): J = ΔW/2 + H).
template <class V, int Draws>
struct LaneNoise {
  using S = typename V::Base;
  using F = typename S::F;
  static constexpr int K = V::kParts;
  static constexpr int kSteps = 4 * K;  // steps per call
  struct Words {
    Words4<V> b[Draws];
  };
  PhiloxKeys<V> keys;
  StepCounter<V> ctr;
  uint32_t draw[Draws];
  F scale[Draws];
  ITK_SIMD_FN LaneNoise(const sde::NoiseSpec<float>& ns, uint64_t path0, uint32_t first_draw, int W = Draws,
                        uint32_t area_draw = 0)
      : keys(ns.key_lo, ns.key_hi), ctr(ns.stream, path0) {
    for (int j = 0; j < Draws; ++j) {
      draw[j] = j < W ? first_draw + static_cast<uint32_t>(j) : area_draw + static_cast<uint32_t>(j - W);
      scale[j] = S::fset1(j < W ? ns.sqrt_hf : ns.sqrt_hf12);
    }
  }
  // The blocks of groups g .. g + K - 1, one per draw.
  ITK_SIMD_FN Words words(uint32_t g) const {
    Words w;
    for (int j = 0; j < Draws; ++j) w.b[j] = philox10<V>(keys, ctr.at(g, draw[j]));
    return w;
  }
  // The scaled normals of the Draws draws at steps 4g .. 4g + kSteps - 1: dw[s][j] is draw j of step 4g + s.
  ITK_SIMD_FN void increments(uint32_t g, F dw[kSteps][Draws]) const { increments(words(g), dw); }
  ITK_SIMD_FN void increments(const Words& w, F dw[kSteps][Draws]) const {
    for (int j = 0; j < Draws; ++j) {
      F z[kSteps];
      group_normals<V>(w.b[j], z);
      for (int s = 0; s < kSteps; ++s) dw[s][j] = S::fmul(scale[j], z[s]);
    }
  }
};

// Whether a step kernel also takes the areas H of SRA1 (Step::kAreas), after its D increments.
template <class Step, class = void>
struct TakesAreas : std::false_type {};
template <class Step>
struct TakesAreas<Step, std::void_t<decltype(Step::kAreas)>> : std::integral_constant<bool, Step::kAreas> {};

// SRA1 (sde_steps.h sra1_stage, sra1_final): H₂ = y + (¾h)k₁ + (3/2)(G(t+h)J),
// y' = y + h(k₁/3 + 2k₂/3) + G(t+h)(ΔW − J) + G(t)J.
template <class S>
ITK_SIMD_FN typename S::F sra1_stage(typename S::F y, typename S::F k1, typename S::F g1_J, typename S::F h) {
  return S::fadd(S::fadd(y, S::fmul(S::fmul(S::fset1(0.75f), h), k1)), S::fmul(S::fset1(1.5f), g1_J));
}
template <class S>
ITK_SIMD_FN typename S::F sra1_final(typename S::F y, typename S::F k1, typename S::F k2, typename S::F g1_dwmj,
                                     typename S::F g0_J, typename S::F h) {
  const typename S::F drift =
      S::fmul(h, S::fadd(S::fmul(S::fset1(static_cast<float>(1.0 / 3.0)), k1), S::fmul(S::fset1(static_cast<float>(2.0 / 3.0)), k2)));
  return S::fadd(S::fadd(S::fadd(y, drift), g1_dwmj), g0_J);
}

// J = ΔW/2 + H of an SRA1 step (sde_noise.h brownian() with refine = 1).
template <class S>
ITK_SIMD_FN typename S::F sra1_area(typename S::F dw, typename S::F H) {
  return S::fadd(S::fmul(S::fset1(0.5f), dw), H);
}

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
// row tc), elements i0 .. i0 + W - 1 of the path (step_linear): f₀ = A(t)(κ − θy); SRA1 with
// f₁ = A(t+¾h)(κ − θH₂), G = B(t)σ, G(t+h) = B(t+h)σ;
// Euler y' = y + f₀h + (B(t)σ)ΔW; exact y' = μ + ((y − μ)(e_a·a_t) + (e_b·b_t)ΔW); Heun
// ỹ = y + f₀h + g₀ΔW, f₁ = A(t+h)(κ − θỹ), y' = y + ½(f₀ + f₁)h + ½(g₀ΔW + g₁ΔW). Products of two
// per-step scalars are formed in scalar float (the same IEEE products) and broadcast.
template <class S, int W, int METHOD>
struct LinStep {
  using F = typename S::F;
  static constexpr bool kAreas = METHOD == sde::kSra1;
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
      if (METHOD == sde::kSra1) {  // dW[W + c] is the area part H of element c
        const F g0 = S::fset1(fmul(tc[3], sg[c])), g1 = S::fset1(fmul(tc[4], sg[c]));
        const F J = sra1_area<S>(dW[c], dW[W + c]);
        const F h2 = sra1_stage<S>(y[c], f0, S::fmul(g1, J), h);
        const F f1 = S::fmul(S::fset1(tc[1]), S::fsub(ka[c], S::fmul(th[c], h2)));
        y[c] = sra1_final<S>(y[c], f0, f1, S::fmul(g1, S::fsub(dW[c], J)), S::fmul(g0, J), h);
        continue;
      }
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

// Langevin dynamics of the Gaussian mixture, dX = ∇log p(X) dt + sqrt(2τ) dW, Euler, Heun or SRA1, D
// dimensions and K components (sde_fused.h step_coupled, kGmm): the score gmm_score() is
// r = softmax(c_k − ½Σ_i (x_i − μ_ki)² / v_ki) with the running max subtracted, then
// s_i = Σ_k r_k (μ_ki − x_i) / v_ki, op for op; the mixture's constants are broadcast from `par`
// where they are used (K·D of them would not fit the registers).
template <class S, int D, int METHOD>
struct GmmStep {
  using F = typename S::F;
  static constexpr bool kAreas = METHOD == sde::kSra1;
  const float* c;   // c_k (K)
  const float* mu;  // μ_k (K×D)
  const float* iv;  // 1/v_k (K×D)
  uint32_t K;
  F g, h;
  ITK_SIMD_FN GmmStep(const sde::FusedArgs<float>& a, uint32_t)
      : c(a.par + 1), mu(a.par + 1 + a.mixture), iv(a.par + 1 + a.mixture + a.mixture * D), K(a.mixture),
        g(S::fset1(a.par[0])), h(S::fset1(a.h)) {}
  ITK_SIMD_FN void score(const F* x, F* s) const {
    F logit[sde::kMaxMixture];
    F mx = S::fset1(0.0f);
    for (uint32_t k = 0; k < K; ++k) {
      F q = S::fset1(0.0f);
      for (int i = 0; i < D; ++i) {
        const F e = S::fsub(x[i], S::fset1(mu[k * D + i]));
        q = S::fadd(q, S::fmul(S::fmul(e, e), S::fset1(iv[k * D + i])));
      }
      logit[k] = S::fsub(S::fset1(c[k]), S::fmul(S::fset1(0.5f), q));
      mx = k == 0 ? logit[k] : S::fsel(S::fgt(logit[k], mx), logit[k], mx);  // NaN never replaces mx
    }
    F z = S::fset1(0.0f);
    for (uint32_t k = 0; k < K; ++k) {
      logit[k] = exp<S>(S::fsub(logit[k], mx));
      z = S::fadd(z, logit[k]);
    }
    for (int i = 0; i < D; ++i) s[i] = S::fset1(0.0f);
    for (uint32_t k = 0; k < K; ++k) {
      const F r = S::fdiv(logit[k], z);
      for (int i = 0; i < D; ++i)
        s[i] = S::fadd(s[i], S::fmul(r, S::fmul(S::fsub(S::fset1(mu[k * D + i]), x[i]), S::fset1(iv[k * D + i]))));
    }
  }
  ITK_SIMD_FN void operator()(F* y, F* dW, uint32_t) const {
    F f0[D], gdw[D];
    score(y, f0);
    for (int i = 0; i < D; ++i) gdw[i] = S::fmul(g, dW[i]);
    if (METHOD == sde::kSra1) {  // dW[D + i] is the area part H of dimension i
      F J[D], yt[D], f1[D];
      for (int i = 0; i < D; ++i) J[i] = sra1_area<S>(dW[i], dW[D + i]);
      for (int i = 0; i < D; ++i) yt[i] = sra1_stage<S>(y[i], f0[i], S::fmul(g, J[i]), h);
      score(yt, f1);
      for (int i = 0; i < D; ++i)
        y[i] = sra1_final<S>(y[i], f0[i], f1[i], S::fmul(g, S::fsub(dW[i], J[i])), S::fmul(g, J[i]), h);
    } else if (METHOD == sde::kHeun) {  // step_heun(y, f0, f1, gΔW, gΔW, h)
      F yt[D], f1[D];
      for (int i = 0; i < D; ++i) yt[i] = step_em<S>(y[i], f0[i], gdw[i], h);
      score(yt, f1);
      const F half = S::fset1(0.5f);
      for (int i = 0; i < D; ++i)
        y[i] = S::fadd(S::fadd(y[i], S::fmul(S::fmul(half, S::fadd(f0[i], f1[i])), h)),
                       S::fmul(half, S::fadd(gdw[i], gdw[i])));
    } else {
      for (int i = 0; i < D; ++i) y[i] = step_em<S>(y[i], f0[i], gdw[i], h);
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
  // Noise for kParts four-step groups per iteration: one group gives each draw one Philox chain
  // and two Box–Muller chains already, so a scalar model takes two groups (8 steps, Dual<S>;
  // four measured 2.5 against 3.5 cycles/path-step worse) and models with more draws one (Heston:
  // two groups measured the same). noise1 draws the groups cut by the step range.
  // SRA1 steps take their D areas after the D increments (TakesAreas).
  constexpr int ND = TakesAreas<Step>::value ? 2 * D : D;
  using V = typename std::conditional<(ND <= 1), Dual<S>, S>::type;
  constexpr int kSteps = LaneNoise<V, ND>::kSteps;
  const LaneNoise<V, ND> noise(a.noise, a.path_offset + row0, i0, D, a.m + i0);
  const LaneNoise<S, ND> noise1(a.noise, a.path_offset + row0, i0, D, a.m + i0);
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
  // Steps n .. up to the end of n's group (a range may start or end inside a group): the whole
  // group's noise, the steps outside the range unused.
  auto partial_group = [&]() ITK_SIMD_TARGET {
    F dW[4][ND];
    noise1.increments(n >> 2, dW);
    for (uint32_t s = n & 3u; s < 4 && n < a.step_end; ++s, ++n) advance(n, dW[s]);
  };
  if ((n & 3u) != 0 && n < a.step_end) partial_group();
  if (a.step_end - n >= static_cast<uint32_t>(kSteps)) {
    // The Philox words of the next kSteps steps are computed in the same iteration as the
    // Box–Muller and updates of the current ones: two independent halves in flight.
    auto w = noise.words(n >> 2);
    for (; a.step_end - n >= static_cast<uint32_t>(kSteps); n += kSteps) {
      const auto next = noise.words((n + kSteps) >> 2);  // past the end on the last pass, unused
      F dW[kSteps][ND];
      noise.increments(w, dW);
      for (int k = 0; k < kSteps; ++k) advance(n + k, dW[k]);
      w = next;
    }
  }
  while (n < a.step_end) partial_group();
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

template <class S, int D>
SdeLanesFn gmm_lanes(int32_t method) {
  if (method == sde::kHeun) return run_lanes_of<S, D, GmmStep<S, D, sde::kHeun>>;
  if (method == sde::kSra1) return run_lanes_of<S, D, GmmStep<S, D, sde::kSra1>>;
  if (method == sde::kEuler) return run_lanes_of<S, D, GmmStep<S, D, sde::kEuler>>;
  return nullptr;
}

// One entry per model and method; nullptr where this file has no kernel (sde_lanes.h): GBM with
// more than 8 assets and the Gaussian mixture in more than 4 dimensions.
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
    case sde::kGmm:
      switch (a.dim) {
        case 1: return gmm_lanes<S, 1>(a.method);
        case 2: return gmm_lanes<S, 2>(a.method);
        case 3: return gmm_lanes<S, 3>(a.method);
        case 4: return gmm_lanes<S, 4>(a.method);
        default: return nullptr;
      }
    case sde::kLinearAdditive:
      switch (a.method) {
        case sde::kExact: return run_linear_lanes<S, sde::kExact>;
        case sde::kEuler: return run_linear_lanes<S, sde::kEuler>;
        case sde::kHeun: return run_linear_lanes<S, sde::kHeun>;
        case sde::kSra1: return run_linear_lanes<S, sde::kSra1>;
        default: return nullptr;
      }
    default: return nullptr;
  }
}

}  // namespace
}  // namespace simd
}  // namespace itk

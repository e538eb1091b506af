// The MA-fBM Markov update (native/kernels/fbm_step.h fbm_markov_path) over S::kLanes paths at
// once: lane l is path path0 + l of one dimension d. Included once by each ISA unit
// (fbm_markov_lanes_avx512.cc, fbm_markov_lanes_avx2.cc) after its operation-set header;
// fbm_markov_lanes.cc chooses the unit at run time.
//
// Operation for operation the scalar code with every lane in a vector: the normals are the
// generators' Philox-10 and Box–Muller (native/rng/rng_simd.h, bit-identical to philox.h and
// normal.h), the state update uses the same IEEE multiplies and adds in the same order and on the
// same constants (no FMA: -ffp-contract=off), B̂ and W are summed in float64 in the same order.
// So every path has the bits of fbm_markov_path on the CPU and on CUDA. When changing one side,
// change the other; test/fbm-lanes.test.ts compares them.
#pragma once
#include <type_traits>

#include "../kernels/fbm_step.h"
#include "../rng/rng_simd.h"
#include "../rng/simd_dual.h"
#include "../rng/step_noise_simd.h"
#include "fbm_markov_lanes.h"

namespace itk {
namespace simd {
namespace {

// The state type T over the lanes of one S::F: float in one F, float64 in one S::D.
template <class S, typename T>
struct FbmVec;

template <class S>
struct FbmVec<S, float> {
  using V = typename S::F;
  static ITK_SIMD_FN V set1(float c) { return S::fset1(c); }
  static ITK_SIMD_FN V add(V a, V b) { return S::fadd(a, b); }
  static ITK_SIMD_FN V mul(V a, V b) { return S::fmul(a, b); }
  static ITK_SIMD_FN V of_normal(typename S::F z) { return z; }          // T(z)
  static ITK_SIMD_FN typename S::D f64(V v) { return S::widen(v); }     // static_cast<double>
  static ITK_SIMD_FN void store(float* p, typename S::D v) { S::fstore(p, S::narrow(v)); }  // Out(b)
};

template <class S>
struct FbmVec<S, double> {
  using V = typename S::D;
  static ITK_SIMD_FN V set1(double c) { return S::dset1(c); }
  static ITK_SIMD_FN V add(V a, V b) { return S::dadd(a, b); }
  static ITK_SIMD_FN V mul(V a, V b) { return S::dmul(a, b); }
  static ITK_SIMD_FN V of_normal(typename S::F z) { return S::widen(z); }
  static ITK_SIMD_FN typename S::D f64(V v) { return v; }
  static ITK_SIMD_FN void store(double* p, typename S::D v) { S::dstore(p, v); }
};

// z[l] = normal first + l of (stream, path of each lane, step), l < count, as normal_lanes() /
// normal_lanes_n() (fbm_rng.h): word i of block i >> 2, one Philox block per four normals and one
// Box–Muller pair per pair used. ctr holds counter words 1-3 (step, path, stream). With Count > 0
// (and Phase = first & 3) the loops unroll, z stays in registers and a half-used pair's unused sine
// or cosine is never computed; Count = 0 reads count and first at run time.
template <class S, int Count, int Phase>
ITK_SIMD_FN void draw_normals(const PhiloxKeys<S>& keys, Words4<S> ctr, uint64_t first, int count,
                              typename S::F* z) {
  const int cnt = Count > 0 ? Count : count;
  const int ph = Count > 0 ? Phase : static_cast<int>(first & 3u);
  const uint32_t blk0 = static_cast<uint32_t>(first >> 2);
  const int nblk = (ph + cnt + 3) >> 2;
#pragma GCC unroll 16
  for (int b = 0; b < nblk; ++b) {
    ctr.v0 = S::set1(blk0 + static_cast<uint32_t>(b));
    const Words4<S> w = philox10<S>(keys, ctr);
#pragma GCC unroll 2
    for (int pair = 0; pair < 2; ++pair) {
      const int l0 = 4 * b + 2 * pair - ph, l1 = l0 + 1;
      const bool u0 = l0 >= 0 && l0 < cnt, u1 = l1 >= 0 && l1 < cnt;
      if (!u0 && !u1) continue;
      typename S::F c, s;
      box_muller<S>(pair ? w.v2 : w.v0, pair ? w.v3 : w.v1, &c, &s);
      if (u0) z[l0] = c;
      if (u1) z[l1] = s;
    }
  }
}

// The normals of steps 4g .. 4g + kSteps - 1 for one group of paths in the per-step layout
// (native/rng/step_noise_simd.h): zb[s] is Brownian draw d of step 4g + s, z[s][l] the OU normal
// d·K + l (exact scheme only), one Philox block and two Box–Muller pairs per draw and four steps.
// V = Dual<S> draws two groups at once (two more independent chains; the Euler scheme has only
// the Brownian draw), V = S one.
template <class V, int KFixed, bool Exact>
struct StepNoise {
  using S = typename V::Base;
  using F = typename S::F;
  static constexpr int kSteps = 4 * V::kParts;
  static constexpr int kCap = KFixed > 0 ? KFixed : kFbmMaxK;
  PhiloxKeys<V> keys;
  StepCounter<V> cb, co;  // the Brownian and OU streams of the group's paths
  uint32_t bj, oj;        // first draw of each
  int K;
  ITK_SIMD_FN StepNoise(uint32_t key_lo, uint32_t key_hi, uint64_t path0, int d, int k)
      : keys(key_lo, key_hi), cb(kStreamBrownian, path0), co(kStreamFbmOu, path0), K(k) {
    // KFixed > 0 is used only for d == 0.
    bj = KFixed > 0 ? 0u : static_cast<uint32_t>(d);
    oj = KFixed > 0 ? 0u : static_cast<uint32_t>(d * k);
  }
  ITK_SIMD_FN void draw(uint32_t g, F zb[kSteps], F (*z)[kCap]) const {
    group_normals<V>(philox10<V>(keys, cb.at(g, bj)), zb);
    if (Exact) {
#pragma GCC unroll 8
      for (int l = 0; l < (KFixed > 0 ? KFixed : K); ++l) {
        F t[kSteps];
        group_normals<V>(philox10<V>(keys, co.at(g, oj + static_cast<uint32_t>(l))), t);
        for (int s = 0; s < kSteps; ++s) z[s][l] = t[s];
      }
    }
  }
};

// One group of at most S::kLanes paths (lanes past `lanes` run on the following path ids and are
// dropped). KFixed > 0: K is a compile-time constant and d == 0; KFixed == 0: both read at run
// time. Outputs go through a tile of kTile steps per lane, written to the [path, step, dim] rows
// when full.
template <class S, typename T, int KFixed, bool Exact>
ITK_SIMD_TARGET void markov_group(const FbmMarkovArgs<T>& a, uint64_t path0, int lanes, int d, T* out, T* bro,
                                  std::size_t row, std::size_t stride) {
  using F = typename S::F;
  using D = typename S::D;
  using Vt = FbmVec<S, T>;
  using V = typename Vt::V;
  // Groups per pass (each a four-step group, simd_dual.h parts): two for the exact scheme (8 steps;
  // measured 14.9 against 18.3 cycles/path-step with one and 21.6 with four, K = 5), four for
  // Euler, whose one draw per step is otherwise a single chain (3.9 against 4.3 with two).
  using V4 = typename std::conditional<Exact, Dual<S>, Dual<Dual<S>>>::type;
  constexpr int L = S::kLanes;
  constexpr int kCap = KFixed > 0 ? KFixed : kFbmMaxK;
  constexpr int kSteps = StepNoise<V4, KFixed, Exact>::kSteps;
  constexpr int kTile = 32;  // a multiple of kSteps
  const int K = KFixed > 0 ? KFixed : a.K;
  const uint64_t ofirst = KFixed > 0 ? 0 : static_cast<uint64_t>(d) * static_cast<uint64_t>(K);

  F z[kSteps][kCap];
  V y[kCap];
  D y0d[kCap];  // float64 Y(0), type I only
  for (int k = 0; k < K; ++k) y[k] = Vt::set1(T(0));
  if (a.stationary) {  // Y(0) = L_C z, z from the type-I stream at step 0
    const PhiloxKeys<S> keys(a.key_lo, a.key_hi);
    Words4<S> ci;
    path_counters<S>(kStreamFbmInit, path0, &ci.v2, &ci.v3);
    ci.v1 = S::set1(0u);
    draw_normals<S, KFixed, 0>(keys, ci, ofirst, K, z[0]);
    for (int k = 0; k < K; ++k) {
      V s = Vt::set1(T(0));
      for (int l = 0; l < K; ++l) s = Vt::add(s, Vt::mul(Vt::set1(a.lC[k * K + l]), Vt::of_normal(z[0][l])));
      y[k] = s;
      y0d[k] = Vt::f64(s);
    }
  }

  alignas(64) T tb[kTile][L];
  alignas(64) T tw[kTile][L];
  const int nl = lanes < L ? lanes : L;
  auto flush = [&](uint32_t t0, int cnt) {
    for (int i = 0; i < nl; ++i) {
      T* o = out + i * row + t0 * stride;
      for (int s = 0; s < cnt; ++s) o[s * stride] = tb[s][i];
      if (bro) {
        T* w = bro + i * row + t0 * stride;
        for (int s = 0; s < cnt; ++s) w[s * stride] = tw[s][i];
      }
    }
  };
  for (int i = 0; i < L; ++i) tb[0][i] = tw[0][i] = T(0);  // t = 0
  uint32_t t0 = 0;
  int ti = 1;
  const V sdt = Vt::set1(a.sqrt_dt);
  D w = S::dset1(0.0);
  // Step j from its normals: the operations of fbm_markov_path in its order.
  auto step = [&](const F& zb, const F* zo) ITK_SIMD_TARGET {
    const V dw = Vt::mul(sdt, Vt::of_normal(zb));
    if (Exact) {
      // Y_{j+1} = e^{−γΔ} Y_j + m ΔW + L_c z
      V zt[kCap];
      for (int l = 0; l < K; ++l) zt[l] = Vt::of_normal(zo[l]);
      for (int k = 0; k < K; ++k) {
        V s = Vt::add(Vt::mul(Vt::set1(a.decay[k]), y[k]), Vt::mul(Vt::set1(a.m[k]), dw));
        for (int l = 0; l < K; ++l) s = Vt::add(s, Vt::mul(Vt::set1(a.lc[k * K + l]), zt[l]));
        y[k] = s;
      }
    } else {
      // Euler: Y_{j+1} = (1 − γΔ) Y_j + ΔW
      for (int k = 0; k < K; ++k) y[k] = Vt::add(Vt::mul(Vt::set1(a.decay[k]), y[k]), dw);
    }
    // B̂ = Σ ω_k (Y_k − Y_k(0)) in float64; Y_k(0) = 0 for type II, and x + (−0) = x, so that
    // subtraction is skipped there without changing a bit.
    D b = S::dset1(0.0);
    for (int k = 0; k < K; ++k) {
      D t = Vt::f64(y[k]);
      if (a.stationary) t = S::dsub(t, y0d[k]);
      b = S::dadd(b, S::dmul(S::dset1(a.omega[k]), t));
    }
    Vt::store(tb[ti], b);
    if (bro) {
      w = S::dadd(w, Vt::f64(dw));
      Vt::store(tw[ti], w);
    }
    if (++ti == kTile) {
      flush(t0, kTile);
      t0 += kTile;
      ti = 0;
    }
  };
  // Whole groups of kSteps steps, then four at a time; the last group may end past a.n.
  uint32_t j = 0;
  if (a.n >= static_cast<uint32_t>(kSteps)) {
    const StepNoise<V4, KFixed, Exact> noise(a.key_lo, a.key_hi, path0, d, K);
    F zb[kSteps];
    for (; a.n - j >= static_cast<uint32_t>(kSteps); j += kSteps) {
      noise.draw(j >> 2, zb, z);
      for (int p = 0; p < kSteps; ++p) step(zb[p], z[p]);
    }
  }
  if (j < a.n) {
    const StepNoise<S, KFixed, Exact> noise(a.key_lo, a.key_hi, path0, d, K);
    F zb[4];
    for (; j < a.n; j += 4) {
      noise.draw(j >> 2, zb, z);
      for (int p = 0; p < 4 && j + static_cast<uint32_t>(p) < a.n; ++p) step(zb[p], z[p]);
    }
  }
  if (ti > 0) flush(t0, ti);
}

template <class S, typename T, int KFixed, bool Exact>
void markov_lanes(const FbmMarkovArgs<T>& a, uint64_t path0, int lanes, int d, T* out, T* bro, std::size_t row,
                  std::size_t stride) {
  for (int g = 0; g < lanes; g += S::kLanes) {
    const std::size_t off = static_cast<std::size_t>(g) * row;
    markov_group<S, T, KFixed, Exact>(a, path0 + static_cast<uint64_t>(g), lanes - g, d, out + off,
                                      bro ? bro + off : nullptr, row, stride);
  }
}

template <class S, typename T, bool Exact>
fbm::FbmLanesFn<T> markov_lanes_for(const FbmMarkovArgs<T>& a, int d) {
  fbm::FbmLanesFn<T> fn = markov_lanes<S, T, 0, Exact>;
  if (d == 0) with_fixed_k(a.K, [&](auto k) { fn = markov_lanes<S, T, decltype(k)::value, Exact>; });
  return fn;
}

template <class S, typename T>
fbm::FbmLanesFn<T> fbm_lanes_kernel(const FbmMarkovArgs<T>& a, int d) {
  return a.exact ? markov_lanes_for<S, T, true>(a, d) : markov_lanes_for<S, T, false>(a, d);
}

}  // namespace
}  // namespace simd
}  // namespace itk

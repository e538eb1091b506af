// One MA-fBM path (one dimension) of docs/design/fbm.md: K OU processes driven by one Brownian
// motion, stepped exactly (joint-Gaussian (ΔW, ξ) sampled conditionally on ΔW) or by Euler, and
// B̂ = Σ ω_k (Y_k − Y_k(0)) accumulated in float64. Called by the CPU loop (native/fbm) and the
// CUDA kernel (native/fbm/cuda/fbm_markov.cu) alike, so both run the same arithmetic.
#pragma once
#include <type_traits>

#include "fbm_rng.h"
#include "step_noise.h"

namespace itk {

constexpr int kFbmMaxK = 32;

ITK_HD float hd_add(float a, float b) { return fadd(a, b); }
ITK_HD double hd_add(double a, double b) { return dadd(a, b); }
ITK_HD float hd_mul(float a, float b) { return fmul(a, b); }
ITK_HD double hd_mul(double a, double b) { return dmul(a, b); }

// Host-computed float64 constants cast to the state type T (float or double). Pointers address
// host memory on the CPU path and device memory in the CUDA kernel.
template <typename T>
struct FbmMarkovArgs {
  int K = 0;
  int dims = 1;
  uint32_t n = 0;          // steps
  int exact = 1;           // 1: exact OU step; 0: Euler
  int stationary = 0;      // 1: type I, Y(0) ~ N(0, C)
  uint32_t key_lo = 0, key_hi = 0;
  T sqrt_dt = 0;           // √Δ
  const T* decay = nullptr;  // exact: e^{−γΔ}; Euler: 1 − γΔ
  const T* m = nullptr;      // exact: φ/Δ, φ = −expm1(−γΔ)/γ (regression of ξ on ΔW)
  const T* lc = nullptr;     // exact: K×K, L_c L_cᵀ = S − Δ m mᵀ (eigen square root, clipped)
  const T* lC = nullptr;     // type I: K×K, L_C L_Cᵀ = C, C_ij = 1/(γi+γj)
  const double* omega = nullptr;  // K weights (normalisation already applied)
};

// K normals of lanes first.. of (stream, path, step): the compile-time form when K is fixed.
template <int KFixed>
ITK_HD void fbm_normals(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                        uint64_t first, int K, float* z) {
  if constexpr (KFixed > 0) {
    normal_lanes_n<KFixed>(key_lo, key_hi, stream, path, step, first, z);
  } else {
    normal_lanes(key_lo, key_hi, stream, path, step, first, K, z);
  }
}

// Writes B̂(t_0..t_n) to out[j*stride] and, when bro != nullptr, W(t_j) to bro[j*stride].
// KFixed > 0 fixes K at compile time (it must equal a.K): the loops over K then have constant trip
// counts and the GPU keeps y, y0 and z in registers instead of local memory. The operations and
// their order do not depend on KFixed, so neither do the bits.
template <typename T, typename Out, int KFixed = 0>
ITK_HD void fbm_markov_path(const FbmMarkovArgs<T>& a, uint64_t path, int d, Out* out, Out* bro,
                            std::size_t stride) {
  constexpr int kCap = KFixed > 0 ? KFixed : kFbmMaxK;
  const int K = KFixed > 0 ? KFixed : a.K;
  T y[kCap];
  T y0[kCap];
  float z[kCap];
  for (int k = 0; k < K; ++k) y0[k] = T(0);
  if (a.stationary) {
    fbm_normals<KFixed>(a.key_lo, a.key_hi, kStreamFbmInit, path, 0, static_cast<uint64_t>(d) * K, K, z);
    for (int k = 0; k < K; ++k) {
      T s = T(0);
      for (int l = 0; l < K; ++l) s = hd_add(s, hd_mul(a.lC[k * K + l], T(z[l])));
      y0[k] = s;
    }
  }
  for (int k = 0; k < K; ++k) y[k] = y0[k];
  out[0] = Out(0);
  if (bro) bro[0] = Out(0);
  double w = 0.0;
  // Four steps per pass: ΔW is Brownian draw d and the OU normals are FBM_OU draws d·K + k of the
  // per-step layout (step_noise.h), one Philox block and two Box–Muller pairs per draw and group.
  float zb[4];
  float zo[kCap][4];
  for (uint32_t g = 0; 4 * static_cast<uint64_t>(g) < a.n; ++g) {
    step_normals4(a.key_lo, a.key_hi, kStreamBrownian, path, g, static_cast<uint32_t>(d), zb);
    if (a.exact)
      for (int k = 0; k < K; ++k)
        step_normals4(a.key_lo, a.key_hi, kStreamFbmOu, path, g, static_cast<uint32_t>(d * K + k), zo[k]);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int q = 0; q < 4; ++q) {
      const uint32_t j = 4 * g + static_cast<uint32_t>(q);
      if (j >= a.n) break;
      const T dw = hd_mul(a.sqrt_dt, T(zb[q]));
      if (a.exact) {
        // Y_{j+1} = e^{−γΔ} Y_j + m ΔW + L_c z  (docs/design/fbm.md "Exact OU step").
        for (int k = 0; k < K; ++k) {
          T s = hd_add(hd_mul(a.decay[k], y[k]), hd_mul(a.m[k], dw));
          for (int l = 0; l < K; ++l) s = hd_add(s, hd_mul(a.lc[k * K + l], T(zo[l][q])));
          y[k] = s;
        }
      } else {
        // Euler: Y_{j+1} = (1 − γΔ) Y_j + ΔW.
        for (int k = 0; k < K; ++k) y[k] = hd_add(hd_mul(a.decay[k], y[k]), dw);
      }
      double b = 0.0;
      for (int k = 0; k < K; ++k)
        b = dadd(b, dmul(a.omega[k], dadd(static_cast<double>(y[k]), -static_cast<double>(y0[k]))));
      out[(j + 1) * stride] = static_cast<Out>(b);
      if (bro) {
        w = dadd(w, static_cast<double>(dw));
        bro[(j + 1) * stride] = static_cast<Out>(w);
      }
    }
  }
}

// Calls fn(std::integral_constant<int, K>) for K = 1..8, the K that get a compile-time form of
// fbm_markov_path, and returns true; false for other K (the run-time form serves them). Host-side
// dispatch shared by the CPU loop and the CUDA launcher.
template <typename Fn>
bool with_fixed_k(int K, Fn&& fn) {
  switch (K) {
    case 1: fn(std::integral_constant<int, 1>()); return true;
    case 2: fn(std::integral_constant<int, 2>()); return true;
    case 3: fn(std::integral_constant<int, 3>()); return true;
    case 4: fn(std::integral_constant<int, 4>()); return true;
    case 5: fn(std::integral_constant<int, 5>()); return true;
    case 6: fn(std::integral_constant<int, 6>()); return true;
    case 7: fn(std::integral_constant<int, 7>()); return true;
    case 8: fn(std::integral_constant<int, 8>()); return true;
    default: return false;
  }
}

}  // namespace itk

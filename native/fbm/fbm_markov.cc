#include "fbm_markov.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "../core/cuda_api.h"
#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/fbm_step.h"
#include "fbm_cuda.h"
#include "fbm_lanes.h"
#include "fbm_linalg.h"

namespace itk {
namespace fbm {

MarkovSetup markov_setup(const double* g, const double* omegas, int K, double dt, bool exact, bool stationary) {
  require(K >= 1 && K <= kFbmMaxK, Code::InvalidArg, "K must be an integer in [1, 32]");
  require(std::isfinite(dt) && dt > 0, Code::InvalidArg, "the time step must be finite and > 0");
  for (int k = 0; k < K; ++k) {
    require(std::isfinite(g[k]) && g[k] > 0 && (k == 0 || g[k] > g[k - 1]), Code::InvalidArg,
            "gammas must be finite, > 0 and strictly increasing");
    require(std::isfinite(omegas[k]), Code::InvalidArg, "omegas must be finite");
  }
  if (!exact)
    require(g[K - 1] * dt < 0.5, Code::InvalidArg,
            "Euler scheme needs gammaMax*dt < 0.5 (docs/design/fbm.md); use more steps or scheme 'exact'");
  MarkovSetup s;
  s.K = K;
  s.sqrt_dt = std::sqrt(dt);
  s.omega.assign(omegas, omegas + K);
  s.decay.resize(K);
  s.m.resize(K);
  const std::size_t n = static_cast<std::size_t>(K);
  for (int k = 0; k < K; ++k) {
    if (exact) {
      s.decay[k] = std::exp(-g[k] * dt);
      s.m[k] = -std::expm1(-g[k] * dt) / g[k] / dt;  // φ_k/Δ
    } else {
      s.decay[k] = 1.0 - g[k] * dt;
      s.m[k] = 1.0;
    }
  }
  if (exact) {
    // S_c = S − Δ m mᵀ: covariance of ξ given ΔW. Nearly rank-deficient (P6), hence the
    // eigen-based square root with clipping instead of Cholesky.
    std::vector<double> sc(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) {
        const double gs = g[i] + g[j];
        sc[i * n + j] = -std::expm1(-gs * dt) / gs - dt * s.m[i] * s.m[j];
      }
    s.lc = sqrt_clipped(sc, n);
  }
  if (stationary) {
    std::vector<double> c(n * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) c[i * n + j] = 1.0 / (g[i] + g[j]);
    s.lC = sqrt_clipped(c, n);
  }
  return s;
}

namespace {

// kLanes paths at once (structure of arrays): the same operations in the same order as
// fbm_markov_path for every lane, with Philox and Box–Muller vectorised (fbm_lanes.h).
template <typename T>
struct LaneDraws {
  uint32_t key_lo, key_hi;
  uint64_t path0;
  Lanes4 ctr, words;
  // z[l][i] = normal lane first + l of (stream, path0 + i, step), l < count.
  void draw(uint32_t stream, uint32_t step, uint64_t first, int count, float (*z)[kLanes]) {
    for (int i = 0; i < kLanes; ++i) {
      const uint64_t p = path0 + i;
      ctr.v[1][i] = step;
      ctr.v[2][i] = static_cast<uint32_t>(p);
      ctr.v[3][i] = static_cast<uint32_t>((p >> 32) & 0xFFFFu) | (stream << 16);
    }
    const uint64_t last = first + static_cast<uint64_t>(count) - 1;
    for (uint64_t blk = first >> 2; blk <= (last >> 2); ++blk) {
      for (int i = 0; i < kLanes; ++i) ctr.v[0][i] = static_cast<uint32_t>(blk);
      philox_lanes(key_lo, key_hi, ctr, &words);
      for (uint32_t pair = 0; pair < 2; ++pair) {
        const uint64_t l0 = blk * 4 + 2 * pair, l1 = l0 + 1;
        const bool use0 = l0 >= first && l0 <= last, use1 = l1 >= first && l1 <= last;
        if (!use0 && !use1) continue;
        float a[kLanes], b[kLanes];
        box_muller_lanes(words.v[2 * pair], words.v[2 * pair + 1], a, b);
        if (use0)
          for (int i = 0; i < kLanes; ++i) z[l0 - first][i] = a[i];
        if (use1)
          for (int i = 0; i < kLanes; ++i) z[l1 - first][i] = b[i];
      }
    }
  }
};

template <typename T, typename Out>
void markov_group(const FbmMarkovArgs<T>& a, uint64_t path0, int d, Out* out, Out* bro, std::size_t row,
                  std::size_t stride) {
  const int K = a.K;
  T y[kFbmMaxK][kLanes], y0[kFbmMaxK][kLanes];
  float z[kFbmMaxK][kLanes];
  float z0[1][kLanes];
  double w[kLanes], b[kLanes];
  LaneDraws<T> dr{a.key_lo, a.key_hi, path0, {}, {}};
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < kLanes; ++i) y0[k][i] = T(0);
  if (a.stationary) {
    dr.draw(kStreamFbmInit, 0, static_cast<uint64_t>(d) * K, K, z);
    for (int k = 0; k < K; ++k) {
      T s[kLanes];
      for (int i = 0; i < kLanes; ++i) s[i] = T(0);
      for (int l = 0; l < K; ++l)
        for (int i = 0; i < kLanes; ++i) s[i] = hd_add(s[i], hd_mul(a.lC[k * K + l], T(z[l][i])));
      for (int i = 0; i < kLanes; ++i) y0[k][i] = s[i];
    }
  }
  for (int k = 0; k < K; ++k)
    for (int i = 0; i < kLanes; ++i) y[k][i] = y0[k][i];
  for (int i = 0; i < kLanes; ++i) {
    out[i * row] = Out(0);
    if (bro) bro[i * row] = Out(0);
    w[i] = 0.0;
  }
  for (uint32_t j = 0; j < a.n; ++j) {
    dr.draw(kStreamBrownian, j, static_cast<uint64_t>(d), 1, z0);
    T dw[kLanes];
    for (int i = 0; i < kLanes; ++i) dw[i] = hd_mul(a.sqrt_dt, T(z0[0][i]));
    if (a.exact) {
      dr.draw(kStreamFbmOu, j, static_cast<uint64_t>(d) * K, K, z);
      for (int k = 0; k < K; ++k) {
        T s[kLanes];
        for (int i = 0; i < kLanes; ++i) s[i] = hd_add(hd_mul(a.decay[k], y[k][i]), hd_mul(a.m[k], dw[i]));
        for (int l = 0; l < K; ++l) {
          const T c = a.lc[k * K + l];
          for (int i = 0; i < kLanes; ++i) s[i] = hd_add(s[i], hd_mul(c, T(z[l][i])));
        }
        for (int i = 0; i < kLanes; ++i) y[k][i] = s[i];
      }
    } else {
      for (int k = 0; k < K; ++k)
        for (int i = 0; i < kLanes; ++i) y[k][i] = hd_add(hd_mul(a.decay[k], y[k][i]), dw[i]);
    }
    for (int i = 0; i < kLanes; ++i) b[i] = 0.0;
    for (int k = 0; k < K; ++k) {
      const double om = a.omega[k];
      for (int i = 0; i < kLanes; ++i)
        b[i] = dadd(b[i], dmul(om, dadd(static_cast<double>(y[k][i]), -static_cast<double>(y0[k][i]))));
    }
    for (int i = 0; i < kLanes; ++i) out[i * row + (j + 1) * stride] = static_cast<Out>(b[i]);
    if (bro) {
      for (int i = 0; i < kLanes; ++i) {
        w[i] = dadd(w[i], static_cast<double>(dw[i]));
        bro[i * row + (j + 1) * stride] = static_cast<Out>(w[i]);
      }
    }
  }
}

template <typename T, typename Out>
void run_cpu(const MarkovRequest& r, const MarkovSetup& s, const Control& ctl) {
  const std::vector<T> decay(s.decay.begin(), s.decay.end()), m(s.m.begin(), s.m.end()),
      lc(s.lc.begin(), s.lc.end()), lC(s.lC.begin(), s.lC.end());
  FbmMarkovArgs<T> a;
  a.K = s.K;
  a.dims = r.dims;
  a.n = r.n;
  a.exact = r.exact ? 1 : 0;
  a.stationary = r.stationary ? 1 : 0;
  a.key_lo = r.key_lo;
  a.key_hi = r.key_hi;
  a.sqrt_dt = static_cast<T>(s.sqrt_dt);
  a.decay = decay.data();
  a.m = m.data();
  a.lc = lc.empty() ? nullptr : lc.data();
  a.lC = lC.empty() ? nullptr : lC.data();
  a.omega = s.omega.data();
  Out* out = static_cast<Out*>(r.out);
  Out* bro = static_cast<Out*>(r.bro);
  const std::size_t row = (static_cast<std::size_t>(r.n) + 1) * r.dims;
  // Fixed chunks of paths (independent of the thread count); each path is a pure function of
  // (seed, path id), so any split gives the same bits.
  const std::size_t work = static_cast<std::size_t>(r.n) * r.dims * (s.K + 1);
  std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 20) / std::max<std::size_t>(1, work));
  grain = (grain + kLanes - 1) / kLanes * kLanes;  // whole lane groups per chunk
  const std::size_t chunks = (r.paths + grain - 1) / grain;
  std::atomic<std::size_t> done{0};
  parallel_range(r.paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    std::size_t p = p0;
    for (; p + kLanes <= p1; p += kLanes)
      for (int d = 0; d < r.dims; ++d)
        markov_group<T, Out>(a, r.path_offset + p, d, out + p * row + d, bro ? bro + p * row + d : nullptr, row,
                             static_cast<std::size_t>(r.dims));
    // The paths left over from whole lane groups run the per-path code CUDA runs (with a
    // compile-time K where it has one), which the split tests then check against the lanes.
    for (; p < p1; ++p)
      for (int d = 0; d < r.dims; ++d) {
        Out* o = out + p * row + d;
        Out* b = bro ? bro + p * row + d : nullptr;
        const auto stride = static_cast<std::size_t>(r.dims);
        const bool fixed = with_fixed_k(a.K, [&](auto k) {
          fbm_markov_path<T, Out, decltype(k)::value>(a, r.path_offset + p, d, o, b, stride);
        });
        if (!fixed) fbm_markov_path<T, Out>(a, r.path_offset + p, d, o, b, stride);
      }
    ctl.progress(static_cast<double>(done.fetch_add(1) + 1), static_cast<double>(chunks));
  });
}

}  // namespace

void markov_sample(const MarkovRequest& r, Device device, const Control& ctl) {
  require(r.n >= 1, Code::InvalidArg, "n must be >= 1");
  require(r.dims >= 1, Code::InvalidArg, "dims must be >= 1");
  require(r.path_offset + r.paths <= (uint64_t{1} << 48), Code::InvalidArg, "path ids must stay below 2^48");
  require(!r.device_io || device == Device::Cuda, Code::InvalidArg, "device-resident output needs device 'cuda'");
  const MarkovSetup s = markov_setup(r.gammas, r.omegas, r.K, r.T / r.n, r.exact, r.stationary);
  if (r.paths == 0) return;
  if (device == Device::Cuda) {
    cuda::require_available();
    cuda::fbm_markov_sample(r, s);
    return;
  }
  // State in the output precision, B̂ accumulated in float64 (docs/design/fbm.md).
  if (r.f64) run_cpu<double, double>(r, s, ctl);
  else run_cpu<float, float>(r, s, ctl);
}

}  // namespace fbm
}  // namespace itk

#include "fbm_markov.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "../core/cuda_api.h"
#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/fbm_step.h"
#include "fbm_cuda.h"
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
            "Euler scheme needs gammaMax*dt < 0.5 (spec/fbm.md P8); use more steps or scheme 'exact'");
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
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 20) / std::max<std::size_t>(1, work));
  const std::size_t chunks = (r.paths + grain - 1) / grain;
  std::atomic<std::size_t> done{0};
  parallel_range(r.paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    for (std::size_t p = p0; p < p1; ++p)
      for (int d = 0; d < r.dims; ++d)
        fbm_markov_path<T, Out>(a, r.path_offset + p, d, out + p * row + d, bro ? bro + p * row + d : nullptr,
                                static_cast<std::size_t>(r.dims));
    ctl.progress(static_cast<double>(done.fetch_add(1) + 1), static_cast<double>(chunks));
  });
}

}  // namespace

void markov_sample(const MarkovRequest& r, Device device, const Control& ctl) {
  require(r.n >= 1, Code::InvalidArg, "n must be >= 1");
  require(r.dims >= 1, Code::InvalidArg, "dims must be >= 1");
  require(r.path_offset + r.paths <= (uint64_t{1} << 48), Code::InvalidArg, "path ids must stay below 2^48");
  const MarkovSetup s = markov_setup(r.gammas, r.omegas, r.K, r.T / r.n, r.exact, r.stationary);
  if (r.paths == 0) return;
  if (device == Device::Cuda) {
    cuda::require_available();
    cuda::fbm_markov_sample(r, s);
    return;
  }
  // State in the output precision, B̂ accumulated in float64 (spec §10).
  if (r.f64) run_cpu<double, double>(r, s, ctl);
  else run_cpu<float, float>(r, s, ctl);
}

}  // namespace fbm
}  // namespace itk

#include "fbm_markov.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../core/cuda_api.h"
#include "../core/error.h"
#include "../core/huge_pages.h"
#include "../core/threadpool.h"
#include "../kernels/fbm_step.h"
#include "fbm_cuda.h"
#include "fbm_markov_lanes.h"
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
    // S_c = S − Δ m mᵀ: covariance of ξ given ΔW. Nearly rank-deficient (docs/design/fbm.md §4), hence the
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

// The per-path code CUDA runs (with a compile-time K where it has one).
template <typename T>
void markov_path(const FbmMarkovArgs<T>& a, uint64_t path, int d, T* out, T* bro, std::size_t stride) {
  const bool fixed = with_fixed_k(a.K, [&](auto k) { fbm_markov_path<T, T, decltype(k)::value>(a, path, d, out, bro, stride); });
  if (!fixed) fbm_markov_path<T, T>(a, path, d, out, bro, stride);
}

template <typename T>
void run_cpu(const MarkovRequest& r, const MarkovSetup& s, const Control& ctl) {
  const std::vector<T> decay(s.decay.begin(), s.decay.end()), m(s.m.begin(), s.m.end()),
      lc(s.lc.begin(), s.lc.end()), lC(s.lC.begin(), s.lC.end());
  const FbmMarkovArgs<T> a = markov_args<T>(r, s, decay.data(), m.data(), lc.empty() ? nullptr : lc.data(),
                                            lC.empty() ? nullptr : lC.data(), s.omega.data());
  T* out = static_cast<T*>(r.out);
  T* bro = static_cast<T*>(r.bro);
  const std::size_t row = (static_cast<std::size_t>(r.n) + 1) * r.dims;
  // The outputs are fresh arrays: first-touch faults would otherwise cost more than the sampling.
  advise_huge_pages(out, r.paths * row * sizeof(T));
  if (bro) advise_huge_pages(bro, r.paths * row * sizeof(T));
  // Fixed chunks of paths (independent of the thread count); each path is a pure function of
  // (seed, path id), so any split gives the same bits.
  const std::size_t work = static_cast<std::size_t>(r.n) * r.dims * (s.K + 1);
  std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 20) / std::max<std::size_t>(1, work));
  grain = (grain + kFbmGroup - 1) / kFbmGroup * kFbmGroup;  // whole lane groups per chunk
  const std::size_t chunks = (r.paths + grain - 1) / grain;
  std::atomic<std::size_t> done{0};
  // SIMD lanes of kFbmGroup paths (fbm_markov_lanes.h) where the CPU has them, else the
  // per-path code; ITOKIT_FBM_KERNEL=path forces the latter (the tests compare the two).
  const char* env = std::getenv("ITOKIT_FBM_KERNEL");
  const bool per_path = env && std::strcmp(env, "path") == 0;
  std::vector<FbmLanesFn<T>> lanes(static_cast<std::size_t>(r.dims), nullptr);
  if (!per_path)
    for (int d = 0; d < r.dims; ++d) lanes[d] = fbm_lanes_kernel<T>(a, d);
  const auto stride = static_cast<std::size_t>(r.dims);
  parallel_range(r.paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    for (int d = 0; d < r.dims; ++d) {
      if (const FbmLanesFn<T> k = lanes[d]) {
        for (std::size_t p = p0; p < p1; p += kFbmGroup) {
          const int n = static_cast<int>(std::min<std::size_t>(kFbmGroup, p1 - p));
          k(a, r.path_offset + p, n, d, out + p * row + d, bro ? bro + p * row + d : nullptr, row, stride);
        }
      } else {
        for (std::size_t p = p0; p < p1; ++p)
          markov_path<T>(a, r.path_offset + p, d, out + p * row + d, bro ? bro + p * row + d : nullptr, stride);
      }
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
  if (r.f64) run_cpu<double>(r, s, ctl);
  else run_cpu<float>(r, s, ctl);
}

}  // namespace fbm
}  // namespace itk

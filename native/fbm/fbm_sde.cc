#include "fbm_sde.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "fbm_markov.h"

namespace itk {
namespace fbm {
namespace {

FbmMarkovArgs<double> make_args(const MarkovSetup& s, int D, bool exact, bool stationary, uint32_t key_lo,
                                uint32_t key_hi) {
  FbmMarkovArgs<double> a;
  a.K = s.K;
  a.dims = D;
  a.exact = exact ? 1 : 0;
  a.stationary = stationary ? 1 : 0;
  a.key_lo = key_lo;
  a.key_hi = key_hi;
  a.sqrt_dt = s.sqrt_dt;
  a.decay = s.decay.data();
  a.m = s.m.data();
  a.lc = s.lc.empty() ? nullptr : s.lc.data();
  a.lC = s.lC.empty() ? nullptr : s.lC.data();
  a.omega = s.omega.data();
  return a;
}

void check_params(const FbmSdeParams& p, int D) {
  if (p.model == kFbmSdeFou) {
    for (int d = 0; d < D; ++d)
      require(std::isfinite(p.theta[d]) && std::isfinite(p.mu[d]) && std::isfinite(p.sigma[d]), Code::InvalidArg,
              "fOU parameters must be finite");
  } else {
    require(p.model == kFbmSdeRoughVol, Code::InvalidArg, "unknown fBM SDE model");
    require(D == 1, Code::InvalidArg, "rough volatility has one fBM dimension");
    for (int i = 0; i < 5; ++i) require(std::isfinite(p.theta[i]), Code::InvalidArg, "rough-volatility parameters must be finite");
    require(std::fabs(p.theta[4]) <= 1.0, Code::InvalidArg, "rho must be in [-1, 1]");
  }
}

}  // namespace

std::size_t sde_save_count(uint32_t n, uint32_t every) {
  if (every == 0) return 1;
  return (static_cast<std::size_t>(n) + every - 1) / every + 1;
}

void sde_simulate(const SdeRequest& r, const Control& ctl) {
  require(r.n >= 1, Code::InvalidArg, "steps must be >= 1");
  require(r.D >= 1 && r.state_dim >= r.D, Code::InvalidArg, "bad dimensions");
  check_params(r.params, r.D);
  require(r.path_offset + r.paths <= (uint64_t{1} << 48), Code::InvalidArg, "path ids must stay below 2^48");
  const double dt = r.T / r.n;
  const MarkovSetup s = markov_setup(r.gammas, r.omegas, r.K, dt, r.exact, r.stationary);
  const FbmMarkovArgs<double> a = make_args(s, r.D, r.exact, r.stationary, r.key_lo, r.key_hi);
  const std::size_t S = sde_save_count(r.n, r.save_every);
  const int sd = r.state_dim;
  const std::size_t K = static_cast<std::size_t>(r.K);
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 19) / (static_cast<std::size_t>(r.n) * r.D * (K + 1)));
  const std::size_t chunks = (r.paths + grain - 1) / grain;
  std::atomic<std::size_t> done{0};
  auto store = [&](std::size_t si, std::size_t p, const double* x) {
    for (int i = 0; i < sd; ++i) {
      const std::size_t o = (si * r.paths + p) * sd + i;
      if (r.out_f64) static_cast<double*>(r.out)[o] = x[i];
      else static_cast<float*>(r.out)[o] = static_cast<float>(x[i]);
    }
  };
  parallel_range(r.paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    std::vector<double> x(sd), y(r.D * K);
    for (std::size_t p = p0; p < p1; ++p) {
      const uint64_t path = r.path_offset + p;
      for (int i = 0; i < sd; ++i) x[i] = r.x0[(r.x0_per_path ? p * sd : 0) + i];
      fbm_sde_init_y(a, path, y.data());
      std::size_t si = 0;
      if (r.save_every) store(si++, p, x.data());
      for (uint32_t j = 0; j < r.n; ++j) {
        fbm_sde_step(a, r.params, dt, path, j, x.data(), y.data(), nullptr, nullptr);
        if (r.save_every && ((j + 1) % r.save_every == 0 || j + 1 == r.n)) store(si++, p, x.data());
      }
      if (!r.save_every) store(0, p, x.data());
      if (r.final_y) std::copy(y.begin(), y.end(), r.final_y + p * r.D * K);
    }
    ctl.progress(static_cast<double>(done.fetch_add(1) + 1), static_cast<double>(chunks));
  });
  (void)S;
}

void controlled_step(const ControlledStep& c, const Control& ctl) {
  require(std::isfinite(c.dt) && c.dt > 0, Code::InvalidArg, "dt must be finite and > 0");
  check_params(c.params, c.D);
  const MarkovSetup s = markov_setup(c.gammas, c.omegas, c.K, c.dt, false, false);
  const FbmMarkovArgs<double> a = make_args(s, c.D, false, false, c.key_lo, c.key_hi);
  const std::size_t K = static_cast<std::size_t>(c.K);
  const int sd = c.params.model == kFbmSdeRoughVol ? 2 : c.D;
  parallel_range(c.paths, 1024, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    for (std::size_t p = p0; p < p1; ++p) {
      if (c.u)
        for (int d = 0; d < c.D; ++d)
          require(std::isfinite(c.u[p * c.D + d]), Code::InvalidArg, "control u must be finite");
      fbm_sde_step(a, c.params, c.dt, c.path_offset + p, c.step, c.x + p * sd, c.y + p * c.D * K,
                   c.u ? c.u + p * c.D : nullptr, c.kl ? c.kl + p : nullptr);
    }
  });
}

void initial_factors(double* y, std::size_t paths, int D, const double* gammas, int K, bool stationary,
                     uint32_t key_lo, uint32_t key_hi, uint64_t path_offset) {
  std::vector<double> ones(K, 1.0);
  const MarkovSetup s = markov_setup(gammas, ones.data(), K, 1.0, true, stationary);
  const FbmMarkovArgs<double> a = make_args(s, D, true, stationary, key_lo, key_hi);
  parallel_range(paths, 1024, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) fbm_sde_init_y(a, path_offset + p, y + p * D * K);
  });
}

}  // namespace fbm
}  // namespace itk

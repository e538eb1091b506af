#include "fbm_analysis.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "fbm_special.h"

namespace itk {
namespace fbm {

void covariance(bool markov, FbmType type, double hurst, bool unit, const double* times, std::size_t nt,
                const double* g, const double* w, int K, double* out) {
  require(hurst > 0 && hurst < 1, Code::InvalidArg, "hurst must be in (0, 1)");
  for (std::size_t i = 0; i < nt; ++i)
    require(std::isfinite(times[i]) && times[i] >= 0, Code::InvalidArg, "times must be finite and >= 0");
  const double V = type == FbmType::I ? variance_type1(hurst) : variance_type2(hurst);
  const Cov2Constants k2(hurst);
  for (std::size_t a = 0; a < nt; ++a) {
    for (std::size_t b = 0; b <= a; ++b) {
      double s = times[a], t = times[b];
      if (s > t) std::swap(s, t);  // s <= t
      double c = 0;
      if (!markov) {
        if (type == FbmType::I) {
          const double h2 = 2 * hurst;
          c = 0.5 * (std::pow(t, h2) + std::pow(s, h2) - std::pow(t - s, h2)) * (unit ? 1.0 : V);
        } else {
          c = cov_type2_gamma(k2, s, t) / (unit ? V : 1.0);
        }
      } else {
        // docs/design/fbm.md §1–2 (MA-fBM covariance): index i belongs to the later time t.
        for (int i = 0; i < K; ++i) {
          for (int j = 0; j < K; ++j) {
            const double gs = g[i] + g[j];
            const double e = type == FbmType::II
                                 ? std::exp(-g[i] * (t - s)) * -std::expm1(-gs * s) / gs
                                 : (std::exp(-g[i] * (t - s)) - std::exp(-g[i] * t) - std::exp(-g[j] * s) + 1.0) / gs;
            c += w[i] * w[j] * e;
          }
        }
      }
      out[a * nt + b] = out[b * nt + a] = c;
    }
  }
}

void estimate_hurst(const void* data, bool f64, std::size_t paths, std::size_t len, bool increments,
                    const int* lags, int nlags, double* out, const Control& ctl) {
  require(nlags >= 2, Code::InvalidArg, "estimateHurst needs at least two lags");
  const std::size_t n = increments ? len : len - 1;  // steps
  require(n >= 64, Code::InvalidArg, "estimateHurst needs at least 64 steps per path");
  for (int i = 0; i < nlags; ++i) {
    require(lags[i] >= 1 && 2 * static_cast<std::size_t>(lags[i]) <= n, Code::InvalidArg,
            "lags must be >= 1 and at most half the path length");
    require(i == 0 || lags[i] > lags[i - 1], Code::InvalidArg, "lags must be strictly increasing");
  }
  // Least-squares slope weights in log m (same for every path).
  std::vector<double> lx(nlags);
  double mx = 0;
  for (int i = 0; i < nlags; ++i) mx += (lx[i] = std::log(static_cast<double>(lags[i]))) / nlags;
  double sxx = 0;
  for (int i = 0; i < nlags; ++i) sxx += (lx[i] - mx) * (lx[i] - mx);
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 18) / (n * nlags + 1));
  parallel_range(paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    std::vector<double> b(n + 1);
    for (std::size_t p = p0; p < p1; ++p) {
      const std::size_t off = p * len;
      double s = 0;
      for (std::size_t i = 0; i < len; ++i) {
        const double x = f64 ? static_cast<const double*>(data)[off + i] : static_cast<const float*>(data)[off + i];
        if (increments) {
          b[i] = s;
          s += x;
        } else {
          b[i] = x;
        }
      }
      if (increments) b[n] = s;
      bool finite = true;
      double sxy = 0;
      for (int li = 0; li < nlags; ++li) {
        const std::size_t m = static_cast<std::size_t>(lags[li]);
        // V₂(m) = mean_{i=0}^{n−2m} (B_{i+2m} − 2B_{i+m} + B_i)²
        double acc = 0;
        for (std::size_t i = 0; i + 2 * m <= n; ++i) {
          const double d = b[i + 2 * m] - 2.0 * b[i + m] + b[i];
          acc += d * d;
        }
        const double v = acc / static_cast<double>(n - 2 * m + 1);
        if (!(v > 0) || !std::isfinite(v)) finite = false;
        sxy += (lx[li] - mx) * std::log(v);
      }
      if (!finite)
        throw Error(Code::Numerical, "estimateHurst: path " + std::to_string(p) +
                                         " is constant or not finite (its variogram has no logarithm)");
      out[p] = 0.5 * sxy / sxx;
    }
  });
}

}  // namespace fbm
}  // namespace itk

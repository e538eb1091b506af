#include "sde_ops.h"

#include <algorithm>
#include <cmath>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/normal.h"

namespace itk {
namespace {
constexpr std::size_t kRows = 256;
}

void sde_lincomb(const LincombCall& c) {
  require(c.inputs.size() <= 16, Code::InvalidArg, "at most 16 terms");
  require(c.sample_offset + c.P <= (uint64_t{1} << 48), Code::InvalidArg, "sample ids must stay below 2^48");
  const std::size_t K = c.inputs.size();
  parallel_range(c.P, kRows, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      const double cz = c.noise ? c.coef[K * c.P + p] : 0.0;
      for (std::size_t i0 = 0; i0 < c.D; i0 += 4) {
        float z[4] = {0, 0, 0, 0};
        if (c.noise)
          normals4(philox_block(c.key_lo, c.key_hi, c.stream, c.sample_offset + p, c.step,
                                static_cast<uint32_t>(i0 >> 2)),
                   z);
        const std::size_t w = std::min<std::size_t>(4, c.D - i0);
        for (std::size_t q = 0; q < w; ++q) {
          const std::size_t e = p * c.D + i0 + q;
          double s = 0;
          for (std::size_t k = 0; k < K; ++k) s += c.coef[k * c.P + p] * static_cast<double>(c.inputs[k][e]);
          if (c.noise) s += cz * static_cast<double>(z[q]);
          if (c.clip > 0) s = std::min(std::max(s, -c.clip), c.clip);
          c.out[e] = static_cast<float>(s);
        }
      }
    }
  });
}

void sde_row_stats(const float* x, uint64_t P, uint64_t D, double* out) {
  parallel_range(P, kRows, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) {
      const float* r = x + p * D;
      double s = 0, s2 = 0;
      for (std::size_t i = 0; i < D; ++i) {
        s += r[i];
        s2 += static_cast<double>(r[i]) * r[i];
      }
      const double mean = D ? s / D : 0;
      double v = 0;
      for (std::size_t i = 0; i < D; ++i) v += (r[i] - mean) * (r[i] - mean);
      out[3 * p] = s2;
      out[3 * p + 1] = mean;
      out[3 * p + 2] = D > 1 ? v / (D - 1) : 0;
    }
  });
}

void sde_gmm_score(const float* x, uint64_t P, uint64_t D, uint32_t K, const double* logw, const double* means,
                   const double* vars, const double* scale, const double* addvar, float* out) {
  require(K >= 1 && K <= 1024, Code::InvalidArg, "mixture must have 1..1024 components");
  parallel_range(P, kRows, [&](std::size_t p0, std::size_t p1) {
    // Component variances, their inverses and log-determinants depend only on (s_p, a_p), which
    // samplers share across the batch: recompute them only when a row's (s, a) changes.
    std::vector<double> lg(K), sc(D), iv(static_cast<std::size_t>(K) * D), ldet(K);
    double cs = NAN, ca = NAN;
    for (std::size_t p = p0; p < p1; ++p) {
      const float* xr = x + p * D;
      const double s = scale[p], a = addvar[p];
      if (!(s == cs && a == ca)) {
        cs = s;
        ca = a;
        for (uint32_t k = 0; k < K; ++k) {
          double ld = 0;
          for (std::size_t i = 0; i < D; ++i) {
            const double v = s * s * vars[k * D + i] + a;
            iv[k * D + i] = 1.0 / v;
            ld += std::log(2 * M_PI * v);
          }
          ldet[k] = ld;
        }
      }
      double mx = -INFINITY;
      for (uint32_t k = 0; k < K; ++k) {
        double q = 0;
        for (std::size_t i = 0; i < D; ++i) {
          const double e = xr[i] - s * means[k * D + i];
          q += e * e * iv[k * D + i];
        }
        lg[k] = logw[k] - 0.5 * (q + ldet[k]);
        mx = std::max(mx, lg[k]);
      }
      double z = 0;
      for (uint32_t k = 0; k < K; ++k) z += (lg[k] = std::exp(lg[k] - mx));
      std::fill(sc.begin(), sc.end(), 0.0);
      for (uint32_t k = 0; k < K; ++k) {
        const double r = lg[k] / z;
        for (std::size_t i = 0; i < D; ++i) sc[i] += r * (s * means[k * D + i] - xr[i]) * iv[k * D + i];
      }
      for (std::size_t i = 0; i < D; ++i) out[p * D + i] = static_cast<float>(sc[i]);
    }
  });
}

double sde_rk45_norm(const float* y, const float* ynew, const std::vector<const float*>& k, const double* e,
                     uint64_t n, double h, double atol, double rtol) {
  constexpr std::size_t kGrain = 1 << 14;
  const std::size_t chunks = (n + kGrain - 1) / kGrain;
  std::vector<double> part(chunks, 0.0);
  parallel_for(chunks, [&](std::size_t c) {
    const std::size_t i0 = c * kGrain, i1 = std::min<std::size_t>(n, i0 + kGrain);
    double s = 0;
    for (std::size_t i = i0; i < i1; ++i) {
      double err = 0;
      for (std::size_t j = 0; j < k.size(); ++j)
        if (e[j] != 0) err += e[j] * static_cast<double>(k[j][i]);
      err *= h;
      const double sc = atol + rtol * std::max(std::fabs(static_cast<double>(y[i])), std::fabs(static_cast<double>(ynew[i])));
      s += (err / sc) * (err / sc);
    }
    part[c] = s;
  });
  double total = 0;
  for (double v : part) total += v;
  return n ? std::sqrt(total / n) : 0.0;
}

}  // namespace itk

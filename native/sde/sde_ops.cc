#include "sde_ops.h"

#include <algorithm>
#include <cmath>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/sampler_ops.h"

namespace itk {
namespace {
constexpr std::size_t kRows = 256;
}

LincombTerms lincomb_terms(const LincombCall& c) {
  require(c.inputs.size() <= static_cast<std::size_t>(kMaxLincombTerms), Code::InvalidArg, "at most 16 terms");
  require(c.sample_offset + c.P <= (uint64_t{1} << 48), Code::InvalidArg, "sample ids must stay below 2^48");
  LincombTerms t{};
  for (std::size_t k = 0; k < c.inputs.size(); ++k) t.in[k] = c.inputs[k];
  t.coef = c.coef;
  t.K = static_cast<uint32_t>(c.inputs.size());
  t.P = c.P;
  t.D = c.D;
  t.noise = c.noise;
  t.key_lo = c.key_lo;
  t.key_hi = c.key_hi;
  t.stream = c.stream;
  t.step = c.step;
  t.sample_offset = c.sample_offset;
  t.clip = c.clip;
  return t;
}

void sde_lincomb(const LincombCall& c) { sde_lincomb_terms(lincomb_terms(c), c.out); }

void sde_lincomb_terms(const LincombTerms& t, float* out) {
  const uint64_t groups = (t.D + 3) / 4;
  parallel_range(t.P, kRows, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p)
      for (uint64_t g = 0; g < groups; ++g) lincomb_group(t, out, p, g);
  });
}

void sde_row_stats(const float* x, uint64_t P, uint64_t D, double* out) {
  parallel_range(P, kRows, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p) row_stats(x + p * D, D, out + 3 * p);
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

Rk45Terms rk45_terms(const float* y, const float* ynew, const std::vector<const float*>& k, const double* e,
                     uint64_t n, double h, double atol, double rtol) {
  require(k.size() <= static_cast<std::size_t>(kRk45Stages), Code::InvalidArg, "at most 7 stages");
  Rk45Terms t{};
  t.y = y;
  t.ynew = ynew;
  for (std::size_t j = 0; j < k.size(); ++j) {
    t.k[j] = k[j];
    t.e[j] = e[j];
  }
  t.stages = static_cast<int>(k.size());
  t.n = n;
  t.h = h;
  t.atol = atol;
  t.rtol = rtol;
  return t;
}

double sde_rk45_norm(const float* y, const float* ynew, const std::vector<const float*>& k, const double* e,
                     uint64_t n, double h, double atol, double rtol) {
  const Rk45Terms t = rk45_terms(y, ynew, k, e, n, h, atol, rtol);
  const std::size_t chunks = (n + kRk45Grain - 1) / kRk45Grain;
  std::vector<double> part(chunks, 0.0);
  parallel_for(chunks, [&](std::size_t c) {
    const uint64_t i0 = c * kRk45Grain, i1 = std::min<uint64_t>(n, i0 + kRk45Grain);
    part[c] = rk45_chunk(t, i0, i1);
  });
  return rk45_finish(part.data(), chunks, n);
}

}  // namespace itk

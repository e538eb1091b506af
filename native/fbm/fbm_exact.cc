#include "fbm_exact.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>

#include "../core/error.h"
#include "../core/isa.h"
#include "../core/threadpool.h"
#include "../kernels/fbm_rng.h"
#include "fbm_fft.h"
#include "fbm_lanes.h"
#include "fbm_special.h"

namespace itk {
namespace fbm {
namespace {

std::size_t next_pow2(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

template <typename Out>
void write_cumsum(Out* row, const double* x, uint32_t n, double mult) {
  // B(t_0) = 0, B(t_j) = mult·Σ_{i<j} X_i, summed in float64.
  double s = 0.0;
  row[0] = Out(0);
  for (uint32_t j = 0; j < n; ++j) {
    s += x[j];
    row[j + 1] = static_cast<Out>(mult * s);
  }
}

void store_row(const ExactRequest& r, std::size_t row, const double* x, double mult, bool cumsum) {
  const std::size_t len = static_cast<std::size_t>(r.n) + 1;
  if (r.f64) {
    double* o = static_cast<double*>(r.out) + row * len;
    if (cumsum) write_cumsum(o, x, r.n, mult);
    else {
      o[0] = 0;
      for (uint32_t j = 0; j < r.n; ++j) o[j + 1] = mult * x[j];
    }
  } else {
    float* o = static_cast<float*>(r.out) + row * len;
    if (cumsum) write_cumsum(o, x, r.n, mult);
    else {
      o[0] = 0;
      for (uint32_t j = 0; j < r.n; ++j) o[j + 1] = static_cast<float>(mult * x[j]);
    }
  }
}

// Runs fn(begin, end) over [0, count) in chunks of `grain`, with abort checks and progress.
template <typename F>
void for_chunks(std::size_t count, std::size_t grain, const Control& ctl, F fn) {
  const std::size_t chunks = (count + grain - 1) / grain;
  std::atomic<std::size_t> done{0};
  parallel_range(count, grain, [&](std::size_t b, std::size_t e) {
    ctl.check();
    fn(b, e);
    ctl.progress(static_cast<double>(done.fetch_add(1) + 1), static_cast<double>(chunks));
  });
}

// ---- Hosking / Durbin–Levinson (type I fGn), O(n²) per path -----------------------------------
void hosking(const ExactRequest& r, const Control& ctl) {
  const uint32_t n = r.n;
  std::vector<double> rho(n), kappa(n, 0.0), sdev(n);
  for (uint32_t k = 0; k < n; ++k) rho[k] = fgn_autocov(r.hurst, k);
  {
    // κ_i and v_i are the same for every path: run the recursion once.
    std::vector<double> phi(n, 0.0), tmp(n);
    double v = 1.0;
    sdev[0] = 1.0;
    for (uint32_t i = 1; i < n; ++i) {
      double s = rho[i];
      for (uint32_t j = 1; j < i; ++j) s -= phi[j] * rho[i - j];
      const double k = s / v;
      for (uint32_t j = 1; j < i; ++j) tmp[j] = phi[j] - k * phi[i - j];
      for (uint32_t j = 1; j < i; ++j) phi[j] = tmp[j];
      phi[i] = k;
      kappa[i] = k;
      v *= (1.0 - k * k);
      require(v > 0, Code::Numerical, "Hosking recursion lost positive definiteness");
      sdev[i] = std::sqrt(v);
    }
  }
  const double mult = r.scale * std::pow(r.T / n, r.hurst);
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 22) / (static_cast<std::size_t>(n) * n + 1));
  for_chunks(r.paths, grain, ctl, [&](std::size_t b, std::size_t e) {
    std::vector<double> phi(n, 0.0), tmp(n), x(n);
    std::vector<float> z(n);
    for (std::size_t p = b; p < e; ++p) {
      normals_of_path(r.key_lo, r.key_hi, kStreamFbmExact, r.path_offset + p, 0, n, z.data());
      std::fill(phi.begin(), phi.end(), 0.0);
      x[0] = z[0];
      for (uint32_t i = 1; i < n; ++i) {
        const double k = kappa[i];
        for (uint32_t j = 1; j < i; ++j) tmp[j] = phi[j] - k * phi[i - j];
        for (uint32_t j = 1; j < i; ++j) phi[j] = tmp[j];
        phi[i] = k;
        double s = 0.0;
        for (uint32_t j = 1; j <= i; ++j) s += phi[j] * x[i - j];
        x[i] = s + sdev[i] * z[i];
      }
      store_row(r, p, x.data(), mult, true);
    }
  });
}

// ---- Davies–Harte (type I), two paths per complex FFT -----------------------------------------
bool davies_harte(const ExactRequest& r, const Control& ctl) {
  const uint32_t n = r.n;
  const std::size_t np = next_pow2(n), m = 2 * np;
  std::vector<double> lam = circulant_eigenvalues(r.hurst, n);
  double lmax = 0, lmin = INFINITY;
  for (double l : lam) {
    lmax = std::max(lmax, l);
    lmin = std::min(lmin, l);
  }
  if (lmin < -1e-12 * lmax) {
    hosking(r, ctl);
    return true;
  }
  std::vector<double> sq(m);
  for (std::size_t k = 0; k < m; ++k) sq[k] = std::sqrt(std::max(lam[k], 0.0) / static_cast<double>(m));
  const Fft fft(m);
  const double mult = r.scale * std::pow(r.T / n, r.hurst);
  // Pair q holds paths 2q (real part) and 2q+1 (imaginary part); its 2m normals are lanes
  // 0..2m-1 of (FBM_EXACT, path q). Rows at odd offsets compute the pair and drop half.
  const uint64_t first_pair = r.path_offset >> 1;
  const uint64_t last_pair = (r.path_offset + r.paths - 1) >> 1;
  const std::size_t pairs = static_cast<std::size_t>(last_pair - first_pair + 1);
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 16) / m);
  for_chunks(pairs, grain, ctl, [&](std::size_t b, std::size_t e) {
    std::vector<std::complex<double>> v(m);
    std::vector<float> z(2 * m);
    std::vector<double> x(n);
    for (std::size_t q = b; q < e; ++q) {
      const uint64_t pair = first_pair + q;
      normals_of_path(r.key_lo, r.key_hi, kStreamFbmExact, pair, 0, 2 * m, z.data());
      for (std::size_t k = 0; k < m; ++k) v[k] = {sq[k] * z[k], sq[k] * z[m + k]};
      fft.forward(v.data());
      for (int part = 0; part < 2; ++part) {
        const uint64_t path = 2 * pair + part;
        if (path < r.path_offset || path >= r.path_offset + r.paths) continue;
        for (uint32_t j = 0; j < n; ++j) x[j] = part == 0 ? v[j].real() : v[j].imag();
        store_row(r, static_cast<std::size_t>(path - r.path_offset), x.data(), mult, true);
      }
    }
  });
  return false;
}

// ---- Cholesky (type I or II), n <= 4096 ---------------------------------------------------------
ITK_ISA_CLONES  // native/core/isa.h
double dot(const double* a, const double* b, std::size_t n) {
  // Four partial sums: breaks the add dependency chain; each partial sum is updated in the same
  // order in the AVX2 clone (one 4-wide vector) as in the scalar one, so both give the same bits.
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; ++k) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

// Row-oriented (Crout) Cholesky, blocked by 64 rows: within a block, the entries left of the
// block depend only on finished rows, so those rows run in parallel (fixed chunks).
bool cholesky_parallel(std::vector<double>* m, std::size_t n, const Control& ctl) {
  double* a = m->data();
  const std::size_t bs = 64;
  bool ok = true;
  for (std::size_t i0 = 0; i0 < n && ok; i0 += bs) {
    ctl.check();
    const std::size_t i1 = std::min(n, i0 + bs);
    parallel_range(i1 - i0, 4, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = i0 + b; i < i0 + e; ++i)
        for (std::size_t j = 0; j < i0; ++j)
          a[i * n + j] = (a[i * n + j] - dot(a + i * n, a + j * n, j)) / a[j * n + j];
    });
    for (std::size_t i = i0; i < i1 && ok; ++i) {
      for (std::size_t j = i0; j < i; ++j) a[i * n + j] = (a[i * n + j] - dot(a + i * n, a + j * n, j)) / a[j * n + j];
      const double d = a[i * n + i] - dot(a + i * n, a + i * n, i);
      if (!(d > 0)) ok = false;
      else a[i * n + i] = std::sqrt(d);
    }
  }
  return ok;
}

void cholesky_paths(const ExactRequest& r, const Control& ctl) {
  const std::size_t n = r.n;
  const double dt = r.T / n;
  const double v2 = variance_type2(r.hurst);
  const Cov2Constants k2(r.hurst);
  std::vector<double> cov(n * n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      const double t = (i + 1) * dt, s = (j + 1) * dt;
      const double c = r.type == FbmType::I
                           ? 0.5 * (std::pow(t, 2 * r.hurst) + std::pow(s, 2 * r.hurst) -
                                    std::pow(t - s, 2 * r.hurst))
                           : cov_type2_gamma(k2, s, t) / v2;
      cov[i * n + j] = cov[j * n + i] = c;
    }
  }
  std::vector<double> l = cov;
  if (!cholesky_parallel(&l, n, ctl)) {
    // One retry with jitter 1e-12·max diag (docs/design/fbm.md §6).
    double dmax = 0;
    for (std::size_t i = 0; i < n; ++i) dmax = std::max(dmax, cov[i * n + i]);
    l = cov;
    for (std::size_t i = 0; i < n; ++i) l[i * n + i] += 1e-12 * dmax;
    require(cholesky_parallel(&l, n, ctl), Code::Numerical, "Cholesky of the fBM covariance failed");
  }
  const std::size_t grain = std::max<std::size_t>(1, (std::size_t{1} << 22) / (n * n + 1));
  for_chunks(r.paths, grain, ctl, [&](std::size_t b, std::size_t e) {
    std::vector<float> zf(n);
    std::vector<double> z(n), x(n);
    for (std::size_t p = b; p < e; ++p) {
      normals_of_path(r.key_lo, r.key_hi, kStreamFbmExact, r.path_offset + p, 0, n, zf.data());
      for (std::size_t k = 0; k < n; ++k) z[k] = zf[k];
      for (std::size_t i = 0; i < n; ++i) x[i] = dot(l.data() + i * n, z.data(), i + 1);
      store_row(r, p, x.data(), r.scale, false);
    }
  });
}

}  // namespace

std::vector<double> circulant_eigenvalues(double hurst, std::size_t n) {
  require(hurst > 0 && hurst < 1, Code::InvalidArg, "hurst must be in (0, 1)");
  require(n >= 1 && n <= (std::size_t{1} << 24), Code::InvalidArg, "n must be in [1, 2^24]");
  const std::size_t np = next_pow2(n), m = 2 * np;
  // First row (ρ(0), …, ρ(n′−1), ρ(n′), ρ(n′−1), …, ρ(1)): ρ(n′) sits once in the middle.
  std::vector<std::complex<double>> c(m);
  for (std::size_t k = 0; k <= np; ++k) c[k] = fgn_autocov(hurst, static_cast<double>(k));
  for (std::size_t k = 1; k < np; ++k) c[m - k] = c[k];
  Fft(m).forward(c.data());
  std::vector<double> lam(m);
  for (std::size_t k = 0; k < m; ++k) lam[k] = c[k].real();
  return lam;
}

bool exact_sample(const ExactRequest& r, ExactMethod method, const Control& ctl) {
  require(r.hurst > 0 && r.hurst < 1, Code::InvalidArg, "hurst must be in (0, 1)");
  require(r.n >= 1, Code::InvalidArg, "n must be >= 1");
  require(std::isfinite(r.T) && r.T > 0, Code::InvalidArg, "T must be finite and > 0");
  require(r.path_offset + r.paths <= (uint64_t{1} << 48), Code::InvalidArg, "path ids must stay below 2^48");
  if (method != ExactMethod::Cholesky)
    require(r.type == FbmType::I, Code::InvalidArg, "Davies–Harte and Hosking generate type I fBM only; use 'cholesky' for type II");
  if (method == ExactMethod::Cholesky)
    require(r.n <= kCholeskyMaxN, Code::InvalidArg, "cholesky is limited to n <= 4096 steps (O(n^2) memory, O(n^3) setup)");
  if (method == ExactMethod::DaviesHarte)
    require(r.n <= (1u << 24), Code::InvalidArg, "davies-harte is limited to n <= 2^24 steps");
  if (method == ExactMethod::Hosking)
    require(r.n <= (1u << 16), Code::InvalidArg, "hosking is limited to n <= 65536 steps (O(n^2) per path)");
  if (r.paths == 0) return false;
  switch (method) {
    case ExactMethod::DaviesHarte: return davies_harte(r, ctl);
    case ExactMethod::Cholesky: cholesky_paths(r, ctl); return false;
    case ExactMethod::Hosking: hosking(r, ctl); return false;
  }
  return false;
}

}  // namespace fbm
}  // namespace itk

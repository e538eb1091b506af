// Top-k sparsification and Jacobi-PCG of SNS (docs/design/ot.md §3.3, §3.4, §6.2).
#include "sparse.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "../core/threadpool.h"
#include "select.h"

namespace itk {
namespace ot {

void top_k_sparsify(const double* P, std::size_t n, std::size_t m, std::size_t k, std::vector<double>* scratch,
                    SparsePlan* out, double rho_known) {
  const std::size_t nm = n * m;
  k = std::min(std::max<std::size_t>(k, 1), nm);
  (void)scratch;
  // ρ = k-th largest entry, exact, without an n·m copy (select.h).
  const double rho = std::isnan(rho_known) ? kth_largest_sampled(P, nm, k) : rho_known;
  // Per-row counts of entries ≥ ρ and > ρ, in parallel over fixed row blocks.
  std::vector<std::size_t> row_ge(n), row_gt(n);
  parallel_range(n, 64, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      const double* p = P + i * m;
      std::size_t g = 0, t = 0;
      for (std::size_t j = 0; j < m; ++j) {
        g += p[j] >= rho;
        t += p[j] > rho;
      }
      row_ge[i] = g;
      row_gt[i] = t;
    }
  });
  std::size_t ge = 0, gt = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ge += row_ge[i];
    gt += row_gt[i];
  }
  // Ties (e.g. underflowed zeros or a constant block): keep > ρ, then = ρ row-major up to k.
  const bool budgeted = ge > k + k / 2;
  std::size_t eq_budget = budgeted ? (k > gt ? k - gt : 0) : nm;
  out->n = n;
  out->m = m;
  out->row_ptr.assign(n + 1, 0);
  out->col.clear();
  out->val.clear();
  if (!budgeted) {
    // No tie budget: every entry ≥ ρ is kept, so rows fill independently (in parallel) at
    // offsets from the prefix sum of the counts.
    for (std::size_t i = 0; i < n; ++i) out->row_ptr[i + 1] = out->row_ptr[i] + static_cast<int64_t>(row_ge[i]);
    out->col.resize(ge);
    out->val.resize(ge);
    parallel_range(n, 64, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) {
        const double* p = P + i * m;
        int64_t q = out->row_ptr[i];
        for (std::size_t j = 0; j < m; ++j)
          if (p[j] >= rho) {
            out->col[q] = static_cast<int32_t>(j);
            out->val[q++] = p[j];
          }
      }
    });
  }
  for (std::size_t i = 0; i < n && budgeted; ++i) {
    const double* p = P + i * m;
    for (std::size_t j = 0; j < m; ++j) {
      if (p[j] > rho || (p[j] == rho && eq_budget > 0)) {
        if (p[j] == rho) --eq_budget;
        out->col.push_back(static_cast<int32_t>(j));
        out->val.push_back(p[j]);
      }
    }
    out->row_ptr[i + 1] = static_cast<int64_t>(out->val.size());
  }
  // CSC by a counting sort on the column (stable: rows come out sorted within each column).
  const std::size_t nnz = out->val.size();
  out->col_ptr.assign(m + 1, 0);
  for (std::size_t q = 0; q < nnz; ++q) ++out->col_ptr[out->col[q] + 1];
  for (std::size_t j = 0; j < m; ++j) out->col_ptr[j + 1] += out->col_ptr[j];
  out->row.resize(nnz);
  out->cval.resize(nnz);
  std::vector<int64_t> next(out->col_ptr.begin(), out->col_ptr.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    for (int64_t q = out->row_ptr[i]; q < out->row_ptr[i + 1]; ++q) {
      const int64_t dst = next[out->col[q]]++;
      out->row[dst] = static_cast<int32_t>(i);
      out->cval[dst] = out->val[q];
    }
}

void sparse_matvec(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* x, double* y) {
  const std::size_t n = sp.n, m = sp.m, fixed = n + m - 1;  // the fixed index is g's last entry
  // y_f = (R+σ)⊙x_f + P̃ x_g ;  y_g = P̃ᵀ x_f + (K+σ)⊙x_g ; x[fixed] is treated as 0, y[fixed] = 0.
  const double* xg = x + n;
  parallel_range(n, 1024, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      double s = (R[i] + sigma) * x[i];
      for (int64_t q = sp.row_ptr[i]; q < sp.row_ptr[i + 1]; ++q) {
        const std::size_t j = static_cast<std::size_t>(sp.col[q]);
        if (n + j != fixed) s += sp.val[q] * xg[j];
      }
      y[i] = s;
    }
  });
  parallel_range(m, 1024, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j) {
      if (n + j == fixed) {
        y[n + j] = 0;
        continue;
      }
      double s = (K[j] + sigma) * xg[j];
      for (int64_t q = sp.col_ptr[j]; q < sp.col_ptr[j + 1]; ++q) s += sp.cval[q] * x[sp.row[q]];
      y[n + j] = s;
    }
  });
}

namespace {
double dotv(const std::vector<double>& x, const std::vector<double>& y) {
  double s[4] = {0, 0, 0, 0};
  const std::size_t N = x.size();
  std::size_t i = 0;
  for (; i + 4 <= N; i += 4)
    for (int l = 0; l < 4; ++l) s[l] += x[i + l] * y[i + l];
  for (; i < N; ++i) s[0] += x[i] * y[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}
}  // namespace

CgResult pcg(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* r, double rtol,
             int64_t max_iter, double* d) {
  const std::size_t n = sp.n, m = sp.m, N = n + m, fixed = N - 1;
  std::vector<double> res(r, r + N), z(N), p(N), Ap(N), inv(N);
  res[fixed] = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const double diag = (i < n ? R[i] : K[i - n]) + sigma;
    inv[i] = i == fixed ? 1.0 : 1.0 / diag;
    d[i] = 0;
  }
  CgResult out;
  const double target = rtol * std::sqrt(dotv(res, res));
  for (std::size_t i = 0; i < N; ++i) z[i] = res[i] * inv[i];
  p = z;
  double rz = dotv(res, z);
  for (int64_t it = 0; it < max_iter; ++it) {
    if (std::sqrt(dotv(res, res)) <= target) break;
    sparse_matvec(sp, R, K, sigma, p.data(), Ap.data());
    const double pAp = dotv(p, Ap);
    if (!(pAp > 0) || !std::isfinite(pAp)) {
      out.breakdown = true;
      break;
    }
    const double alpha = rz / pAp;
    for (std::size_t i = 0; i < N; ++i) {
      d[i] += alpha * p[i];
      res[i] -= alpha * Ap[i];
      z[i] = res[i] * inv[i];
    }
    const double rz_new = dotv(res, z);
    const double beta = rz_new / rz;
    rz = rz_new;
    for (std::size_t i = 0; i < N; ++i) p[i] = z[i] + beta * p[i];
    ++out.iterations;
    if (!std::isfinite(rz)) {
      out.breakdown = true;
      break;
    }
  }
  d[fixed] = 0;
  return out;
}

}  // namespace ot
}  // namespace itk

// Top-k sparsification and Jacobi-PCG of SNS (spec §3.3, §3.4, §6.2).
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
  double rho = rho_known;
  if (std::isnan(rho) && nm > (std::size_t{1} << 24)) {
    rho = kth_largest(P, nm, k);  // no n·m copy for large problems (§6.2)
  } else if (std::isnan(rho)) {
    // ρ = k-th largest entry: nth_element on a copy, O(nm) expected (§6.2).
    scratch->assign(P, P + nm);
    std::nth_element(scratch->begin(), scratch->begin() + (k - 1), scratch->end(), std::greater<double>());
    rho = (*scratch)[k - 1];
  }
  std::size_t ge = 0, gt = 0;
  for (std::size_t q = 0; q < nm; ++q) {
    ge += P[q] >= rho;
    gt += P[q] > rho;
  }
  // Ties (e.g. underflowed zeros or a constant block): keep > ρ, then = ρ row-major up to k.
  std::size_t eq_budget = ge > k + k / 2 ? (k > gt ? k - gt : 0) : nm;
  out->n = n;
  out->m = m;
  out->row_ptr.assign(n + 1, 0);
  out->col.clear();
  out->val.clear();
  for (std::size_t i = 0; i < n; ++i) {
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

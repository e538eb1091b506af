// Top-k sparsification and Jacobi-PCG of SNS (docs/design/ot.md §3.3, §3.4, §6.2). Per-element
// logic (kept-entry rule, CG updates, matvec line) is native/kernels/ot_newton.h, shared with
// native/ot/cuda/ot_sparse.cu. Every parallel loop runs over fixed blocks and merges in block order,
// so the result is the same bits for any thread count.
#include "sparse.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "../core/threadpool.h"
#include "../kernels/ot_newton.h"
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
  // Per-row counts of entries > ρ and = ρ, in parallel over fixed row blocks.
  std::vector<int64_t> row_gt(n), row_eq(n);
  parallel_range(n, 64, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      const double* p = P + i * m;
      int64_t g = 0, t = 0;
      for (std::size_t j = 0; j < m; ++j) {
        g += p[j] > rho;
        t += p[j] == rho;
      }
      row_gt[i] = g;
      row_eq[i] = t;
    }
  });
  int64_t gt = 0, eq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    gt += row_gt[i];
    eq += row_eq[i];
  }
  // Ties (e.g. underflowed zeros or a constant block): keep > ρ, then = ρ row-major up to k
  // (ot_newton.h tie_quota): row i's quota, then its row pointer, by one exclusive scan.
  const int64_t kk = static_cast<int64_t>(k);
  const bool budgeted = ties_budgeted(gt + eq, kk);
  const int64_t budget = tie_budget(gt, kk);
  std::vector<int64_t> quota(n);
  out->n = n;
  out->m = m;
  out->row_ptr.assign(n + 1, 0);
  int64_t eq_before = 0;
  for (std::size_t i = 0; i < n; ++i) {
    quota[i] = tie_quota(row_eq[i], eq_before, budgeted, budget);
    eq_before += row_eq[i];
    out->row_ptr[i + 1] = out->row_ptr[i] + row_gt[i] + quota[i];
  }
  const std::size_t nnz = static_cast<std::size_t>(out->row_ptr[n]);
  out->col.resize(nnz);
  out->val.resize(nnz);
  // CSR fill, rows in parallel at their offsets; the cut column of each row (ot_newton.h) is the
  // column of its quota-th tie.
  std::vector<int64_t> cut(n);
  parallel_range(n, 64, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) {
      const double* p = P + i * m;
      int64_t q = out->row_ptr[i], ties = 0, c = -1;
      for (std::size_t j = 0; j < m; ++j) {
        if (p[j] == rho && ties < quota[i]) {
          ++ties;
          c = static_cast<int64_t>(j);
        }
        if (keep_entry(p[j], rho, static_cast<int64_t>(j), c)) {
          out->col[q] = static_cast<int32_t>(j);
          out->val[q++] = p[j];
        }
      }
      cut[i] = c;
    }
  });
  // CSC of the same entries: per row block, column counts; column j of block b starts after
  // columns < j (all blocks) and after blocks < b in column j, so rows stay sorted within each
  // column exactly as a serial counting sort leaves them.
  const std::size_t grain = std::max<std::size_t>(256, (n + 63) / 64), blocks = (n + grain - 1) / grain;
  std::vector<int64_t> start(blocks * m, 0);
  parallel_for(blocks, [&](std::size_t bk) {
    int64_t* c = start.data() + bk * m;
    const std::size_t e = std::min(n, (bk + 1) * grain);
    for (int64_t q = out->row_ptr[bk * grain]; q < out->row_ptr[e]; ++q) ++c[out->col[q]];
  });
  out->col_ptr.assign(m + 1, 0);
  int64_t run = 0;
  for (std::size_t j = 0; j < m; ++j) {
    out->col_ptr[j] = run;
    for (std::size_t bk = 0; bk < blocks; ++bk) {
      const int64_t c = start[bk * m + j];
      start[bk * m + j] = run;
      run += c;
    }
  }
  out->col_ptr[m] = run;
  out->row.resize(nnz);
  out->cval.resize(nnz);
  parallel_for(blocks, [&](std::size_t bk) {
    int64_t* next = start.data() + bk * m;
    const std::size_t e = std::min(n, (bk + 1) * grain);
    for (std::size_t i = bk * grain; i < e; ++i)
      for (int64_t q = out->row_ptr[i]; q < out->row_ptr[i + 1]; ++q) {
        const int64_t dst = next[out->col[q]]++;
        out->row[dst] = static_cast<int32_t>(i);
        out->cval[dst] = out->val[q];
      }
  });
}

double kept_mass(const SparsePlan& sp) {
  constexpr std::size_t kRows = 256;
  const std::size_t blocks = (sp.n + kRows - 1) / kRows;
  std::vector<double> part(blocks, 0);
  parallel_for(blocks, [&](std::size_t bk) {
    double s = 0;
    const std::size_t e = std::min(sp.n, (bk + 1) * kRows);
    for (int64_t q = sp.row_ptr[bk * kRows]; q < sp.row_ptr[e]; ++q) s += sp.val[q];
    part[bk] = s;
  });
  double s = 0;
  for (double x : part) s += x;
  return s;
}

void sparse_matvec(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* x, double* y) {
  const std::size_t n = sp.n, m = sp.m;
  // y_f = (R+σ)⊙x_f + P̃ x_g ;  y_g = P̃ᵀ x_f + (K+σ)⊙x_g ; x at the fixed index (g's last entry)
  // is treated as 0 and y there is 0.
  const double* xg = x + n;
  const int64_t skip = static_cast<int64_t>(m - 1);
  parallel_range(n, 1024, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i)
      y[i] = spmv_accumulate(spmv_diag(R[i], sigma, x[i]), sp.row_ptr[i], sp.row_ptr[i + 1], 1, sp.col.data(),
                             sp.val.data(), xg, skip);
  });
  parallel_range(m, 1024, [&](std::size_t b, std::size_t e) {
    for (std::size_t j = b; j < e; ++j)
      y[n + j] = static_cast<int64_t>(j) == skip
                     ? 0.0
                     : spmv_accumulate(spmv_diag(K[j], sigma, xg[j]), sp.col_ptr[j], sp.col_ptr[j + 1], 1, sp.row.data(),
                                       sp.cval.data(), x, -1);
  });
}

namespace {

// Vector work of the CG in fixed blocks of kCgBlock entries; block partial sums merge in block
// order, so every dot is the same bits for any thread count.
constexpr std::size_t kCgBlock = 2048;

double block_dot(const double* x, const double* y, std::size_t b, std::size_t e) {
  double s[4] = {0, 0, 0, 0};
  std::size_t i = b;
  for (; i + 4 <= e; i += 4)
    for (int l = 0; l < 4; ++l) s[l] += x[i + l] * y[i + l];
  for (; i < e; ++i) s[0] += x[i] * y[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

double merge(const std::vector<double>& part) {
  double s = 0;
  for (double x : part) s += x;
  return s;
}

double pdot(const double* x, const double* y, std::size_t N, std::vector<double>* part) {
  const std::size_t blocks = (N + kCgBlock - 1) / kCgBlock;
  part->assign(blocks, 0);
  parallel_for(blocks, [&](std::size_t bk) {
    (*part)[bk] = block_dot(x, y, bk * kCgBlock, std::min(N, (bk + 1) * kCgBlock));
  });
  return merge(*part);
}

}  // namespace

CgResult pcg(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* r, double rtol,
             int64_t max_iter, double* d) {
  const std::size_t n = sp.n, m = sp.m, N = n + m, fixed = N - 1;
  const std::size_t blocks = (N + kCgBlock - 1) / kCgBlock;
  std::vector<double> res(r, r + N), z(N), p(N), Ap(N), inv(N), part, part_rr(blocks), part_rz(blocks);
  res[fixed] = 0;
  for (std::size_t i = 0; i < N; ++i) {
    inv[i] = cg_inverse_diag(i < n ? R[i] : K[i - n], sigma, i == fixed);
    d[i] = 0;
    z[i] = res[i] * inv[i];
    p[i] = z[i];
  }
  CgResult out;
  double rr = pdot(res.data(), res.data(), N, &part);
  const double target = rtol * std::sqrt(rr);
  double rz = pdot(res.data(), z.data(), N, &part);
  for (int64_t it = 0; it < max_iter; ++it) {
    if (std::sqrt(rr) <= target) break;
    sparse_matvec(sp, R, K, sigma, p.data(), Ap.data());
    const double pAp = pdot(p.data(), Ap.data(), N, &part);
    if (!(pAp > 0) || !std::isfinite(pAp)) {
      out.breakdown = true;
      break;
    }
    const double alpha = rz / pAp;
    // Update and both dots of the new residual in one sweep per block.
    parallel_for(blocks, [&](std::size_t bk) {
      const std::size_t b = bk * kCgBlock, e = std::min(N, b + kCgBlock);
      for (std::size_t i = b; i < e; ++i) {
        const CgElem u = cg_update(alpha, p[i], Ap[i], inv[i], d[i], res[i]);
        d[i] = u.d;
        res[i] = u.res;
        z[i] = u.z;
      }
      part_rr[bk] = block_dot(res.data(), res.data(), b, e);
      part_rz[bk] = block_dot(res.data(), z.data(), b, e);
    });
    rr = merge(part_rr);
    const double rz_new = merge(part_rz);
    const double beta = rz_new / rz;
    rz = rz_new;
    parallel_range(N, kCgBlock, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) p[i] = cg_direction(z[i], beta, p[i]);
    });
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

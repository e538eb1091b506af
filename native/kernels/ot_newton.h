// Per-element logic of the SNS Newton step (docs/design/ot.md §3.3, §3.4), written once for the CPU
// (native/ot/sparse.cc) and the CUDA kernels (native/ot/cuda/ot_sparse.cu), so that the CPU tests
// exercise the kept-entry rule and the CG update formulas the device runs.
//
// Kept set of the sparsified Hessian (§3.3): with ρ the k-th largest plan entry, every entry > ρ is
// kept; entries = ρ are kept in row-major order while a global budget lasts (only when ties would
// push the count above 1.5k). Both backends express this per row as a quota of ties, then as a
// cut column: row i keeps its entries = ρ in columns j ≤ cut_i. The quota needs only the per-row
// counts (an exclusive scan), the cut only the row itself, and the predicate is then local to one
// entry, which is what lets the CSC be filled column by column (CUDA) or by row blocks (CPU) and
// still hold exactly the entries of the CSR.
#pragma once
#include <cstdint>

#include "itk_hd.h"

namespace itk {
namespace ot {

// Is entry (i, j) with value p kept? cut: the last column of row i whose tie (p == ρ) is kept,
// −1 when none is.
ITK_HD bool keep_entry(double p, double rho, int64_t j, int64_t cut) { return p > rho || (p == rho && j <= cut); }

// Ties row i may keep: all of them without a budget, else what is left of the budget after the
// ties of rows 0..i−1 (eq_before, an exclusive prefix sum of the per-row tie counts).
ITK_HD int64_t tie_quota(int64_t eq_row, int64_t eq_before, bool budgeted, int64_t budget) {
  if (!budgeted) return eq_row;
  const int64_t left = budget > eq_before ? budget - eq_before : 0;
  return eq_row < left ? eq_row : left;
}

// Whether ties are budgeted, and the budget (§3.3): only when all entries ≥ ρ exceed 1.5k.
ITK_HD bool ties_budgeted(int64_t ge_total, int64_t k) { return ge_total > k + k / 2; }
ITK_HD int64_t tie_budget(int64_t gt_total, int64_t k) { return k > gt_total ? k - gt_total : 0; }

// Jacobi-PCG on (M + σI) d = r (§3.4), the per-element updates of one iteration:
//   d += α p;  res −= α Ap;  z = res ⊙ inv     (then the dots res·z and res·res)
//   p = z + β p
// Separately rounded operations (itk_hd.h) so the device rounds like the host.
struct CgElem {
  double d, res, z;
};
ITK_HD CgElem cg_update(double alpha, double p, double Ap, double inv, double d, double res) {
  CgElem e;
  e.d = dadd(d, dmul(alpha, p));
  e.res = dadd(res, -dmul(alpha, Ap));
  e.z = dmul(e.res, inv);
  return e;
}
ITK_HD double cg_direction(double z, double beta, double p) { return dadd(z, dmul(beta, p)); }

// Jacobi preconditioner entry: 1/(diag + σ), 1 at the fixed index (the null direction, §3.1).
ITK_HD double cg_inverse_diag(double diag, double sigma, bool fixed) { return fixed ? 1.0 : ddiv(1.0, dadd(diag, sigma)); }

// One row of y = (M + σI)x (§3.4): (R_i + σ)x_i + Σ_q val_q x_o[idx_q] over the row's CSR entries
// (or a column's CSC entries), skipping index `skip` (the fixed potential). The CPU calls
// spmv_accumulate with step 1 starting from spmv_diag; a CUDA warp calls it per lane with step 32
// from 0, reduces, then adds the diagonal term.
ITK_HD double spmv_diag(double diag, double sigma, double xi) { return dmul(dadd(diag, sigma), xi); }
template <typename Idx>
ITK_HD double spmv_accumulate(double s, int64_t q0, int64_t q1, int64_t step, const Idx* idx, const double* val,
                              const double* xo, int64_t skip) {
  for (int64_t q = q0; q < q1; q += step) {
    const int64_t j = static_cast<int64_t>(idx[q]);
    if (j != skip) s = dadd(s, dmul(val[q], xo[j]));
  }
  return s;
}

}  // namespace ot
}  // namespace itk

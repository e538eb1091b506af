// Sparsified Hessian of SNS (docs/design/ot.md §3.3, §3.4, §6.2): top-k plan entries in CSR and CSC, and the
// Jacobi-preconditioned CG on (M + σI) restricted to the first n+m−1 unknowns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace itk {
namespace ot {

struct SparsePlan {
  std::size_t n = 0, m = 0;
  std::vector<int64_t> row_ptr;  // n+1
  std::vector<int32_t> col;      // nnz, sorted within rows
  std::vector<double> val;
  std::vector<int64_t> col_ptr;  // m+1 (CSC of the same entries)
  std::vector<int32_t> row;
  std::vector<double> cval;
  std::size_t nnz() const { return val.size(); }
};

// Keeps the k largest entries of P (n×m) under one global threshold ρ = k-th largest
// (docs/design/ot.md §3.3): P̃ = {P_ij ≥ ρ}; when ties push nnz above 1.5k, entries > ρ, then entries = ρ in
// row-major order up to k (the rule of native/kernels/ot_newton.h, which the CUDA build shares).
// Parallel over fixed row blocks: the same matrices for any thread count. `scratch` is unused.
// rho_known: the threshold when a device already selected it (NaN: select here).
void top_k_sparsify(const double* P, std::size_t n, std::size_t m, std::size_t k, std::vector<double>* scratch,
                    SparsePlan* out, double rho_known);

// ΣP̃: the kept mass, summed per fixed row block and merged in block order (thread-count independent).
double kept_mass(const SparsePlan& sp);

struct CgResult {
  int64_t iterations = 0;
  bool breakdown = false;
};

// Solves (M + σI) d = r on indices < n+m−1 (d[n+m−1] = 0) by PCG from d = 0 with the Jacobi
// preconditioner 1/(R + σ, K + σ); stops at ‖res‖₂ ≤ rtol·‖r‖₂ or after max_iter iterations
// (keeping the iterate). M = [[diag R, P̃], [P̃ᵀ, diag K]].
CgResult pcg(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* r, double rtol,
             int64_t max_iter, double* d);

// y = (M + σI) x with the fixed index masked (exposed for tests of the CUDA matvec).
void sparse_matvec(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* x, double* y);

}  // namespace ot
}  // namespace itk

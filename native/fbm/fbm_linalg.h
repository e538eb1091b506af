// Small dense float64 linear algebra for the fBM host setup (K <= 32): cyclic Jacobi symmetric
// eigendecomposition (robust for the nearly singular conditional covariances of docs/design/fbm.md §4) and Cholesky.
#pragma once
#include <cstddef>
#include <vector>

namespace itk {
namespace fbm {

// A (n x n, row-major, symmetric) = U diag(w) U^T. U is row-major with eigenvectors in columns.
void sym_eig(const std::vector<double>& a, std::size_t n, std::vector<double>* w, std::vector<double>* u);

// L = U diag(sqrt(max(w, 0))), so L L^T = A with negative eigenvalues clipped to 0 (docs/design/fbm.md §4).
std::vector<double> sqrt_clipped(const std::vector<double>& a, std::size_t n);

// In-place Cholesky of a row-major SPD matrix (lower triangle). Returns false on a non-positive
// pivot.
bool cholesky(std::vector<double>* a, std::size_t n);

// Solves L L^T x = b with the factor of cholesky().
void cholesky_solve(const std::vector<double>& l, std::size_t n, double* x);

}  // namespace fbm
}  // namespace itk

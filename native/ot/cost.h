// Ground-cost builders (docs/design/ot.md §1.4) and the reference problems of docs/design/ot.md §7.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace itk {
namespace ot {

// C_ij = Σ_k (x_ik − y_jk)² (squared = true) or its square root, computed from the differences
// (no ‖x‖² + ‖y‖² − 2xᵀy cancellation, so C ≥ 0 and C_ii = 0 exactly). X: n×d, Y: m×d, C: n×m.
void pairwise_cost(const void* X, const void* Y, bool f32, std::size_t n, std::size_t m, std::size_t d, bool squared,
                   void* C);

// Grid cost between the h·w pixel centres (u, v) = (row, column) of a 2-D grid, row-major pixel
// order: C = |u − u'|^p + |v − v'|^p (p-th power of the Lp distance). C: (hw)×(hw), float64.
void grid_cost(std::size_t h, std::size_t w, double p, double* C);

struct ReferenceProblem {
  std::size_t n = 0, m = 0;
  std::vector<double> C, a, b, X, Y;  // X, Y: point clouds (R3), empty otherwise
};

// R1: random assignment, n×n, C_ij ~ U(0,1) iid, uniform marginals.
void reference_r1(std::size_t n, uint32_t key_lo, uint32_t key_hi, uint32_t problem, ReferenceProblem* out);
// R2: 28×28 digit-like densities, cost L2 (p = 2) or L1 (p = 1) normalised to max 1.
void reference_r2(int p, uint32_t key_lo, uint32_t key_hi, uint32_t problem, ReferenceProblem* out);
// R3: Gaussian point clouds in 2-D, squared Euclidean cost divided by its maximum.
void reference_r3(std::size_t n, std::size_t m, uint32_t key_lo, uint32_t key_hi, uint32_t problem,
                  ReferenceProblem* out);

}  // namespace ot
}  // namespace itk

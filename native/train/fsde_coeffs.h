// Host-side coefficients of one fsde_run call, taken from the fbm area (docs/design/fbm.md §3, §8):
// ω(H) and dω/dH (= A⁻¹ db/dH, central differences of b in float64) from the closed-form
// solve, and a square root of the type I initial covariance C_ij = 1/(γ_i + γ_j).
#pragma once
#include <vector>

namespace itk {
namespace train {

struct FsdeCoefficients {
  std::vector<double> omegas;
  std::vector<double> d_omega_d_hurst;
  std::vector<double> chol_c;  // K×K, L Lᵀ = C (eigen square root with clipping); empty for type II
  double relative_error = 0;
};

// hurst is clamped to [0.01, 0.99] for the solve (docs/design/fbm.md §8).
FsdeCoefficients fsde_coefficients(bool type1, double hurst, double horizon, bool unit, const std::vector<double>& gammas);

}  // namespace train
}  // namespace itk

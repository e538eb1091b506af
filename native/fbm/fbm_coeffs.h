// Closed-form optimal MA-fBM weights (docs/design/fbm.md §3; Daems et al., ICLR 2024, proposition on
// optimal coefficients): E(ω) = ωᵀAω − 2bᵀω + c on [0, T], ω* = A⁻¹b, solved in float64 with
// Jacobi scaling and a minimal ridge.
#pragma once
#include <cstddef>
#include <vector>

namespace itk {
namespace fbm {

enum class FbmType : int { I = 1, II = 2 };

// Speed grids (docs/design/fbm.md §2): γ_k = r^{k-n}, n = (K+1)/2 + offset.
std::vector<double> gamma_by_ratio(int K, double r, double offset);
std::vector<double> gamma_by_gamma_max(int K, double gamma_max, double offset);

// V(H) of the type: the factor between the Γ and the unit normalisation.
double type_variance(FbmType type, double hurst);

// A (K x K row-major), b (K) and c of §3 in the requested normalisation (unit: b/√V, c/V).
void markov_matrices(FbmType type, double hurst, double T, bool unit, const double* gammas, int K,
                     std::vector<double>* A, std::vector<double>* b, double* c);

struct MarkovCoefficients {
  std::vector<double> omegas;
  std::vector<double> d_omega_d_hurst;  // empty unless requested
  double relative_error = 0;            // 1 − bᵀω/c
  double quadratic_error = 0;           // (c − 2bᵀω + ωᵀAω)/c, the true error of the returned ω
  double ridge = 0;                     // ε added to the scaled matrix
  double cond = 0;                      // cond(Ã), Ã = D⁻¹AD⁻¹
  bool ill_conditioned = false;         // cond > 1e12
};

// dω/dH modes: none, central differences of b (h = 1e-5, docs/design/fbm.md §8), analytic ∂P/∂a (type II).
constexpr int kDerivNone = 0;
constexpr int kDerivDifferences = 1;
constexpr int kDerivAnalytic = 2;

// Validates its arguments (coded InvalidArg) and throws Numerical when the solve fails.
MarkovCoefficients markov_coefficients(FbmType type, double hurst, double T, bool unit, const double* gammas,
                                       int K, int derivative);

}  // namespace fbm
}  // namespace itk

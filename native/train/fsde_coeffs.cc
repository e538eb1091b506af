#include "fsde_coeffs.h"

#include <algorithm>

#include "../fbm/fbm_coeffs.h"
#include "../fbm/fbm_linalg.h"

namespace itk {
namespace train {

FsdeCoefficients fsde_coefficients(bool type1, double hurst, double horizon, bool unit, const std::vector<double>& gammas) {
  const int K = static_cast<int>(gammas.size());
  const double h = std::min(0.99, std::max(0.01, hurst));
  const fbm::MarkovCoefficients mc =
      fbm::markov_coefficients(type1 ? fbm::FbmType::I : fbm::FbmType::II, h, horizon, unit, gammas.data(), K, fbm::kDerivDifferences);
  FsdeCoefficients r;
  r.omegas = mc.omegas;
  r.d_omega_d_hurst = mc.d_omega_d_hurst;
  r.relative_error = mc.relative_error;
  if (type1) {
    std::vector<double> C(K * K);
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j) C[i * K + j] = 1.0 / (gammas[i] + gammas[j]);
    r.chol_c = fbm::sqrt_clipped(C, K);
  }
  return r;
}

}  // namespace train
}  // namespace itk

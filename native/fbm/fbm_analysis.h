// Covariances of exact fBM and of MA-fBM (docs/design/fbm.md §1–2) and the Hurst estimator (§7).
#pragma once
#include <cstddef>

#include "../core/control.h"
#include "fbm_coeffs.h"

namespace itk {
namespace fbm {

// out[i*nt + j] = Cov(B(t_i), B(t_j)). markov = false: exact fBM of the type (R_H or the 2F1
// formula), scaled to the normalisation; markov = true: MA-fBM with the given γ, ω (ω already in
// the wanted normalisation; `unit` is then ignored).
void covariance(bool markov, FbmType type, double hurst, bool unit, const double* times, std::size_t nt,
                const double* gammas, const double* omegas, int K, double* out);

// Second-order variogram estimator on lags (§7): per row of `data` ([paths, len], float or
// double), Ĥ = ½·slope of log V₂(m) vs log m. `increments`: rows are increments, summed first.
void estimate_hurst(const void* data, bool f64, std::size_t paths, std::size_t len, bool increments,
                    const int* lags, int nlags, double* out, const Control& ctl);

}  // namespace fbm
}  // namespace itk

// Augmented-system callbacks for the generic SDE engine (docs/design/fbm.md §5): the state
// Z = (X_d, Y_d1..Y_dK) per dimension d, row-major [P, D(1+K)], and the 'general' noise matrix
// [P, D(1+K), D] whose column d is non-zero only on block d. Element loops live here so that
// lib/fbm/fractional.ts only calls the user's base callbacks.
#pragma once
#include <cstddef>

namespace itk {
namespace fbm {

// x[p, d] = z[p, d(1+K)], float or double (both arrays the same type).
void augment_gather(const void* z, void* x, bool f64, std::size_t P, int D, int K);
// out_X = f − c·σ·Σ_k ω_k γ_k Y_k, out_Y = −γ_k Y_k, with f, σ [P, D] from the base model;
// the prior of §5. dsigma (optional [P, D], ∂σ/∂x) adds the Itô correction ½ω̄²σ∂ₓσ to the X drift.
void augment_drift(const void* z, const void* f, const void* sigma, const void* dsigma, void* out, bool f64,
                   std::size_t P, int D, const double* gammas, const double* omegas, int K);
// g[p, d(1+K), d] = σ_d·ω̄, g[p, d(1+K)+1+k, d] = 1, zero elsewhere.
void augment_diffusion(const void* sigma, void* g, bool f64, std::size_t P, int D, const double* omegas, int K);

}  // namespace fbm
}  // namespace itk

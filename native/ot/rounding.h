// Rounding of an approximate plan onto the transport polytope (Altschuler, Weed & Rigollet 2017,
// Algorithm 2; docs/design/ot.md §1.3): x = min(a/P1, 1), F = diag(x)P; y = min(b/Fᵀ1, 1), F ← F diag(y);
// P' = F + e_a e_bᵀ/‖e_b‖₁ with e_a = a − F1, e_b = b − Fᵀ1. Sums in float64, in a fixed order.
#pragma once
#include <cstddef>

namespace itk {
namespace ot {

void round_plan(void* plan, bool f32, std::size_t n, std::size_t m, const double* a, const double* b);

}  // namespace ot
}  // namespace itk

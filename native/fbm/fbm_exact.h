// Exact fBM generators (docs/design/fbm.md §6): Davies–Harte circulant embedding (type I, two paths per
// FFT), Cholesky of the covariance (type I or II, n <= 4096) and Hosking/Durbin–Levinson (type I).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/control.h"
#include "fbm_coeffs.h"

namespace itk {
namespace fbm {

enum class ExactMethod : int { DaviesHarte = 0, Cholesky = 1, Hosking = 2 };

constexpr uint32_t kCholeskyMaxN = 4096;

struct ExactRequest {
  void* out = nullptr;  // [paths, n+1], float or double; B(0) = 0
  bool f64 = false;
  std::size_t paths = 0;
  uint32_t n = 0;
  double T = 1;
  double hurst = 0.5;
  FbmType type = FbmType::I;
  double scale = 1;  // 1 for 'unit', √V for 'gamma'
  uint32_t key_lo = 0, key_hi = 0;
  uint64_t path_offset = 0;
};

// Returns true when Davies–Harte met a negative circulant eigenvalue and fell back to Hosking.
bool exact_sample(const ExactRequest& r, ExactMethod method, const Control& ctl);

// Eigenvalues λ = FFT(c) of the circulant embedding of ρ(0..n′), n′ = next power of two >= n,
// length 2n′ (before clipping).
std::vector<double> circulant_eigenvalues(double hurst, std::size_t n);

}  // namespace fbm
}  // namespace itk

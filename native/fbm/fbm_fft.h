// Radix-2 complex FFT in float64 for the circulant-embedding generator (docs/design/fbm.md §6). Sizes are
// powers of two by construction (n′ = next power of two), so no mixed-radix code is needed.
#pragma once
#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace itk {
namespace fbm {

class Fft {
 public:
  explicit Fft(std::size_t n);  // n a power of two >= 1
  std::size_t size() const { return n_; }
  // In place: X_k = Σ_j x_j e^{−2πi jk/n} (unnormalised forward transform).
  void forward(std::complex<double>* x) const;

 private:
  std::size_t n_;
  std::vector<std::complex<double>> tw_;  // per-stage twiddles, stage len at [len/2 − 1, len − 1)
  std::vector<uint32_t> rev_;
};

}  // namespace fbm
}  // namespace itk

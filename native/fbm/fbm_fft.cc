#include "fbm_fft.h"

#include <cmath>

namespace itk {
namespace fbm {

Fft::Fft(std::size_t n) : n_(n), tw_(n / 2), rev_(n) {
  const double pi = 3.14159265358979323846;
  // Twiddles from cos/sin of the exact angle each (not by repeated multiplication), so their
  // error stays at one rounding for every size up to 2^21.
  for (std::size_t k = 0; k < n / 2; ++k) {
    const double th = -2.0 * pi * static_cast<double>(k) / static_cast<double>(n);
    tw_[k] = {std::cos(th), std::sin(th)};
  }
  int bits = 0;
  while ((std::size_t{1} << bits) < n) ++bits;
  for (std::size_t i = 0; i < n; ++i) {
    uint32_t r = 0;
    for (int b = 0; b < bits; ++b)
      if (i & (std::size_t{1} << b)) r |= 1u << (bits - 1 - b);
    rev_[i] = r;
  }
}

void Fft::forward(std::complex<double>* x) const {
  for (std::size_t i = 0; i < n_; ++i)
    if (rev_[i] > i) std::swap(x[i], x[rev_[i]]);
  // Iterative Cooley–Tukey, decimation in time.
  for (std::size_t len = 2; len <= n_; len <<= 1) {
    const std::size_t half = len >> 1, step = n_ / len;
    for (std::size_t i = 0; i < n_; i += len) {
      for (std::size_t j = 0; j < half; ++j) {
        const std::complex<double> w = tw_[j * step];
        const std::complex<double> u = x[i + j];
        const std::complex<double> xv = x[i + j + half];
        const std::complex<double> v(xv.real() * w.real() - xv.imag() * w.imag(),
                                     xv.real() * w.imag() + xv.imag() * w.real());
        x[i + j] = u + v;
        x[i + j + half] = u - v;
      }
    }
  }
}

}  // namespace fbm
}  // namespace itk

#include "fbm_fft.h"

#include <cmath>

namespace itk {
namespace fbm {
namespace {

inline std::complex<double> cmul(std::complex<double> a, std::complex<double> w) {
  return {a.real() * w.real() - a.imag() * w.imag(), a.real() * w.imag() + a.imag() * w.real()};
}

}  // namespace

Fft::Fft(std::size_t n) : n_(n), tw_(n > 1 ? n - 1 : 1), rev_(n) {
  const double pi = 3.14159265358979323846;
  // Stage twiddles stored contiguously: the stage of length len uses tw_[len/2 − 1 + j] =
  // e^{−2πi j/len}, j < len/2, each from cos/sin of its exact angle (one rounding each).
  for (std::size_t len = 2; len <= n; len <<= 1) {
    const std::size_t half = len / 2;
    for (std::size_t j = 0; j < half; ++j) {
      const double th = -2.0 * pi * static_cast<double>(j) / static_cast<double>(len);
      tw_[half - 1 + j] = {std::cos(th), std::sin(th)};
    }
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
  // Iterative Cooley–Tukey, decimation in time. Two radix-2 stages (len, 2·len) are fused per
  // pass over memory (a radix-2² butterfly on four points) to halve the passes; the arithmetic is
  // that of the two separate stages.
  std::size_t len = 2;
  for (; 2 * len <= n_; len <<= 2) {
    const std::size_t h = len / 2;  // stage len: butterfly span h; stage 2len: span len
    const std::complex<double>* w1 = &tw_[h - 1];    // e^{−2πi j/len}, j < h
    const std::complex<double>* w2 = &tw_[len - 1];  // e^{−2πi j/(2len)}, j < len
    for (std::size_t i = 0; i < n_; i += 2 * len) {
      for (std::size_t j = 0; j < h; ++j) {
        std::complex<double>* p = x + i + j;
        // stage len on (p[0], p[h]) and (p[len], p[len+h])
        const std::complex<double> a = p[0], b = cmul(p[h], w1[j]);
        const std::complex<double> c = p[len], d = cmul(p[len + h], w1[j]);
        const std::complex<double> x0 = a + b, x1 = a - b, x2 = c + d, x3 = c - d;
        // stage 2len on (x0, x2) with w2[j] and (x1, x3) with w2[j + h]
        const std::complex<double> e = cmul(x2, w2[j]), f = cmul(x3, w2[j + h]);
        p[0] = x0 + e;
        p[len] = x0 - e;
        p[h] = x1 + f;
        p[len + h] = x1 - f;
      }
    }
  }
  for (; len <= n_; len <<= 1) {  // a last single radix-2 stage when log2 n is odd
    const std::size_t half = len / 2;
    const std::complex<double>* w = &tw_[half - 1];
    for (std::size_t i = 0; i < n_; i += len) {
      for (std::size_t j = 0; j < half; ++j) {
        const std::complex<double> u = x[i + j];
        const std::complex<double> v = cmul(x[i + j + half], w[j]);
        x[i + j] = u + v;
        x[i + j + half] = u - v;
      }
    }
  }
}

}  // namespace fbm
}  // namespace itk

// Per-block partial statistics (block_reduce.h).
#include "block_reduce.h"

#include <cmath>

#include "../core/threadpool.h"

namespace itk {
namespace stats {
namespace {

template <typename T>
void moments(const T* x, std::size_t r0, std::size_t r1, std::size_t d, double* out) {
  double* mean = out + 1;
  double* m2 = out + 1 + d;
  for (std::size_t j = 0; j < d; ++j) mean[j] = m2[j] = 0;
  double k = 0;
  for (std::size_t i = r0; i < r1; ++i) {
    k += 1;
    const T* row = x + i * d;
    for (std::size_t j = 0; j < d; ++j) {
      const double v = static_cast<double>(row[j]);
      const double delta = v - mean[j];
      mean[j] += delta / k;
      m2[j] += delta * (v - mean[j]);
    }
  }
}

template <typename T>
void payoff(const T* x, std::size_t r0, std::size_t r1, std::size_t d, const ReduceSpec& s, double* out) {
  double sum = 0, sum_sq = 0;
  for (std::size_t i = r0; i < r1; ++i) {
    double p = s.sign * (static_cast<double>(x[i * d + s.coord]) - s.strike);
    if (p < 0) p = 0;  // max(p, 0) that keeps a NaN a NaN
    sum += p;
    sum_sq += p * p;
  }
  out[1] = sum;
  out[2] = sum_sq;
}

template <typename T>
void histogram(const T* x, std::size_t r0, std::size_t r1, std::size_t d, const ReduceSpec& s, double* out) {
  double below = 0, above = 0;
  double* counts = out + 3;
  for (std::size_t b = 0; b < s.bins; ++b) counts[b] = 0;
  const double scale = static_cast<double>(s.bins) / (s.max - s.min);
  const double last = static_cast<double>(s.bins - 1);
  for (std::size_t i = r0; i < r1; ++i) {
    const double v = static_cast<double>(x[i * d + s.coord]);
    if (!(v >= s.min))
      below += 1;
    else if (!(v < s.max))
      above += 1;
    else
      counts[static_cast<std::size_t>(std::fmin(last, std::floor((v - s.min) * scale)))] += 1;
  }
  out[1] = below;
  out[2] = above;
}

template <typename T>
void run(const T* x, std::size_t rows, std::size_t d, const ReduceSpec& spec, std::size_t block, double* out) {
  const std::size_t width = partial_width(spec, d);
  const std::size_t blocks = (rows + block - 1) / block;
  parallel_for(blocks, [&](std::size_t b) {
    const std::size_t r0 = b * block, r1 = r0 + block < rows ? r0 + block : rows;
    double* o = out + b * width;
    o[0] = static_cast<double>(r1 - r0);
    switch (spec.kind) {
      case ReduceKind::Moments: moments(x, r0, r1, d, o); break;
      case ReduceKind::Payoff: payoff(x, r0, r1, d, spec, o); break;
      case ReduceKind::Histogram: histogram(x, r0, r1, d, spec, o); break;
    }
  });
}

}  // namespace

std::size_t partial_width(const ReduceSpec& spec, std::size_t d) {
  switch (spec.kind) {
    case ReduceKind::Moments: return 1 + 2 * d;
    case ReduceKind::Payoff: return 3;
    case ReduceKind::Histogram: return 3 + spec.bins;
  }
  return 0;
}

void block_partials(const float* x, std::size_t rows, std::size_t d, const ReduceSpec& spec, std::size_t block,
                    double* out) {
  run(x, rows, d, spec, block, out);
}
void block_partials(const double* x, std::size_t rows, std::size_t d, const ReduceSpec& spec, std::size_t block,
                    double* out) {
  run(x, rows, d, spec, block, out);
}

}  // namespace stats
}  // namespace itk

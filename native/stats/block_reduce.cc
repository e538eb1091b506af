// Per-block partial statistics (block_reduce.h).
#include "block_reduce.h"

#include <cmath>

#include "../core/threadpool.h"

namespace itk {
namespace stats {
namespace {

// Σ f(i) over rows [r0, r1) in eight interleaved partial sums (lane = (i − r0) mod 8) added
// pairwise at the end: a fixed order, so the sum is a pure function of the block's rows, and eight
// independent add chains instead of one (one chain runs at the add latency, ~4 cycles a row).
template <typename F>
double lane_sum(std::size_t r0, std::size_t r1, F f) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = r0;
  for (; i + 8 <= r1; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += f(i + l);
  for (int l = 0; i < r1; ++i, ++l) acc[l] += f(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// Two passes per coordinate: mean = Σv / n, then M2 = Σ(v − mean)² (the two-pass formula, as
// accurate as Welford's and free of its per-row division chain).
template <typename T>
void moments(const T* x, std::size_t r0, std::size_t r1, std::size_t d, double* out) {
  const double n = static_cast<double>(r1 - r0);
  for (std::size_t j = 0; j < d; ++j) {
    const T* col = x + j;
    const double mean = lane_sum(r0, r1, [&](std::size_t i) { return static_cast<double>(col[i * d]); }) / n;
    out[1 + j] = mean;
    out[1 + d + j] = lane_sum(r0, r1, [&](std::size_t i) {
      const double c = static_cast<double>(col[i * d]) - mean;
      return c * c;
    });
  }
}

template <typename T>
void payoff(const T* x, std::size_t r0, std::size_t r1, std::size_t d, const ReduceSpec& s, double* out) {
  auto p = [&](std::size_t i) {
    const double v = s.sign * (static_cast<double>(x[i * d + s.coord]) - s.strike);
    return v < 0 ? 0.0 : v;  // max(v, 0) that keeps a NaN a NaN
  };
  out[1] = lane_sum(r0, r1, p);
  out[2] = lane_sum(r0, r1, [&](std::size_t i) {
    const double v = p(i);
    return v * v;
  });
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

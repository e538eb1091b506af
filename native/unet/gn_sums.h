// The two sums of GroupNorm's statistics (docs/design/unet.md §4, "GroupNorm statistics"), defined
// so that a CPU and a GPU can both compute them fast and get the same bits: the span is cut into
// chunks of kGnChunk values; a chunk's sum is 16 float lanes (lane j adds values j, j + 16, ... of
// the chunk's whole 16-groups in order, from +0), then the lanes in double in lane order, then the
// chunk's last (< 16) values in double in order; the chunk sums are added in double in chunk order.
// The CPU runs a chunk's lanes as one vector (unet_ops.cc); the GPU gives each (chunk, lane) a
// thread (cuda/unet_norm_kernels.cuh). Plain C++: included by the CPU code and by the kernels'
// CPU emulation (tools/unet-cuda-emu), which checks the GPU kernel against these very lines.
#pragma once
#include <cstddef>

namespace itk {
namespace unet {

constexpr std::size_t kGnChunk = 256;  // values per chunk (16 lanes × 16)
constexpr int kGnLanes = 16;

// Σ term(x) over the span, chunked as above: term(v) (float) in the lanes, tail(v) (double) for a
// chunk's last values.
template <class Term, class Tail>
inline double gn_chunked_sum(const float* x, std::size_t n, Term term, Tail tail) {
  double total = 0;
  for (std::size_t c0 = 0; c0 < n; c0 += kGnChunk) {
    const std::size_t m = n - c0 < kGnChunk ? n - c0 : kGnChunk, full = m / kGnLanes * kGnLanes;
    const float* xc = x + c0;
    float acc[kGnLanes] = {};
    for (std::size_t i = 0; i < full; i += kGnLanes)
      for (int j = 0; j < kGnLanes; ++j) acc[j] += term(xc[i + j]);
    double s = 0;
    for (int j = 0; j < kGnLanes; ++j) s += acc[j];
    for (std::size_t i = full; i < m; ++i) s += tail(xc[i]);
    total += s;
  }
  return total;
}

// Σ x.
inline double gn_sum(const float* x, std::size_t n) {
  return gn_chunked_sum(x, n, [](float v) { return v; }, [](float v) { return static_cast<double>(v); });
}

// Σ (x − mean)²: d = x − mean and d·d in float in the lanes; the tail's d and d² in double.
inline double gn_sq_dev(const float* x, std::size_t n, float mean) {
  return gn_chunked_sum(
      x, n,
      [mean](float v) {
        const float d = v - mean;
        return d * d;
      },
      [mean](float v) {
        const double d = static_cast<double>(v) - mean;
        return d * d;
      });
}

}  // namespace unet
}  // namespace itk

// k-th largest of non-negative doubles without a copy: radix select on the bit patterns
// (non-negative doubles order like their 64-bit patterns), six passes of 2048-bin histograms over
// fixed chunks with integer counts, so the answer is exact and independent of the thread count.
// The CPU twin of the CUDA selection (native/ot/cuda/ot_sparse.cu, docs/design/ot.md §6.3); used by SNS for n·m > 2^24
// where the nth_element copy would double the memory (docs/design/ot.md §6.2).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels/itk_hd.h"

namespace itk {
namespace ot {

// The digit plan shared with the CUDA selection: 64 bits as 5 × 11 + 9, most significant first.
constexpr int kRadixPasses = 6;
constexpr int kRadixShift[kRadixPasses] = {53, 42, 31, 20, 9, 0};
constexpr int kRadixWidth[kRadixPasses] = {11, 11, 11, 11, 11, 9};
constexpr std::size_t kRadixBins = 2048;

// Walks a histogram of one digit from the top: returns the bin holding the `*remaining`-th
// largest entry and lowers *remaining by the counts of the bins above it. ITK_HD: the CUDA
// selection runs this very walk in a one-thread kernel, so no histogram crosses to the host.
ITK_HD uint64_t radix_pick(const uint64_t* hist, uint64_t bin_mask, uint64_t* remaining) {
  uint64_t bin = bin_mask;
  for (; bin > 0; --bin) {
    if (hist[bin] >= *remaining) break;
    *remaining -= hist[bin];
  }
  return bin;
}

// Requires 1 ≤ k ≤ nm and P[q] ≥ 0 (or +0/−0); returns the k-th largest value.
double kth_largest(const double* P, std::size_t nm, std::size_t k);

// The same value by sampling (Floyd & Rivest 1975): a fixed-stride sample of 16 384 entries,
// sorted, brackets the k-th largest between two sample order statistics 4√S ranks either side of
// its expected rank; one parallel pass counts the entries above the bracket and gathers those
// inside (fixed chunks, concatenated in chunk order), and nth_element on that ~1/16 of P finishes.
// Exact (the bracket only narrows the search), no n·m copy, one read of P instead of radix's six;
// falls back to kth_largest when the bracket misses. SNS's top-k threshold (sparse.cc).
double kth_largest_sampled(const double* P, std::size_t nm, std::size_t k);

}  // namespace ot
}  // namespace itk

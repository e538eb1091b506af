#include "select.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "../core/threadpool.h"

namespace itk {
namespace ot {

double kth_largest(const double* P, std::size_t nm, std::size_t k) {
  constexpr std::size_t kBins = kRadixBins, kChunk = std::size_t{1} << 20;
  const std::size_t chunks = (nm + kChunk - 1) / kChunk;
  std::vector<uint64_t> hist(chunks * kBins);
  uint64_t prefix = 0, mask = 0;
  std::size_t remaining = k;
  for (int pass = 0; pass < kRadixPasses; ++pass) {
    const uint64_t bin_mask = (uint64_t{1} << kRadixWidth[pass]) - 1;
    const int shift = kRadixShift[pass];
    parallel_for(chunks, [&](std::size_t c) {
      uint64_t* h = hist.data() + c * kBins;
      std::memset(h, 0, kBins * sizeof(uint64_t));
      const std::size_t end = std::min(nm, (c + 1) * kChunk);
      for (std::size_t q = c * kChunk; q < end; ++q) {
        uint64_t b;
        std::memcpy(&b, P + q, sizeof b);
        b &= ~(uint64_t{1} << 63);  // −0 counts as +0
        if ((b & mask) == prefix) ++h[(b >> shift) & bin_mask];
      }
    });
    std::vector<uint64_t> total(kBins, 0);
    for (std::size_t c = 0; c < chunks; ++c)
      for (std::size_t t = 0; t < kBins; ++t) total[t] += hist[c * kBins + t];
    const uint64_t bin = radix_pick(total.data(), bin_mask, &remaining);
    prefix |= bin << shift;
    mask |= bin_mask << shift;
  }
  double rho;
  std::memcpy(&rho, &prefix, sizeof rho);
  return rho;
}

}  // namespace ot
}  // namespace itk

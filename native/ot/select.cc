#include "select.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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
  uint64_t remaining = k;
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

double kth_largest_sampled(const double* P, std::size_t nm, std::size_t k) {
  constexpr std::size_t kSample = 16384, kChunk = std::size_t{1} << 18;
  if (nm <= 4 * kSample) {
    std::vector<double> all(P, P + nm);
    std::nth_element(all.begin(), all.begin() + (k - 1), all.end(), std::greater<double>());
    return all[k - 1];
  }
  const std::size_t stride = nm / kSample;
  std::vector<double> smp(kSample);
  for (std::size_t t = 0; t < kSample; ++t) smp[t] = P[t * stride];
  std::sort(smp.begin(), smp.end(), std::greater<double>());
  // Expected rank of the k-th largest within the sample, and a bracket of ±4√S ranks (the rank
  // of a fixed value in a sample has standard deviation ≤ √S/2, so this misses very rarely).
  const double r = static_cast<double>(k) * kSample / static_cast<double>(nm);
  const double d = 4 * std::sqrt(static_cast<double>(kSample));
  const double hi = r - d < 0 ? HUGE_VAL : smp[static_cast<std::size_t>(r - d)];
  const double lo = r + d >= kSample - 1 ? -HUGE_VAL : smp[static_cast<std::size_t>(r + d)];
  const std::size_t chunks = (nm + kChunk - 1) / kChunk;
  std::vector<std::size_t> above(chunks, 0);
  std::vector<std::vector<double>> inside(chunks);
  parallel_for(chunks, [&](std::size_t c) {
    const std::size_t end = std::min(nm, (c + 1) * kChunk);
    std::size_t a = 0;
    std::vector<double>& in = inside[c];
    in.reserve((end - c * kChunk) / 8);  // the bracket holds ~8/√S ≈ 6 % of the entries: no regrowth
    for (std::size_t q = c * kChunk; q < end; ++q) {
      const double x = P[q];
      a += x > hi;
      if (x <= hi && x >= lo) in.push_back(x);
    }
    above[c] = a;
  });
  std::size_t n_above = 0, n_in = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    n_above += above[c];
    n_in += inside[c].size();
  }
  if (n_above >= k || n_above + n_in < k) return kth_largest(P, nm, k);  // bracket missed
  std::vector<double> cand;
  cand.reserve(n_in);
  for (const auto& in : inside) cand.insert(cand.end(), in.begin(), in.end());
  const std::size_t kk = k - n_above;
  std::nth_element(cand.begin(), cand.begin() + (kk - 1), cand.end(), std::greater<double>());
  return cand[kk - 1];
}

}  // namespace ot
}  // namespace itk

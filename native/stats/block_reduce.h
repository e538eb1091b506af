// Per-block partial statistics of a [rows, d] final state (itokit/queue reductions, docs/scale-out.md).
// A sharded run reduces each shard where it ran, so a shard returns a few numbers instead of its
// paths. The merged statistic must not depend on the split, so every statistic is taken over fixed
// blocks of `block` rows in row order and merged in block order by the caller (lib/queue/reduce.ts).
// The operations are fixed (below) and in double precision, so the partials are a pure function of
// the block's rows.
#pragma once
#include <cstddef>
#include <cstdint>

namespace itk {
namespace stats {

enum class ReduceKind : int { Moments = 0, Payoff = 1, Histogram = 2 };

struct ReduceSpec {
  ReduceKind kind = ReduceKind::Moments;
  std::size_t coord = 0;   // payoff, histogram: the coordinate read
  double sign = 1;         // payoff: +1 call, −1 put
  double strike = 0;       // payoff
  double min = 0, max = 1; // histogram range [min, max)
  std::size_t bins = 1;    // histogram
};

// Doubles per block in the output:
//   moments   [n, mean[0..d), m2[0..d)]  (two passes: mean = Σx / n, m2 = Σ(x − mean)²)
//   payoff    [n, Σp, Σp²] with p = max(sign·(x − strike), 0)
// Every Σ runs over the block's rows in eight interleaved partial sums (lane = row mod 8 within the
// block) added pairwise, ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)).
//   histogram [n, below, above, counts[0..bins)]  (below also counts NaN)
std::size_t partial_width(const ReduceSpec& spec, std::size_t d);

// Partials of rows [0, rows) of x, one per `block` rows (the last block may be short), written to
// out (ceil(rows / block) · partial_width doubles). Blocks run in parallel; each block is computed
// by one thread in row order, so the result does not depend on the thread count.
void block_partials(const float* x, std::size_t rows, std::size_t d, const ReduceSpec& spec, std::size_t block,
                    double* out);
void block_partials(const double* x, std::size_t rows, std::size_t d, const ReduceSpec& spec, std::size_t block,
                    double* out);

}  // namespace stats
}  // namespace itk

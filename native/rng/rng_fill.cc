#include "rng_fill.h"

#include <algorithm>
#include <atomic>

#include "../core/threadpool.h"
#include "../kernels/normal.h"
#include "rng_batch.h"

namespace itk {
namespace {

constexpr std::size_t kBlocksPerChunk = 1024;  // 4096 draws per chunk: thread-count independent

// Writes words [lo, hi) of block l of a batch to out[out_index ...] in the element type of kind.
void emit_block(void* out, RngKind kind, const RngBatch& b, int l, std::size_t out_index, unsigned lo,
                unsigned hi) {
  for (unsigned i = lo; i < hi; ++i) {
    const std::size_t o = out_index + (i - lo);
    switch (kind) {
      case RngKind::UniformF32: static_cast<float*>(out)[o] = u24(b.w[i][l]); break;
      case RngKind::UniformF64: static_cast<double*>(out)[o] = u32d(b.w[i][l]); break;
      case RngKind::NormalF32: static_cast<float*>(out)[o] = b.z[i][l]; break;
      case RngKind::NormalF64: static_cast<double*>(out)[o] = static_cast<double>(b.z[i][l]); break;
      case RngKind::Bits: static_cast<uint32_t*>(out)[o] = b.w[i][l]; break;
    }
  }
}

}  // namespace

void rng_fill_cpu(void* out, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
                  uint32_t step, uint64_t first, const Control& ctl) {
  if (n == 0) return;
  require(first + n <= (uint64_t{1} << 34), Code::InvalidArg,
          "draw index out of range: a (stream, path, step) has 2^34 draws");
  const uint64_t first_block = first >> 2;
  const uint64_t last_block = (first + n - 1) >> 2;
  const std::size_t n_blocks = static_cast<std::size_t>(last_block - first_block + 1);
  const std::size_t chunks = (n_blocks + kBlocksPerChunk - 1) / kBlocksPerChunk;
  std::atomic<std::size_t> chunks_done{0};
  parallel_for(chunks, [&](std::size_t c) {
    ctl.check();
    ctl.progress(static_cast<double>(chunks_done.fetch_add(1)), static_cast<double>(chunks));
    const std::size_t b0 = c * kBlocksPerChunk;
    const std::size_t b1 = std::min(n_blocks, b0 + kBlocksPerChunk);
    const bool normals = kind == RngKind::NormalF32 || kind == RngKind::NormalF64;
    RngBatch batch;
    for (std::size_t bb = b0; bb < b1; bb += kRngLanes) {
      // Batches start at chunk-relative multiples of kRngLanes; lanes past b1 are computed and
      // dropped, so the values never depend on where a batch starts.
      rng_batch_words(&batch, key.lo, key.hi, stream, path, step, static_cast<uint32_t>(first_block + bb));
      if (normals) rng_batch_normals(&batch);
      const std::size_t lanes = std::min<std::size_t>(kRngLanes, b1 - bb);
      for (std::size_t l = 0; l < lanes; ++l) {
        const uint64_t block = first_block + bb + l;
        const uint64_t j0 = block << 2;  // draw index of word 0
        const unsigned lo = j0 < first ? static_cast<unsigned>(first - j0) : 0u;
        const unsigned hi = static_cast<unsigned>(std::min<uint64_t>(4, first + n - j0));
        emit_block(out, kind, batch, static_cast<int>(l), static_cast<std::size_t>(j0 + lo - first), lo, hi);
      }
    }
  });
}

void rng_randn_cpu(float* out, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
                   uint64_t path_offset, uint32_t step, const Control& ctl) {
  if (paths == 0 || dim == 0) return;
  // Chunks are whole groups of kRngLanes rows, so the split never depends on the thread count.
  const std::size_t grain = kRngLanes * std::max<std::size_t>(1, 4096 / (kRngLanes * dim));
  const std::size_t blocks = (dim + 3) / 4;
  parallel_range(paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    RngBatch batch;
    for (std::size_t g = p0; g < p1; g += kRngLanes) {
      const std::size_t lanes = std::min<std::size_t>(kRngLanes, p1 - g);
      for (std::size_t k = 0; k < blocks; ++k) {
        // Lane l is path (path_offset + g + l); block k holds draws 4k .. 4k+3 of each row.
        rng_batch_words_paths(&batch, key.lo, key.hi, stream, path_offset + g, step, static_cast<uint32_t>(k));
        rng_batch_normals(&batch);
        const std::size_t m = std::min<std::size_t>(4, dim - 4 * k);
        for (std::size_t l = 0; l < lanes; ++l) {
          float* row = out + (g + l) * dim + 4 * k;
          for (std::size_t i = 0; i < m; ++i) row[i] = batch.z[i][l];
        }
      }
    }
  });
}

}  // namespace itk

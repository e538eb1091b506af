#include "rng_fill.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "../core/huge_pages.h"
#include "../core/threadpool.h"
#include "rng.h"
#include "rng_batch.h"

namespace itk {
namespace {

constexpr std::size_t kBlocksPerChunk = 1024;  // 4096 draws per chunk: thread-count independent

}  // namespace

void rng_fill_cpu(void* out, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
                  uint32_t step, uint64_t first, const Control& ctl) {
  if (n == 0) return;
  require(first + n <= (uint64_t{1} << 34), Code::InvalidArg,
          "draw index out of range: a (stream, path, step) has 2^34 draws");
  const std::size_t esize = rng_element_size(kind);
  advise_huge_pages(out, n * esize);
  const uint64_t end = first + n;
  const uint64_t first_block = first >> 2;
  const uint64_t last_block = (end - 1) >> 2;
  const std::size_t n_blocks = static_cast<std::size_t>(last_block - first_block + 1);
  const std::size_t chunks = (n_blocks + kBlocksPerChunk - 1) / kBlocksPerChunk;
  std::atomic<std::size_t> chunks_done{0};
  parallel_for(chunks, [&](std::size_t c) {
    ctl.check();
    ctl.progress(static_cast<double>(chunks_done.fetch_add(1)), static_cast<double>(chunks));
    const uint64_t b0 = first_block + c * kBlocksPerChunk;
    const uint64_t b1 = std::min<uint64_t>(last_block + 1, b0 + kBlocksPerChunk);
    // Whole blocks go straight to out (draw j of block b is element 4b + (j & 3) - first). A block
    // cut by the ends of the request (only the first and the last can be) is made whole in a
    // scratch block and copied in part.
    const uint64_t w0 = std::max(b0, (first + 3) >> 2), w1 = std::min(b1, end >> 2);
    auto block = [&](uint64_t bk) {
      alignas(16) unsigned char tmp[4 * sizeof(double)];
      rng_fill_blocks(tmp, static_cast<int>(kind), key.lo, key.hi, stream, path, step, static_cast<uint32_t>(bk), 1);
      const uint64_t j0 = std::max(first, bk << 2), j1 = std::min(end, (bk << 2) + 4);
      std::memcpy(static_cast<unsigned char*>(out) + (j0 - first) * esize, tmp + (j0 - (bk << 2)) * esize,
                  static_cast<std::size_t>(j1 - j0) * esize);
    };
    if (w0 >= w1) {
      for (uint64_t bk = b0; bk < b1; ++bk) block(bk);
      return;
    }
    for (uint64_t bk = b0; bk < w0; ++bk) block(bk);
    rng_fill_blocks(static_cast<unsigned char*>(out) + ((w0 << 2) - first) * esize, static_cast<int>(kind), key.lo,
                    key.hi, stream, path, step, static_cast<uint32_t>(w0), static_cast<std::size_t>(w1 - w0));
    for (uint64_t bk = w1; bk < b1; ++bk) block(bk);
  });
}

void rng_randn_cpu(float* out, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
                   uint64_t path_offset, uint32_t step, const Control& ctl) {
  if (paths == 0 || dim == 0) return;
  advise_huge_pages(out, paths * dim * sizeof(float));
  // Chunks are whole groups of kRngLanes rows, so the split never depends on the thread count.
  const std::size_t grain = kRngLanes * std::max<std::size_t>(1, 4096 / (kRngLanes * dim));
  parallel_range(paths, grain, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    RngBatch batch;
    for (std::size_t g = p0; g < p1; g += kRngLanes) {
      const std::size_t lanes = std::min<std::size_t>(kRngLanes, p1 - g);
      for (std::size_t k = 0; k < dim; ++k) {
        // Lane l is path (path_offset + g + l); draw k of the step is word step & 3 of the
        // per-step block (k, step >> 2) (native/kernels/step_noise.h).
        // Only the Box–Muller pair holding the step: words (0,1) for steps 4g, 4g+1, (2,3) after.
        rng_batch_words_paths(&batch, key.lo, key.hi, stream, path_offset + g, step >> 2, static_cast<uint32_t>(k));
        const uint32_t p = (step >> 1) & 1u;
        rng_box_muller_lanes(batch.w[2 * p], batch.w[2 * p + 1], batch.z[0], batch.z[1]);
        const float* z = batch.z[step & 1u];
        for (std::size_t l = 0; l < lanes; ++l) out[(g + l) * dim + k] = z[l];
      }
    }
  });
}

}  // namespace itk

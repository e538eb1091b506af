// CUDA pieces of the SNS Newton stage (native/ot/cuda/ot_sparse.cu), used by the CUDA dense ops
// (native/ot/cuda/ot_dense.cu). Only compiled in CUDA builds; nothing else calls them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/device_buffer.h"
#include "sparse.h"

namespace itk {
namespace ot {

// The Newton system of one SNS step, device-resident (docs/design/ot.md §3.3, §3.4, §6.3), from a plan
// already on the device:
//   1. ρ = k-th largest entry by radix select on the bit patterns (six passes of 2048-bin
//      histograms; the bin walk, select.h radix_pick, runs in a one-thread kernel);
//   2. CSR: per-row counts of entries > ρ and = ρ (warp per row), one single-block scan for the
//      tie quotas and row pointers, a warp-ordered fill (ballot + popc) that also records each
//      row's cut column (native/kernels/ot_newton.h);
//   3. CSC: per (row chunk, column) counts with the same kept-entry predicate, one scan in
//      column-major order, a fill per (row chunk, column) — rows ascending within each column, so
//      both matrices hold exactly the entries and order of the CPU's top_k_sparsify;
//   4. Jacobi-PCG with warp-per-row/column matvecs, fixed-grid two-stage dot products and every
//      scalar (α, β, ρ·z, the stop test) on the device; the host reads the small CG state once
//      every kCheckEvery iterations, and kernels after the stop are no-ops, so the iterations match
//      the CPU loop's stopping rule exactly.
// Every vector argument is device memory (the dense ops keep R, K, r and d resident, docs/design/ot.md §6.3);
// only the CG result and ΣP̃ come back.
class CudaNewton {
 public:
  CudaNewton(std::size_t n, std::size_t m);
  void solve(const double* P_dev, std::size_t k, const double* R_dev, const double* K_dev, double sigma,
             const double* r_dev, double rtol, int64_t max_iter, double* d_dev, CgResult* cg, double* kept);
  static constexpr int kCheckEvery = 16;

 private:
  std::size_t n_, m_, cap_ = 0;
  int chunks_;
  DeviceBuffer sel_, hist_, gt_, eq_, quota_, cut_, row_ptr_, cnt_, start_, col_, val_, row_, cval_;
  DeviceBuffer inv_, res_, z_, p_, Ap_, part_a_, part_b_, state_;
};

}  // namespace ot
}  // namespace itk

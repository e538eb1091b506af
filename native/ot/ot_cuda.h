// CUDA pieces of the SNS Newton stage (native/ot/cuda/ot_sparse.cu), used by the CUDA dense ops
// (native/ot/cuda/ot_dense.cu). Only compiled in CUDA builds; nothing else calls them.
#pragma once
#include <cstddef>

#include "sparse.h"

namespace itk {
namespace ot {

// k-th largest of the n·m non-negative doubles at P_dev (device memory), by radix select on the
// bit patterns (non-negative doubles order like their bits, docs/design/ot.md §6.3): six passes of 2048-bin
// shared-memory histograms merged with integer atomics, so the answer is exact and deterministic.
double cuda_kth_largest(const double* P_dev, std::size_t nm, std::size_t k);

// The Jacobi-PCG of sparse.h with the matvec and vector updates on the device (CSR rows, CSC
// columns, one thread per row/column) and dot products reduced per block then summed on the host
// in block order.
CgResult cuda_pcg(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* r, double rtol,
                  int64_t max_iter, double* d);

}  // namespace ot
}  // namespace itk

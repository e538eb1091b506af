// Per-entry arithmetic of the dense OT passes, shared by the CPU loops (native/ot/dense_cpu.cc)
// and the CUDA kernels (native/ot/cuda/ot_dense.cu): the exponent of a plan entry in log-scaling units,
//   z_ij = shift_i + w_j − (C_ij − c0)·ir      (docs/design/ot.md §1.2 normalisation applied on the fly),
// evaluated in the working dtype T (float32 mode does per-entry arithmetic in float32, docs/design/ot.md §4.2).
#pragma once
#include "itk_hd.h"

namespace itk {
namespace ot {

// Separately rounded operations (itk_hd.h): nvcc would otherwise contract (c − c0)·ir into an FMA
// and the GPU would round differently from the CPU.
ITK_HD float entry_exponent(float shift, float w, float c, float c0, float ir) {
  return fsub(fadd(shift, w), fmul(fsub(c, c0), ir));
}
ITK_HD double entry_exponent(double shift, double w, double c, double c0, double ir) {
  return dadd(dadd(shift, w), -dmul(dadd(c, -c0), ir));
}

// Whether a shifted row or column sum Σ exp(z) can be used as it is (docs/design/ot.md §2.1, §4.1): the
// old potential shifts each sum close to 1, and only outside [1e-150, 1e150] (where the log of the
// sum or the next exponent would lose range) is the sum recomputed with the max shift. One rule
// for the CPU passes, the CUDA passes and the CUDA batch kernel.
constexpr double kSumLow = 1e-150, kSumHigh = 1e150;
ITK_HD bool shifted_sum_ok(double s) { return s >= kSumLow && s <= kSumHigh; }

// One term of a squared Euclidean distance, s + (x − y)², in float64 with separately rounded
// operations: the online point-cloud passes (native/ot/dense_cpu.cc PointRows, native/ot/cuda/ot_dense.cu
// PointCost) and the stored cost (native/ot/cost.cc) sum the same terms in the same order, so an
// online cost row equals the stored row bit for bit.
ITK_HD double sq_term(double s, double x, double y) {
  const double t = dadd(x, -y);
  return dadd(s, dmul(t, t));
}

}  // namespace ot
}  // namespace itk

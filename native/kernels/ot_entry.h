// Per-entry arithmetic of the dense OT passes, shared by the CPU loops (native/ot/dense_cpu.cc)
// and the CUDA kernels (cuda/ot_dense.cu): the exponent of a plan entry in log-scaling units,
//   z_ij = shift_i + w_j − (C_ij − c0)·ir      (spec §1.2 normalisation applied on the fly),
// evaluated in the working dtype T (float32 mode does per-entry arithmetic in float32, §4.3).
#pragma once
#include "itk_hd.h"

namespace itk {
namespace ot {

template <typename T>
ITK_HD T entry_exponent(T shift, T w, T c, T c0, T ir) {
  return shift + w - (c - c0) * ir;
}

}  // namespace ot
}  // namespace itk

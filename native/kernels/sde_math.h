// Separately rounded arithmetic for the SDE kernels, overloaded on the state type (float or
// double), so one template source compiles to the same operation sequence on the host and under
// nvcc, with no FMA contraction on either (docs/design/randomness.md §5).
// float exp is the project's ik_expf (bit-identical everywhere); double exp is the platform's
// (CPU and CUDA then agree to within an ulp, not bit for bit).
#pragma once
#include "ikmath.h"
#include "itk_hd.h"

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace itk {
namespace sde {

ITK_HD float ad(float a, float b) { return fadd(a, b); }
ITK_HD float sb(float a, float b) { return fsub(a, b); }
ITK_HD float mu(float a, float b) { return fmul(a, b); }
ITK_HD float dv(float a, float b) { return fdiv(a, b); }
ITK_HD float sq(float a) { return fsqrt(a); }
ITK_HD float ex(float a) { return ik_expf(a); }

ITK_HD double ad(double a, double b) { return dadd(a, b); }
ITK_HD double sb(double a, double b) { return dadd(a, -b); }
ITK_HD double mu(double a, double b) { return dmul(a, b); }
ITK_HD double dv(double a, double b) { return ddiv(a, b); }
ITK_HD double sq(double a) { return dsqrt(a); }
ITK_HD double ex(double a) {
#if defined(__CUDA_ARCH__)
  return ::exp(a);
#else
  return std::exp(a);
#endif
}

// max(v, 0) as used by full truncation (Lord, Koekkoek, van Dijk 2010); NaN stays NaN.
template <typename T>
ITK_HD T pos(T v) {
  return v < T(0) ? T(0) : v;
}

}  // namespace sde
}  // namespace itk

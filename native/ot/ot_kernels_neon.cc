// NEON operation set (2 float64 lanes, FMLA/FMLS) for ot_kernels_body.h. Advanced SIMD is part of
// every ARMv8-A core; ot_kernels.cc uses it on AArch64 unless ITOKIT_CPU=scalar.
#if defined(__aarch64__) && defined(__GNUC__)
#include <arm_neon.h>

#include <cstdint>

#define ITK_OT_TARGET
#define ITK_OT_FN inline __attribute__((always_inline))

namespace itk {
namespace ot {
namespace {
struct Neond {
  static constexpr std::size_t kLanes = 2;
  static constexpr const char* kName = "neon";
  using D = float64x2_t;
  using I = int64x2_t;
  static ITK_OT_FN D set1(double x) { return vdupq_n_f64(x); }
  static ITK_OT_FN D zero() { return vdupq_n_f64(0.0); }
  static ITK_OT_FN D load(const double* p) { return vld1q_f64(p); }
  static ITK_OT_FN void store(double* p, D x) { vst1q_f64(p, x); }
  static ITK_OT_FN D add(D a, D b) { return vaddq_f64(a, b); }
  static ITK_OT_FN D sub(D a, D b) { return vsubq_f64(a, b); }
  static ITK_OT_FN D mul(D a, D b) { return vmulq_f64(a, b); }
  // NaN inputs propagate here (x86 returns the second operand); vexp's last step returns a NaN x
  // itself, so the results agree.
  static ITK_OT_FN D min(D a, D b) { return vminq_f64(a, b); }
  static ITK_OT_FN D max(D a, D b) { return vmaxq_f64(a, b); }
  static ITK_OT_FN D fmadd(D a, D b, D c) { return vfmaq_f64(c, a, b); }   // a·b + c, one rounding
  static ITK_OT_FN D fnmadd(D a, D b, D c) { return vfmsq_f64(c, a, b); }  // c − a·b, one rounding
  static ITK_OT_FN I bits(D x) { return vreinterpretq_s64_f64(x); }
  static ITK_OT_FN D pow2(I k) { return vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(k, vdupq_n_s64(1023)), 52)); }
  static ITK_OT_FN D blend_gt(D x, D t, D yes, D no) { return vbslq_f64(vcgtq_f64(x, t), yes, no); }
  // x == x is false only for NaN: keep `no` where it holds, `yes` where x is NaN
  static ITK_OT_FN D blend_nan(D x, D yes, D no) { return vbslq_f64(vceqq_f64(x, x), no, yes); }
  static ITK_OT_FN double hsum(D x) { return vgetq_lane_f64(x, 0) + vgetq_lane_f64(x, 1); }
};
}  // namespace
}  // namespace ot
}  // namespace itk

#include "ot_kernels_body.h"

namespace itk {
namespace ot {
const OtKernels& ot_kernels_neon() { return kernel_table<Neond>(); }
}  // namespace ot
}  // namespace itk
#endif

// ITK_HD marks single-source math: compiled as __host__ __device__ under nvcc and as a plain
// inline function by the host compiler, so the CPU tests exercise the exact arithmetic the GPU runs.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define ITK_HD __host__ __device__ __forceinline__
#else
#define ITK_HD inline
#endif

// ITK_DEVICE_EXACT: device code uses the separately rounded _rn intrinsics below. A benchmark build
// may define ITK_FAST_MATH (with nvcc --use_fast_math, tools/sde_fast_math_bench.cu) to get plain,
// contractible operators and the hardware's approximate functions instead, which measures what
// bit-identity with the CPU costs on the GPU (docs/sde.md); the library never defines it.
#if defined(__CUDA_ARCH__) && !defined(ITK_FAST_MATH)
#define ITK_DEVICE_EXACT 1
#else
#define ITK_DEVICE_EXACT 0
#endif

namespace itk {

// Separately rounded float operations. nvcc contracts a*b+c into an FMA unless told not to, so
// device code uses the _rn intrinsics (and the build passes --fmad=false as a second guard); the
// host build compiles with -ffp-contract=off (docs/design/randomness.md).
ITK_HD float fmul(float a, float b) {
#if ITK_DEVICE_EXACT
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
ITK_HD float fadd(float a, float b) {
#if ITK_DEVICE_EXACT
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
ITK_HD float fsub(float a, float b) {
#if ITK_DEVICE_EXACT
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}
ITK_HD float fdiv(float a, float b) {
#if ITK_DEVICE_EXACT
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}
ITK_HD float fsqrt(float a) {
#if ITK_DEVICE_EXACT
  return __fsqrt_rn(a);
#else
  return __builtin_sqrtf(a);
#endif
}
ITK_HD double dmul(double a, double b) {
#if ITK_DEVICE_EXACT
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
ITK_HD double dadd(double a, double b) {
#if ITK_DEVICE_EXACT
  return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
ITK_HD double ddiv(double a, double b) {
#if ITK_DEVICE_EXACT
  return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
ITK_HD double dsqrt(double a) {
#if ITK_DEVICE_EXACT
  return __dsqrt_rn(a);
#else
  return __builtin_sqrt(a);
#endif
}

ITK_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  return u;
#endif
}
ITK_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
#endif
}

}  // namespace itk

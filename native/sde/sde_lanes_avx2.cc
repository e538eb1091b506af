// AVX2 fused lane kernels (8 paths per register, two groups per 16-path call): sde_lanes_simd.h
// with simd_avx2.h.
#if defined(__x86_64__) && defined(__GNUC__)
#include "../rng/simd_avx2.h"
// simd_avx2.h first: it sets the target of everything sde_lanes_simd.h defines.
#include "sde_lanes_simd.h"

namespace itk {
SdeLanesFn sde_lanes_kernel_avx2(const sde::FusedArgs<float>& a) { return simd::sde_lanes_kernel<simd::Avx2>(a); }
}  // namespace itk
#endif

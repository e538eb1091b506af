// NEON fused lane kernels (4 paths per register, four groups per 16-path call): sde_lanes_simd.h
// with simd_neon.h.
#if defined(__aarch64__) && defined(__GNUC__)
#include "../rng/simd_neon.h"
// simd_neon.h first: it defines the operation-set macros sde_lanes_simd.h uses.
#include "sde_lanes_simd.h"

namespace itk {
SdeLanesFn sde_lanes_kernel_neon(const sde::FusedArgs<float>& a) { return simd::sde_lanes_kernel<simd::Neon>(a); }
}  // namespace itk
#endif

// AVX-512 fused lane kernels (16 paths per register): sde_lanes_simd.h with simd_avx512.h.
#if defined(__x86_64__) && defined(__GNUC__)
#include "../rng/simd_avx512.h"
// simd_avx512.h first: it sets the target of everything sde_lanes_simd.h defines.
#include "sde_lanes_simd.h"

namespace itk {
SdeLanesFn sde_lanes_kernel_avx512(const sde::FusedArgs<float>& a) { return simd::sde_lanes_kernel<simd::Avx512>(a); }
}  // namespace itk
#endif

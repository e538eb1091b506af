#include "sde_lanes.h"

#include "../rng/rng_batch.h"

namespace itk {

SdeLanesFn sde_lanes_kernel(const sde::FusedArgs<float>& a) {
  if (a.noise.refine != 1) return nullptr;
  switch (rng_simd_path()) {  // the generators' one run-time choice of instruction set
#if defined(__x86_64__) && defined(__GNUC__)
    case SimdPath::Avx512: return sde_lanes_kernel_avx512(a);
    case SimdPath::Avx2: return sde_lanes_kernel_avx2(a);
#endif
#if defined(__aarch64__) && defined(__GNUC__)
    case SimdPath::Neon: return sde_lanes_kernel_neon(a);
#endif
    default: return nullptr;
  }
}

}  // namespace itk

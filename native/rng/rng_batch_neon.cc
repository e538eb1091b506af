// NEON generator kernels (4 lanes per register): rng_batch_simd.h instantiated with simd_neon.h.
// The batch functions run four registers per 16-lane call; the fills use two (Dual<Neon>, two
// independent dependency chains, as the x86 fills do).
#if defined(__aarch64__) && defined(__GNUC__)
#include "simd_neon.h"
// simd_neon.h first: it defines the operation-set macros rng_batch_simd.h uses.
#include "rng_batch_simd.h"

namespace itk {
const RngKernels& rng_kernels_neon() { return simd::kernels<simd::Neon, simd::Dual<simd::Neon>>(); }
}  // namespace itk
#endif

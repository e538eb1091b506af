// AVX-512 generator kernels (16 lanes per register): rng_batch_simd.h instantiated with
// simd_avx512.h. rng_batch.cc calls them only when cpu_features() reports AVX-512 F/DQ/BW/VL.
#if defined(__x86_64__) && defined(__GNUC__)
#include "simd_avx512.h"
// simd_avx512.h first: it sets the target of everything rng_batch_simd.h defines.
#include "rng_batch_simd.h"

namespace itk {
const RngKernels& rng_kernels_avx512() { return simd::kernels<simd::Avx512, simd::Dual<simd::Dual<simd::Avx512>>>(); }
}  // namespace itk
#endif

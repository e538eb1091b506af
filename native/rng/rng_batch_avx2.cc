// AVX2 generator kernels (8 lanes per register): rng_batch_simd.h instantiated with simd_avx2.h.
// rng_batch.cc calls them only when cpu_features() reports AVX2.
#if defined(__x86_64__) && defined(__GNUC__)
#include "simd_avx2.h"
// simd_avx2.h first: it sets the target of everything rng_batch_simd.h defines.
#include "rng_batch_simd.h"

namespace itk {
const RngKernels& rng_kernels_avx2() { return simd::kernels<simd::Dual<simd::Avx2>, simd::Dual<simd::Dual<simd::Avx2>>>(); }
}  // namespace itk
#endif

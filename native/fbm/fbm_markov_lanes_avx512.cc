// AVX-512 MA-fBM lane kernels (16 paths per register): fbm_markov_lanes_simd.h with simd_avx512.h.
#if defined(__x86_64__) && defined(__GNUC__)
#include "../rng/simd_avx512.h"
// simd_avx512.h first: it sets the target of everything fbm_markov_lanes_simd.h defines.
#include "fbm_markov_lanes_simd.h"

namespace itk {
namespace fbm {
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel_avx512(const FbmMarkovArgs<T>& a, int d) {
  return simd::fbm_lanes_kernel<simd::Avx512, T>(a, d);
}
template FbmLanesFn<float> fbm_lanes_kernel_avx512<float>(const FbmMarkovArgs<float>&, int);
template FbmLanesFn<double> fbm_lanes_kernel_avx512<double>(const FbmMarkovArgs<double>&, int);
}  // namespace fbm
}  // namespace itk
#endif

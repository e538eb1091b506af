// AVX2 MA-fBM lane kernels (8 paths per register, two groups per 16-path call): fbm_markov_lanes_simd.h with simd_avx2.h.
#if defined(__x86_64__) && defined(__GNUC__)
#include "../rng/simd_avx2.h"
// simd_avx2.h first: it sets the target of everything fbm_markov_lanes_simd.h defines.
#include "fbm_markov_lanes_simd.h"

namespace itk {
namespace fbm {
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel_avx2(const FbmMarkovArgs<T>& a, int d) {
  return simd::fbm_lanes_kernel<simd::Avx2, T>(a, d);
}
template FbmLanesFn<float> fbm_lanes_kernel_avx2<float>(const FbmMarkovArgs<float>&, int);
template FbmLanesFn<double> fbm_lanes_kernel_avx2<double>(const FbmMarkovArgs<double>&, int);
}  // namespace fbm
}  // namespace itk
#endif

// NEON MA-fBM lane kernels (4 paths per register, four groups per 16-path call):
// fbm_markov_lanes_simd.h with simd_neon.h.
#if defined(__aarch64__) && defined(__GNUC__)
#include "../rng/simd_neon.h"
// simd_neon.h first: it defines the operation-set macros fbm_markov_lanes_simd.h uses.
#include "fbm_markov_lanes_simd.h"

namespace itk {
namespace fbm {
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel_neon(const FbmMarkovArgs<T>& a, int d) {
  return simd::fbm_lanes_kernel<simd::Neon, T>(a, d);
}
template FbmLanesFn<float> fbm_lanes_kernel_neon<float>(const FbmMarkovArgs<float>&, int);
template FbmLanesFn<double> fbm_lanes_kernel_neon<double>(const FbmMarkovArgs<double>&, int);
}  // namespace fbm
}  // namespace itk
#endif

#include "fbm_markov_lanes.h"

#include "../rng/rng_batch.h"

namespace itk {
namespace fbm {

template <typename T>
FbmLanesFn<T> fbm_lanes_kernel(const FbmMarkovArgs<T>& a, int d) {
  switch (rng_simd_path()) {  // the generators' one run-time choice of instruction set
#if defined(__x86_64__) && defined(__GNUC__)
    case SimdPath::Avx512: return fbm_lanes_kernel_avx512<T>(a, d);
    case SimdPath::Avx2: return fbm_lanes_kernel_avx2<T>(a, d);
#endif
#if defined(__aarch64__) && defined(__GNUC__)
    case SimdPath::Neon: return fbm_lanes_kernel_neon<T>(a, d);
#endif
    default: return nullptr;
  }
}

template FbmLanesFn<float> fbm_lanes_kernel<float>(const FbmMarkovArgs<float>&, int);
template FbmLanesFn<double> fbm_lanes_kernel<double>(const FbmMarkovArgs<double>&, int);

}  // namespace fbm
}  // namespace itk

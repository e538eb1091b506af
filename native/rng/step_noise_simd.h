// The per-step noise layout (native/kernels/step_noise.h, docs/design/noise-layout.md) over vector
// lanes: lane l of part p is path path0 + l at step group g + p. One Philox block per draw gives
// four steps, its pairs (w0, w1) and (w2, w3) steps (4g, 4g + 1) and (4g + 2, 4g + 3). Shared by
// the SDE lanes (native/sde/sde_lanes_simd.h) and the MA-fBM lanes
// (native/fbm/fbm_markov_lanes_simd.h), so both draw the W that step_normal() defines.
// Include after the operation-set header and rng_simd.h, simd_dual.h.
#pragma once
#ifndef ITK_SIMD_FN
#error "include simd_avx512.h or simd_avx2.h first"
#endif

namespace itk {
namespace simd {
namespace {

// Counter words of one (stream, path group): c0 (the draw) and c1 (the group) set per call.
template <class V>
struct StepCounter {
  using S = typename V::Base;
  Words4<V> c;
  typename V::U group_of_part;  // p in every lane of part p
  ITK_SIMD_FN StepCounter(uint32_t stream, uint64_t path0) {
    typename S::U p2, p3;
    path_counters<S>(stream, path0, &p2, &p3);
    c.v0 = V::set1(0u);
    c.v1 = V::set1(0u);
    c.v2 = V::dup(p2);
    c.v3 = V::dup(p3);
    alignas(64) uint32_t part[V::kLanes];
    for (int l = 0; l < V::kLanes; ++l) part[l] = static_cast<uint32_t>(l / S::kLanes);
    group_of_part = V::load(part);
  }
  // The counter of draw j at groups g .. g + kParts - 1.
  ITK_SIMD_FN Words4<V> at(uint32_t g, uint32_t j) const {
    return Words4<V>{V::set1(j), V::add(V::set1(g), group_of_part), c.v2, c.v3};
  }
};

// The normals of one draw's blocks: z[4p + s] is step 4(g + p) + s (both Box–Muller pairs of each
// block, normal.h normals4 per lane).
template <class V>
ITK_SIMD_FN void group_normals(const Words4<V>& w, typename V::Base::F* z) {
  using F = typename V::Base::F;
  constexpr int K = V::kParts;
  for (int half = 0; half < 2; ++half) {
    typename V::F z0, z1;
    box_muller<V>(half ? w.v2 : w.v0, half ? w.v3 : w.v1, &z0, &z1);
    F a[K], b[K];
    V::split(z0, a);
    V::split(z1, b);
    for (int k = 0; k < K; ++k) {
      z[4 * k + 2 * half] = a[k];
      z[4 * k + 2 * half + 1] = b[k];
    }
  }
}

}  // namespace
}  // namespace simd
}  // namespace itk

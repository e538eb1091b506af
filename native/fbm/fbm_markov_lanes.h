// MA-fBM Markov sampler on the CPU with S::kLanes paths per vector (docs/design/fbm.md "CPU
// lanes"): a group of up to kFbmGroup paths of one dimension runs all its steps with the K OU
// states, the normals and the float64 sum B̂ in vector registers (fbm_markov_lanes_simd.h;
// AVX-512 or AVX2, as rng_simd_path() chose). Every path has the bits of fbm_markov_path.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels/fbm_step.h"

namespace itk {
namespace fbm {

// Paths per call of a lane kernel: one AVX-512 register, two AVX2 registers.
constexpr int kFbmGroup = 16;

// Rows path0 .. path0 + lanes - 1 (lanes <= kFbmGroup), dimension d: writes B̂ to
// out[i*row + j*stride] and, when bro != nullptr, W to bro[i*row + j*stride], j = 0..n, for
// lane i, exactly as fbm_markov_path(a, path0 + i, d, out + i*row, ...) does.
template <typename T>
using FbmLanesFn = void (*)(const FbmMarkovArgs<T>& a, uint64_t path0, int lanes, int d, T* out, T* bro,
                            std::size_t row, std::size_t stride);

// The kernel for (a, d) on this CPU, or nullptr (no SIMD path: the caller runs fbm_markov_path).
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel(const FbmMarkovArgs<T>& a, int d);

#if defined(__x86_64__) && defined(__GNUC__)
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel_avx512(const FbmMarkovArgs<T>& a, int d);
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel_avx2(const FbmMarkovArgs<T>& a, int d);
#endif
#if defined(__aarch64__) && defined(__GNUC__)
template <typename T>
FbmLanesFn<T> fbm_lanes_kernel_neon(const FbmMarkovArgs<T>& a, int d);
#endif

}  // namespace fbm
}  // namespace itk

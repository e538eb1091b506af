// Vectorized whole-trajectory kernels of the fused float32 GBM (d <= 2), CIR and Heston models on
// the CPU: a group of up to kRngLanes paths advances through all steps with its state, noise and
// update in vector registers (sde_lanes_simd.h; AVX-512 or AVX2 as rng_simd_path() chose).
#pragma once
#include <cstdint>

#include "../kernels/sde_fused.h"

namespace itk {

// Runs rows row0 .. row0 + lanes - 1 (lanes <= kRngLanes) of a over its step range, as
// sde::run_unit() would, bit for bit.
using SdeLanesFn = void (*)(const sde::FusedArgs<float>& a, uint64_t row0, int lanes);

// The kernel for a's model and method on this CPU, or nullptr (no SIMD path, or a model without
// a vector kernel); callers then use the scalar update.
SdeLanesFn sde_lanes_kernel(const sde::FusedArgs<float>& a);

#if defined(__x86_64__) && defined(__GNUC__)
SdeLanesFn sde_lanes_kernel_avx512(const sde::FusedArgs<float>& a);
SdeLanesFn sde_lanes_kernel_avx2(const sde::FusedArgs<float>& a);
#endif
#if defined(__aarch64__) && defined(__GNUC__)
SdeLanesFn sde_lanes_kernel_neon(const sde::FusedArgs<float>& a);
#endif

}  // namespace itk

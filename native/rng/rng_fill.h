// CPU generation of counter-based random numbers (docs/design/randomness.md). Each Philox block yields four
// draws; block b of (seed, stream, path, step) always yields the same words, so results never
// depend on the thread count or on how a request is cut.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/control.h"

namespace itk {

struct RngKey {
  uint32_t lo = 0;
  uint32_t hi = 0;
};

enum class RngKind : int {
  UniformF32 = 0,
  UniformF64 = 1,
  NormalF32 = 2,
  NormalF64 = 3,
  Bits = 4,
};

// Draws j = first .. first+n-1 of one (stream, path, step) triple into out, whose element type
// follows `kind` (float, double, double, double... see RngKind; Bits writes uint32).
void rng_fill_cpu(void* out, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
                  uint32_t step, uint64_t first, const Control& ctl);

// The noise a simulation step sees: out[p*dim + k] is draw k of path (path_offset + p) at `step`,
// in the per-step layout of native/kernels/step_noise.h (what sde.simulate draws).
void rng_randn_cpu(float* out, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
                   uint64_t path_offset, uint32_t step, const Control& ctl);

}  // namespace itk

// A sampler update that runs right after ε̂ = UNet(x, t) (docs/design/unet.md §9 "CUDA graphs"):
// one or two linear combinations of the samplers' lincomb (native/kernels/sampler_ops.h, the bits
// of the sampler's own update, lib/samplers/ops.ts applyStep) over three values: x (the step's
// input), ε̂ and a scratch tmp. The last combination writes x′, the one before it tmp.
// DDIM without clipping is one: x′ = c_x·x + c_ε·ε̂ (+ σz); with clip_sample two:
// tmp = clamp(x/√ᾱ_t − ε̂·√(1−ᾱ_t)/√ᾱ_t), x′ = √ᾱ′·tmp + c_ε·ε̂ (+ σz) (lib/samplers/discrete.ts).
// The CUDA backend runs it inside the forward's launch sequence (cuda/unet_forward.cu); the host
// form (step_update_host) is the reference the tests compare the layout with.
#pragma once
#include <cstdint>
#include <vector>

#include "../kernels/sampler_ops.h"

namespace itk {
namespace unet {

struct StepUpdate {
  enum Value { X = 0, Eps = 1, Tmp = 2 };
  static constexpr int kMaxCombs = 2, kMaxTerms = 2;
  struct Comb {
    int K = 0;                     // input terms
    Value in[kMaxTerms] = {X, X};  // their values
    bool noise = false;            // adds c_z·z, z from (key, stream, sample_offset + row, step)
    double clip = 0;               // > 0: clamp to [−clip, clip]
  };
  int n = 0;  // combinations; the last writes x′, the others tmp
  Comb comb[kMaxCombs];
  std::vector<double> coef;  // comb 0's (K + 1)·B coefficients (rows as LincombTerms::coef), then comb 1's
  uint32_t key_lo = 0, key_hi = 0, stream = 0, step = 0;
  uint64_t sample_offset = 0;
};

// Checks u's structure and coefficient count against a batch of P rows (InvalidArg / Shape), so
// every reader stays in bounds whoever built it.
void check_step_update(const StepUpdate& u, uint64_t P);

// Combination i of u as the lincomb kernels read it: inputs from values (indexed by StepUpdate::Value:
// x, ε̂, tmp), coefficients at coef (u.coef's layout, in host or device memory), the noise
// parameters and clip of step_params(u, i).
LincombTerms step_terms(const StepUpdate& u, int i, const float* const values[3], const double* coef, uint64_t P, uint64_t D);
LincombStepParams step_params(const StepUpdate& u, int i);

// The update on the host: out[P, D] = x′ from x and eps (the reference for the device's form).
void step_update_host(const StepUpdate& u, const float* x, const float* eps, uint64_t P, uint64_t D, float* out);

}  // namespace unet
}  // namespace itk

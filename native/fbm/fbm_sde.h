// Fused simulator of fBM-driven SDEs (docs/design/fbm.md §5) and the controlled Euler step a variational
// trainer calls once per step (§8). State in float64; CPU thread pool over fixed path chunks.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/control.h"
#include "../kernels/fbm_sde.h"

namespace itk {
namespace fbm {

struct SdeRequest {
  FbmSdeParams params;
  int D = 1;          // fBM-driven dimensions
  int state_dim = 1;  // D (fOU) or 2 (rough volatility: log σ, log S)
  std::size_t paths = 0;
  uint32_t n = 0;
  double T = 1;
  bool exact = true;
  bool stationary = false;
  const double* gammas = nullptr;
  const double* omegas = nullptr;
  int K = 0;
  uint32_t key_lo = 0, key_hi = 0;
  uint64_t path_offset = 0;
  const double* x0 = nullptr;  // state_dim values, or paths·state_dim when x0_per_path
  bool x0_per_path = false;
  uint32_t save_every = 0;     // 0: final state only; k: t_0, t_k, ..., t_n
  void* out = nullptr;         // [S, paths, state_dim], float or double
  bool out_f64 = true;
  double* final_y = nullptr;   // optional [paths, D, K]: the OU factors after the last step
};

// Number of save points for n steps and save_every.
std::size_t sde_save_count(uint32_t n, uint32_t save_every);
void sde_simulate(const SdeRequest& r, const Control& ctl);

struct ControlledStep {
  FbmSdeParams params;
  int D = 1;
  std::size_t paths = 0;
  double dt = 0;
  const double* gammas = nullptr;
  const double* omegas = nullptr;
  int K = 0;
  uint32_t key_lo = 0, key_hi = 0;
  uint64_t path_offset = 0;
  uint32_t step = 0;  // global step id j (the Brownian increment of [t_j, t_j+1])
  double* x = nullptr;         // [paths, D] in place
  double* y = nullptr;         // [paths, D, K] in place
  const double* u = nullptr;   // [paths, D] control, or null (prior)
  double* kl = nullptr;        // [paths] += ½|u|²Δ, or null
};

// One Euler step of the augmented system under control u (docs/design/fbm.md §5, posterior).
void controlled_step(const ControlledStep& c, const Control& ctl);

// Y(0) for [paths, D, K]: N(0, C) for type I (FBM_INIT stream), 0 for type II.
void initial_factors(double* y, std::size_t paths, int D, const double* gammas, int K, bool stationary,
                     uint32_t key_lo, uint32_t key_hi, uint64_t path_offset);

}  // namespace fbm
}  // namespace itk

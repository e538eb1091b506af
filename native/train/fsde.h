// Variational trainer for fBM-driven SDEs (docs/design/trainers.md §2, docs/design/fbm.md §5, §8; Daems et al.,
// ICLR 2024). One call = Euler–Maruyama rollout of the controlled augmented system
// Z = (X, Y_1..Y_K) for a batch of paths with the trajectory stored, the loss
//   L = Σ_j ½((X(t_j) − o_j)/σ_obs)² + Σ_n ½u_n²Δ,
// and (optionally) the whole-trajectory adjoint pass: gradients w.r.t. the control MLP, ω (and
// through ω(H), H) and θ, for all paths at once. Discretize-then-optimize: the ΔW_n are drawn
// once per call from Philox (stream BROWNIAN, path = pathOffset + p, step n) and held fixed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/control.h"
#include "../nn/mlp.h"

namespace itk {
namespace train {

struct FsdeConfig {
  int K = 5;
  int N = 200;             // Euler steps
  double dt = 0.01;
  double sigma = 1;        // σ of dX = (−θX) dt + σ dB̂
  double theta = 0;        // prior drift b(X) = −θX
  double x0 = 0;
  bool type1 = false;      // type I: Y(0) ~ N(0, C), C_ij = 1/(γ_i+γ_j); type II: Y(0) = 0
  std::vector<double> gammas;
  std::vector<double> omegas;
  std::vector<double> chol_c;  // K×K square root of C (type I)
  // Observations: J step indices in [1, N], σ_obs, and a data set of M sequences [M, J]; path p
  // of the call observes sequence (seq_offset + p) mod M.
  std::vector<int> obs_idx;
  double obs_sigma = 0.1;
  const void* obs = nullptr;   // T[M·J]
  std::size_t M = 1;
  uint64_t seq_offset = 0;
  // Amortized control: append (o_next, t_next − t) to the control input, the value and the time
  // to go of the path's next observation (the last one's after it), so one network serves every
  // sequence of the data set.
  bool amortized = false;
  uint32_t key_lo = 0, key_hi = 0;
  uint64_t path_offset = 0;
  int input_dim() const { return 3 + K + (amortized ? 2 : 0); }
};

template <typename T>
struct FsdeOutput {
  // Always: mean over paths of the loss, of its likelihood part and of its KL part.
  double loss = 0, nll = 0, kl = 0;
  // Gradients (backward only): the MLP's, overwritten with the mean over paths; ∂L/∂ω_k; ∂L/∂θ.
  T* grad = nullptr;
  std::vector<double> d_omega;
  double d_theta = 0;
  // Optional rollout outputs: X [B, N+1] and u [B, N].
  T* x_paths = nullptr;
  T* u_paths = nullptr;
  // Optional per-path loss [B].
  double* path_loss = nullptr;
};

// Paths per chunk of the pool; results do not depend on it (rows of the MLP are independent).
constexpr std::size_t kFsdeChunk = 8;

template <typename T>
void fsde_run(const nn::MlpLayout& L, const T* params, const FsdeConfig& cfg, std::size_t B, bool backward,
              FsdeOutput<T>* out, const Control& ctl);

}  // namespace train
}  // namespace itk

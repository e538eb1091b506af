// Training steps for diffusion-type generative models on low-dimensional data
// (docs/design/trainers.md §3–4): denoising score matching (VP / VE, ε-parameterisation) and conditional
// flow matching with a given coupling. The model is an MLP on [x, sin(2π f_j t), cos(2π f_j t)].
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/control.h"
#include "../nn/mlp.h"

namespace itk {
namespace train {

enum class DiffusionMode : int { ScoreVP = 0, ScoreVE = 1, FlowMatching = 2 };

struct DiffusionConfig {
  DiffusionMode mode = DiffusionMode::ScoreVP;
  std::size_t B = 256;        // batch
  int D = 2;                  // data dimension
  double a = 0.1, b = 20;     // VP: β_min, β_max; VE: σ_min, σ_max
  double t_eps = 1e-3;        // t ~ U(t_eps, 1) for score matching, U(0, 1) for flow matching
  double sigma_fm = 0;        // flow matching: x_t = (1−t)x₀ + t x₁ + σ ε
  uint32_t key_lo = 0, key_hi = 0;
  uint32_t step = 0;          // iteration: the Philox step of this batch's draws
  std::vector<double> freqs;  // Fourier frequencies f_j
};

// VP: m_t = exp(−¼t²(β_max−β_min) − ½tβ_min), σ_t = √(1 − m_t²); VE: m_t = 1, σ_t = σ_min(σ_max/σ_min)^t.
void diffusion_marginal(DiffusionMode mode, double a, double b, double t, double* m, double* s);

// One loss/gradient evaluation; grad (n_params) is overwritten with ∂(mean loss)/∂θ.
// Score modes draw the batch themselves: row r takes data row ⌊u·M⌋, t and ε from Philox
// (stream USER, path r, step cfg.step). Flow matching takes x0 [B, D] (noise), x1 [M, D] and
// pair[r] (the x1 row matched to x0 row r) from the caller; t and ε come from Philox.
// Returns the mean loss E‖model − target‖² / D.
template <typename T>
double diffusion_step(const nn::MlpLayout& L, const T* params, const DiffusionConfig& cfg, const T* data, std::size_t M,
                      const T* x0, const int32_t* pair, T* grad, const Control& ctl);

// out[r] = α·x[r] + β·model(x[r], t[r]) (out width D), or plain model(x[r], t[r]) ([n, out]) when
// α = 0 and β = 1. The affine form gives an Euler step (α = 1, β = h) or a reverse-SDE / probability-
// flow drift (VP: α = ½β(t), β = −β(t)/σ_t for an ε-model) in one pass. t has n entries or one.
template <typename T>
void diffusion_eval(const nn::MlpLayout& L, const T* params, const std::vector<double>& freqs, int D, const T* x,
                    std::size_t n, const double* t, std::size_t nt, double alpha, double beta, T* out, const Control& ctl);

// A flow-matching minibatch: x0[r] ~ N(0, I) (stream PRIOR, path r, step), data row idx[r] drawn
// uniformly (stream RESAMPLE word 0) and copied to x1[r].
template <typename T>
void draw_batch(const T* data, std::size_t M, int D, std::size_t B, uint32_t key_lo, uint32_t key_hi, uint32_t step,
                T* x0, T* x1, int32_t* idx);

// Coupling from an entropic plan [B, B] (rows: x0, columns: the minibatch's x1): pair[r] =
// idx[j] with j drawn from row r of the plan (argmax = false; stream RESAMPLE word 1) or the
// row's argmax (argmax = true).
void plan_pairs(const double* plan, std::size_t B, const int32_t* idx, bool argmax, uint32_t key_lo, uint32_t key_hi,
                uint32_t step, int32_t* pair);

}  // namespace train
}  // namespace itk

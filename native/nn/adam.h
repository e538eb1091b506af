// Adam / AdamW with bias correction (Kingma & Ba, Algorithm 1; AdamW: Loshchilov & Hutter), and
// gradient clipping by global L2 norm as torch.nn.utils.clip_grad_norm_ does it.
#pragma once
#include <cstddef>

namespace itk {
namespace nn {

struct AdamConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // Adam: added to the gradient; AdamW: decoupled p ← p(1 − lr·wd)
  bool decoupled = false;   // true for AdamW
  double max_norm = 0;      // > 0: scale the gradient by min(1, max_norm/(‖g‖ + 1e-6))
};

// ‖g‖₂ accumulated in double over fixed chunks (independent of the thread count).
template <typename T>
double grad_norm(const T* g, std::size_t n);

// One step with step counter t ≥ 1 (bias correction 1 − β^t). Returns ‖g‖₂ before clipping.
// grad is not modified: the clipping factor is applied inside the update.
template <typename T>
double adam_step(T* params, const T* grad, T* m, T* v, std::size_t n, long t, const AdamConfig& cfg);

}  // namespace nn
}  // namespace itk

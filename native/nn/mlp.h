// Multilayer perceptron with hand-written backward pass (docs/design/trainers.md §1).
//
// Layer l is a PyTorch Linear: W_l [out, in] row-major, b_l [out], z = x W_lᵀ + b_l, a = act_l(z).
// All parameters live in one contiguous buffer, layer by layer as (W_l, b_l), so the optimizer is
// one loop and save/load is one file. The forward pass keeps z_l and a_l of every layer in a
// workspace ("tape") that the backward pass reads.
//
// Two levels: the *_rows kernels run one block of rows on the calling thread (the trainers call
// them from inside their own per-path-chunk loops); mlp_forward/mlp_backward split a batch into
// fixed chunks over the thread pool. Chunk boundaries depend only on the batch size, and the
// per-chunk parameter gradients are summed in chunk order, so results do not depend on threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/control.h"
#include "../kernels/nn_act.h"

namespace itk {
namespace nn {

struct MlpLayout {
  int n_layers = 0;
  std::vector<int> sizes;            // n_layers + 1 widths, sizes[0] = input dimension
  std::vector<Act> acts;             // activation after each Linear
  std::vector<std::size_t> w_off;    // offset of W_l in the parameter buffer
  std::vector<std::size_t> b_off;    // offset of b_l
  std::vector<std::size_t> tape_off; // per-row offset of z_l in a tape block (a_l follows z_l)
  std::size_t n_params = 0;
  std::size_t tape_per_row = 0;      // Σ_l 2·out_l
  int max_width = 0;
  int in() const { return sizes.front(); }
  int out() const { return sizes.back(); }
};

// desc = [n_layers, sizes[0..n_layers], acts[0..n_layers-1]]; throws InvalidArg when malformed.
MlpLayout make_layout(const int32_t* desc, std::size_t len);

// Copies every W_l [out, in] into wt at the same offset as W_lᵀ [in, out], so the forward pass
// runs as row updates z[r,:] += x[r,i]·Wᵀ[i,:] that vectorise without reassociating sums.
template <typename T>
void transpose_weights(const MlpLayout& L, const T* params, T* wt);

// Forward pass of `rows` rows. tape holds rows·tape_per_row values: for layer l the block
// z_l [rows, out_l] at rows·tape_off[l], then a_l [rows, out_l]. y (may be null) receives a_last.
template <typename T>
void mlp_forward_rows(const MlpLayout& L, const T* params, const T* wt, const T* x, std::size_t rows, T* tape,
                      T* y);

// Backward pass for upstream gradient dy [rows, out]: accumulates dW_l += dz_lᵀ·in_l and
// db_l += Σ_rows dz_l into grad (same layout as params), and writes dx = dz_0·W_0 [rows, in]
// when dx is non-null. scratch holds 2·rows·max_width values.
template <typename T>
void mlp_backward_rows(const MlpLayout& L, const T* params, const T* x, std::size_t rows, const T* tape,
                       const T* dy, T* dx, T* grad, T* scratch);

// Rows per chunk of the pooled versions; a function of the batch size only.
std::size_t mlp_grain(std::size_t rows);

// Whole batch over the thread pool. The tape of the pooled forward is chunk-major (chunk c's
// block of rows_c·tape_per_row values starts at r0·tape_per_row), the same total size.
template <typename T>
void mlp_forward(const MlpLayout& L, const T* params, const T* x, std::size_t rows, T* tape, T* y,
                 const Control& ctl);
template <typename T>
void mlp_backward(const MlpLayout& L, const T* params, const T* x, std::size_t rows, const T* tape,
                  const T* dy, T* dx, T* grad, const Control& ctl);

}  // namespace nn
}  // namespace itk

// CPU MLP kernels (see mlp.h). Every inner loop is an axpy over a contiguous row, so the host
// compiler vectorises it without reassociating a sum: the result of each output is the same
// sequence of roundings for any batch split.
#include "mlp.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "../core/error.h"
#include "../core/isa.h"
#include "../core/threadpool.h"

namespace itk {
namespace nn {

MlpLayout make_layout(const int32_t* desc, std::size_t len) {
  require(desc != nullptr && len >= 1, Code::InvalidArg, "MLP description is empty");
  const int n = desc[0];
  require(n >= 1 && n <= 64, Code::InvalidArg, "an MLP needs 1 to 64 layers");
  require(len == static_cast<std::size_t>(2 * n + 2), Code::InvalidArg, "MLP description has the wrong length");
  MlpLayout L;
  L.n_layers = n;
  for (int i = 0; i <= n; ++i) {
    require(desc[1 + i] >= 1 && desc[1 + i] <= (1 << 20), Code::InvalidArg, "MLP widths must be in [1, 2^20]");
    L.sizes.push_back(desc[1 + i]);
    L.max_width = std::max(L.max_width, desc[1 + i]);
  }
  std::size_t off = 0, tape = 0;
  for (int l = 0; l < n; ++l) {
    const int a = desc[2 + n + l];
    require(a >= 0 && a <= 4, Code::InvalidArg, "unknown activation code " + std::to_string(a));
    L.acts.push_back(static_cast<Act>(a));
    const std::size_t in = L.sizes[l], out = L.sizes[l + 1];
    L.w_off.push_back(off);
    off += in * out;
    L.b_off.push_back(off);
    off += out;
    L.tape_off.push_back(tape);
    tape += 2 * out;
  }
  L.n_params = off;
  L.tape_per_row = tape;
  return L;
}

template <typename T>
void transpose_weights(const MlpLayout& L, const T* params, T* wt) {
  for (int l = 0; l < L.n_layers; ++l) {
    const std::size_t in = L.sizes[l], out = L.sizes[l + 1];
    const T* W = params + L.w_off[l];
    T* Wt = wt + L.w_off[l];
    for (std::size_t o = 0; o < out; ++o)
      for (std::size_t i = 0; i < in; ++i) Wt[i * out + o] = W[o * in + i];
  }
}

namespace {

// The three hot loops, as plain overloads for float and double so that each can be compiled for
// AVX-512, AVX2 and baseline x86-64 and picked at load time (target_clones). No loop reassociates
// a sum and the build uses -ffp-contract=off, so every clone gives the same bits.
#define ITK_NN_CLONES ITK_ISA_CLONES

// z[r, :] = b + Σ_i in[r, i]·Wt[i, :]: blocks of 4 rows × 16 outputs are accumulated in registers
// over i (the tile fits in vector registers on AVX2/AVX-512), the ragged edges one output at a
// time. Every element's sum runs over i in increasing order from b, whatever the tiling.
#define ITK_NN_LINEAR_ROWS(T)                                                                                  \
  ITK_NN_CLONES void linear_rows(const T* __restrict in, std::size_t rows, std::size_t nin,                     \
                                 const T* __restrict Wt, const T* __restrict b, std::size_t nout,               \
                                 T* __restrict z) {                                                             \
    constexpr std::size_t kT = 16;                                                                             \
    std::size_t r = 0;                                                                                         \
    for (; r + 4 <= rows; r += 4) {                                                                            \
      const T* x0 = in + r * nin;                                                                              \
      std::size_t o0 = 0;                                                                                      \
      for (; o0 + kT <= nout; o0 += kT) {                                                                      \
        T a0[kT], a1[kT], a2[kT], a3[kT];                                                                      \
        for (std::size_t j = 0; j < kT; ++j) a0[j] = a1[j] = a2[j] = a3[j] = b[o0 + j];                        \
        for (std::size_t i = 0; i < nin; ++i) {                                                                \
          const T v0 = x0[i], v1 = x0[nin + i], v2 = x0[2 * nin + i], v3 = x0[3 * nin + i];                    \
          const T* __restrict w = Wt + i * nout + o0;                                                          \
          for (std::size_t j = 0; j < kT; ++j) {                                                               \
            a0[j] += v0 * w[j];                                                                                \
            a1[j] += v1 * w[j];                                                                                \
            a2[j] += v2 * w[j];                                                                                \
            a3[j] += v3 * w[j];                                                                                \
          }                                                                                                    \
        }                                                                                                      \
        for (std::size_t j = 0; j < kT; ++j) {                                                                 \
          z[r * nout + o0 + j] = a0[j];                                                                        \
          z[(r + 1) * nout + o0 + j] = a1[j];                                                                  \
          z[(r + 2) * nout + o0 + j] = a2[j];                                                                  \
          z[(r + 3) * nout + o0 + j] = a3[j];                                                                  \
        }                                                                                                      \
      }                                                                                                        \
      for (std::size_t q = 0; q < 4; ++q)                                                                      \
        for (std::size_t o = o0; o < nout; ++o) {                                                              \
          T acc = b[o];                                                                                        \
          for (std::size_t i = 0; i < nin; ++i) acc += x0[q * nin + i] * Wt[i * nout + o];                     \
          z[(r + q) * nout + o] = acc;                                                                         \
        }                                                                                                      \
    }                                                                                                          \
    for (; r < rows; ++r) {                                                                                    \
      T* __restrict z0 = z + r * nout;                                                                         \
      for (std::size_t o = 0; o < nout; ++o) z0[o] = b[o];                                                     \
      const T* x0 = in + r * nin;                                                                              \
      for (std::size_t i = 0; i < nin; ++i) {                                                                  \
        const T a0 = x0[i];                                                                                    \
        const T* __restrict w = Wt + i * nout;                                                                 \
        for (std::size_t o = 0; o < nout; ++o) z0[o] += a0 * w[o];                                             \
      }                                                                                                        \
    }                                                                                                          \
  }

// dW[o, :] += Σ_r dz[r, o]·in[r, :] and db[o] += Σ_r dz[r, o], rows in order. The o-outer order
// keeps one row of dW in cache while all rows of the block are added.
#define ITK_NN_PARAM_GRAD(T)                                                                                   \
  ITK_NN_CLONES void param_grad_rows(const T* __restrict dz, const T* __restrict in, std::size_t rows,          \
                                     std::size_t nin, std::size_t nout, T* __restrict dW, T* __restrict db) {   \
    for (std::size_t o = 0; o < nout; ++o) {                                                                   \
      T* __restrict w = dW + o * nin;                                                                          \
      T acc = db[o];                                                                                           \
      for (std::size_t r = 0; r < rows; ++r) {                                                                 \
        const T c = dz[r * nout + o];                                                                          \
        acc += c;                                                                                              \
        const T* __restrict xr = in + r * nin;                                                                 \
        for (std::size_t i = 0; i < nin; ++i) w[i] += c * xr[i];                                               \
      }                                                                                                        \
      db[o] = acc;                                                                                             \
    }                                                                                                          \
  }

// gin[r, :] = Σ_o dz[r, o]·W[o, :] (o ascending from 0 for every element): 4 rows × 16 inputs in
// registers over o, the ragged edges one element at a time.
#define ITK_NN_INPUT_GRAD(T)                                                                                   \
  ITK_NN_CLONES void input_grad_rows(const T* __restrict dz, const T* __restrict W, std::size_t rows,           \
                                     std::size_t nin, std::size_t nout, T* __restrict gin) {                    \
    constexpr std::size_t kT = 16;                                                                             \
    std::size_t r = 0;                                                                                         \
    for (; r + 4 <= rows; r += 4) {                                                                            \
      const T* d0 = dz + r * nout;                                                                             \
      std::size_t i0 = 0;                                                                                      \
      for (; i0 + kT <= nin; i0 += kT) {                                                                       \
        T a0[kT], a1[kT], a2[kT], a3[kT];                                                                      \
        for (std::size_t j = 0; j < kT; ++j) a0[j] = a1[j] = a2[j] = a3[j] = T(0);                             \
        for (std::size_t o = 0; o < nout; ++o) {                                                               \
          const T c0 = d0[o], c1 = d0[nout + o], c2 = d0[2 * nout + o], c3 = d0[3 * nout + o];                 \
          const T* __restrict w = W + o * nin + i0;                                                            \
          for (std::size_t j = 0; j < kT; ++j) {                                                               \
            a0[j] += c0 * w[j];                                                                                \
            a1[j] += c1 * w[j];                                                                                \
            a2[j] += c2 * w[j];                                                                                \
            a3[j] += c3 * w[j];                                                                                \
          }                                                                                                    \
        }                                                                                                      \
        for (std::size_t j = 0; j < kT; ++j) {                                                                 \
          gin[r * nin + i0 + j] = a0[j];                                                                       \
          gin[(r + 1) * nin + i0 + j] = a1[j];                                                                 \
          gin[(r + 2) * nin + i0 + j] = a2[j];                                                                 \
          gin[(r + 3) * nin + i0 + j] = a3[j];                                                                 \
        }                                                                                                      \
      }                                                                                                        \
      for (std::size_t q = 0; q < 4; ++q)                                                                      \
        for (std::size_t i = i0; i < nin; ++i) {                                                               \
          T acc = T(0);                                                                                        \
          for (std::size_t o = 0; o < nout; ++o) acc += d0[q * nout + o] * W[o * nin + i];                     \
          gin[(r + q) * nin + i] = acc;                                                                        \
        }                                                                                                      \
    }                                                                                                          \
    for (; r < rows; ++r) {                                                                                    \
      T* __restrict g0 = gin + r * nin;                                                                        \
      const T* d0 = dz + r * nout;                                                                             \
      for (std::size_t i = 0; i < nin; ++i) g0[i] = T(0);                                                      \
      for (std::size_t o = 0; o < nout; ++o) {                                                                 \
        const T c0 = d0[o];                                                                                    \
        const T* __restrict w = W + o * nin;                                                                   \
        for (std::size_t i = 0; i < nin; ++i) g0[i] += c0 * w[i];                                              \
      }                                                                                                        \
    }                                                                                                          \
  }

ITK_NN_LINEAR_ROWS(float)
ITK_NN_LINEAR_ROWS(double)
ITK_NN_PARAM_GRAD(float)
ITK_NN_PARAM_GRAD(double)
ITK_NN_INPUT_GRAD(float)
ITK_NN_INPUT_GRAD(double)

}  // namespace

template <typename T>
void mlp_forward_rows(const MlpLayout& L, const T* params, const T* wt, const T* x, std::size_t rows, T* tape,
                      T* y) {
  const T* in = x;
  for (int l = 0; l < L.n_layers; ++l) {
    const std::size_t nin = L.sizes[l], nout = L.sizes[l + 1];
    T* z = tape + rows * L.tape_off[l];
    T* a = z + rows * nout;
    linear_rows(in, rows, nin, wt + L.w_off[l], params + L.b_off[l], nout, z);
    const Act act = L.acts[l];
    const std::size_t n = rows * nout;
    if (act == Act::Identity) {
      std::memcpy(a, z, n * sizeof(T));
    } else {
      for (std::size_t k = 0; k < n; ++k) a[k] = act_forward(act, z[k]);
    }
    in = a;
  }
  if (y != nullptr) std::memcpy(y, in, rows * L.out() * sizeof(T));
}

template <typename T>
void mlp_backward_rows(const MlpLayout& L, const T* params, const T* x, std::size_t rows, const T* tape,
                       const T* dy, T* dx, T* grad, T* scratch) {
  T* bufA = scratch;                          // dz of the current layer
  T* bufB = scratch + rows * L.max_width;     // gradient w.r.t. the current layer's input
  const T* g = dy;                            // gradient w.r.t. the current layer's output
  for (int l = L.n_layers - 1; l >= 0; --l) {
    const std::size_t nin = L.sizes[l], nout = L.sizes[l + 1];
    const T* z = tape + rows * L.tape_off[l];
    const T* a = z + rows * nout;
    const Act act = L.acts[l];
    T* __restrict dz = bufA;
    const std::size_t n = rows * nout;
    if (act == Act::Identity) {
      std::memcpy(dz, g, n * sizeof(T));
    } else {
      for (std::size_t k = 0; k < n; ++k) dz[k] = g[k] * act_derivative(act, z[k], a[k]);
    }
    const T* in = l == 0 ? x : tape + rows * L.tape_off[l - 1] + rows * L.sizes[l];
    param_grad_rows(dz, in, rows, nin, nout, grad + L.w_off[l], grad + L.b_off[l]);
    if (l == 0 && dx == nullptr) break;
    T* gin = l == 0 ? dx : bufB;
    input_grad_rows(dz, params + L.w_off[l], rows, nin, nout, gin);
    g = gin;  // lives in bufB; the next layer's dz goes to bufA, so the two never alias
  }
}

std::size_t mlp_grain(std::size_t rows) {
  // At most 64 chunks (bounded memory for the per-chunk gradients), at least 32 rows each.
  return std::max<std::size_t>(32, (rows + 63) / 64);
}

template <typename T>
void mlp_forward(const MlpLayout& L, const T* params, const T* x, std::size_t rows, T* tape, T* y,
                 const Control& ctl) {
  std::vector<T> wt(L.n_params);
  transpose_weights(L, params, wt.data());
  const std::size_t grain = mlp_grain(rows);
  const std::size_t chunks = (rows + grain - 1) / grain;
  parallel_for(chunks, [&](std::size_t c) {
    ctl.check();
    const std::size_t r0 = c * grain, nr = std::min(rows, r0 + grain) - r0;
    mlp_forward_rows(L, params, wt.data(), x + r0 * L.in(), nr, tape + r0 * L.tape_per_row,
                     y ? y + r0 * L.out() : nullptr);
  });
  ctl.progress(1, 1);
}

template <typename T>
void mlp_backward(const MlpLayout& L, const T* params, const T* x, std::size_t rows, const T* tape,
                  const T* dy, T* dx, T* grad, const Control& ctl) {
  const std::size_t grain = mlp_grain(rows);
  const std::size_t chunks = (rows + grain - 1) / grain;
  std::vector<T> partial(chunks * L.n_params, T(0));
  std::vector<T> scratch(chunks * 2 * grain * L.max_width);
  parallel_for(chunks, [&](std::size_t c) {
    ctl.check();
    const std::size_t r0 = c * grain, nr = std::min(rows, r0 + grain) - r0;
    mlp_backward_rows(L, params, x + r0 * L.in(), nr, tape + r0 * L.tape_per_row, dy + r0 * L.out(),
                      dx ? dx + r0 * L.in() : nullptr, partial.data() + c * L.n_params,
                      scratch.data() + c * 2 * grain * L.max_width);
  });
  // grad += Σ_c partial_c, chunks in order for every element.
  parallel_range(L.n_params, 4096, [&](std::size_t b, std::size_t e) {
    for (std::size_t c = 0; c < chunks; ++c) {
      const T* p = partial.data() + c * L.n_params;
      for (std::size_t k = b; k < e; ++k) grad[k] += p[k];
    }
  });
  ctl.progress(1, 1);
}

#define ITK_NN_INSTANTIATE(T)                                                                                   \
  template void transpose_weights<T>(const MlpLayout&, const T*, T*);                                           \
  template void mlp_forward_rows<T>(const MlpLayout&, const T*, const T*, const T*, std::size_t, T*, T*);       \
  template void mlp_backward_rows<T>(const MlpLayout&, const T*, const T*, std::size_t, const T*, const T*, T*, \
                                     T*, T*);                                                                   \
  template void mlp_forward<T>(const MlpLayout&, const T*, const T*, std::size_t, T*, T*, const Control&);      \
  template void mlp_backward<T>(const MlpLayout&, const T*, const T*, std::size_t, const T*, const T*, T*, T*,  \
                                const Control&);
ITK_NN_INSTANTIATE(float)
ITK_NN_INSTANTIATE(double)
#undef ITK_NN_INSTANTIATE

}  // namespace nn
}  // namespace itk

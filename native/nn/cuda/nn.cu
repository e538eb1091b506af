// CUDA MLP forward and backward (see native/nn/nn_cuda.h). One thread per output element; every
// sum runs in the CPU's order (inputs i ascending for z, rows ascending for dW and db, outputs o
// ascending for dx), so CUDA and CPU differ only through the activation functions' last bits.
#include <vector>

#include "../../core/cuda_api.h"
#include "../../kernels/nn_act.h"
#include "../nn_cuda.h"
#include "../../core/cuda/common.cuh"

namespace itk {
namespace nn {
namespace {

template <typename T>
__global__ void linear_act(const T* __restrict in, const T* __restrict W, const T* __restrict b, std::size_t rows,
                           int nin, int nout, Act act, T* __restrict z, T* __restrict a) {
  for (std::size_t k = blockIdx.x * blockDim.x + threadIdx.x; k < rows * nout; k += gridDim.x * blockDim.x) {
    const std::size_t r = k / nout;
    const int o = static_cast<int>(k % nout);
    T s = b[o];
    for (int i = 0; i < nin; ++i) s = s + in[r * nin + i] * W[o * nin + i];
    z[k] = s;
    a[k] = act_forward(act, s);
  }
}

template <typename T>
__global__ void act_grad(const T* __restrict g, const T* __restrict z, const T* __restrict a, std::size_t n, Act act,
                         T* __restrict dz) {
  for (std::size_t k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += gridDim.x * blockDim.x)
    dz[k] = act == Act::Identity ? g[k] : g[k] * act_derivative(act, z[k], a[k]);
}

// dW[o, i] += Σ_r dz[r, o]·in[r, i] and (column i == nin) db[o] += Σ_r dz[r, o].
template <typename T>
__global__ void param_grad(const T* __restrict dz, const T* __restrict in, std::size_t rows, int nin, int nout,
                           T* __restrict dW, T* __restrict db) {
  const std::size_t n = static_cast<std::size_t>(nout) * (nin + 1);
  for (std::size_t k = blockIdx.x * blockDim.x + threadIdx.x; k < n; k += gridDim.x * blockDim.x) {
    const int o = static_cast<int>(k / (nin + 1));
    const int i = static_cast<int>(k % (nin + 1));
    if (i == nin) {
      T s = db[o];
      for (std::size_t r = 0; r < rows; ++r) s = s + dz[r * nout + o];
      db[o] = s;
    } else {
      T s = dW[o * nin + i];
      for (std::size_t r = 0; r < rows; ++r) s = s + dz[r * nout + o] * in[r * nin + i];
      dW[o * nin + i] = s;
    }
  }
}

template <typename T>
__global__ void input_grad(const T* __restrict dz, const T* __restrict W, std::size_t rows, int nin, int nout,
                           T* __restrict gin) {
  for (std::size_t k = blockIdx.x * blockDim.x + threadIdx.x; k < rows * nin; k += gridDim.x * blockDim.x) {
    const std::size_t r = k / nin;
    const int i = static_cast<int>(k % nin);
    T s = T(0);
    for (int o = 0; o < nout; ++o) s = s + dz[r * nout + o] * W[o * nin + i];
    gin[k] = s;
  }
}

// Device copy of a host buffer, freed on scope exit.
template <typename T>
struct Dev {
  T* p = nullptr;
  std::size_t n = 0;
  explicit Dev(std::size_t count, const T* host = nullptr) : n(count) {
    p = static_cast<T*>(cuda::malloc_bytes(count * sizeof(T) + 1));
    if (host) cuda::copy_to_device(p, host, count * sizeof(T));
  }
  ~Dev() { cuda::free_bytes(p); }
  void to_host(T* host) const { cuda::copy_to_host(host, p, n * sizeof(T)); }
  Dev(const Dev&) = delete;
  Dev& operator=(const Dev&) = delete;
};

}  // namespace

template <typename T>
void mlp_forward_cuda(const MlpLayout& L, const T* params, const T* x, std::size_t rows, T* tape, T* y) {
  cuda::require_available();
  Dev<T> dp(L.n_params, params), dx(rows * L.in(), x), dt(rows * L.tape_per_row);
  const T* in = dx.p;
  for (int l = 0; l < L.n_layers; ++l) {
    const int nin = L.sizes[l], nout = L.sizes[l + 1];
    T* z = dt.p + rows * L.tape_off[l];
    T* a = z + rows * nout;
    linear_act<<<cuda::grid_for(rows * nout), cuda::kBlock>>>(in, dp.p + L.w_off[l], dp.p + L.b_off[l], rows, nin, nout,
                                                              L.acts[l], z, a);
    cuda::check_launch("nn forward");
    in = a;
  }
  dt.to_host(tape);
  if (y) cuda::copy_to_host(y, in, rows * L.out() * sizeof(T));
}

template <typename T>
void mlp_backward_cuda(const MlpLayout& L, const T* params, const T* x, std::size_t rows, const T* tape, const T* dy,
                       T* dx, T* grad) {
  cuda::require_available();
  Dev<T> dp(L.n_params, params), dxin(rows * L.in(), x), dt(rows * L.tape_per_row, tape), ddy(rows * L.out(), dy);
  Dev<T> dg(L.n_params, grad), bufA(rows * L.max_width), bufB(rows * L.max_width), ddx(rows * L.in());
  const T* g = ddy.p;
  for (int l = L.n_layers - 1; l >= 0; --l) {
    const int nin = L.sizes[l], nout = L.sizes[l + 1];
    const T* z = dt.p + rows * L.tape_off[l];
    const T* a = z + rows * nout;
    act_grad<<<cuda::grid_for(rows * nout), cuda::kBlock>>>(g, z, a, rows * nout, L.acts[l], bufA.p);
    cuda::check_launch("nn backward");
    const T* in = l == 0 ? dxin.p : dt.p + rows * L.tape_off[l - 1] + rows * L.sizes[l];
    param_grad<<<cuda::grid_for(static_cast<std::size_t>(nout) * (nin + 1)), cuda::kBlock>>>(
        bufA.p, in, rows, nin, nout, dg.p + L.w_off[l], dg.p + L.b_off[l]);
    cuda::check_launch("nn backward");
    if (l == 0 && dx == nullptr) break;
    T* gin = l == 0 ? ddx.p : bufB.p;
    input_grad<<<cuda::grid_for(rows * nin), cuda::kBlock>>>(bufA.p, dp.p + L.w_off[l], rows, nin, nout, gin);
    cuda::check_launch("nn backward");
    g = gin;
  }
  dg.to_host(grad);
  if (dx) ddx.to_host(dx);
}

template void mlp_forward_cuda<float>(const MlpLayout&, const float*, const float*, std::size_t, float*, float*);
template void mlp_forward_cuda<double>(const MlpLayout&, const double*, const double*, std::size_t, double*, double*);
template void mlp_backward_cuda<float>(const MlpLayout&, const float*, const float*, std::size_t, const float*,
                                       const float*, float*, float*);
template void mlp_backward_cuda<double>(const MlpLayout&, const double*, const double*, std::size_t, const double*,
                                        const double*, double*, double*);

}  // namespace nn
}  // namespace itk

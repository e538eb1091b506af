// MLP activations and their derivatives (docs/design/trainers.md §1), single-source for the CPU loops
// and the CUDA kernels. Each derivative is written in terms of the pre-activation z and the
// output a = act(z), whichever is cheaper and stable:
//   tanh' = 1 − a², SiLU' = σ(z)(1 + z(1 − σ(z))), softplus' = σ(z), ReLU' = [z > 0].
#pragma once
#include <cmath>

#include "itk_hd.h"

namespace itk {
namespace nn {

#if !defined(__CUDACC__)
// Host: pick the float/double overloads (nvcc provides them as device functions already).
using std::exp;
using std::fabs;
using std::log1p;
using std::tanh;
#endif

enum class Act : int { Identity = 0, Tanh = 1, Silu = 2, Softplus = 3, Relu = 4 };

// σ(z) without overflow: for z < 0 use e^z/(1+e^z) so exp never sees a large positive argument.
template <typename T>
ITK_HD T sigmoid(T z) {
  if (z >= T(0)) return T(1) / (T(1) + exp(-z));
  const T e = exp(z);
  return e / (T(1) + e);
}

// softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^{−|z|}): no overflow, no loss for z ≪ 0.
template <typename T>
ITK_HD T softplus(T z) {
  const T m = z > T(0) ? z : T(0);
  return m + log1p(exp(-fabs(z)));
}

template <typename T>
ITK_HD T act_forward(Act a, T z) {
  switch (a) {
    case Act::Tanh: return tanh(z);
    case Act::Silu: return z * sigmoid(z);
    case Act::Softplus: return softplus(z);
    case Act::Relu: return z > T(0) ? z : T(0);
    default: return z;
  }
}

// d act / dz at pre-activation z with output a.
template <typename T>
ITK_HD T act_derivative(Act a, T z, T out) {
  switch (a) {
    case Act::Tanh: return T(1) - out * out;
    case Act::Silu: {
      const T s = sigmoid(z);
      return s * (T(1) + z * (T(1) - s));
    }
    case Act::Softplus: return sigmoid(z);
    case Act::Relu: return z > T(0) ? T(1) : T(0);
    default: return T(1);
  }
}

}  // namespace nn
}  // namespace itk

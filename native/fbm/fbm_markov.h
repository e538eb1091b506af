// MA-fBM path sampling (docs/design/fbm.md): host setup of the per-step constants in float64, then a
// CPU thread-pool loop or the CUDA kernel over (path, dimension), both running fbm_markov_path.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/control.h"
#include "../core/device.h"
#include "../kernels/fbm_step.h"

namespace itk {
namespace fbm {

struct MarkovSetup {
  int K = 0;
  double sqrt_dt = 0;
  std::vector<double> decay, m, lc, lC, omega;
};

// Validates (γ > 0 increasing, Euler guard γmax·Δ < 0.5) and builds the constants of docs/design/fbm.md
MarkovSetup markov_setup(const double* gammas, const double* omegas, int K, double dt, bool exact, bool stationary);

struct MarkovRequest {
  void* out = nullptr;   // [paths, n+1, dims], float or double
  void* bro = nullptr;   // same shape or null
  bool f64 = false;
  std::size_t paths = 0;
  int dims = 1;
  uint32_t n = 0;
  double T = 1;
  bool stationary = false;  // type I
  bool exact = true;
  const double* gammas = nullptr;
  const double* omegas = nullptr;
  int K = 0;
  uint32_t key_lo = 0, key_hi = 0;
  uint64_t path_offset = 0;
  bool device_io = false;  // out and bro are device memory (CUDA only): no copies to the host
};

void markov_sample(const MarkovRequest& r, Device device, const Control& ctl);

// The kernel arguments of request r with setup s, for the CPU loop and the CUDA launch alike; they
// differ only in where the constant tables live (host vectors or device buffers, already cast to T),
// so those come in as pointers (lc and lC may be null: Euler steps, type II).
template <typename T>
FbmMarkovArgs<T> markov_args(const MarkovRequest& r, const MarkovSetup& s, const T* decay, const T* m, const T* lc,
                             const T* lC, const double* omega) {
  FbmMarkovArgs<T> a;
  a.K = s.K;
  a.dims = r.dims;
  a.n = r.n;
  a.exact = r.exact ? 1 : 0;
  a.stationary = r.stationary ? 1 : 0;
  a.key_lo = r.key_lo;
  a.key_hi = r.key_hi;
  a.sqrt_dt = static_cast<T>(s.sqrt_dt);
  a.decay = decay;
  a.m = m;
  a.lc = lc;
  a.lC = lC;
  a.omega = omega;
  return a;
}

}  // namespace fbm
}  // namespace itk

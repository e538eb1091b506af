// The dense passes over the cost matrix that both solvers are built from (docs/design/ot.md §2.1, §3.8). One
// interface, a CPU implementation (dense_cpu.cc, thread pool) and a CUDA one (native/ot/cuda/ot_dense.cu);
// the solver drivers (sinkhorn.cc, sns.cc) run on the host and only call these.
//
// Units: the problem is normalised (docs/design/ot.md §1.2) and the potentials are kept as log-scalings
// u = f̃/reg̃, v = g̃/reg̃, so that every plan entry is
//     P_ij = exp(u_i + v_j − (C_ij − c0)·ir),   ir = 1/(reg̃_stage·s) = 1/reg_stage (original units).
// In these variables the Lyapunov potential is L/reg̃ = ⟨a,u⟩ + ⟨b,v⟩ − ΣP and its Hessian is −A
// (docs/design/ot.md §3.1), so the Newton system is A d = r with no reg factor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sparse.h"

namespace itk {
namespace ot {

// What one fused pass returns (docs/design/ot.md §3.8): row sums R = P1, column sums K = Pᵀ1,
// S = ΣP, and optionally the transport cost ⟨C,P⟩ in original units.
struct FusedSums {
  double S = 0;
  double cost = 0;
  bool finite = true;  // false when any P_ij overflowed or was NaN (line-search trials, §3.5)
};

class DenseOps {
 public:
  virtual ~DenseOps() = default;
  std::size_t n = 0, m = 0;
  // Sets 1/reg of the current stage (ε-scaling changes it).
  virtual void set_ir(double ir) = 0;
  // Row half-iteration: u_out_i = log a_i − LSE_j(v_j − x_ij). Returns Σ_i |(P1)_i − a_i| of the
  // input state (the "free" error check of §2.1).
  virtual double row_update(const double* u, const double* v, double* u_out) = 0;
  // Column half-iteration: v_j ← log b_j − LSE_i(u_i − x_ij), in place.
  virtual void col_update(const double* u, double* v) = 0;
  // One read of C: R, K, S (and ⟨C,P⟩ when want_cost); writes P into plan (n×m, the working
  // dtype) when plan != nullptr.
  virtual FusedSums fused(const double* u, const double* v, double* R, double* K, bool want_cost, void* plan) = 0;
  // P_ij in float64 into P (n×m host memory), for the top-k selection of SNS (§3.3).
  virtual void materialise(const double* u, const double* v, double* P) = 0;
  // Optional device paths of the Newton stage (CUDA, docs/design/ot.md §6.3). Each returns false when the
  // backend has none, and the host code (sparse.cc) runs instead.
  // ρ = k-th largest entry of the plan last materialised.
  virtual bool device_threshold(std::size_t k, double* rho) {
    (void)k;
    (void)rho;
    return false;
  }
  // Jacobi-PCG of sparse.h on the device.
  virtual bool device_pcg(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* r,
                          double rtol, int64_t max_iter, double* d, CgResult* out) {
    (void)sp, (void)R, (void)K, (void)sigma, (void)r, (void)rtol, (void)max_iter, (void)d, (void)out;
    return false;
  }
  // Full reads of C so far (the `densePasses` counter).
  std::size_t passes = 0;
};

struct DenseProblem {
  const void* C = nullptr;  // n×m, float64 or float32 (host memory); null for point clouds
  // Point clouds (squared Euclidean cost formed on the fly, never stored): X n×d, Y m×d, C's dtype.
  const void* X = nullptr;
  const void* Y = nullptr;
  std::size_t d = 0;
  bool f32 = false;
  std::size_t n = 0, m = 0;
  double c0 = 0;            // min C (docs/design/ot.md §1.2)
  const double* log_a = nullptr;
  const double* log_b = nullptr;
  const double* a = nullptr;
  const double* b = nullptr;
};

std::unique_ptr<DenseOps> make_cpu_ops(const DenseProblem& p);
// CUDA version; throws DeviceUnavailable in CPU-only builds (ot_cuda_stub.cc).
std::unique_ptr<DenseOps> make_cuda_ops(const DenseProblem& p);

}  // namespace ot
}  // namespace itk

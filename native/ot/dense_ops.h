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
#include <functional>
#include <memory>
#include <vector>

#include "../kernels/ot_line_search.h"
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
  // Device-resident SNS (docs/design/ot.md §3.5, §6.3). sns_load puts (u, v) on the device and
  // evaluates it there (fused pass, then the sums of kernels/ot_line_search.h); from then until
  // sns_store the current point (u, v, R = P1, K = Pᵀ1), the residual r and the Newton direction d
  // live on the device and only scalars cross per Newton step. False from sns_load: the backend has
  // none and sns.cc runs the host path (the same formulas, kernels/ot_line_search.h, ot_newton.h).
  virtual bool sns_load(const double* u, const double* v, LsPoint* cur) {
    (void)u, (void)v, (void)cur;
    return false;
  }
  // The Newton system at the current point (§3.3, §3.4): the plan, its top-k sparsification
  // (threshold, CSR/CSC by count, scan and fill), r = (a − R, b − K) and the Jacobi-PCG on
  // (M + σI) d = r; d stays. Returns the CG result, ΣP̃ (kept off-diagonal mass), rᵀd and ‖d‖∞.
  struct NewtonOut {
    CgResult cg;
    double kept = 0, rd = 0, dinf = 0;
  };
  virtual void sns_newton(std::size_t k, double sigma, double rtol, int64_t max_iter, NewtonOut* out) {
    (void)k, (void)sigma, (void)rtol, (void)max_iter, (void)out;
  }
  // The backtracking line search along d from a started LsState (§3.5): trial point, column fit,
  // fused sums and the acceptance test on the device, `between` (abort check) called between
  // batches of trials. On acceptance the trial becomes the current point; ls holds the outcome.
  virtual void sns_line_search(LsState* ls, const std::function<void()>& between) { (void)ls, (void)between; }
  // Host copies of the current u, v.
  virtual void sns_store(double* u, double* v) { (void)u, (void)v; }
  // Plain log-domain Sinkhorn iterations kept on the device (docs/design/ot.md §6.3): the loop of
  // sinkhorn.cc run_sinkhorn without relaxation, its stop tests (tol every `every` iterations, the
  // stall window, maxIter, the call's limit) decided on the device, the host reading one small state
  // every few iterations (between which ctl runs) and u, v once at the end. False when the backend
  // has none.
  struct DeviceRun {
    double* u = nullptr;  // in/out, n
    double* v = nullptr;  // in/out, m
    int64_t done_before = 0, max_iter = 0, limit = 0, every = 1, stall_window = 500;
    double tol = 0;
    bool stall = false, col_exact = false;
    std::function<void(int64_t)> between;  // called with the iterations so far (abort check, progress)
    std::function<void(int64_t, double)> check;  // each tol check (iteration, err): history records
    // Out: iterations run, how the run ended (0 limit, 1 converged, 2 stalled, 3 maxIter), the last
    // exactly known error (when col_exact), col_exact after the run.
    int64_t iters = 0;
    int end = 0;
    double last_err = 0;
    bool have_err = false;
  };
  virtual bool device_sinkhorn(DeviceRun* run) {
    (void)run;
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

// Tests only (native/ot/device_emulation.cc): ITOKIT_OT_EMULATE_DEVICE=1 wraps the CPU ops of a
// matrix solve in a stand-in that implements the device-resident SNS (sns_*) the way the CUDA ops do.
bool device_emulation_requested();
std::unique_ptr<DenseOps> emulate_device_sns(std::unique_ptr<DenseOps> cpu, const DenseProblem& p);

// Batched log-domain Sinkhorn on CUDA in one launch (docs/design/ot.md §5.1, native/ot/cuda/ot_batch.cu):
// float64, one block per problem with its cost tile in shared memory. Inputs are validated and
// normalised by the host (sinkhorn.cc solve_batch); per problem: c0 = min C, ir = 1/reg.
struct BatchIn {
  const double* C = nullptr;  // [B or 1, n, m]
  bool shared_cost = false;
  std::size_t B = 0, n = 0, m = 0;
  const double *c0 = nullptr, *ir = nullptr, *a = nullptr, *log_a = nullptr, *log_b = nullptr;  // [B], [B], [B,n], [B,n], [B,m]
  int64_t max_iter = 0, every = 1, stall_window = 500;
  double tol = 0;
  bool want_plan = false;
  double* plan = nullptr;  // [B, n, m] host memory when want_plan
};
// Per problem: potentials (log-scaling units), R = P1, K = Pᵀ1, ΣP, ⟨C,P⟩ of the final pass, the
// last exactly known error, Sinkhorn iterations and how the run ended (1 converged, 2 stalled,
// 3 maxIter).
struct BatchOut {
  std::vector<double> u, v, R, K, S, cost, err;
  std::vector<long long> iters;
  std::vector<int> end;
};
// Whether n×m fits one block's shared memory (the batch kernel's limit); larger shapes keep the loop.
bool cuda_batch_fits(std::size_t n, std::size_t m);
void cuda_sinkhorn_batch(const BatchIn& in, BatchOut* out);
// CUDA version; throws DeviceUnavailable in CPU-only builds (ot_cuda_stub.cc).
std::unique_ptr<DenseOps> make_cuda_ops(const DenseProblem& p);

}  // namespace ot
}  // namespace itk

// Solver state shared by the Sinkhorn driver (sinkhorn.cc) and the Newton stage (sns.cc).
// Internal header: everything is in normalised units and log-scalings (see dense_ops.h).
#pragma once
#include <chrono>
#include <cstdint>
#include <vector>

#include "dense_ops.h"
#include "solver.h"

namespace itk {
namespace ot {

// How a Sinkhorn run ended.
enum class RunEnd { Converged, Limit, MaxIter, Stalled };

struct State {
  DenseOps* ops = nullptr;
  const Options* opt = nullptr;
  Result* res = nullptr;
  Control ctl;
  std::size_t n = 0, m = 0;
  std::vector<double> a, b;       // renormalised marginals
  std::vector<double> u, v, u_new;
  std::vector<double> R, K;       // P1, Pᵀ1 of the last fused pass
  double s = 1;                   // max C − min C
  double reg_n = 1;               // reg̃ of the current stage
  double reg_final = 1;           // reg̃ of the problem
  bool col_exact = false;         // last half-iteration was a column update: row residual = err
  double last_err = 1e300;        // the last exactly known err
  bool f32 = false;
  std::chrono::steady_clock::time_point t0;

  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  void record(Stage stage, double err) {
    res->history.push_back({static_cast<double>(res->sinkhorn_iters + res->newton_iters), static_cast<double>(stage), err, elapsed_ms()});
  }
  // Changes reg̃ (ε-scaling) keeping f̃, g̃: u, v scale by reg_old/reg_new.
  void set_reg(double reg_new) {
    const double r = reg_n / reg_new;
    for (double& x : u) x *= r;
    for (double& x : v) x *= r;
    reg_n = reg_new;
    ops->set_ir(1.0 / (reg_new * s));
    col_exact = false;
  }
};

// Runs at most `limit` Sinkhorn iterations (also bounded by maxIter overall), stopping at
// err ≤ tol (free check, §2.1) and, when `stall` is set, on the 1 %-per-window rule (§1.5).
RunEnd run_sinkhorn(State& st, int64_t limit, double tol, Stage stage, bool stall);

// The Newton stage of SNS (spec §3.3–3.6), after the warm-up. Returns true when converged.
bool newton_stage(State& st);

}  // namespace ot
}  // namespace itk

// Solver state shared by the Sinkhorn driver (sinkhorn.cc) and the Newton stage (sns.cc).
// Internal header: everything is in normalised units and log-scalings (see dense_ops.h).
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dense_ops.h"
#include "solver.h"

namespace itk {
namespace ot {

// Over-relaxed Sinkhorn (Thibault, Chizat, Dossal & Papadakis 2017; Lehmann, von Renesse, Sambale
// & Uschmajew 2021): each update becomes u ← u + ω·(T(u) − u) (in scalings α ← α^{1−ω}(a/Kβ)^ω),
// same fixed point. Near the solution plain Sinkhorn (Gauss–Seidel on the dual) contracts the
// error by ρ per iteration; Young's SOR theory relates the rate λ under ω to ρ by
//     (λ + ω − 1)² = λ ω² ρ,     optimal ω* = 2/(1 + √(1 − ρ)), rate ω* − 1,
// e.g. ρ = 0.955 (≈ 400 plain iterations to 1e-9) gives ω* ≈ 1.65 and ≈ 45 iterations. The rate λ is
// measured from the errors (geometric mean of the last 5 ratios, every 8 iterations at one ω), ρ
// follows from the relation (ω = 1: ρ = λ), and ω only ever increases towards ω* (capped at 1.9):
// early iterations contract faster than the asymptotic ρ, so the first estimate is low. Past ω*
// the errors oscillate (complex eigenvalues of modulus ω − 1) but still fall; when no new best
// error comes for 100 iterations, or the error exceeds 1000× the best, ω returns to 1 for good.
class Relaxation {
 public:
  bool enabled = false;
  double omega() const { return omega_; }
  // Feed the full error of each state; returns ω for the next update.
  double next(double err) {
    if (!enabled || dropped_) return 1.0;
    if (!(err <= HUGE_VAL)) return drop();
    since_best_ = err < best_ ? 0 : since_best_ + 1;
    best_ = err < best_ ? err : best_;
    if (omega_ > 1 && (since_best_ > 100 || err > 1e3 * best_)) return drop();
    errs_.push_back(err);
    const std::size_t c = errs_.size();
    if (c >= 8 && c % 8 == 0) {
      const double e0 = errs_[c - 6], e1 = errs_[c - 1];
      const double lam = e0 > 0 && e1 > 0 ? std::pow(e1 / e0, 1.0 / 5) : 1.0;
      if (lam > 0 && lam < 1 && lam > omega_ - 1 + 0.02) {
        const double w = omega_;
        const double rho = (lam + w - 1) * (lam + w - 1) / (lam * w * w);
        const double opt = rho < 1 ? std::min(kOmegaMax, 2.0 / (1.0 + std::sqrt(1.0 - rho))) : kOmegaMax;
        if (opt > omega_ + 0.01) {
          omega_ = opt;
          errs_.clear();
        }
      }
    }
    return omega_;
  }
  void reset() {
    omega_ = 1;
    errs_.clear();
    since_best_ = 0;
    best_ = HUGE_VAL;
  }

 private:
  static constexpr double kOmegaMax = 1.9;
  double drop() {
    dropped_ = true;
    omega_ = 1;
    return 1.0;
  }
  double omega_ = 1, best_ = HUGE_VAL;
  int since_best_ = 0;
  bool dropped_ = false;
  std::vector<double> errs_;
};

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
  bool col_exact = false;         // last half-iteration was a column update: row residual + col_res = err
  double col_res = 0;             // column residual then (0 unless the update was over-relaxed)
  std::vector<double> v_old;      // scratch of the relaxed column update
  double last_err = 1e300;        // the last exactly known err
  bool f32 = false;
  std::chrono::steady_clock::time_point t0;
  Relaxation relax;               // row over-relaxation (Options::relax)

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
    col_res = 0;
    relax.reset();
  }
};

// Runs at most `limit` Sinkhorn iterations (also bounded by maxIter overall), stopping at
// err ≤ tol (free check, docs/design/ot.md §2.1) and, when `stall` is set, on the 1 %-per-window rule (§1.5).
RunEnd run_sinkhorn(State& st, int64_t limit, double tol, Stage stage, bool stall);

// Kernel-scaling Sinkhorn from the current (u, v) (kernel_scaling.cc), n·m float64 of memory. On
// return (u, v) hold the result as log-scalings. *gave_up: a kernel row or column sum left the
// normal range; the caller continues with log-domain passes. budget > 0: stop with *slow set when
// the observed rate projects more than `budget` iterations in all (the auto method then runs SNS).
RunEnd run_kernel_scaling(State& st, double tol, int64_t budget, bool* gave_up, bool* slow);

// The Newton stage of SNS (docs/design/ot.md §3.3–3.6), after the warm-up. Returns true when converged.
bool newton_stage(State& st);

}  // namespace ot
}  // namespace itk

// Entropic OT solvers: log-domain Sinkhorn and Sinkhorn-Newton-Sparse (docs/design/ot.md).
// Plain C++; the binding (native/bindings/ot.cc) only converts arguments to these structs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../core/control.h"
#include "../core/device.h"

namespace itk {
namespace ot {

// Sinkhorn: log-domain passes over C. Sns: Sinkhorn-Newton-Sparse. KernelScaling: Sinkhorn–Knopp on
// a stored kernel K = exp((f ⊕ g − C)/reg) with absorption (kernel_scaling.cc). Auto: chosen by
// choose_method() from n, m, reg/(max C − min C), dtype and device (docs/design/ot.md).
enum class Method { Sinkhorn = 0, Sns = 1, KernelScaling = 2, Auto = 3 };
enum class Status { Converged = 0, MaxIter = 1, Stalled = 2 };
// Stage recorded in the history (one entry per error check).
enum class Stage { Sinkhorn = 0, Warmup = 1, Newton = 2, Fallback = 3, EpsScaling = 4 };

// SNS options, docs/design/ot.md §3.7. Negative values mean "use the default that depends on n, m".
struct SnsOptions {
  int64_t warmup_iters = 20;
  double lambda0 = -1;      // 2/min(n,m)
  double lambda_max = -1;   // max(1/4, min(1, 64/min(n,m)))
  double bad_ratio = 0.25;
  double fallback_ratio = 0.9;  // Sinkhorn after a bad step that λ cannot fix, if err_new > this·err_old
  int64_t max_newton = 200;
  int64_t cg_max_iter = -1;  // 10·(n+m)
  double cg_rtol = -1;       // min(0.1, max(err, 1e-12)) when negative
  double shift_max = 1e-3;
  double armijo_c1 = 1e-4;
  int max_backtracks = 30;
  int64_t fallback_iters = 20;
};

struct Options {
  double reg = 0;  // original units (POT convention)
  Method method = Method::Sns;
  double tol = 1e-9;
  int64_t max_iter = 10000;
  int64_t check_every = 1;
  bool eps_scaling = false;
  bool return_plan = true;
  bool round_plan = false;
  const double* init_f = nullptr;  // original units, optional
  const double* init_g = nullptr;
  int64_t stall_window = 500;  // Sinkhorn iterations (§1.5)
  // Row over-relaxation (state.h Relaxation): 1 on, 0 off, −1 default (on for kernel scaling and
  // for the log-domain Sinkhorn that Auto picks, off for explicit 'sinkhorn' and for SNS).
  int relax = -1;
  SnsOptions sns;
};

struct HistoryEntry {
  double iteration;
  double stage;
  double error;
  double ms;
};

struct Result {
  std::vector<double> f, g;  // original units, symmetric gauge
  double cost = 0, reg_cost = 0, dual_value = 0, marginal_error = 0;
  Status status = Status::MaxIter;
  int64_t sinkhorn_iters = 0, newton_iters = 0, cg_iters = 0, line_search_evals = 0, dense_passes = 0;
  double lambda_final = 0, time_ms = 0;
  Method method = Method::Sinkhorn;  // the solver that ran (Auto resolved)
  int64_t absorptions = 0;           // kernel scaling: times the scalings were folded into f, g
  std::vector<HistoryEntry> history;
};

// One problem. C: n×m row-major, float64 or float32 (f32); a, b: positive, each summing to 1
// within 1e-6 (renormalised here). plan: n×m of the working dtype or nullptr.
// Throws itk::Error (InvalidArg / Shape / Numerical / Aborted / DeviceUnavailable).
void solve(const void* C, bool f32, std::size_t n, std::size_t m, const double* a, const double* b,
           const Options& opt, Device device, void* plan, Result* out, const Control& ctl);

// The `auto` rule (docs/design/ot.md): the method solve() runs for a problem of n×m entries with
// relative regularisation reg_rel = reg/(max C − min C). `online`: point clouds without a matrix.
Method choose_method(std::size_t n, std::size_t m, double reg_rel, bool f32, Device device, bool online);

// Point clouds X (n×d), Y (m×d), float64 or float32, squared Euclidean cost evaluated on the fly
// inside the passes (memory O((n + m)·d)): log-domain Sinkhorn only (Auto resolves to it).
void solve_points(const void* X, const void* Y, bool f32, std::size_t n, std::size_t m, std::size_t d, const double* a,
                  const double* b, const Options& opt, Device device, void* plan, Result* out, const Control& ctl);

// B problems of one size (docs/design/ot.md §5). C: [B or 1, n, m]; a: [B, n]; b: [B, m]; reg: B values.
// Bit-identical to B calls of solve() on the CPU.
void solve_batch(const void* C, bool f32, bool shared_cost, std::size_t B, std::size_t n, std::size_t m,
                 const double* a, const double* b, const double* reg, const Options& opt, Device device,
                 void* plan, std::vector<Result>* out, const Control& ctl);

}  // namespace ot
}  // namespace itk

// Solver driver: validation, cost normalisation (docs/design/ot.md §1.2), log-domain Sinkhorn with the free
// error check and stall rule (§1.5, §2.1), ε-scaling (§2.2), the SNS stages (§3.8), the final
// exact pass, de-normalisation, symmetric gauge (§1.3) and the optional rounded plan (§1.3).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>
#include <sstream>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "rounding.h"
#include "state.h"

namespace itk {
namespace ot {

namespace {
// Exact err of the current state by one fused pass (both residuals).
double confirm(State& st) {
  st.R.resize(st.n);
  st.K.resize(st.m);
  st.ops->fused(st.u.data(), st.v.data(), st.R.data(), st.K.data(), false, nullptr);
  double err = 0;
  for (std::size_t i = 0; i < st.n; ++i) err += std::fabs(st.R[i] - st.a[i]);
  for (std::size_t j = 0; j < st.m; ++j) err += std::fabs(st.K[j] - st.b[j]);
  st.last_err = err;
  return err;
}
}  // namespace

RunEnd run_sinkhorn(State& st, int64_t limit, double tol, Stage stage, bool stall) {
  const Options& o = *st.opt;
  const int64_t every = std::max<int64_t>(1, o.check_every);
  double best = 1e300, window_best = 1e300;
  int64_t since_window = 0;
  // On CUDA, plain iterations run on the device with no per-iteration synchronisation (§6.3).
  if (!st.relax.enabled && st.col_res == 0 && !st.f32) {
    DenseOps::DeviceRun run;
    run.u = st.u.data();
    run.v = st.v.data();
    run.done_before = st.res->sinkhorn_iters;
    run.max_iter = o.max_iter;
    run.limit = limit;
    run.every = every;
    run.stall_window = o.stall_window;
    run.tol = tol;
    run.stall = stall;
    run.col_exact = st.col_exact;
    run.between = [&](int64_t done) {
      st.ctl.check();
      st.ctl.progress(static_cast<double>(done), static_cast<double>(o.max_iter));
    };
    run.check = [&](int64_t iter, double err) {
      st.res->history.push_back({static_cast<double>(iter + st.res->newton_iters), static_cast<double>(stage), err, st.elapsed_ms()});
    };
    if (st.ops->device_sinkhorn(&run)) {
      st.res->sinkhorn_iters += run.iters;
      if (run.have_err) st.last_err = run.last_err;
      if (run.iters > 0) st.col_exact = true;
      switch (run.end) {
        case 1: return RunEnd::Converged;
        case 2: return RunEnd::Stalled;
        case 3: return RunEnd::MaxIter;
        default: return RunEnd::Limit;
      }
    }
  }
  for (int64_t it = 0;; ++it) {
    st.ctl.check();
    if (st.res->sinkhorn_iters >= o.max_iter) return RunEnd::MaxIter;
    if (it >= limit) return RunEnd::Limit;
    const double err = st.ops->row_update(st.u.data(), st.v.data(), st.u_new.data()) + st.col_res;
    double omega = 1;
    if (st.col_exact) {
      // The column residual is zero after a column update (col_res after a relaxed one), so the
      // row residual plus col_res is the full err of the current state: stop before the f-update.
      st.last_err = err;
      if (st.res->sinkhorn_iters % every == 0) {
        st.record(stage, err);
        // In float32 mode the column update is exact only up to the float32 exponent rounding,
        // so confirm with one exact pass before stopping (in float64 it always confirms).
        if (err <= tol && (!st.f32 || confirm(st) <= tol)) return RunEnd::Converged;
      }
      if (stall) {
        best = std::min(best, err);
        if (++since_window >= o.stall_window) {
          if (!(best < 0.99 * window_best) && window_best < 1e300) return RunEnd::Stalled;
          window_best = best;
          since_window = 0;
        }
      }
      omega = st.relax.next(err);
    }
    if (omega != 1)
      for (std::size_t i = 0; i < st.n; ++i) st.u_new[i] = st.u[i] + omega * (st.u_new[i] - st.u[i]);
    st.u.swap(st.u_new);
    if (omega == 1) {
      st.ops->col_update(st.u.data(), st.v.data());
      st.col_res = 0;
    } else {
      // Relaxed column update from the exact fit: δ_j = log(b_j/s_j) = v_fit − v_old, v ← v_old + ωδ;
      // the column sums become s_j e^{ωδ_j} = b_j e^{(ω−1)δ_j}, so the residual is known exactly.
      st.v_old.assign(st.v.begin(), st.v.end());
      st.ops->col_update(st.u.data(), st.v.data());
      double cres = 0;
      for (std::size_t j = 0; j < st.m; ++j) {
        const double d = st.v[j] - st.v_old[j];
        st.v[j] = st.v_old[j] + omega * d;
        cres += st.b[j] * std::fabs(std::expm1((omega - 1) * d));
      }
      st.col_res = cres;
    }
    st.col_exact = true;
    ++st.res->sinkhorn_iters;
    st.ctl.progress(static_cast<double>(st.res->sinkhorn_iters), static_cast<double>(o.max_iter));
  }
}

namespace {

void check_marginal(const double* a, std::size_t n, const char* name, double* sum) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!(a[i] > 0) || !std::isfinite(a[i])) {
      std::ostringstream msg;
      msg << name << "[" << i << "] must be finite and > 0 (got " << a[i] << "); drop zero-mass points";
      throw Error(Code::InvalidArg, msg.str());
    }
    s += a[i];
  }
  *sum = s;
}

template <typename T>
void min_max(const T* C, std::size_t nm, std::size_t m, double* lo, double* hi) {
  // Four independent lanes without a branch per entry (min and max are exact, so the lane split
  // does not change the result); a non-finite entry sets `bad`, and only then a second scan names
  // the first one. At n = 500 the branchy one-lane loop was 5 % of a kernel-scaling solve.
  double mn[4] = {HUGE_VAL, HUGE_VAL, HUGE_VAL, HUGE_VAL}, mx[4] = {-HUGE_VAL, -HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
  bool bad = false;
  std::size_t q = 0;
  for (; q + 4 <= nm; q += 4)
    for (int l = 0; l < 4; ++l) {
      const double c = static_cast<double>(C[q + l]);
      bad |= !(std::fabs(c) <= DBL_MAX);
      mn[l] = c < mn[l] ? c : mn[l];
      mx[l] = c > mx[l] ? c : mx[l];
    }
  for (; q < nm; ++q) {
    const double c = static_cast<double>(C[q]);
    bad |= !(std::fabs(c) <= DBL_MAX);
    mn[0] = c < mn[0] ? c : mn[0];
    mx[0] = c > mx[0] ? c : mx[0];
  }
  if (bad)
    for (q = 0; q < nm; ++q) {
      const double c = static_cast<double>(C[q]);
      if (!std::isfinite(c)) {
        std::ostringstream msg;
        msg << "C[" << q / m << "][" << q % m << "] is not finite (" << c << ")";
        throw Error(Code::InvalidArg, msg.str());
      }
    }
  *lo = std::min(std::min(mn[0], mn[1]), std::min(mn[2], mn[3]));
  *hi = std::max(std::max(mx[0], mx[1]), std::max(mx[2], mx[3]));
}

// After the final exact pass (fs, st.R, st.K at st.u, st.v; the plan written when plan != null):
// error, de-normalisation and symmetric gauge (§1.3), costs. Shared by the single solves and the
// CUDA batch (§5.1), whose kernel runs that pass itself.
void finish_outputs(State& st, const Options& o, void* plan, bool converged, double c0, const FusedSums& fs) {
  Result& res = *st.res;
  const std::size_t n = st.n, m = st.m;
  const bool write_plan = plan != nullptr;
  double err = 0;
  for (std::size_t i = 0; i < n; ++i) err += std::fabs(st.R[i] - st.a[i]);
  for (std::size_t j = 0; j < m; ++j) err += std::fabs(st.K[j] - st.b[j]);
  res.marginal_error = err;
  if (!fs.finite || !std::isfinite(err))
    throw Error(Code::Numerical, "the solver produced a non-finite plan (this is a bug, please report it: docs/design/ot.md §4.4)");
  // f = reg·u + c0 (original units), g = reg·v (P = exp(u + v − (C − c0)/reg), dense_ops.h).
  const double reg = o.reg;
  res.f.resize(n);
  res.g.resize(m);
  double af = 0, bg = 0;
  for (std::size_t i = 0; i < n; ++i) {
    res.f[i] = reg * st.u[i] + c0;
    af += st.a[i] * res.f[i];
  }
  for (std::size_t j = 0; j < m; ++j) {
    res.g[j] = reg * st.v[j];
    bg += st.b[j] * res.g[j];
  }
  const double t = (bg - af) / 2;
  for (double& x : res.f) x += t;
  for (double& x : res.g) x -= t;
  af += t;
  bg -= t;
  double rc = 0;
  for (std::size_t i = 0; i < n; ++i) rc += res.f[i] * st.R[i];
  for (std::size_t j = 0; j < m; ++j) rc += res.g[j] * st.K[j];
  res.cost = fs.cost;
  res.reg_cost = rc;
  res.dual_value = af + bg - reg * fs.S + reg;
  res.status = converged ? Status::Converged : res.status;
  if (write_plan && o.round_plan) round_plan(plan, st.f32, n, m, st.a.data(), st.b.data());
}

// Final exact pass (§1.5), then finish_outputs.
void finish(State& st, const Options& o, void* plan, bool converged, double c0) {
  st.R.assign(st.n, 0);
  st.K.assign(st.m, 0);
  const FusedSums fs = st.ops->fused(st.u.data(), st.v.data(), st.R.data(), st.K.data(), true, plan);
  finish_outputs(st, o, plan, converged, c0, fs);
}

}  // namespace

// The `auto` rule (docs/design/ot.md, measured in benchmarks/ot.md). Kernel scaling reads one
// float64 per entry per iteration and needs no exp after the kernel is built, so it wins while the
// iteration count of plain Sinkhorn stays moderate, i.e. for reg ≥ kKernelRegRel·(max C − min C);
// below that SNS's Newton steps win. Its kernel costs n·m·8 bytes next to C, hence the cap.
// On CUDA the device passes run (no kernel scaling there) and SNS stays the default; point clouds
// without a matrix have only the online log-domain passes.
constexpr double kKernelRegRel = 1.0 / 5000;
constexpr double kKernelMaxBytes = 4.0 * (1u << 30);
constexpr int64_t kKernelBudget = 5000;
// Kernel-scaling solves of at most kSerialEntries = 2^20 entries run on one thread (docs/design/ot.md
// §6.4): an iteration reads each entry once at ~0.3 ns, so at n = m = 1000 a parallel region holds
// ~0.3 ms of work, and a second thread that has to be woken and joined for each region gained nothing
// on the 2-core machine of the benchmark (n = 500: 2.5 vs 2.2 ms, n = 1000: 11.6 vs 10.0 ms, 2 vs 1
// thread). Decided by size only, so results and timings do not depend on a run-time measurement (the
// results are the same bits for any thread count anyway, §4.3).
constexpr double kSerialEntries = static_cast<double>(1u << 20);

Method choose_method(std::size_t n, std::size_t m, double reg_rel, bool f32, Device device, bool online) {
  (void)f32;  // float32 C: the kernel is float64 either way (8 bytes per entry, counted below)
  if (online) return Method::Sinkhorn;
  if (device == Device::Cuda) return Method::Sns;
  const double bytes = 8.0 * static_cast<double>(n) * static_cast<double>(m);
  if (reg_rel >= kKernelRegRel && bytes <= kKernelMaxBytes) return Method::KernelScaling;
  return Method::Sns;
}

namespace {

void check_args(std::size_t n, std::size_t m, const Options& o) {
  require(n >= 1 && m >= 1, Code::Shape, "C must have at least one row and one column");
  require(n <= 0x7fffffff && m <= 0x7fffffff, Code::Shape, "n and m must be below 2^31");
  require(std::isfinite(o.reg) && o.reg > 0, Code::InvalidArg, "reg must be a finite number > 0");
  require(o.tol >= 0 && std::isfinite(o.tol), Code::InvalidArg, "tol must be a finite number >= 0");
  require(o.max_iter >= 0, Code::InvalidArg, "maxIter must be >= 0");
}

// Everything after the cost is known to be finite with range [lo, hi]: marginals, the ops, the
// method (auto resolved), the solver stages and the final pass.
void solve_common(const DenseProblem& dp_in, std::size_t n, std::size_t m, double lo, double hi, const double* a_in,
                  const double* b_in, const Options& o, Device device, void* plan, Result* out, const Control& ctl) {
  double sa = 0, sb = 0;
  check_marginal(a_in, n, "a", &sa);
  check_marginal(b_in, m, "b", &sb);
  if (std::fabs(sa - 1) > 1e-6 || std::fabs(sb - 1) > 1e-6) {
    std::ostringstream msg;
    msg.precision(17);
    msg << "marginals must each sum to 1 within 1e-6 (got Σa=" << sa << ", Σb=" << sb << ")";
    throw Error(Code::InvalidArg, msg.str());
  }
  const bool online = dp_in.X != nullptr;
  const double s = hi - lo;
  const Method method = o.method == Method::Auto ? choose_method(n, m, s > 0 ? o.reg / s : HUGE_VAL, dp_in.f32, device, online) : o.method;
  if (online && method != Method::Sinkhorn)
    throw Error(Code::InvalidArg, "point clouds without a cost matrix run the online log-domain Sinkhorn only (method 'auto' or 'sinkhorn'); pass C for 'sns' or 'kernel-scaling'");
  if (device == Device::Cuda && method == Method::KernelScaling)
    throw Error(Code::InvalidArg, "method 'kernel-scaling' runs on the CPU only (use 'auto', 'sns' or 'sinkhorn' on CUDA)");

  std::optional<ScopedThreadBudget> one_thread;
  if (device != Device::Cuda && method == Method::KernelScaling &&
      static_cast<double>(n) * static_cast<double>(m) <= kSerialEntries)
    one_thread.emplace(1);

  *out = Result();
  out->method = method;
  State st;
  st.opt = &o;
  st.res = out;
  st.ctl = ctl;
  st.n = n;
  st.m = m;
  st.f32 = dp_in.f32;
  st.t0 = std::chrono::steady_clock::now();
  st.relax.enabled = o.relax < 0 ? (method == Method::KernelScaling || (o.method == Method::Auto && method == Method::Sinkhorn)) : o.relax > 0;
  st.a.resize(n);
  st.b.resize(m);
  for (std::size_t i = 0; i < n; ++i) st.a[i] = a_in[i] / sa;
  for (std::size_t j = 0; j < m; ++j) st.b[j] = b_in[j] / sb;
  std::vector<double> log_a(n), log_b(m);
  for (std::size_t i = 0; i < n; ++i) log_a[i] = std::log(st.a[i]);
  for (std::size_t j = 0; j < m; ++j) log_b[j] = std::log(st.b[j]);

  // Constant cost: P = a bᵀ, f = c0 + reg·log a, g = reg·log b, then gauged. Computed by the
  // same final pass with u = log a + c0/reg (so exp(u + v − 0) = a b), which keeps one code path.
  const bool trivial = !(s > 0);
  st.s = trivial ? 1.0 : s;
  st.reg_final = o.reg / st.s;
  st.reg_n = st.reg_final;

  DenseProblem dp = dp_in;
  dp.c0 = lo;
  dp.a = st.a.data();
  dp.b = st.b.data();
  dp.log_a = log_a.data();
  dp.log_b = log_b.data();
  std::unique_ptr<DenseOps> ops = device == Device::Cuda ? make_cuda_ops(dp) : make_cpu_ops(dp);
  if (device != Device::Cuda && dp.X == nullptr && device_emulation_requested()) ops = emulate_device_sns(std::move(ops), dp);
  st.ops = ops.get();
  st.ops->set_ir(1.0 / o.reg);
  st.u.assign(n, 0);
  st.v.assign(m, 0);
  st.u_new.assign(n, 0);
  // Potentials in log-scaling units: u = (f − c0)/reg, v = g/reg.
  if (o.init_f)
    for (std::size_t i = 0; i < n; ++i) st.u[i] = (o.init_f[i] - lo) / o.reg;
  if (o.init_g)
    for (std::size_t j = 0; j < m; ++j) st.v[j] = o.init_g[j] / o.reg;

  bool converged = false;
  if (trivial) {
    for (std::size_t i = 0; i < n; ++i) st.u[i] = log_a[i];
    for (std::size_t j = 0; j < m; ++j) st.v[j] = log_b[j];
    converged = true;
  } else {
    if (o.eps_scaling) {
      // reg_k = max(reg̃, 0.5^k); non-final stages until err ≤ 1e-3 or 100 iterations.
      const double final_reg = st.reg_n;
      st.reg_n = 1.0;
      st.ops->set_ir(1.0 / st.s);
      for (int k = 0;; ++k) {
        const double rk = std::max(final_reg, std::ldexp(1.0, -k));
        if (rk <= final_reg) break;
        if (rk != st.reg_n) st.set_reg(rk);
        if (run_sinkhorn(st, 100, 1e-3, Stage::EpsScaling, false) == RunEnd::MaxIter) break;
      }
      st.set_reg(final_reg);
    }
    RunEnd end = RunEnd::Limit;
    if (method == Method::KernelScaling) {
      // With (max C − min C)/reg above ~700, exp(−(C − c0)/reg) underflows for far pairs; one
      // log-domain iteration first (max-shift LSE where needed) normalises every row and column
      // of the first kernel, so no row starts as all zeros.
      if (st.s / o.reg > 500) end = run_sinkhorn(st, 1, o.tol, Stage::Sinkhorn, false);
      bool gave_up = false, slow = false;
      // Auto: Sinkhorn converges only sublinearly on some problems (e.g. a translated cloud,
      // whose dual has a nearly flat direction) whatever reg is; when the rate seen so far
      // projects more than kKernelBudget iterations, SNS takes over from the current potentials.
      const int64_t budget = o.method == Method::Auto ? kKernelBudget : 0;
      if (end == RunEnd::Limit) end = run_kernel_scaling(st, o.tol, budget, &gave_up, &slow);
      if (slow && end == RunEnd::Limit) {
        out->method = Method::Sns;
        st.relax.enabled = false;
        // Newton needs a column-exact state: one plain iteration if the last update was relaxed.
        if (st.col_res != 0) end = run_sinkhorn(st, 1, o.tol, Stage::Sinkhorn, false);
        if (end == RunEnd::Limit) {
          converged = newton_stage(st);
          if (!converged && out->sinkhorn_iters < o.max_iter) end = RunEnd::Limit;
        }
      }
    } else if (method == Method::Sns) {
      end = run_sinkhorn(st, o.sns.warmup_iters, o.tol, Stage::Warmup, false);
      if (end == RunEnd::Limit) {
        converged = newton_stage(st);
        if (!converged && out->sinkhorn_iters < o.max_iter) end = RunEnd::Limit;
      }
    }
    if (!converged && end != RunEnd::Converged && end != RunEnd::MaxIter && end != RunEnd::Stalled)
      end = run_sinkhorn(st, INT64_MAX, o.tol, Stage::Sinkhorn, true);
    if (end == RunEnd::Converged) converged = true;
    out->status = end == RunEnd::Stalled ? Status::Stalled : Status::MaxIter;
  }
  finish(st, o, plan, converged, lo);
  out->dense_passes = static_cast<int64_t>(st.ops->passes);
  out->time_ms = st.elapsed_ms();
}

}  // namespace

void solve(const void* C, bool f32, std::size_t n, std::size_t m, const double* a_in, const double* b_in,
           const Options& o, Device device, void* plan, Result* out, const Control& ctl) {
  check_args(n, m, o);
  double lo = 0, hi = 0;
  if (f32)
    min_max(static_cast<const float*>(C), n * m, m, &lo, &hi);
  else
    min_max(static_cast<const double*>(C), n * m, m, &lo, &hi);
  DenseProblem dp;
  dp.C = C;
  dp.f32 = f32;
  dp.n = n;
  dp.m = m;
  solve_common(dp, n, m, lo, hi, a_in, b_in, o, device, plan, out, ctl);
}

namespace {
// Bounding boxes of the clouds give the cost range: 0 ≤ ‖x − y‖² ≤ Σ_k (max_k − min_k)² over
// both clouds (an upper bound of max C; min C is taken as 0). Also rejects non-finite coordinates.
template <typename T>
double point_range(const T* X, const T* Y, std::size_t n, std::size_t m, std::size_t d) {
  double span2 = 0;
  for (std::size_t k = 0; k < d; ++k) {
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int side = 0; side < 2; ++side) {
      const T* P = side == 0 ? X : Y;
      const std::size_t cnt = side == 0 ? n : m;
      for (std::size_t i = 0; i < cnt; ++i) {
        const double x = static_cast<double>(P[i * d + k]);
        if (!std::isfinite(x)) {
          std::ostringstream msg;
          msg << (side == 0 ? "X" : "Y") << "[" << i << "][" << k << "] is not finite (" << x << ")";
          throw Error(Code::InvalidArg, msg.str());
        }
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
      }
    }
    span2 += (hi - lo) * (hi - lo);
  }
  return span2;
}
}  // namespace

void solve_points(const void* X, const void* Y, bool f32, std::size_t n, std::size_t m, std::size_t d, const double* a,
                  const double* b, const Options& o, Device device, void* plan, Result* out, const Control& ctl) {
  check_args(n, m, o);
  require(d >= 1, Code::Shape, "points must have dimension d >= 1");
  const double hi = f32 ? point_range(static_cast<const float*>(X), static_cast<const float*>(Y), n, m, d)
                        : point_range(static_cast<const double*>(X), static_cast<const double*>(Y), n, m, d);
  DenseProblem dp;
  dp.X = X;
  dp.Y = Y;
  dp.d = d;
  dp.f32 = f32;
  dp.n = n;
  dp.m = m;
  solve_common(dp, n, m, 0.0, hi, a, b, o, device, plan, out, ctl);
}

namespace {

// §5.1: the CUDA batch kernel runs plain log-domain Sinkhorn in float64 from zero potentials, so
// it serves the batches whose every problem would run exactly that: method 'sinkhorn' without
// relaxation, ε-scaling or initial potentials, and shapes whose cost tile fits shared memory.
// 'auto' takes it too when every problem has reg ≥ (max C − min C)/5000, the range where the CPU's
// rule picks a Sinkhorn-type method (§6.4); below it problems go one by one (SNS).
bool batch_kernel_serves(bool f32, std::size_t B, std::size_t n, std::size_t m, const Options& o, Device device) {
  const bool method_ok = o.method == Method::Sinkhorn || (o.method == Method::Auto && o.relax < 0);
  return device == Device::Cuda && !f32 && B > 1 && method_ok && o.relax <= 0 && !o.eps_scaling && o.init_f == nullptr &&
         o.init_g == nullptr && cuda_batch_fits(n, m);
}

// The batch in one launch: validation and normalisation as solve() does them, the kernel, then per
// problem the outputs of finish_outputs. Problems with a constant cost (solved directly) go
// through solve(). False (nothing solved) when 'auto' finds a problem below the Sinkhorn range.
bool solve_batch_cuda(const double* C, bool shared_cost, std::size_t B, std::size_t n, std::size_t m, const double* a,
                      const double* b, const double* reg, const Options& opt, double* plan, std::vector<Result>* out,
                      const Control& ctl) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::size_t nm = n * m;
  std::vector<double> c0(B), ir(B), an(B * n), bn(B * m), la(B * n), lb(B * m);
  std::vector<char> direct(B, 0);
  for (std::size_t p = 0; p < B; ++p) {
    Options o = opt;
    o.reg = reg[p];
    check_args(n, m, o);
    double lo = 0, hi = 0;
    min_max(C + (shared_cost ? 0 : p * nm), nm, m, &lo, &hi);
    double sa = 0, sb = 0;
    check_marginal(a + p * n, n, "a", &sa);
    check_marginal(b + p * m, m, "b", &sb);
    if (std::fabs(sa - 1) > 1e-6 || std::fabs(sb - 1) > 1e-6) {
      std::ostringstream msg;
      msg.precision(17);
      msg << "marginals must each sum to 1 within 1e-6 (got Σa=" << sa << ", Σb=" << sb << ")";
      throw Error(Code::InvalidArg, msg.str());
    }
    if (opt.method == Method::Auto && hi - lo > 0 && o.reg < kKernelRegRel * (hi - lo)) return false;
    c0[p] = lo;
    ir[p] = 1.0 / o.reg;
    direct[p] = !(hi - lo > 0);
    for (std::size_t i = 0; i < n; ++i) {
      an[p * n + i] = a[p * n + i] / sa;
      la[p * n + i] = std::log(an[p * n + i]);
    }
    for (std::size_t j = 0; j < m; ++j) {
      bn[p * m + j] = b[p * m + j] / sb;
      lb[p * m + j] = std::log(bn[p * m + j]);
    }
  }
  ctl.check();
  BatchIn in;
  in.C = C;
  in.shared_cost = shared_cost;
  in.B = B;
  in.n = n;
  in.m = m;
  in.c0 = c0.data();
  in.ir = ir.data();
  in.a = an.data();
  in.log_a = la.data();
  in.log_b = lb.data();
  in.max_iter = opt.max_iter;
  in.every = std::max<int64_t>(1, opt.check_every);
  in.stall_window = opt.stall_window;
  in.tol = opt.tol;
  in.want_plan = plan != nullptr;
  in.plan = plan;
  BatchOut bo;
  cuda_sinkhorn_batch(in, &bo);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  for (std::size_t p = 0; p < B; ++p) {
    Options o = opt;
    o.reg = reg[p];
    double* plan_p = plan != nullptr ? plan + p * nm : nullptr;
    if (direct[p]) {
      solve(C + (shared_cost ? 0 : p * nm), false, n, m, a + p * n, b + p * m, o, Device::Cuda, plan_p, &(*out)[p], ctl);
      continue;
    }
    Result& r = (*out)[p];
    r = Result();
    r.method = Method::Sinkhorn;
    State st;
    st.opt = &o;
    st.res = &r;
    st.n = n;
    st.m = m;
    st.a.assign(an.begin() + p * n, an.begin() + (p + 1) * n);
    st.b.assign(bn.begin() + p * m, bn.begin() + (p + 1) * m);
    st.u.assign(bo.u.begin() + p * n, bo.u.begin() + (p + 1) * n);
    st.v.assign(bo.v.begin() + p * m, bo.v.begin() + (p + 1) * m);
    st.R.assign(bo.R.begin() + p * n, bo.R.begin() + (p + 1) * n);
    st.K.assign(bo.K.begin() + p * m, bo.K.begin() + (p + 1) * m);
    r.sinkhorn_iters = bo.iters[p];
    const int end = bo.end[p];
    r.status = end == 2 ? Status::Stalled : Status::MaxIter;
    r.history.push_back({static_cast<double>(r.sinkhorn_iters), static_cast<double>(Stage::Sinkhorn), bo.err[p], ms});
    FusedSums fs;
    fs.S = bo.S[p];
    fs.cost = bo.cost[p];
    fs.finite = std::isfinite(fs.S) && std::isfinite(fs.cost);
    finish_outputs(st, o, plan_p, end == 1, c0[p], fs);
    // Passes over C as a single solve counts them: row + column per iteration, the row pass that
    // found the stop (not after maxIter), and the final fused pass (2).
    r.dense_passes = 2 * r.sinkhorn_iters + (end == 3 ? 0 : 1) + 2;
    r.time_ms = ms;  // the whole launch: the problems run together
  }
  return true;
}

}  // namespace

void solve_batch(const void* C, bool f32, bool shared_cost, std::size_t B, std::size_t n, std::size_t m,
                 const double* a, const double* b, const double* reg, const Options& opt, Device device,
                 void* plan, std::vector<Result>* out, const Control& ctl) {
  out->assign(B, Result());
  if (batch_kernel_serves(f32, B, n, m, opt, device) &&
      solve_batch_cuda(static_cast<const double*>(C), shared_cost, B, n, m, a, b, reg, opt, static_cast<double*>(plan), out,
                       ctl))
    return;
  const std::size_t es = f32 ? 4 : 8;
  const std::size_t nm = n * m;
  auto one = [&](std::size_t p) {
    Options o = opt;
    o.reg = reg[p];
    const char* Cp = static_cast<const char*>(C) + (shared_cost ? 0 : p * nm * es);
    char* plan_p = plan ? static_cast<char*>(plan) + p * nm * es : nullptr;
    solve(Cp, f32, n, m, a + p * n, b + p * m, o, device, plan_p, &(*out)[p], ctl);
  };
  // §5: with at least as many problems as threads each task solves whole problems (the inner
  // parallel loops then run inline); otherwise problems run in sequence, parallel inside. The
  // blocking inside a solve is fixed either way, so the batch equals a loop of solve() bit for bit.
  if (device == Device::Cpu && B > 1 && B >= static_cast<std::size_t>(get_threads()))
    parallel_for(B, one);
  else
    for (std::size_t p = 0; p < B; ++p) one(p);
}

}  // namespace ot
}  // namespace itk

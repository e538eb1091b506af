// Sinkhorn-Newton-Sparse, the Newton stage (Tang et al., ICLR 2024, Algorithm 1; docs/design/ot.md §3.3–3.8).
// Newton ascent on the Lyapunov potential L(u,v) = ⟨a,u⟩ + ⟨b,v⟩ − ΣP (log-scaling units, see
// dense_ops.h), Hessian −A sparsified to the global top-k plan entries with the diagonal kept
// dense, null space (1,−1) removed by fixing the last potential, Jacobi-PCG on (M + σI) d = r,
// backtracking line search on the semi-dual (v column-exact at every trial point, §3.5) that
// rejects non-finite trials, Sinkhorn fallbacks.
#include <algorithm>
#include <cmath>
#include <memory>

#include "sparse.h"
#include "state.h"

namespace itk {
namespace ot {
namespace {

// One fused pass at (u, v) on the host path: R, K, then the sums of kernels/ot_line_search.h in
// entry order (L = ⟨a,u⟩ + ⟨b,v⟩ − ΣP, err = ‖(a−R, b−K)‖₁, ‖r‖₂²).
LsPoint evaluate(State& st, const double* u, const double* v, double* R, double* K) {
  const FusedSums fs = st.ops->fused(u, v, R, K, false, nullptr);
  LsSums s{0, 0, 0, 0};
  for (std::size_t i = 0; i < st.n; ++i) ls_row_term(&s, st.a[i], u[i], R[i]);
  for (std::size_t j = 0; j < st.m; ++j) ls_col_term(&s, st.b[j], v[j], K[j]);
  return ls_point(s, fs.S, fs.finite);
}

// The vectors of the Newton step: on the device when the backend keeps them there (DenseOps::sns_load,
// docs/design/ot.md §6.3: only scalars cross per step, st.u/st.v are brought up to date by sync()
// when the host needs them), else here, with the same per-entry formulas.
class Step {
 public:
  explicit Step(State& st) : st_(st), n_(st.n), m_(st.m) {}
  // Evaluates the point in st.u, st.v (after a Sinkhorn block, or at the start).
  LsPoint load() {
    if (st_.ops->sns_load(st_.u.data(), st_.v.data(), &cur_)) {
      dev_ = true;
      return cur_;
    }
    st_.R.assign(n_, 0);
    st_.K.assign(m_, 0);
    return evaluate(st_, st_.u.data(), st_.v.data(), st_.R.data(), st_.K.data());
  }
  // The Newton system at the current point and the scalars of the step: rᵀd, ‖d‖∞, ΣP̃.
  DenseOps::NewtonOut newton(std::size_t k, double sigma, double rtol, int64_t cap) {
    DenseOps::NewtonOut out;
    if (dev_) {
      st_.ops->sns_newton(k, sigma, rtol, cap, &out);
      return out;
    }
    const std::size_t N = n_ + m_;
    r_.resize(N);
    d_.resize(N);
    for (std::size_t i = 0; i < n_; ++i) r_[i] = ls_residual(st_.a[i], st_.R[i]);
    for (std::size_t j = 0; j < m_; ++j) r_[n_ + j] = ls_residual(st_.b[j], st_.K[j]);
    if (!P_) P_.reset(new double[n_ * m_]);  // allocated on first use, never zeroed (materialise writes it)
    st_.ops->materialise(st_.u.data(), st_.v.data(), P_.get());
    top_k_sparsify(P_.get(), n_, m_, k, &scratch_, &sp_, std::nan(""));
    out.cg = pcg(sp_, st_.R.data(), st_.K.data(), sigma, r_.data(), rtol, cap, d_.data());
    out.kept = kept_mass(sp_);
    for (std::size_t q = 0; q < N; ++q) out.rd += r_[q] * d_[q];
    for (double x : d_) out.dinf = std::max(out.dinf, std::fabs(x));
    return out;
  }
  // Backtracking along d (§3.5); on acceptance the trial point becomes the current one.
  void line_search(LsState* ls) {
    if (dev_) {
      st_.ops->sns_line_search(ls, [this]() { st_.ctl.check(); });
      return;
    }
    ut_.resize(n_);
    vt_.resize(m_);
    Rt_.resize(n_);
    Kt_.resize(m_);
    while (!ls->done) {
      st_.ctl.check();
      for (std::size_t i = 0; i < n_; ++i) ut_[i] = ls_trial_u(st_.u[i], d_[i], ls->alpha);
      for (std::size_t j = 0; j < m_; ++j) vt_[j] = ls_trial_v(st_.v[j], d_[n_ + j], ls->alpha);
      st_.ops->col_update(ut_.data(), vt_.data());
      ls_judge(ls, evaluate(st_, ut_.data(), vt_.data(), Rt_.data(), Kt_.data()));
    }
    if (ls->accepted) {
      st_.u.swap(ut_);
      st_.v.swap(vt_);
      st_.R.swap(Rt_);
      st_.K.swap(Kt_);
    }
  }
  // Brings st.u, st.v up to date (before a Sinkhorn block and when the stage ends).
  void sync() {
    if (dev_) st_.ops->sns_store(st_.u.data(), st_.v.data());
  }

 private:
  State& st_;
  std::size_t n_, m_;
  bool dev_ = false;
  LsPoint cur_{};
  std::vector<double> Rt_, Kt_, ut_, vt_, r_, d_, scratch_;
  std::unique_ptr<double[]> P_;
  SparsePlan sp_;
};

}  // namespace

bool newton_stage(State& st) {
  const Options& o = *st.opt;
  const SnsOptions& so = o.sns;
  const std::size_t n = st.n, m = st.m, N = n + m;
  const double mn = static_cast<double>(std::min(n, m));
  // §3.7: 64 entries per row for small problems, at least a quarter of the plan for large ones.
  const double lambda_max = so.lambda_max > 0 ? so.lambda_max : std::max(0.25, std::min(1.0, 64.0 / mn));
  double lambda = std::min(so.lambda0 > 0 ? so.lambda0 : 2.0 / mn, lambda_max);
  const int64_t cg_cap = so.cg_max_iter > 0 ? so.cg_max_iter : static_cast<int64_t>(10 * N);
  const double ulp = st.f32 ? std::ldexp(1.0, -24) : std::ldexp(1.0, -53);

  Step step(st);
  auto refresh = [&]() {
    const LsPoint p = step.load();
    st.last_err = p.err;
    return p;
  };
  LsPoint cur = refresh();
  struct Lambda {  // records λ in the result however the stage ends
    Result* res;
    const double* lambda;
    ~Lambda() { res->lambda_final = *lambda; }
  } record_lambda{st.res, &lambda};
  int fails = 0;
  double stall_best = cur.err, window_best = cur.err;
  int64_t since_window = 0;

  // Sinkhorn iterations between Newton steps; true when they finished the solve.
  auto sinkhorn_block = [&](int64_t iters) {
    step.sync();
    const RunEnd e = run_sinkhorn(st, iters, o.tol, Stage::Fallback, false);
    if (e == RunEnd::Converged) return true;
    if (e == RunEnd::MaxIter) return true;
    cur = refresh();
    return false;
  };

  for (int64_t t = 0; t < so.max_newton; ++t) {
    st.ctl.check();
    st.ctl.progress(static_cast<double>(st.res->sinkhorn_iters + st.res->newton_iters), static_cast<double>(o.max_iter + so.max_newton));
    st.record(Stage::Newton, cur.err);
    if (cur.err <= o.tol) {
      step.sync();
      return true;
    }
    if (!cur.finite) break;  // cannot happen after a Sinkhorn pass; be safe and let Sinkhorn finish
    // Newton stall (§1.5): < 1 % over 50 Newton steps ends the stage.
    if (++since_window >= 50) {
      if (stall_best > 0.99 * window_best) break;
      window_best = stall_best;
      since_window = 0;
    }
    const double r2 = std::sqrt(cur.rr);  // ‖r‖₂, r = (a − R, b − K) at the current point

    // Sparsify (§3.3): k = max(⌈λnm⌉, n+m) global top-k plan entries.
    const std::size_t k = std::min(n * m, std::max(static_cast<std::size_t>(std::ceil(lambda * n * m)), N));
    // Shifted Jacobi-PCG (§3.4) on the sparsified Hessian; on the device the whole system stays there.
    const double sigma = st.reg_n * std::min(r2, so.shift_max);
    const double rtol = so.cg_rtol > 0 ? so.cg_rtol : std::min(0.1, std::max(cur.err, 1e-12));
    const DenseOps::NewtonOut nw = step.newton(k, sigma, rtol, cg_cap);
    st.res->cg_iters += nw.cg.iterations;
    // rᵀd: the slope of L along the step. The state is column-exact here (warm-up, fallbacks and
    // every accepted step end with a column update), so r_g ≈ 0 and rᵀd ≈ r_fᵀd_f, the slope of the
    // semi-dual F(u) = max_v L(u, v) that the line search evaluates.
    const double rd = nw.rd;
    // Truncation bound (§3.3): M d = r leaves the residual (A − M) d of the exact Newton model,
    // ‖(A − M) d‖₁ ≤ Σ_dropped P_ij (|d_i| + |d_j|) ≤ 2·(ΣP − ΣP̃)·‖d‖∞ (ΣP̃: kept off-diagonal
    // entries). When it is small next to the error left after a bad step, the truncation did not
    // cause that step and a denser Hessian would only cost time (e.g. R1 n = 200, whose dropped
    // entries underflow to 0, or R2-L2 in its global phase).
    const double trunc = 2 * std::max(0.0, cur.S - nw.kept) * nw.dinf;

    // Backtracking line search (§3.5, kernels/ot_line_search.h) on the semi-dual: trial
    // u(α) = u + φ(α·d_u), v(α) the exact column fit to u(α) (one column pass), so column residuals
    // stay 0 and only the rows carry the nonlinearity of P = exp(u + v − x); accept on Armijo, or
    // the round-off clause near err ~ 1e-10.
    LsState ls;
    ls_start(&ls, cur.L, cur.err, so.armijo_c1, rd, ls_delta_L(ulp, cur.au, cur.bv, cur.S),
             !nw.cg.breakdown && rd > 0 && std::isfinite(rd) ? so.max_backtracks : 0);
    step.line_search(&ls);
    st.res->line_search_evals += ls.evals;
    if (!ls.accepted) {
      // Failed step (§3.6): Sinkhorn iterations, denser Hessian, give up after 5 in a row.
      lambda = std::min(2 * lambda, lambda_max);
      if (sinkhorn_block(so.fallback_iters)) return st.last_err <= o.tol;
      if (++fails >= 5) break;
      continue;
    }
    fails = 0;
    ++st.res->newton_iters;
    const double err_old = cur.err;
    cur = ls.trial;
    const double q = cur.err / err_old;
    st.last_err = cur.err;
    st.col_exact = true;  // v was fitted to u: the row residual is the whole err
    st.col_res = 0;
    stall_best = std::min(stall_best, cur.err);
    // Bad step (§3.3, §3.6): err_new > badRatio·err_old. λ doubles when the truncation bound is at
    // least badRatio·err_new (the sparsification may explain the step); otherwise, or at λmax,
    // Newton continues unless the step barely moved (err_new > fallbackRatio·err_old), which calls
    // for fallbackIters Sinkhorn iterations.
    if (q > so.bad_ratio && cur.err > o.tol) {
      if (lambda < lambda_max && trunc > so.bad_ratio * cur.err)
        lambda = std::min(2 * lambda, lambda_max);
      else if (q > so.fallback_ratio && sinkhorn_block(so.fallback_iters))
        return st.last_err <= o.tol;
    }
  }
  step.sync();
  if (cur.err <= o.tol) {
    st.record(Stage::Newton, cur.err);
    return true;
  }
  return false;
}

}  // namespace ot
}  // namespace itk

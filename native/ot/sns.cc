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

struct Point {
  double L = 0, err = 0;
  bool finite = false;
};

// One fused pass at (u, v): R, K and L = ⟨a,u⟩ + ⟨b,v⟩ − ΣP, err = ‖(a−R, b−K)‖₁.
Point evaluate(State& st, const double* u, const double* v, double* R, double* K, double* S) {
  const FusedSums fs = st.ops->fused(u, v, R, K, false, nullptr);
  Point p;
  double au = 0, bv = 0, err = 0;
  for (std::size_t i = 0; i < st.n; ++i) {
    au += st.a[i] * u[i];
    err += std::fabs(st.a[i] - R[i]);
  }
  for (std::size_t j = 0; j < st.m; ++j) {
    bv += st.b[j] * v[j];
    err += std::fabs(st.b[j] - K[j]);
  }
  p.L = au + bv - fs.S;
  p.err = err;
  p.finite = fs.finite && std::isfinite(p.L) && std::isfinite(err);
  *S = fs.S;
  return p;
}

// Step curve of the line search (§3.5): u_i + φ(α·d_i) with φ(t) = log(1 + t) for t > 0 and t
// otherwise. For t > 0 this is the Newton step taken in the scaling x_i = e^{u_i} (x ← x(1 + t)):
// on a row whose Hessian block is its diagonal, d_i = a_i/R_i − 1 and log(1 + d_i) = log(a_i/R_i)
// is the exact row fit, while u + d_i overshoots it by d_i − log(1 + d_i) (unbounded as R_i → 0).
// For t ≤ 0 the log-domain step is kept: it never overshoots there, and log(1 + t) would diverge at
// t = −1. φ(t) = t − t²/2 + O(t³), so the step differs from u + d by O(‖d‖²) and the local
// (quadratic) convergence of Newton's method is unchanged.
inline double step_curve(double t) { return t > 0 ? std::log1p(t) : t; }

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

  st.R.assign(n, 0);
  st.K.assign(m, 0);
  std::vector<double> Rt(n), Kt(m), ut(n), vt(m), r(N), d(N), scratch;
  std::unique_ptr<double[]> P;  // host plan of the CPU path: allocated on first use, never zeroed (materialise writes it)
  SparsePlan sp;
  double S = 0;
  auto refresh = [&]() {
    Point p = evaluate(st, st.u.data(), st.v.data(), st.R.data(), st.K.data(), &S);
    st.last_err = p.err;
    return p;
  };
  Point cur = refresh();
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
    if (cur.err <= o.tol) return true;
    if (!cur.finite) break;  // cannot happen after a Sinkhorn pass; be safe and let Sinkhorn finish
    // Newton stall (§1.5): < 1 % over 50 Newton steps ends the stage.
    if (++since_window >= 50) {
      if (stall_best > 0.99 * window_best) break;
      window_best = stall_best;
      since_window = 0;
    }
    double r2 = 0;
    for (std::size_t i = 0; i < n; ++i) r[i] = st.a[i] - st.R[i];
    for (std::size_t j = 0; j < m; ++j) r[n + j] = st.b[j] - st.K[j];
    for (double x : r) r2 += x * x;
    r2 = std::sqrt(r2);

    // Sparsify (§3.3): k = max(⌈λnm⌉, n+m) global top-k plan entries.
    const std::size_t k = std::min(n * m, std::max(static_cast<std::size_t>(std::ceil(lambda * n * m)), N));
    // Shifted Jacobi-PCG (§3.4) on the sparsified Hessian; on the device the whole system stays there.
    const double sigma = st.reg_n * std::min(r2, so.shift_max);
    const double rtol = so.cg_rtol > 0 ? so.cg_rtol : std::min(0.1, std::max(cur.err, 1e-12));
    CgResult cg;
    double kept = 0;
    if (!st.ops->device_newton(st.u.data(), st.v.data(), k, st.R.data(), st.K.data(), sigma, r.data(), rtol, cg_cap,
                               d.data(), &cg, &kept)) {
      if (!P) P.reset(new double[n * m]);
      st.ops->materialise(st.u.data(), st.v.data(), P.get());
      top_k_sparsify(P.get(), n, m, k, &scratch, &sp, std::nan(""));
      cg = pcg(sp, st.R.data(), st.K.data(), sigma, r.data(), rtol, cg_cap, d.data());
      kept = kept_mass(sp);
    }
    st.res->cg_iters += cg.iterations;
    // rᵀd: the slope of L along the step. The state is column-exact here (warm-up, fallbacks and
    // every accepted step end with a column update), so r_g ≈ 0 and rᵀd ≈ r_fᵀd_f, the slope of the
    // semi-dual F(u) = max_v L(u, v) that the line search evaluates.
    double rd = 0;
    for (std::size_t q = 0; q < N; ++q) rd += r[q] * d[q];
    // Truncation bound (§3.3): M d = r leaves the residual (A − M) d of the exact Newton model,
    // ‖(A − M) d‖₁ ≤ Σ_dropped P_ij (|d_i| + |d_j|) ≤ 2·(ΣP − ΣP̃)·‖d‖∞ (ΣP̃: kept off-diagonal
    // entries). When it is small next to the error left after a bad step, the truncation did not
    // cause that step and a denser Hessian would only cost time (e.g. R1 n = 200, whose dropped
    // entries underflow to 0, or R2-L2 in its global phase).
    double dinf = 0;
    for (double x : d) dinf = std::max(dinf, std::fabs(x));
    const double trunc = 2 * std::max(0.0, S - kept) * dinf;

    bool accepted = false;
    Point trial;
    double S_trial = 0;
    if (!cg.breakdown && rd > 0 && std::isfinite(rd)) {
      // Backtracking line search (§3.5) on the semi-dual: trial u(α) = u + φ(α·d_u), v(α) the
      // exact column fit to u(α) (one column pass), so column residuals stay 0 and only the rows
      // carry the nonlinearity of P = exp(u + v − x); accept on Armijo, or the round-off clause
      // near err ~ 1e-10. v + α·d_v only seeds the column update (its shift, dense_ops.h).
      double au = 0, bv = 0;
      for (std::size_t i = 0; i < n; ++i) au += st.a[i] * st.u[i];
      for (std::size_t j = 0; j < m; ++j) bv += st.b[j] * st.v[j];
      const double delta_L = 100 * ulp * (std::fabs(au) + std::fabs(bv) + S);
      double alpha = 1;
      for (int bt = 0; bt < so.max_backtracks; ++bt, alpha *= 0.5) {
        st.ctl.check();
        for (std::size_t i = 0; i < n; ++i) ut[i] = st.u[i] + step_curve(alpha * d[i]);
        for (std::size_t j = 0; j < m; ++j) vt[j] = st.v[j] + alpha * d[n + j];
        st.ops->col_update(ut.data(), vt.data());
        trial = evaluate(st, ut.data(), vt.data(), Rt.data(), Kt.data(), &S_trial);
        ++st.res->line_search_evals;
        if (!trial.finite) continue;
        if (trial.L >= cur.L + so.armijo_c1 * alpha * rd ||
            (std::fabs(trial.L - cur.L) <= delta_L && trial.err < cur.err)) {
          accepted = true;
          break;
        }
      }
    }
    if (!accepted) {
      // Failed step (§3.6): Sinkhorn iterations, denser Hessian, give up after 5 in a row.
      lambda = std::min(2 * lambda, lambda_max);
      if (sinkhorn_block(so.fallback_iters)) return st.last_err <= o.tol;
      if (++fails >= 5) break;
      continue;
    }
    fails = 0;
    ++st.res->newton_iters;
    const double err_old = cur.err;
    const double q = trial.err / err_old;
    st.u.swap(ut);
    st.v.swap(vt);
    st.R.swap(Rt);
    st.K.swap(Kt);
    S = S_trial;
    cur = trial;
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
  if (cur.err <= o.tol) {
    st.record(Stage::Newton, cur.err);
    return true;
  }
  return false;
}

}  // namespace ot
}  // namespace itk

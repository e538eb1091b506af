// Kernel-scaling Sinkhorn (Sinkhorn–Knopp) with absorption, the stabilised form of Schmitzer
// (SIAM J. Sci. Comput. 2019, §3.1 "absorption"): the plan is P = diag(α) K̃ diag(β) with the stored
// kernel K̃_ij = exp(u_i + v_j − x_ij) of the current log-scalings (u, v) (dense_ops.h units).
// One iteration reads K̃ once, row by row (ot_kernels.h dot, then axpy on the row still in L1):
//     s_i = (K̃β)_i,  α_i ← a_i/s_i,  t += α_i K̃_i·   (per fixed row chunk),   β_j ← b_j/t_j,
// With Options::relax both updates are over-relaxed (state.h Relaxation; Lehmann et al. 2021):
// α_i ← α_i (a_i/(α_i s_i))^ω, β_j ← β_j (b_j/(β_j t_j))^ω; the column residual Σ|β_j t_j − b_j|
// of the relaxed β is then known from the same merge, so the error check stays free.
// a full row-then-column Sinkhorn iteration for one read of n·m float64 instead of two exp passes
// over C. Since β is column-exact before each iteration, Σ_i |α_i s_i − a_i| is the whole L1 error
// of the state entering it (the free check of the log-domain driver). When a scaling leaves
// [1e-50, 1e50] it is absorbed: u += log α, v += log β, K̃ recomputed, α = β = 1; so no product
// α_i K̃_ij β_j that matters (P_ij ≥ 1e-20) needs a K̃ entry below 1e-120. A row or column sum that
// is not a normal number (a kernel that underflowed) makes the run give up: the scalings are
// folded into (u, v) and the caller continues with log-domain passes from there.
//
// Determinism: the row chunks depend on n and m only and are merged in chunk order, so the result
// is bit-identical for any thread count.
#include <algorithm>
#include <cmath>
#include <memory>

#include "../core/threadpool.h"
#include "ot_kernels.h"
#include "state.h"

namespace itk {
namespace ot {

namespace {
constexpr double kAbsorbLow = 1e-50, kAbsorbHigh = 1e50;

inline bool normal_pos(double s) { return s >= 1e-300 && s <= 1e300; }

// Row chunks of one pass: about 2^15 entries each, at most 32 (so the per-chunk column partials,
// chunks × m, stay small next to K̃), a power of two so two or four threads share them evenly.
std::size_t ks_chunks(std::size_t n, std::size_t m) {
  const std::size_t want = std::max<std::size_t>(1, (n * m) >> 15);
  std::size_t c = 1;
  while (c * 2 <= want && c < 32) c *= 2;
  return std::min(c, n);
}
}  // namespace

RunEnd run_kernel_scaling(State& st, double tol, int64_t budget, bool* gave_up, bool* slow) {
  const Options& o = *st.opt;
  const std::size_t n = st.n, m = st.m;
  const OtKernels& K = ot_kernels();
  *gave_up = false;
  *slow = false;
  std::vector<double> errs;  // full errors, for the projection against `budget`
  // K̃ is written whole by every rebuild (materialise): no zero fill (at n = 500 the fill was 2 % of a solve).
  std::unique_ptr<double[]> Kt(new double[n * m]);
  std::vector<double> alpha(n, 1.0), beta(m, 1.0), alpha_new(n), beta_new(m);
  const std::size_t chunks = ks_chunks(n, m);
  std::vector<double> partial(chunks * m), err_part(chunks);
  std::vector<unsigned char> bad_part(chunks);
  auto chunk_begin = [&](std::size_t c) { return c * n / chunks; };
  auto rebuild = [&]() {
    st.ops->materialise(st.u.data(), st.v.data(), Kt.get());
    std::fill(alpha.begin(), alpha.end(), 1.0);
    std::fill(beta.begin(), beta.end(), 1.0);
  };
  // u += log α, v += log β: the plan is unchanged, the scalings become 1.
  auto fold = [&](const std::vector<double>& al, const std::vector<double>& be) {
    for (std::size_t i = 0; i < n; ++i) st.u[i] += std::log(al[i]);
    for (std::size_t j = 0; j < m; ++j) st.v[j] += std::log(be[j]);
  };
  rebuild();
  double best = 1e300, window_best = 1e300;
  int64_t since_window = 0;
  // Error bookkeeping: the L1 error of the state (α, β) entering an iteration is its row residual
  // (this iteration's pass) plus its column residual col_res (the previous iteration's merge: zero
  // for an exact column update, Σ_j |β_j t_j − b_j| for a relaxed one). Unknown at the first
  // iteration unless the state arrives column-exact.
  bool known = st.col_exact;
  double col_res = st.col_res;
  for (;;) {
    st.ctl.check();
    if (st.res->sinkhorn_iters >= o.max_iter) {
      fold(alpha, beta);
      return RunEnd::MaxIter;
    }
    const double omega = st.relax.omega();
    parallel_for(chunks, [&](std::size_t c) {
      double* acc = partial.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      double err = 0;
      unsigned char bad = 0;
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        const double* k = Kt.get() + i * m;
        const double s = K.dot(k, beta.data(), m);
        if (!normal_pos(s)) {
          bad = 1;
          break;
        }
        const double q = st.a[i] / (alpha[i] * s);  // the plain update is α ← α·q
        err += std::fabs(alpha[i] * s - st.a[i]);
        alpha_new[i] = omega == 1 ? st.a[i] / s : alpha[i] * std::pow(q, omega);
        K.axpy(acc, alpha_new[i], k, m);
      }
      err_part[c] = err;
      bad_part[c] = bad;
    });
    ++st.ops->passes;
    if (std::find(bad_part.begin(), bad_part.end(), 1) != bad_part.end()) {
      fold(alpha, beta);
      st.col_exact = known;
      st.col_res = col_res;
      *gave_up = true;
      return RunEnd::Limit;
    }
    double err = col_res;
    for (double e : err_part) err += e;
    // ω of this iteration was chosen from the errors before it; the next one sees this error.
    if (known) {
      st.last_err = err;
      if (st.res->sinkhorn_iters % std::max<int64_t>(1, o.check_every) == 0) {
        st.record(Stage::Sinkhorn, err);
        if (err <= tol) {
          fold(alpha, beta);  // the state the error was measured at
          return RunEnd::Converged;
        }
      }
      // Projection (auto): from the rate λ of the best error over the last 40 iterations (the
      // running minimum: over-relaxed errors oscillate), the iterations still needed are
      // log(tol/best)/log λ; past the budget, hand over to SNS.
      errs.push_back(errs.empty() ? err : std::min(err, errs.back()));
      const std::size_t c = errs.size();
      if (budget > 0 && c >= 80 && c % 20 == 0) {
        const double lam = std::pow(errs[c - 1] / errs[c - 41], 1.0 / 40);
        const double left = lam < 1 ? std::log(tol / errs[c - 1]) / std::log(lam) : HUGE_VAL;
        if (static_cast<double>(c) + left > static_cast<double>(budget)) {
          fold(alpha, beta);
          st.col_exact = true;
          st.col_res = col_res;
          *slow = true;
          return RunEnd::Limit;
        }
      }
      best = std::min(best, err);
      if (++since_window >= o.stall_window) {
        if (!(best < 0.99 * window_best) && window_best < 1e300) {
          fold(alpha, beta);
          return RunEnd::Stalled;
        }
        window_best = best;
        since_window = 0;
      }
    }
    if (known) st.relax.next(err);
    bool col_bad = false;
    double cres = 0;
    for (std::size_t j = 0; j < m; ++j) {
      double t = 0;
      for (std::size_t c = 0; c < chunks; ++c) t += partial[c * m + j];
      col_bad |= !normal_pos(t);
      beta_new[j] = omega == 1 ? st.b[j] / t : beta[j] * std::pow(st.b[j] / (beta[j] * t), omega);
      cres += std::fabs(beta_new[j] * t - st.b[j]);
    }
    if (col_bad) {
      fold(alpha, beta);
      st.col_exact = known;
      st.col_res = col_res;
      *gave_up = true;
      return RunEnd::Limit;
    }
    alpha.swap(alpha_new);
    beta.swap(beta_new);
    known = true;
    col_res = omega == 1 ? 0.0 : cres;  // plain column updates are exact (up to rounding)
    ++st.res->sinkhorn_iters;
    st.ctl.progress(static_cast<double>(st.res->sinkhorn_iters), static_cast<double>(o.max_iter));
    bool absorb = false;
    for (double x : alpha) absorb |= !(x >= kAbsorbLow && x <= kAbsorbHigh);
    for (double x : beta) absorb |= !(x >= kAbsorbLow && x <= kAbsorbHigh);
    if (absorb) {
      fold(alpha, beta);
      rebuild();
      ++st.res->absorptions;
    }
  }
}

}  // namespace ot
}  // namespace itk

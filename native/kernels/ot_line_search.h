// The SNS line search (docs/design/ot.md §3.5), written once for the host loop (native/ot/sns.cc) and
// the device-resident one (native/ot/cuda/ot_dense.cu), so that the CPU tests run the per-element
// trial point, the evaluation of L and err, and the acceptance state machine the GPU runs.
//
// Along the Newton direction d = (d_u, d_v) the trial point is
//     u(α) = u + φ(α d_u),   φ(t) = log(1 + t) for t > 0, t otherwise,
//     v(α) = the exact column fit to u(α), seeded (for its shift) with v + α d_v.
// φ is the Newton step taken in the scaling e^u: on a row whose Hessian block is its diagonal,
// d_i = a_i/R_i − 1 and log(1 + d_i) = log(a_i/R_i) is the exact row fit, while u + d_i overshoots it
// by d_i − log(1 + d_i) (unbounded as R_i → 0); for t ≤ 0 the log-domain step never overshoots and
// log(1 + t) would diverge at t = −1. φ(t) = t − t²/2 + O(t³), so the local (quadratic) convergence
// of Newton's method is unchanged.
//
// A trial is accepted on the Armijo condition L(α) ≥ L + c1·α·rᵀd or, near round-off, when L moved
// by at most 100 ulp of its terms (δ_L) and the error fell; α halves up to max_bt times; a trial
// whose sums are not finite is rejected, never used. Separately rounded operations (itk_hd.h) so
// the device rounds like the host; log1p is the platform's (CUDA's and glibc's differ in the last
// bit, which is why CPU and CUDA agree to rounding, not bit for bit).
#pragma once
#include <cmath>
#include <cstdint>

#include "itk_hd.h"

namespace itk {
namespace ot {

ITK_HD double ls_step_curve(double t) {
#if defined(__CUDA_ARCH__)
  return t > 0 ? ::log1p(t) : t;
#else
  return t > 0 ? std::log1p(t) : t;
#endif
}
ITK_HD double ls_abs(double x) {
#if defined(__CUDA_ARCH__)
  return ::fabs(x);
#else
  return std::fabs(x);
#endif
}
ITK_HD bool ls_finite(double x) {
#if defined(__CUDA_ARCH__)
  return ::isfinite(x);
#else
  return std::isfinite(x);
#endif
}
// Trial potentials of one entry (rows: u, columns: the seed of the column fit).
ITK_HD double ls_trial_u(double u, double d, double alpha) { return dadd(u, ls_step_curve(dmul(alpha, d))); }
ITK_HD double ls_trial_v(double v, double d, double alpha) { return dadd(v, dmul(alpha, d)); }

// Marginal residual of one entry (the gradient r = (a − P1, b − Pᵀ1) of L, §3.1) and its |·| for err.
ITK_HD double ls_residual(double mass, double sum) { return dadd(mass, -sum); }

// The sums one evaluation of a point needs, accumulated entry by entry (rows, then columns):
// au = ⟨a,u⟩, bv = ⟨b,v⟩, err = ‖(a − R, b − K)‖₁, rr = ‖r‖₂². S = ΣP comes from the fused pass.
struct LsSums {
  double au, bv, err, rr;
};
ITK_HD void ls_row_term(LsSums* s, double a, double u, double R) {
  const double r = ls_residual(a, R);
  s->au = dadd(s->au, dmul(a, u));
  s->err = dadd(s->err, ls_abs(r));
  s->rr = dadd(s->rr, dmul(r, r));
}
ITK_HD void ls_col_term(LsSums* s, double b, double v, double K) {
  const double r = ls_residual(b, K);
  s->bv = dadd(s->bv, dmul(b, v));
  s->err = dadd(s->err, ls_abs(r));
  s->rr = dadd(s->rr, dmul(r, r));
}

// A point of the line search: L = ⟨a,u⟩ + ⟨b,v⟩ − ΣP, its L1 error, ‖r‖₂² and whether everything is
// finite (sums_finite: the fused pass's ΣP).
struct LsPoint {
  double L, err, S, au, bv, rr;
  bool finite;
};
ITK_HD LsPoint ls_point(const LsSums& s, double S, bool sums_finite) {
  LsPoint p;
  p.L = dadd(dadd(s.au, s.bv), -S);
  p.err = s.err;
  p.S = S;
  p.au = s.au;
  p.bv = s.bv;
  p.rr = s.rr;
  p.finite = sums_finite && ls_finite(p.L) && ls_finite(s.err);
  return p;
}

// The device's one-block reductions (native/ot/cuda/ot_dense.cu sns_sums, sns_direction_sums), split
// as the kernels run them: thread t of nt sums a fixed contiguous chunk (ls_block_part), thread 0
// merges the parts in thread order, rows before columns (ls_block_merge). The CPU's device
// emulation (native/ot/device_emulation.cc) runs the same two functions in a loop over t.
ITK_HD void ls_block_part(uint32_t t, uint32_t nt, uint64_t n, uint64_t m, const double* a, const double* b,
                          const double* u, const double* v, const double* R, const double* K, LsSums* rows,
                          LsSums* cols, double* S) {
  const uint64_t rc = (n + nt - 1) / nt, cc = (m + nt - 1) / nt;
  LsSums r{0, 0, 0, 0}, c{0, 0, 0, 0};
  double s = 0;
  for (uint64_t i = t * rc; i < (t + 1) * rc && i < n; ++i) {
    ls_row_term(&r, a[i], u[i], R[i]);
    s = dadd(s, R[i]);
  }
  for (uint64_t j = t * cc; j < (t + 1) * cc && j < m; ++j) ls_col_term(&c, b[j], v[j], K[j]);
  rows[t] = r;
  cols[t] = c;
  S[t] = s;
}
ITK_HD LsPoint ls_block_merge(const LsSums* rows, const LsSums* cols, const double* S, uint32_t nt) {
  LsSums tot{0, 0, 0, 0};
  double St = 0;
  for (uint32_t q = 0; q < nt; ++q) {
    tot.au = dadd(tot.au, rows[q].au);
    tot.err = dadd(tot.err, rows[q].err);
    tot.rr = dadd(tot.rr, rows[q].rr);
    St = dadd(St, S[q]);
  }
  for (uint32_t q = 0; q < nt; ++q) {
    tot.bv = dadd(tot.bv, cols[q].bv);
    tot.err = dadd(tot.err, cols[q].err);
    tot.rr = dadd(tot.rr, cols[q].rr);
  }
  return ls_point(tot, St, ls_finite(St));
}
// rᵀd and ‖d‖∞ over a fixed chunk (thread t of nt), then merged in thread order.
struct LsDirection {
  double rd, dinf;
};
ITK_HD LsDirection ls_direction_part(uint32_t t, uint32_t nt, uint64_t N, const double* r, const double* d) {
  const uint64_t c = (N + nt - 1) / nt;
  LsDirection p{0, 0};
  for (uint64_t q = t * c; q < (t + 1) * c && q < N; ++q) {
    p.rd = dadd(p.rd, dmul(r[q], d[q]));
    const double x = ls_abs(d[q]);
    p.dinf = x > p.dinf ? x : p.dinf;
  }
  return p;
}
ITK_HD LsDirection ls_direction_merge(const LsDirection* parts, uint32_t nt) {
  LsDirection out{0, 0};
  for (uint32_t q = 0; q < nt; ++q) {
    out.rd = dadd(out.rd, parts[q].rd);
    out.dinf = parts[q].dinf > out.dinf ? parts[q].dinf : out.dinf;
  }
  return out;
}
// The device queues line-search trials in batches of 1, 2, 4, 8, 8, … between two reads of the state.
ITK_HD int ls_next_batch(int batch) { return batch < 8 ? 2 * batch : 8; }

// 100 ulp of the terms of L at the current point: the round-off band of the acceptance test.
ITK_HD double ls_delta_L(double ulp, double au, double bv, double S) {
  return dmul(dmul(100.0, ulp), dadd(dadd(ls_abs(au), ls_abs(bv)), S));
}

// One backtracking line search as a state machine: ls_start, then per trial (at alpha) ls_judge.
// The host loop and the device's gated one-thread kernel step it identically.
struct LsState {
  double alpha, cur_L, cur_err, c1, rd, delta_L;
  int bt, max_bt, done, accepted;
  long long evals;
  LsPoint trial;  // the last trial judged
};
ITK_HD void ls_start(LsState* s, double cur_L, double cur_err, double c1, double rd, double delta_L, int max_bt) {
  s->alpha = 1;
  s->cur_L = cur_L;
  s->cur_err = cur_err;
  s->c1 = c1;
  s->rd = rd;
  s->delta_L = delta_L;
  s->bt = 0;
  s->max_bt = max_bt;
  s->done = max_bt <= 0;
  s->accepted = 0;
  s->evals = 0;
  s->trial = ls_point(LsSums{0, 0, 0, 0}, 0, false);
}
ITK_HD bool ls_accepts(const LsState& s, const LsPoint& t) {
  if (!t.finite) return false;
  return t.L >= dadd(s.cur_L, dmul(dmul(s.c1, s.alpha), s.rd)) ||
         (ls_abs(dadd(t.L, -s.cur_L)) <= s.delta_L && t.err < s.cur_err);
}
// Judges the trial at s->alpha: accept and stop, or halve α (stop after max_bt trials).
ITK_HD void ls_judge(LsState* s, const LsPoint& t) {
  ++s->evals;
  s->trial = t;
  if (ls_accepts(*s, t)) {
    s->accepted = 1;
    s->done = 1;
    return;
  }
  ++s->bt;
  s->alpha = dmul(s->alpha, 0.5);
  if (s->bt >= s->max_bt) s->done = 1;
}

}  // namespace ot
}  // namespace itk

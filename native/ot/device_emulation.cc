// A CPU stand-in for the device-resident SNS of the CUDA ops (docs/design/ot.md §6.3), for tests: with
// ITOKIT_OT_EMULATE_DEVICE=1 a CPU solve wraps its dense ops in this class, which implements
// DenseOps::sns_* the way native/ot/cuda/ot_dense.cu does — resident copies of (u, v, R, K), r and d,
// the one-block sums and direction sums in the kernels' chunk and merge order (ls_block_part/merge,
// ls_direction_part/merge), line-search trials queued in batches (ls_next_batch) that do nothing once
// the state is done, the accepted trial swapped in — with the CPU's passes in place of the kernels.
// So the CPU tests run sns.cc's device branch (load, sync before a Sinkhorn block, reload, store)
// and the device's reduction order, which the host path does not share (test/ot.test.ts).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <vector>

#include "dense_ops.h"

namespace itk {
namespace ot {
namespace {

constexpr uint32_t kThreads = 256;  // cuda::kBlock, the block of the device reductions

class EmulatedDevice final : public DenseOps {
 public:
  EmulatedDevice(std::unique_ptr<DenseOps> cpu, const DenseProblem& p) : cpu_(std::move(cpu)), a_(p.a), b_(p.b) {
    n = cpu_->n;
    m = cpu_->m;
  }
  void set_ir(double ir) override { cpu_->set_ir(ir); }
  double row_update(const double* u, const double* v, double* u_out) override {
    const double e = cpu_->row_update(u, v, u_out);
    passes = cpu_->passes;
    return e;
  }
  void col_update(const double* u, double* v) override {
    cpu_->col_update(u, v);
    passes = cpu_->passes;
  }
  FusedSums fused(const double* u, const double* v, double* R, double* K, bool want_cost, void* plan) override {
    const FusedSums fs = cpu_->fused(u, v, R, K, want_cost, plan);
    passes = cpu_->passes;
    return fs;
  }
  void materialise(const double* u, const double* v, double* P) override {
    cpu_->materialise(u, v, P);
    passes = cpu_->passes;
  }

  bool sns_load(const double* u, const double* v, LsPoint* cur) override {
    u_.assign(u, u + n);
    v_.assign(v, v + m);
    R_.resize(n);
    K_.resize(m);
    *cur = eval(u_, v_, &R_, &K_);
    return true;
  }
  void sns_newton(std::size_t k, double sigma, double rtol, int64_t max_iter, NewtonOut* out) override {
    const std::size_t N = n + m;
    r_.resize(N);
    d_.resize(N);
    for (std::size_t i = 0; i < n; ++i) r_[i] = ls_residual(a_[i], R_[i]);
    for (std::size_t j = 0; j < m; ++j) r_[n + j] = ls_residual(b_[j], K_[j]);
    P_.resize(n * m);
    materialise(u_.data(), v_.data(), P_.data());
    top_k_sparsify(P_.data(), n, m, k, nullptr, &sp_, std::nan(""));
    out->cg = pcg(sp_, R_.data(), K_.data(), sigma, r_.data(), rtol, max_iter, d_.data());
    out->kept = kept_mass(sp_);
    LsDirection parts[kThreads];
    for (uint32_t t = 0; t < kThreads; ++t) parts[t] = ls_direction_part(t, kThreads, N, r_.data(), d_.data());
    const LsDirection dir = ls_direction_merge(parts, kThreads);
    out->rd = dir.rd;
    out->dinf = dir.dinf;
  }
  void sns_line_search(LsState* ls, const std::function<void()>& between) override {
    ut_.resize(n);
    vt_.resize(m);
    Rt_.resize(n);
    Kt_.resize(m);
    int batch = 1;
    while (!ls->done) {
      between();
      for (int t = 0; t < batch; ++t) {
        if (ls->done) continue;  // the device's gated kernels: a trial queued after the stop does nothing
        for (std::size_t i = 0; i < n; ++i) ut_[i] = ls_trial_u(u_[i], d_[i], ls->alpha);
        for (std::size_t j = 0; j < m; ++j) vt_[j] = ls_trial_v(v_[j], d_[n + j], ls->alpha);
        col_update(ut_.data(), vt_.data());
        ls_judge(ls, eval(ut_, vt_, &Rt_, &Kt_));
      }
      batch = ls_next_batch(batch);
    }
    if (ls->accepted) {
      u_.swap(ut_);
      v_.swap(vt_);
      R_.swap(Rt_);
      K_.swap(Kt_);
    }
  }
  void sns_store(double* u, double* v) override {
    std::copy(u_.begin(), u_.end(), u);
    std::copy(v_.begin(), v_.end(), v);
  }

 private:
  // The fused pass, then the sums as sns_sums runs them (ΣP from R, in the block's order).
  LsPoint eval(const std::vector<double>& u, const std::vector<double>& v, std::vector<double>* R, std::vector<double>* K) {
    fused(u.data(), v.data(), R->data(), K->data(), false, nullptr);
    LsSums rows[kThreads], cols[kThreads];
    double S[kThreads];
    for (uint32_t t = 0; t < kThreads; ++t)
      ls_block_part(t, kThreads, n, m, a_, b_, u.data(), v.data(), R->data(), K->data(), rows, cols, S);
    return ls_block_merge(rows, cols, S, kThreads);
  }

  std::unique_ptr<DenseOps> cpu_;
  const double *a_, *b_;
  std::vector<double> u_, v_, R_, K_, ut_, vt_, Rt_, Kt_, r_, d_, P_;
  SparsePlan sp_;
};

}  // namespace

bool device_emulation_requested() {
  const char* e = std::getenv("ITOKIT_OT_EMULATE_DEVICE");
  return e != nullptr && e[0] == '1' && e[1] == '\0';
}

std::unique_ptr<DenseOps> emulate_device_sns(std::unique_ptr<DenseOps> cpu, const DenseProblem& p) {
  return std::unique_ptr<DenseOps>(new EmulatedDevice(std::move(cpu), p));
}

}  // namespace ot
}  // namespace itk

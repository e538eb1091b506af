// CPU implementation of the dense passes (spec §2.1, §6.2). Every LSE is shifted by the old
// potential (spec §2.1 "LSE variants"): after a column update P_ij ≤ b_j ≤ 1, after a row update
// P_ij ≤ a_i ≤ 1, so Σ_j exp(u_i + v_j − x_ij) is (P1)_i itself — one read of C per
// half-iteration and the residual for free. A row or column whose sum is 0, subnormal-small,
// huge or non-finite is redone with the max-shift (two-pass) LSE.
//
// Determinism (spec §4.6): rows are cut into fixed 64-row blocks, columns into R = min(64, ⌈n/8⌉)
// fixed row chunks whose length-m partial sums are merged in chunk order; every partition depends
// on n and m only, never on the thread count, so results are bit-identical for any pool size.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/threadpool.h"
#include "../kernels/ot_entry.h"
#include "dense_ops.h"
#include "vexp.h"

#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
#define ITK_OT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ITK_OT_CLONES
#endif

namespace itk {
namespace ot {
namespace {

constexpr std::size_t kRowBlock = 64;
// A shifted sum outside this range loses precision (subnormal terms) or overflowed: redo it.
constexpr double kSumLow = 1e-150, kSumHigh = 1e150;

inline bool sum_ok(double s) { return s >= kSumLow && s <= kSumHigh; }

// z_j = shift + w_j − (c_j − c0)·ir, evaluated in T (float32 mode does per-entry arithmetic in
// float32, spec §4.3), widened to float64 for the exponential.
template <typename T>
inline void exponents_t(const T* c, const T* w, std::size_t m, T shift, T c0, T ir, double* z) {
  for (std::size_t j = 0; j < m; ++j) z[j] = static_cast<double>(entry_exponent(shift, w[j], c[j], c0, ir));
}
ITK_OT_CLONES void exponents(const double* c, const double* w, std::size_t m, double shift, double c0, double ir, double* z) {
  exponents_t<double>(c, w, m, shift, c0, ir, z);
}
ITK_OT_CLONES void exponents(const float* c, const float* w, std::size_t m, float shift, float c0, float ir, double* z) {
  exponents_t<float>(c, w, m, shift, c0, ir, z);
}

// z_j ← exp(z_j); returns Σ_j exp(z_j) summed in a fixed lane order (8 lanes, then the tail).
ITK_OT_CLONES double exp_sum(double* z, std::size_t m) {
  std::size_t j = 0;
  double s = 0;
#if defined(ITK_OT_HAVE_V4)
  v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  for (; j + 8 <= m; j += 8) {
    v4d x0, x1;
    std::memcpy(&x0, z + j, sizeof x0);
    std::memcpy(&x1, z + j + 4, sizeof x1);
    x0 = exp_fast4(x0);
    x1 = exp_fast4(x1);
    std::memcpy(z + j, &x0, sizeof x0);
    std::memcpy(z + j + 4, &x1, sizeof x1);
    a0 += x0;
    a1 += x1;
  }
  s = ((a0[0] + a1[0]) + (a0[1] + a1[1])) + ((a0[2] + a1[2]) + (a0[3] + a1[3]));
#endif
  for (; j < m; ++j) {
    z[j] = exp_fast(z[j]);
    s += z[j];
  }
  return s;
}

double max_of(const double* z, std::size_t m) {
  double mx = -HUGE_VAL;
  for (std::size_t j = 0; j < m; ++j) mx = z[j] > mx ? z[j] : mx;
  return mx;
}

// log Σ_j exp(z_j) with the max-shift; z is overwritten.
double lse_maxshift(double* z, std::size_t m) {
  const double mx = max_of(z, m);
  if (!std::isfinite(mx)) return mx;
  for (std::size_t j = 0; j < m; ++j) z[j] -= mx;
  return mx + std::log(exp_sum(z, m));
}

ITK_OT_CLONES void add_to(double* acc, const double* e, std::size_t m) {
  for (std::size_t j = 0; j < m; ++j) acc[j] += e[j];
}

// Σ_j c_j e_j with four interleaved accumulators (fixed order).
template <typename T>
double dot(const T* c, const double* e, std::size_t m) {
  double s[4] = {0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 4 <= m; j += 4)
    for (int l = 0; l < 4; ++l) s[l] += static_cast<double>(c[j + l]) * e[j + l];
  for (; j < m; ++j) s[0] += static_cast<double>(c[j]) * e[j];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

template <typename T>
class CpuOps final : public DenseOps {
 public:
  explicit CpuOps(const DenseProblem& p) : p_(p), C_(static_cast<const T*>(p.C)) {
    n = p.n;
    m = p.m;
    chunks_ = std::min<std::size_t>(64, (n + 7) / 8);
    partial_.resize(chunks_ * m);
    zero_m_.assign(m, T(0));
  }

  void set_ir(double ir) override { ir_ = ir; }

  double row_update(const double* u, const double* v, double* u_out) override {
    const T* vt = as_t(v, m, &vt_);
    const std::size_t blocks = (n + kRowBlock - 1) / kRowBlock;
    std::vector<double> block_err(blocks, 0.0);
    const T c0 = static_cast<T>(p_.c0), ir = static_cast<T>(ir_);
    parallel_range(n, kRowBlock, [&](std::size_t b, std::size_t e) {
      std::vector<double> z(m);
      double err = 0;
      for (std::size_t i = b; i < e; ++i) {
        const T* c = C_ + i * m;
        exponents(c, vt, m, static_cast<T>(u[i]), c0, ir, z.data());
        const double s = exp_sum(z.data(), m);
        if (sum_ok(s)) {
          err += std::fabs(s - p_.a[i]);
          u_out[i] = u[i] + (p_.log_a[i] - std::log(s));
        } else {  // max-shift fallback: s_i = LSE_j(v_j − x_ij)
          exponents(c, vt, m, T(0), c0, ir, z.data());
          const double lse = lse_maxshift(z.data(), m);
          u_out[i] = p_.log_a[i] - lse;
          err += std::fabs(std::exp(u[i] + lse) - p_.a[i]);
        }
      }
      block_err[b / kRowBlock] = err;
    });
    ++passes;
    double err = 0;
    for (double x : block_err) err += x;
    return err;
  }

  void col_update(const double* u, double* v) override {
    const T* vt = as_t(v, m, &vt_);
    const T c0 = static_cast<T>(p_.c0), ir = static_cast<T>(ir_);
    // Pass 1: per-chunk partial column sums of P at the current (u, v).
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      std::vector<double> z(m);
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        exponents(C_ + i * m, vt, m, static_cast<T>(u[i]), c0, ir, z.data());
        exp_sum(z.data(), m);
        add_to(acc, z.data(), m);
      }
    });
    ++passes;
    std::vector<unsigned char> bad(m, 0);
    parallel_range(m, 1024, [&](std::size_t b, std::size_t e) {
      for (std::size_t j = b; j < e; ++j) {
        double s = 0;
        for (std::size_t c = 0; c < chunks_; ++c) s += partial_[c * m + j];
        if (sum_ok(s))
          v[j] += p_.log_b[j] - std::log(s);
        else
          bad[j] = 1;
      }
    });
    if (std::find(bad.begin(), bad.end(), 1) != bad.end()) col_maxshift(u, v, bad);
  }

  FusedSums fused(const double* u, const double* v, double* R, double* K, bool want_cost, void* plan) override {
    const T* vt = as_t(v, m, &vt_);
    const T c0 = static_cast<T>(p_.c0), ir = static_cast<T>(ir_);
    std::vector<double> cost_part(chunks_, 0.0);
    T* P = static_cast<T*>(plan);
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      std::vector<double> z(m);
      double cost = 0;
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        const T* crow = C_ + i * m;
        exponents(crow, vt, m, static_cast<T>(u[i]), c0, ir, z.data());
        R[i] = exp_sum(z.data(), m);
        add_to(acc, z.data(), m);
        if (want_cost) cost += dot(crow, z.data(), m);
        if (P != nullptr)
          for (std::size_t j = 0; j < m; ++j) P[i * m + j] = static_cast<T>(z[j]);
      }
      cost_part[c] = cost;
    });
    ++passes;
    parallel_range(m, 1024, [&](std::size_t b, std::size_t e) {
      for (std::size_t j = b; j < e; ++j) {
        double s = 0;
        for (std::size_t c = 0; c < chunks_; ++c) s += partial_[c * m + j];
        K[j] = s;
      }
    });
    FusedSums out;
    for (std::size_t i = 0; i < n; ++i) out.S += R[i];
    for (double x : cost_part) out.cost += x;
    out.finite = std::isfinite(out.S) && std::isfinite(out.cost);
    return out;
  }

  void materialise(const double* u, const double* v, double* P) override {
    const T* vt = as_t(v, m, &vt_);
    const T c0 = static_cast<T>(p_.c0), ir = static_cast<T>(ir_);
    parallel_range(n, kRowBlock, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) {
        exponents(C_ + i * m, vt, m, static_cast<T>(u[i]), c0, ir, P + i * m);
        exp_sum(P + i * m, m);
      }
    });
    ++passes;
  }

 private:
  std::size_t chunk_begin(std::size_t c) const { return c * n / chunks_; }

  // float64 potentials in the working dtype (a copy only in float32 mode).
  static const T* as_t(const double* x, std::size_t len, std::vector<T>* buf) {
    if constexpr (sizeof(T) == sizeof(double)) {
      (void)len;
      (void)buf;
      return reinterpret_cast<const T*>(x);
    } else {
      buf->resize(len);
      for (std::size_t k = 0; k < len; ++k) (*buf)[k] = static_cast<T>(x[k]);
      return buf->data();
    }
  }

  // Two-pass (max, then sum) LSE over rows for the columns flagged bad: v_j = log b_j − LSE_i(u_i − x_ij).
  void col_maxshift(const double* u, double* v, const std::vector<unsigned char>& bad) {
    const T c0 = static_cast<T>(p_.c0), ir = static_cast<T>(ir_);
    const T* zero = zero_m_.data();
    std::vector<double> mx(m, -HUGE_VAL);
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, -HUGE_VAL);
      std::vector<double> z(m);
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        exponents(C_ + i * m, zero, m, static_cast<T>(u[i]), c0, ir, z.data());
        for (std::size_t j = 0; j < m; ++j) acc[j] = z[j] > acc[j] ? z[j] : acc[j];
      }
    });
    for (std::size_t c = 0; c < chunks_; ++c)
      for (std::size_t j = 0; j < m; ++j) mx[j] = std::max(mx[j], partial_[c * m + j]);
    std::vector<T> shift(m);
    for (std::size_t j = 0; j < m; ++j) shift[j] = std::isfinite(mx[j]) ? static_cast<T>(-mx[j]) : T(0);
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      std::vector<double> z(m);
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        exponents(C_ + i * m, shift.data(), m, static_cast<T>(u[i]), c0, ir, z.data());
        exp_sum(z.data(), m);
        add_to(acc, z.data(), m);
      }
    });
    passes += 2;
    for (std::size_t j = 0; j < m; ++j) {
      if (!bad[j]) continue;
      double s = 0;
      for (std::size_t c = 0; c < chunks_; ++c) s += partial_[c * m + j];
      v[j] = p_.log_b[j] - (static_cast<double>(-shift[j]) + std::log(s));
    }
  }

  DenseProblem p_;
  const T* C_;
  double ir_ = 1;
  std::size_t chunks_ = 1;
  std::vector<double> partial_;
  std::vector<T> vt_, zero_m_;
};

}  // namespace

std::unique_ptr<DenseOps> make_cpu_ops(const DenseProblem& p) {
  if (p.f32) return std::unique_ptr<DenseOps>(new CpuOps<float>(p));
  return std::unique_ptr<DenseOps>(new CpuOps<double>(p));
}

}  // namespace ot
}  // namespace itk

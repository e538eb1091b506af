// CPU implementation of the dense passes (docs/design/ot.md). Every LSE is shifted by the old
// potential: after a column update P_ij ≤ b_j ≤ 1, after a row update P_ij ≤ a_i ≤ 1, so
// Σ_j exp(u_i + v_j − x_ij) is (P1)_i itself — one read of C per half-iteration and the residual
// for free. A row or column whose sum is 0, subnormal-small, huge or non-finite is redone with the
// max-shift (two-pass) LSE. The per-row exp work runs in the vector kernels of ot_kernels.h.
//
// The cost rows come from a row source: the n×m matrix (MatrixRows), or two point clouds whose
// squared distances are formed row by row on the fly (PointRows, the online reduction of KeOps:
// memory O((n + m)·d) plus per-task row buffers, never n×m).
//
// Determinism: rows are cut into fixed 64-row blocks, columns into R = min(64, ⌈n/8⌉) fixed row
// chunks whose length-m partial sums are merged in chunk order; every partition depends on n and m
// only, never on the thread count, so results are bit-identical for any pool size.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/isa.h"
#include "../core/threadpool.h"
#include "../kernels/ot_entry.h"
#include "dense_ops.h"
#include "ot_kernels.h"


namespace itk {
namespace ot {
namespace {

constexpr std::size_t kRowBlock = 64;

// float32 mode: z_j = shift + w_j − (c_j − c0)·ir in float32 (per-entry arithmetic in the working
// dtype), widened to float64 for the exponential.
ITK_ISA_CLONES void exponents(const float* c, const float* w, std::size_t m, float shift, float c0, float ir, double* z) {
  for (std::size_t j = 0; j < m; ++j) z[j] = static_cast<double>(entry_exponent(shift, w[j], c[j], c0, ir));
}

double max_of(const double* z, std::size_t m) {
  double mx = -HUGE_VAL;
  for (std::size_t j = 0; j < m; ++j) mx = z[j] > mx ? z[j] : mx;
  return mx;
}

// Σ_j c_j e_j for a float32 row (fixed order); float64 rows use the kernel table's dot.
double dot_f32(const float* c, const double* e, std::size_t m) {
  double s[4] = {0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 4 <= m; j += 4)
    for (int l = 0; l < 4; ++l) s[l] += static_cast<double>(c[j + l]) * e[j + l];
  for (; j < m; ++j) s[0] += static_cast<double>(c[j]) * e[j];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Rows of a stored n×m cost matrix.
template <typename T>
struct MatrixRows {
  const T* C;
  std::size_t m;
  const T* row(std::size_t i, T* /*buf*/) const { return C + i * m; }
};

// Rows of the squared Euclidean cost between point clouds X (n×d) and Y (m×d), computed on the
// fly: c_j = Σ_k (x_ik − y_jk)², accumulated in float64 over k in order and rounded to T once —
// the arithmetic of pairwise_cost (cost.cc, built with -ffp-contract=off), so an online row equals
// the stored row bit for bit. Y is kept transposed (d×m) so the j loop is unit-stride.
template <typename T>
struct PointRows {
  const T* X = nullptr;
  std::vector<T> Yt;
  std::size_t d = 0, m = 0;
  const T* row(std::size_t i, T* buf) const {
    const T* x = X + i * d;
    if constexpr (sizeof(T) == sizeof(double)) {
      sq_row(x, buf);
    } else {
      thread_local std::vector<double> acc;
      acc.resize(m);
      sq_row(x, acc.data());
      for (std::size_t j = 0; j < m; ++j) buf[j] = static_cast<T>(acc[j]);
    }
    return buf;
  }
  void sq_row(const T* x, double* s) const {
    for (std::size_t j = 0; j < m; ++j) s[j] = 0;
    for (std::size_t k = 0; k < d; ++k) sq_add(s, Yt.data() + k * m, static_cast<double>(x[k]), m);
  }
  ITK_ISA_CLONES static void sq_add(double* s, const T* y, double xk, std::size_t m) {
    for (std::size_t j = 0; j < m; ++j) s[j] = sq_term(s[j], xk, static_cast<double>(y[j]));
  }
};

template <typename T, class Src>
class CpuOps final : public DenseOps {
 public:
  CpuOps(const DenseProblem& p, Src src) : p_(p), src_(std::move(src)), K_(ot_kernels()) {
    n = p.n;
    m = p.m;
    chunks_ = std::min<std::size_t>(64, (n + 7) / 8);
    partial_.resize(chunks_ * m);
  }

  void set_ir(double ir) override { ir_ = ir; }

  double row_update(const double* u, const double* v, double* u_out) override {
    const T* vt = as_t(v, m, &vt_);
    const std::size_t blocks = (n + kRowBlock - 1) / kRowBlock;
    std::vector<double> block_err(blocks, 0.0);
    parallel_range(n, kRowBlock, [&](std::size_t b, std::size_t e) {
      Scratch w(m);
      double err = 0;
      for (std::size_t i = b; i < e; ++i) {
        const T* c = src_.row(i, w.c.data());
        const double s = row_sum(c, vt, static_cast<T>(u[i]), w.z.data(), nullptr, nullptr);
        if (shifted_sum_ok(s)) {
          err += std::fabs(s - p_.a[i]);
          u_out[i] = u[i] + (p_.log_a[i] - std::log(s));
        } else {  // max-shift fallback: s_i = LSE_j(v_j − x_ij)
          const double lse = lse_maxshift(c, vt, w.z.data());
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
    // Pass 1: per-chunk partial column sums of P at the current (u, v).
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      Scratch w(m);
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i)
        row_sum(src_.row(i, w.c.data()), vt, static_cast<T>(u[i]), w.z.data(), nullptr, acc);
    });
    ++passes;
    std::vector<unsigned char> bad(m, 0);
    parallel_range(m, 1024, [&](std::size_t b, std::size_t e) {
      for (std::size_t j = b; j < e; ++j) {
        double s = 0;
        for (std::size_t c = 0; c < chunks_; ++c) s += partial_[c * m + j];
        if (shifted_sum_ok(s))
          v[j] += p_.log_b[j] - std::log(s);
        else
          bad[j] = 1;
      }
    });
    if (std::find(bad.begin(), bad.end(), 1) != bad.end()) col_maxshift(u, v, bad);
  }

  FusedSums fused(const double* u, const double* v, double* R, double* K, bool want_cost, void* plan) override {
    const T* vt = as_t(v, m, &vt_);
    std::vector<double> cost_part(chunks_, 0.0);
    T* P = static_cast<T*>(plan);
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      Scratch w(m);
      double cost = 0;
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        const T* crow = src_.row(i, w.c.data());
        double* e = w.z.data();
        R[i] = row_sum(crow, vt, static_cast<T>(u[i]), e, e, acc);
        if (want_cost) cost += row_dot(crow, e);
        if (P != nullptr)
          for (std::size_t j = 0; j < m; ++j) P[i * m + j] = static_cast<T>(e[j]);
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
    parallel_range(n, kRowBlock, [&](std::size_t b, std::size_t e) {
      Scratch w(m);
      for (std::size_t i = b; i < e; ++i) row_sum(src_.row(i, w.c.data()), vt, static_cast<T>(u[i]), w.z.data(), P + i * m, nullptr);
    });
    ++passes;
  }

 private:
  // Per-task buffers: a cost row (PointRows fills it) and the exponents of a float32 row.
  struct Scratch {
    std::vector<T> c;
    std::vector<double> z;
    explicit Scratch(std::size_t m) : c(std::is_same<Src, MatrixRows<T>>::value ? 0 : m), z(m) {}
  };

  std::size_t chunk_begin(std::size_t c) const { return c * n / chunks_; }

  // Σ_j exp(shift + w_j − (c_j − c0)·ir), storing the terms in out and/or adding them to acc.
  // z: an m-long scratch (float32 rows form their exponents there).
  double row_sum(const T* c, const T* w, T shift, double* z, double* out, double* acc) const {
    if constexpr (sizeof(T) == sizeof(double)) {
      (void)z;
      return K_.row_exp(c, w, m, shift, p_.c0, ir_, out, acc);
    } else {
      exponents(c, w, m, shift, static_cast<T>(p_.c0), static_cast<T>(ir_), z);
      const double s = K_.exp_sum(z, m, acc);
      if (out != nullptr && out != z) std::copy(z, z + m, out);
      return s;
    }
  }

  double row_dot(const T* c, const double* e) const {
    if constexpr (sizeof(T) == sizeof(double))
      return K_.dot(c, e, m);
    else
      return dot_f32(c, e, m);
  }

  // LSE_j(w_j − x_ij) with the max shift (two passes over the row).
  double lse_maxshift(const T* c, const T* w, double* z) const {
    if constexpr (sizeof(T) == sizeof(double)) {
      for (std::size_t j = 0; j < m; ++j) z[j] = entry_exponent(0.0, w[j], c[j], p_.c0, ir_);
    } else {
      exponents(c, w, m, T(0), static_cast<T>(p_.c0), static_cast<T>(ir_), z);
    }
    const double mx = max_of(z, m);
    if (!std::isfinite(mx)) return mx;
    for (std::size_t j = 0; j < m; ++j) z[j] -= mx;
    return mx + std::log(K_.exp_sum(z, m, nullptr));
  }

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
    std::vector<double> mx(m, -HUGE_VAL);
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, -HUGE_VAL);
      Scratch w(m);
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i) {
        const T* crow = src_.row(i, w.c.data());
        for (std::size_t j = 0; j < m; ++j) {
          const double z = static_cast<double>(entry_exponent(static_cast<T>(u[i]), T(0), crow[j], c0, ir));
          acc[j] = z > acc[j] ? z : acc[j];
        }
      }
    });
    for (std::size_t c = 0; c < chunks_; ++c)
      for (std::size_t j = 0; j < m; ++j) mx[j] = std::max(mx[j], partial_[c * m + j]);
    std::vector<T> shift(m);
    for (std::size_t j = 0; j < m; ++j) shift[j] = std::isfinite(mx[j]) ? static_cast<T>(-mx[j]) : T(0);
    parallel_for(chunks_, [&](std::size_t c) {
      double* acc = partial_.data() + c * m;
      std::fill(acc, acc + m, 0.0);
      Scratch w(m);
      for (std::size_t i = chunk_begin(c); i < chunk_begin(c + 1); ++i)
        row_sum(src_.row(i, w.c.data()), shift.data(), static_cast<T>(u[i]), w.z.data(), nullptr, acc);
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
  Src src_;
  const OtKernels& K_;
  double ir_ = 1;
  std::size_t chunks_ = 1;
  std::vector<double> partial_;
  std::vector<T> vt_;
};

template <typename T>
std::unique_ptr<DenseOps> matrix_ops(const DenseProblem& p) {
  return std::unique_ptr<DenseOps>(new CpuOps<T, MatrixRows<T>>(p, MatrixRows<T>{static_cast<const T*>(p.C), p.m}));
}

template <typename T>
std::unique_ptr<DenseOps> point_ops(const DenseProblem& p) {
  PointRows<T> src;
  src.X = static_cast<const T*>(p.X);
  src.d = p.d;
  src.m = p.m;
  const T* Y = static_cast<const T*>(p.Y);
  src.Yt.resize(p.d * p.m);
  for (std::size_t j = 0; j < p.m; ++j)
    for (std::size_t k = 0; k < p.d; ++k) src.Yt[k * p.m + j] = Y[j * p.d + k];
  return std::unique_ptr<DenseOps>(new CpuOps<T, PointRows<T>>(p, std::move(src)));
}

}  // namespace

std::unique_ptr<DenseOps> make_cpu_ops(const DenseProblem& p) {
  if (p.X != nullptr) return p.f32 ? point_ops<float>(p) : point_ops<double>(p);
  return p.f32 ? matrix_ops<float>(p) : matrix_ops<double>(p);
}

}  // namespace ot
}  // namespace itk

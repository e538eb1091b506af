// The OT row kernels of ot_kernels.h written once over an operation set V (ot_kernels_avx512.cc:
// 8 lanes, ot_kernels_avx2.cc: 4 lanes). Include the unit's operation set first (it defines
// ITK_OT_FN with the target attribute).
//
// exp(x): Cody–Waite reduction x = k·ln2 + r (|r| ≤ ln2/2) with FMA, degree-13 Taylor polynomial
// in Horner form with FMA (truncation < 2e-18 relative), 2^k built in the exponent bits; inputs
// below −708 give a tiny positive number, above 709 +inf, NaN stays NaN (as vexp.h exp_fast, so
// the line search's "reject non-finite" rule holds on every path).
#pragma once
#ifndef ITK_OT_FN
#error "include an operation set first"
#endif
#include <cmath>
#include <cstddef>

#include "ot_kernels.h"

namespace itk {
namespace ot {
namespace {

template <class V>
ITK_OT_FN typename V::D vexp(typename V::D x) {
  using D = typename V::D;
  const D xc = V::min(V::max(x, V::set1(-708.0)), V::set1(709.0));
  const D shift = V::set1(6755399441055744.0);  // 1.5·2^52: k lands in the low mantissa bits
  D kd = V::fmadd(xc, V::set1(1.4426950408889634), shift);
  const typename V::I ki = V::bits(kd);
  kd = V::sub(kd, shift);
  D r = V::fnmadd(kd, V::set1(6.93147180369123816490e-01), xc);
  r = V::fnmadd(kd, V::set1(1.90821492927058770002e-10), r);
  D p = V::set1(1.0 / 6227020800.0);
  p = V::fmadd(p, r, V::set1(1.0 / 479001600.0));
  p = V::fmadd(p, r, V::set1(1.0 / 39916800.0));
  p = V::fmadd(p, r, V::set1(1.0 / 3628800.0));
  p = V::fmadd(p, r, V::set1(1.0 / 362880.0));
  p = V::fmadd(p, r, V::set1(1.0 / 40320.0));
  p = V::fmadd(p, r, V::set1(1.0 / 5040.0));
  p = V::fmadd(p, r, V::set1(1.0 / 720.0));
  p = V::fmadd(p, r, V::set1(1.0 / 120.0));
  p = V::fmadd(p, r, V::set1(1.0 / 24.0));
  p = V::fmadd(p, r, V::set1(1.0 / 6.0));
  p = V::fmadd(p, r, V::set1(0.5));
  p = V::fmadd(p, r, V::set1(1.0));
  p = V::fmadd(p, r, V::set1(1.0));
  D y = V::mul(p, V::pow2(ki));
  y = V::blend_gt(x, V::set1(709.0), V::set1(HUGE_VAL), y);
  return V::blend_nan(x, x, y);
}

// Scalar tail with the same arithmetic (std::fma), so a row's last m mod L entries match the lanes.
inline double sexp(double x) {
  const double xc = std::fmin(std::fmax(x, -708.0), 709.0);
  const double shift = 6755399441055744.0;
  double kd = std::fma(xc, 1.4426950408889634, shift);
  long long ki;
  __builtin_memcpy(&ki, &kd, 8);
  kd -= shift;
  double r = std::fma(-kd, 6.93147180369123816490e-01, xc);
  r = std::fma(-kd, 1.90821492927058770002e-10, r);
  double p = 1.0 / 6227020800.0;
  const double cs[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
                         1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};
  for (double c : cs) p = std::fma(p, r, c);
  const unsigned long long sb = static_cast<unsigned long long>(ki + 1023) << 52;
  double sc;
  __builtin_memcpy(&sc, &sb, 8);
  double y = p * sc;
  y = x > 709.0 ? HUGE_VAL : y;
  return x != x ? x : y;
}

// Two registers per step (independent Horner chains), lane sums folded in a fixed order.
template <class V, bool Store, bool Acc>
ITK_OT_FN double row_exp_t(const double* c, const double* w, std::size_t m, double shift, double c0, double ir,
                           double* out, double* acc) {
  using D = typename V::D;
  constexpr std::size_t L = V::kLanes;
  const D vs = V::set1(shift), vc0 = V::set1(c0), vir = V::set1(ir);
  D s0 = V::zero(), s1 = V::zero();
  std::size_t j = 0;
  for (; j + 2 * L <= m; j += 2 * L) {
    const D e0 = vexp<V>(V::fnmadd(V::sub(V::load(c + j), vc0), vir, V::add(vs, V::load(w + j))));
    const D e1 = vexp<V>(V::fnmadd(V::sub(V::load(c + j + L), vc0), vir, V::add(vs, V::load(w + j + L))));
    if (Store) {
      V::store(out + j, e0);
      V::store(out + j + L, e1);
    }
    if (Acc) {
      V::store(acc + j, V::add(V::load(acc + j), e0));
      V::store(acc + j + L, V::add(V::load(acc + j + L), e1));
    }
    s0 = V::add(s0, e0);
    s1 = V::add(s1, e1);
  }
  double s = V::hsum(V::add(s0, s1));
  for (; j < m; ++j) {
    const double e = sexp(std::fma(-(c[j] - c0), ir, shift + w[j]));
    if (Store) out[j] = e;
    if (Acc) acc[j] += e;
    s += e;
  }
  return s;
}

template <class V>
ITK_OT_FN double row_exp_v(const double* c, const double* w, std::size_t m, double shift, double c0, double ir,
                           double* out, double* acc) {
  if (out && acc) return row_exp_t<V, true, true>(c, w, m, shift, c0, ir, out, acc);
  if (out) return row_exp_t<V, true, false>(c, w, m, shift, c0, ir, out, acc);
  if (acc) return row_exp_t<V, false, true>(c, w, m, shift, c0, ir, out, acc);
  return row_exp_t<V, false, false>(c, w, m, shift, c0, ir, out, acc);
}

template <class V>
ITK_OT_FN double exp_sum_v(double* z, std::size_t m, double* acc) {
  using D = typename V::D;
  constexpr std::size_t L = V::kLanes;
  D s0 = V::zero(), s1 = V::zero();
  std::size_t j = 0;
  for (; j + 2 * L <= m; j += 2 * L) {
    const D e0 = vexp<V>(V::load(z + j)), e1 = vexp<V>(V::load(z + j + L));
    V::store(z + j, e0);
    V::store(z + j + L, e1);
    if (acc) {
      V::store(acc + j, V::add(V::load(acc + j), e0));
      V::store(acc + j + L, V::add(V::load(acc + j + L), e1));
    }
    s0 = V::add(s0, e0);
    s1 = V::add(s1, e1);
  }
  double s = V::hsum(V::add(s0, s1));
  for (; j < m; ++j) {
    z[j] = sexp(z[j]);
    if (acc) acc[j] += z[j];
    s += z[j];
  }
  return s;
}

template <class V>
ITK_OT_FN double dot_v(const double* c, const double* e, std::size_t m) {
  using D = typename V::D;
  constexpr std::size_t L = V::kLanes;
  D s0 = V::zero(), s1 = V::zero();
  std::size_t j = 0;
  for (; j + 2 * L <= m; j += 2 * L) {
    s0 = V::fmadd(V::load(c + j), V::load(e + j), s0);
    s1 = V::fmadd(V::load(c + j + L), V::load(e + j + L), s1);
  }
  double s = V::hsum(V::add(s0, s1));
  for (; j < m; ++j) s = std::fma(c[j], e[j], s);
  return s;
}

template <class V>
ITK_OT_FN void axpy_v(double* acc, double al, const double* k, std::size_t m) {
  constexpr std::size_t L = V::kLanes;
  const typename V::D va = V::set1(al);
  std::size_t j = 0;
  for (; j + L <= m; j += L) V::store(acc + j, V::fmadd(va, V::load(k + j), V::load(acc + j)));
  for (; j < m; ++j) acc[j] = std::fma(al, k[j], acc[j]);
}

template <class V>
const OtKernels& kernel_table() {
  static const OtKernels t{V::kName, row_exp_v<V>, exp_sum_v<V>, axpy_v<V>, dot_v<V>};
  return t;
}

}  // namespace
}  // namespace ot
}  // namespace itk

// Dual<S>: two independent registers of the operation set S used as one vector of 2 S::kLanes
// lanes. Every operation is issued on both halves back to back, so the instruction stream carries
// two independent dependency chains. The generators are long chains (ten Philox rounds, then two
// divisions, a square root and two polynomials per Box–Muller pair): with one chain the
// out-of-order window cannot hold enough independent work and the core waits on latencies; with
// two it is limited by throughput instead (docs/design/cpu-rng-kernels.md). Include after the
// operation-set header. Lanes 0 .. S::kLanes - 1 are the first register, the rest the second.
#pragma once
#ifndef ITK_SIMD_FN
#error "include simd_avx512.h or simd_avx2.h first"
#endif

namespace itk {
namespace simd {
namespace {

template <class S>
struct Dual {
  static constexpr int kLanes = 2 * S::kLanes;
  static constexpr const char* kName = S::kName;
  using Base = typename S::Base;
  static constexpr int kParts = 2 * S::kParts;
  struct U {
    typename S::U a, b;
  };
  struct F {
    typename S::F a, b;
  };
  struct M {
    typename S::M a, b;
  };

  static ITK_SIMD_FN U set1(uint32_t v) { return {S::set1(v), S::set1(v)}; }
  static ITK_SIMD_FN U iota() { return {S::iota(), S::add(S::iota(), S::set1(S::kLanes))}; }
  static ITK_SIMD_FN U load(const uint32_t* p) { return {S::load(p), S::load(p + S::kLanes)}; }
  static ITK_SIMD_FN void store(uint32_t* p, U v) { S::store(p, v.a), S::store(p + S::kLanes, v.b); }
  static ITK_SIMD_FN U add(U x, U y) { return {S::add(x.a, y.a), S::add(x.b, y.b)}; }
  static ITK_SIMD_FN U sub(U x, U y) { return {S::sub(x.a, y.a), S::sub(x.b, y.b)}; }
  static ITK_SIMD_FN U and_(U x, U y) { return {S::and_(x.a, y.a), S::and_(x.b, y.b)}; }
  static ITK_SIMD_FN U or_(U x, U y) { return {S::or_(x.a, y.a), S::or_(x.b, y.b)}; }
  static ITK_SIMD_FN U xor_(U x, U y) { return {S::xor_(x.a, y.a), S::xor_(x.b, y.b)}; }
  static ITK_SIMD_FN U xor3(U x, U y, U z) { return {S::xor3(x.a, y.a, z.a), S::xor3(x.b, y.b, z.b)}; }
  static ITK_SIMD_FN U srl(U x, int n) { return {S::srl(x.a, n), S::srl(x.b, n)}; }
  static ITK_SIMD_FN U sra(U x, int n) { return {S::sra(x.a, n), S::sra(x.b, n)}; }
  static ITK_SIMD_FN U sll(U x, int n) { return {S::sll(x.a, n), S::sll(x.b, n)}; }
  static ITK_SIMD_FN M gt(U x, U y) { return {S::gt(x.a, y.a), S::gt(x.b, y.b)}; }
  static ITK_SIMD_FN M lt_u(U x, U y) { return {S::lt_u(x.a, y.a), S::lt_u(x.b, y.b)}; }
  static ITK_SIMD_FN M test(U x, U y) { return {S::test(x.a, y.a), S::test(x.b, y.b)}; }
  static ITK_SIMD_FN U sel(M m, U x, U y) { return {S::sel(m.a, x.a, y.a), S::sel(m.b, x.b, y.b)}; }
  static ITK_SIMD_FN U add_if(M m, U x, U y) { return {S::add_if(m.a, x.a, y.a), S::add_if(m.b, x.b, y.b)}; }
  static ITK_SIMD_FN U sub_if(M m, U x, U y) { return {S::sub_if(m.a, x.a, y.a), S::sub_if(m.b, x.b, y.b)}; }
  static ITK_SIMD_FN M mxor(M x, M y) { return {S::mxor(x.a, y.a), S::mxor(x.b, y.b)}; }
  static ITK_SIMD_FN void mulhilo(U x, U m, U* hi, U* lo) {
    S::mulhilo(x.a, m.a, &hi->a, &lo->a);
    S::mulhilo(x.b, m.b, &hi->b, &lo->b);
  }

  static ITK_SIMD_FN F fset1(float v) { return {S::fset1(v), S::fset1(v)}; }
  static ITK_SIMD_FN F fload(const float* p) { return {S::fload(p), S::fload(p + S::kLanes)}; }
  static ITK_SIMD_FN void fstore(float* p, F v) { S::fstore(p, v.a), S::fstore(p + S::kLanes, v.b); }
  static ITK_SIMD_FN F fadd(F x, F y) { return {S::fadd(x.a, y.a), S::fadd(x.b, y.b)}; }
  static ITK_SIMD_FN F fsub(F x, F y) { return {S::fsub(x.a, y.a), S::fsub(x.b, y.b)}; }
  static ITK_SIMD_FN F fmul(F x, F y) { return {S::fmul(x.a, y.a), S::fmul(x.b, y.b)}; }
  static ITK_SIMD_FN F fdiv(F x, F y) { return {S::fdiv(x.a, y.a), S::fdiv(x.b, y.b)}; }
  static ITK_SIMD_FN F fsqrt(F x) { return {S::fsqrt(x.a), S::fsqrt(x.b)}; }
  static ITK_SIMD_FN F cvt(U x) { return {S::cvt(x.a), S::cvt(x.b)}; }
  static ITK_SIMD_FN U cvtt(F x) { return {S::cvtt(x.a), S::cvtt(x.b)}; }
  static ITK_SIMD_FN U bits(F x) { return {S::bits(x.a), S::bits(x.b)}; }
  static ITK_SIMD_FN F from_bits(U x) { return {S::from_bits(x.a), S::from_bits(x.b)}; }
  static ITK_SIMD_FN F fsel(M m, F x, F y) { return {S::fsel(m.a, x.a, y.a), S::fsel(m.b, x.b, y.b)}; }
  static ITK_SIMD_FN M flt(F x, F y) { return {S::flt(x.a, y.a), S::flt(x.b, y.b)}; }
  static ITK_SIMD_FN M fgt(F x, F y) { return {S::fgt(x.a, y.a), S::fgt(x.b, y.b)}; }
  static ITK_SIMD_FN M fnan(F x) { return {S::fnan(x.a), S::fnan(x.b)}; }

  // Memory order of 2 S::kLanes blocks: the first half's S::kLanes blocks (four S registers once
  // interleaved), then the second half's.
  static ITK_SIMD_FN void interleave4(U* w, U* x, U* y, U* z) {
    S::interleave4(&w->a, &x->a, &y->a, &z->a);
    S::interleave4(&w->b, &x->b, &y->b, &z->b);
    const U r0{w->a, x->a}, r1{y->a, z->a}, r2{w->b, x->b}, r3{y->b, z->b};
    *w = r0, *x = r1, *y = r2, *z = r3;
  }
  static ITK_SIMD_FN void store_widened(double* p, F v) {
    S::store_widened(p, v.a);
    S::store_widened(p + S::kLanes, v.b);
  }
  static ITK_SIMD_FN void store_u32d(double* p, U v) {
    S::store_u32d(p, v.a);
    S::store_u32d(p + S::kLanes, v.b);
  }
  static ITK_SIMD_FN void split(F v, typename Base::F* out) {
    S::split(v.a, out);
    S::split(v.b, out + S::kParts);
  }
  static ITK_SIMD_FN U dup(typename Base::U v) { return {S::dup(v), S::dup(v)}; }
};

}  // namespace
}  // namespace simd
}  // namespace itk

// The NEON (AArch64 Advanced SIMD) operation set of the SIMD generators (native/rng/rng_simd.h):
// 4 lanes of 32 bits per register. Include it only from an AArch64 translation unit
// (rng_batch_neon.cc, sde/sde_lanes_neon.cc, fbm/fbm_markov_lanes_neon.cc); Advanced SIMD is part
// of every ARMv8-A core, so no run-time check guards it, only ITOKIT_CPU=scalar turns it off.
//
// Every float operation is one correctly rounded IEEE instruction (FADD, FMUL, FDIV, FSQRT; the
// build passes -ffp-contract=off, so no FMLA is formed from a multiply and an add), as in
// simd_avx2.h and simd_avx512.h: the lanes give the bits of the scalar ITK_HD functions. Masks are
// vectors of all-ones / all-zeros lanes. Shifts take a register count (USHL/SSHL by a splat), which
// the compiler turns into an immediate shift once the count is a constant after inlining.
#pragma once
#if !(defined(__aarch64__) && defined(__GNUC__))
#error "simd_neon.h is for AArch64 GCC/Clang translation units only"
#endif
#ifdef ITK_SIMD_TARGET
#error "one SIMD operation set per translation unit"
#endif
#include <arm_neon.h>

#include <cstdint>

#define ITK_SIMD_TARGET
#define ITK_SIMD_FN inline __attribute__((always_inline))

namespace itk {
namespace simd {
namespace {

struct Neon {
  static constexpr int kLanes = 4;
  static constexpr const char* kName = "neon";
  // One register per part (simd_dual.h composes several).
  using Base = Neon;
  static constexpr int kParts = 1;
  using U = uint32x4_t;   // 4 x uint32
  using F = float32x4_t;  // 4 x float
  using M = uint32x4_t;   // lane mask: all ones or all zeros

  // --- 32-bit integers ---
  static ITK_SIMD_FN U set1(uint32_t v) { return vdupq_n_u32(v); }
  static ITK_SIMD_FN U iota() {
    static const uint32_t k[4] = {0, 1, 2, 3};
    return vld1q_u32(k);
  }
  static ITK_SIMD_FN U load(const uint32_t* p) { return vld1q_u32(p); }
  static ITK_SIMD_FN void store(uint32_t* p, U v) { vst1q_u32(p, v); }
  static ITK_SIMD_FN U add(U a, U b) { return vaddq_u32(a, b); }
  static ITK_SIMD_FN U sub(U a, U b) { return vsubq_u32(a, b); }
  static ITK_SIMD_FN U and_(U a, U b) { return vandq_u32(a, b); }
  static ITK_SIMD_FN U or_(U a, U b) { return vorrq_u32(a, b); }
  static ITK_SIMD_FN U xor_(U a, U b) { return veorq_u32(a, b); }
  static ITK_SIMD_FN U xor3(U a, U b, U c) { return veorq_u32(veorq_u32(a, b), c); }
  static ITK_SIMD_FN U srl(U a, int n) { return vshlq_u32(a, vdupq_n_s32(-n)); }
  static ITK_SIMD_FN U sra(U a, int n) {
    return vreinterpretq_u32_s32(vshlq_s32(vreinterpretq_s32_u32(a), vdupq_n_s32(-n)));
  }
  static ITK_SIMD_FN U sll(U a, int n) { return vshlq_u32(a, vdupq_n_s32(n)); }
  static ITK_SIMD_FN M gt(U a, U b) { return vcgtq_s32(vreinterpretq_s32_u32(a), vreinterpretq_s32_u32(b)); }  // signed
  static ITK_SIMD_FN M lt_u(U a, U b) { return vcltq_u32(a, b); }                                            // unsigned
  static ITK_SIMD_FN M test(U a, U b) { return vtstq_u32(a, b); }  // (a & b) != 0
  static ITK_SIMD_FN U sel(M m, U a, U b) { return vbslq_u32(m, a, b); }  // m ? a : b
  static ITK_SIMD_FN U add_if(M m, U a, U b) { return vaddq_u32(a, vandq_u32(m, b)); }
  static ITK_SIMD_FN U sub_if(M m, U a, U b) { return vsubq_u32(a, vandq_u32(m, b)); }
  static ITK_SIMD_FN M mxor(M a, M b) { return veorq_u32(a, b); }

  // (hi, lo) = a * m as 32x32 -> 64 bits per lane: UMULL on lanes 0-1 and UMULL2 on lanes 2-3 give
  // the four 64-bit products; UZP2 gathers their high words (little-endian: the odd 32-bit
  // elements), and MUL gives the low words directly.
  static ITK_SIMD_FN void mulhilo(U a, U m, U* hi, U* lo) {
    const uint64x2_t p01 = vmull_u32(vget_low_u32(a), vget_low_u32(m));
    const uint64x2_t p23 = vmull_high_u32(a, m);
    *hi = vuzp2q_u32(vreinterpretq_u32_u64(p01), vreinterpretq_u32_u64(p23));
    *lo = vmulq_u32(a, m);
  }

  // --- float32 ---
  static ITK_SIMD_FN F fset1(float v) { return vdupq_n_f32(v); }
  static ITK_SIMD_FN F fload(const float* p) { return vld1q_f32(p); }
  static ITK_SIMD_FN void fstore(float* p, F v) { vst1q_f32(p, v); }
  static ITK_SIMD_FN F fadd(F a, F b) { return vaddq_f32(a, b); }
  static ITK_SIMD_FN F fsub(F a, F b) { return vsubq_f32(a, b); }
  static ITK_SIMD_FN F fmul(F a, F b) { return vmulq_f32(a, b); }
  static ITK_SIMD_FN F fdiv(F a, F b) { return vdivq_f32(a, b); }
  static ITK_SIMD_FN F fsqrt(F a) { return vsqrtq_f32(a); }
  // signed int32 -> float, round to nearest (as cvtepi32_ps)
  static ITK_SIMD_FN F cvt(U a) { return vcvtq_f32_s32(vreinterpretq_s32_u32(a)); }
  // float -> int32 toward zero. Out-of-range inputs saturate here where x86 gives 0x80000000; the
  // generators convert only values inside the int32 range.
  static ITK_SIMD_FN U cvtt(F a) { return vreinterpretq_u32_s32(vcvtq_s32_f32(a)); }
  static ITK_SIMD_FN U bits(F a) { return vreinterpretq_u32_f32(a); }
  static ITK_SIMD_FN F from_bits(U a) { return vreinterpretq_f32_u32(a); }
  static ITK_SIMD_FN F fsel(M m, F a, F b) { return vbslq_f32(m, a, b); }
  static ITK_SIMD_FN M flt(F a, F b) { return vcltq_f32(a, b); }  // ordered: false on NaN
  static ITK_SIMD_FN M fgt(F a, F b) { return vcgtq_f32(a, b); }
  static ITK_SIMD_FN M fnan(F a) { return vmvnq_u32(vceqq_f32(a, a)); }

  // Words 0..3 of blocks 0..3 (a: word 0 of each block, ...) -> the 16 words in memory order
  // (a: block 0's four words, ...): a 4 x 4 transpose by 32-bit then 64-bit zips.
  static ITK_SIMD_FN void interleave4(U* a, U* b, U* c, U* d) {
    const U ab_lo = vzip1q_u32(*a, *b), ab_hi = vzip2q_u32(*a, *b);
    const U cd_lo = vzip1q_u32(*c, *d), cd_hi = vzip2q_u32(*c, *d);
    auto zip64 = [](U x, U y, bool high) {
      const uint64x2_t x64 = vreinterpretq_u64_u32(x), y64 = vreinterpretq_u64_u32(y);
      return vreinterpretq_u32_u64(high ? vzip2q_u64(x64, y64) : vzip1q_u64(x64, y64));
    };
    *a = zip64(ab_lo, cd_lo, false);
    *b = zip64(ab_lo, cd_lo, true);
    *c = zip64(ab_hi, cd_hi, false);
    *d = zip64(ab_hi, cd_hi, true);
  }
  static ITK_SIMD_FN void store_widened(double* p, F v) {
    vst1q_f64(p, vcvt_f64_f32(vget_low_f32(v)));
    vst1q_f64(p + 2, vcvt_high_f64_f32(v));
  }
  // u32d: (x + 0.5)·2^-32 in double; x widens to 64 bits and converts exactly.
  static ITK_SIMD_FN void store_u32d(double* p, U v) {
    const float64x2_t half = vdupq_n_f64(0.5), scale = vdupq_n_f64(2.3283064365386962890625e-10);
    const float64x2_t lo = vcvtq_f64_u64(vmovl_u32(vget_low_u32(v)));
    const float64x2_t hi = vcvtq_f64_u64(vmovl_high_u32(v));
    vst1q_f64(p, vmulq_f64(vaddq_f64(lo, half), scale));
    vst1q_f64(p + 2, vmulq_f64(vaddq_f64(hi, half), scale));
  }
  // --- float64: the 4 lanes of one F as two registers (lanes 0-1, 2-3); see Avx512::D ---
  struct D {
    float64x2_t lo, hi;
  };
  static ITK_SIMD_FN D dset1(double v) {
    const float64x2_t x = vdupq_n_f64(v);
    return {x, x};
  }
  static ITK_SIMD_FN D dadd(D a, D b) { return {vaddq_f64(a.lo, b.lo), vaddq_f64(a.hi, b.hi)}; }
  static ITK_SIMD_FN D dsub(D a, D b) { return {vsubq_f64(a.lo, b.lo), vsubq_f64(a.hi, b.hi)}; }
  static ITK_SIMD_FN D dmul(D a, D b) { return {vmulq_f64(a.lo, b.lo), vmulq_f64(a.hi, b.hi)}; }
  static ITK_SIMD_FN D widen(F v) { return {vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v)}; }
  static ITK_SIMD_FN F narrow(D v) { return vcvt_high_f32_f64(vcvt_f32_f64(v.lo), v.hi); }
  static ITK_SIMD_FN D dload(const double* p) { return {vld1q_f64(p), vld1q_f64(p + 2)}; }
  static ITK_SIMD_FN void dstore(double* p, D v) { vst1q_f64(p, v.lo), vst1q_f64(p + 2, v.hi); }

  // The parts of a vector as registers of Base, and a Base register repeated in every part.
  static ITK_SIMD_FN void split(F v, F* out) { out[0] = v; }
  static ITK_SIMD_FN U dup(U v) { return v; }
};

}  // namespace
}  // namespace simd
}  // namespace itk

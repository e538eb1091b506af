// The AVX2 operation set of the SIMD generators (native/rng/rng_simd.h): 8 lanes of 32 bits per
// register. Include it only from an AVX2 translation unit (rng_batch_avx2.cc,
// sde/sde_lanes_avx2.cc), which runs only when rng_simd_path() chose AVX2 at run time.
//
// The target is "avx2" alone, without "fma": no FMA instruction can be emitted, and every float
// operation is one correctly rounded IEEE instruction, as in simd_avx512.h. Masks are vectors of
// all-ones / all-zeros lanes.
#pragma once
#if !(defined(__x86_64__) && defined(__GNUC__))
#error "simd_avx2.h is for x86-64 GCC/Clang translation units only"
#endif
#ifdef ITK_SIMD_TARGET
#error "one SIMD operation set per translation unit"
#endif
#include <immintrin.h>

#include <cstdint>

#define ITK_SIMD_TARGET __attribute__((target("avx2")))
#define ITK_SIMD_FN ITK_SIMD_TARGET inline __attribute__((always_inline))

namespace itk {
namespace simd {
namespace {

struct Avx2 {
  static constexpr int kLanes = 8;
  static constexpr const char* kName = "avx2";
  // One register per part (simd_dual.h composes several).
  using Base = Avx2;
  static constexpr int kParts = 1;
  using U = __m256i;  // 8 x uint32
  using F = __m256;   // 8 x float
  using M = __m256i;  // lane mask: all ones or all zeros

  // --- 32-bit integers ---
  static ITK_SIMD_FN U set1(uint32_t v) { return _mm256_set1_epi32(static_cast<int>(v)); }
  static ITK_SIMD_FN U iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static ITK_SIMD_FN U load(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static ITK_SIMD_FN void store(uint32_t* p, U v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  static ITK_SIMD_FN U add(U a, U b) { return _mm256_add_epi32(a, b); }
  static ITK_SIMD_FN U sub(U a, U b) { return _mm256_sub_epi32(a, b); }
  static ITK_SIMD_FN U and_(U a, U b) { return _mm256_and_si256(a, b); }
  static ITK_SIMD_FN U or_(U a, U b) { return _mm256_or_si256(a, b); }
  static ITK_SIMD_FN U xor_(U a, U b) { return _mm256_xor_si256(a, b); }
  static ITK_SIMD_FN U xor3(U a, U b, U c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static ITK_SIMD_FN U srl(U a, int n) { return _mm256_srli_epi32(a, n); }  // n a constant after inlining
  static ITK_SIMD_FN U sra(U a, int n) { return _mm256_srai_epi32(a, n); }  // n a constant after inlining
  static ITK_SIMD_FN U sll(U a, int n) { return _mm256_slli_epi32(a, n); }  // n a constant after inlining
  static ITK_SIMD_FN M gt(U a, U b) { return _mm256_cmpgt_epi32(a, b); }  // signed
  static ITK_SIMD_FN M lt_u(U a, U b) {                                     // unsigned, by bias
    const U bias = set1(0x80000000u);
    return _mm256_cmpgt_epi32(xor_(b, bias), xor_(a, bias));
  }
  static ITK_SIMD_FN M test(U a, U b) { return _mm256_xor_si256(_mm256_cmpeq_epi32(and_(a, b), _mm256_setzero_si256()), set1(~0u)); }
  static ITK_SIMD_FN U sel(M m, U a, U b) { return _mm256_blendv_epi8(b, a, m); }  // m ? a : b
  static ITK_SIMD_FN U add_if(M m, U a, U b) { return _mm256_add_epi32(a, _mm256_and_si256(m, b)); }
  static ITK_SIMD_FN U sub_if(M m, U a, U b) { return _mm256_sub_epi32(a, _mm256_and_si256(m, b)); }
  static ITK_SIMD_FN M mxor(M a, M b) { return _mm256_xor_si256(a, b); }

  // (hi, lo) = a * m as 32x32 -> 64 bits per lane: vpmuludq on the even lanes and on the odd
  // lanes shifted down, halves blended back into place (see Avx512::mulhilo).
  static ITK_SIMD_FN void mulhilo(U a, U m, U* hi, U* lo) {
    const U pe = _mm256_mul_epu32(a, m);
    const U po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
    *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
  }

  // --- float32 ---
  static ITK_SIMD_FN F fset1(float v) { return _mm256_set1_ps(v); }
  static ITK_SIMD_FN F fload(const float* p) { return _mm256_loadu_ps(p); }
  static ITK_SIMD_FN void fstore(float* p, F v) { _mm256_storeu_ps(p, v); }
  static ITK_SIMD_FN F fadd(F a, F b) { return _mm256_add_ps(a, b); }
  static ITK_SIMD_FN F fsub(F a, F b) { return _mm256_sub_ps(a, b); }
  static ITK_SIMD_FN F fmul(F a, F b) { return _mm256_mul_ps(a, b); }
  static ITK_SIMD_FN F fdiv(F a, F b) { return _mm256_div_ps(a, b); }
  static ITK_SIMD_FN F fsqrt(F a) { return _mm256_sqrt_ps(a); }
  static ITK_SIMD_FN F cvt(U a) { return _mm256_cvtepi32_ps(a); }
  static ITK_SIMD_FN U cvtt(F a) { return _mm256_cvttps_epi32(a); }
  static ITK_SIMD_FN U bits(F a) { return _mm256_castps_si256(a); }
  static ITK_SIMD_FN F from_bits(U a) { return _mm256_castsi256_ps(a); }
  static ITK_SIMD_FN F fsel(M m, F a, F b) { return _mm256_blendv_ps(b, a, _mm256_castsi256_ps(m)); }
  static ITK_SIMD_FN M flt(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LT_OQ)); }
  static ITK_SIMD_FN M fgt(F a, F b) { return _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
  static ITK_SIMD_FN M fnan(F a) { return _mm256_castps_si256(_mm256_cmp_ps(a, a, _CMP_UNORD_Q)); }

  // Words 0..3 of blocks 0..7 -> the 32 words in memory order (see Avx512::interleave4).
  static ITK_SIMD_FN void interleave4(U* a, U* b, U* c, U* d) {
    const U ab_lo = _mm256_unpacklo_epi32(*a, *b), ab_hi = _mm256_unpackhi_epi32(*a, *b);
    const U cd_lo = _mm256_unpacklo_epi32(*c, *d), cd_hi = _mm256_unpackhi_epi32(*c, *d);
    const U b04 = _mm256_unpacklo_epi64(ab_lo, cd_lo), b15 = _mm256_unpackhi_epi64(ab_lo, cd_lo);
    const U b26 = _mm256_unpacklo_epi64(ab_hi, cd_hi), b37 = _mm256_unpackhi_epi64(ab_hi, cd_hi);
    *a = _mm256_permute2x128_si256(b04, b15, 0x20);
    *b = _mm256_permute2x128_si256(b26, b37, 0x20);
    *c = _mm256_permute2x128_si256(b04, b15, 0x31);
    *d = _mm256_permute2x128_si256(b26, b37, 0x31);
  }
  static ITK_SIMD_FN void store_widened(double* p, F v) {
    _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    _mm256_storeu_pd(p + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  // u32d: AVX2 converts signed int32 only, so x = (x ^ 2^31) + 2^31 exactly in double first.
  static ITK_SIMD_FN void store_u32d(double* p, U v) {
    const __m256d half = _mm256_set1_pd(0.5), scale = _mm256_set1_pd(2.3283064365386962890625e-10);
    const __m256d off = _mm256_set1_pd(2147483648.0);
    const U s = xor_(v, set1(0x80000000u));
    const __m256d lo = _mm256_add_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(s)), off);
    const __m256d hi = _mm256_add_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(s, 1)), off);
    _mm256_storeu_pd(p, _mm256_mul_pd(_mm256_add_pd(lo, half), scale));
    _mm256_storeu_pd(p + 4, _mm256_mul_pd(_mm256_add_pd(hi, half), scale));
  }
  // --- float64: the 8 lanes of one F as two registers (lanes 0-3, 4-7); see Avx512::D ---
  struct D {
    __m256d lo, hi;
  };
  static ITK_SIMD_FN D dset1(double v) { const __m256d x = _mm256_set1_pd(v); return {x, x}; }
  static ITK_SIMD_FN D dadd(D a, D b) { return {_mm256_add_pd(a.lo, b.lo), _mm256_add_pd(a.hi, b.hi)}; }
  static ITK_SIMD_FN D dsub(D a, D b) { return {_mm256_sub_pd(a.lo, b.lo), _mm256_sub_pd(a.hi, b.hi)}; }
  static ITK_SIMD_FN D dmul(D a, D b) { return {_mm256_mul_pd(a.lo, b.lo), _mm256_mul_pd(a.hi, b.hi)}; }
  static ITK_SIMD_FN D widen(F v) {
    return {_mm256_cvtps_pd(_mm256_castps256_ps128(v)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))};
  }
  static ITK_SIMD_FN F narrow(D v) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(v.lo)), _mm256_cvtpd_ps(v.hi), 1);
  }
  static ITK_SIMD_FN D dload(const double* p) { return {_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; }
  static ITK_SIMD_FN void dstore(double* p, D v) { _mm256_storeu_pd(p, v.lo), _mm256_storeu_pd(p + 4, v.hi); }

  // The parts of a vector as registers of Base, and a Base register repeated in every part.
  static ITK_SIMD_FN void split(F v, F* out) { out[0] = v; }
  static ITK_SIMD_FN U dup(U v) { return v; }
};

}  // namespace
}  // namespace simd
}  // namespace itk

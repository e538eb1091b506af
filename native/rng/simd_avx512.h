// The AVX-512 operation set of the SIMD generators (native/rng/rng_simd.h): 16 lanes of 32 bits per
// register. Include it only from an AVX-512 translation unit (rng_batch_avx512.cc,
// sde/sde_lanes_avx512.cc), which runs only when rng_simd_path() chose AVX-512 at run time.
//
// Every float operation is one correctly rounded IEEE instruction (vaddps, vsubps, vmulps,
// vdivps, vsqrtps), so each lane computes what the scalar fadd/fsub/fmul/fdiv/fsqrt of itk_hd.h
// computes. avx512f implies FMA, but the build's -ffp-contract=off keeps GCC from fusing a
// _mm512_mul_ps into a following add (tools: `objdump -d | grep vfmadd` on these objects is empty).
#pragma once
#if !(defined(__x86_64__) && defined(__GNUC__))
#error "simd_avx512.h is for x86-64 GCC/Clang translation units only"
#endif
#ifdef ITK_SIMD_TARGET
#error "one SIMD operation set per translation unit"
#endif
#if !defined(__clang__)
// GCC 12 reports its own _mm512_undefined_* placeholders inside avx512fintrin.h as uninitialized
// (GCC PR 105593); this unit includes immintrin.h here first, so the pragma covers those lines.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#define ITK_SIMD_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define ITK_SIMD_FN ITK_SIMD_TARGET inline __attribute__((always_inline))

namespace itk {
namespace simd {
namespace {

struct Avx512 {
  static constexpr int kLanes = 16;
  static constexpr const char* kName = "avx512";
  // One register per part (simd_dual.h composes several).
  using Base = Avx512;
  static constexpr int kParts = 1;
  using U = __m512i;    // 16 x uint32
  using F = __m512;     // 16 x float
  using M = __mmask16;  // one bit per lane

  // --- 32-bit integers ---
  static ITK_SIMD_FN U set1(uint32_t v) { return _mm512_set1_epi32(static_cast<int>(v)); }
  static ITK_SIMD_FN U iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static ITK_SIMD_FN U load(const uint32_t* p) { return _mm512_loadu_si512(p); }
  static ITK_SIMD_FN void store(uint32_t* p, U v) { _mm512_storeu_si512(p, v); }
  static ITK_SIMD_FN U add(U a, U b) { return _mm512_add_epi32(a, b); }
  static ITK_SIMD_FN U sub(U a, U b) { return _mm512_sub_epi32(a, b); }
  static ITK_SIMD_FN U and_(U a, U b) { return _mm512_and_si512(a, b); }
  static ITK_SIMD_FN U or_(U a, U b) { return _mm512_or_si512(a, b); }
  static ITK_SIMD_FN U xor_(U a, U b) { return _mm512_xor_si512(a, b); }
  static ITK_SIMD_FN U xor3(U a, U b, U c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
  static ITK_SIMD_FN U srl(U a, int n) { return _mm512_srli_epi32(a, n); }  // n a constant after inlining
  static ITK_SIMD_FN U sra(U a, int n) { return _mm512_srai_epi32(a, n); }  // n a constant after inlining
  static ITK_SIMD_FN U sll(U a, int n) { return _mm512_slli_epi32(a, n); }  // n a constant after inlining
  static ITK_SIMD_FN M gt(U a, U b) { return _mm512_cmpgt_epi32_mask(a, b); }      // signed
  static ITK_SIMD_FN M lt_u(U a, U b) { return _mm512_cmplt_epu32_mask(a, b); }    // unsigned
  static ITK_SIMD_FN M test(U a, U b) { return _mm512_test_epi32_mask(a, b); }     // (a & b) != 0
  static ITK_SIMD_FN U sel(M m, U a, U b) { return _mm512_mask_blend_epi32(m, b, a); }  // m ? a : b
  static ITK_SIMD_FN U add_if(M m, U a, U b) { return _mm512_mask_add_epi32(a, m, a, b); }  // m ? a + b : a
  static ITK_SIMD_FN U sub_if(M m, U a, U b) { return _mm512_mask_sub_epi32(a, m, a, b); }  // m ? a - b : a
  static ITK_SIMD_FN M mxor(M a, M b) { return static_cast<M>(a ^ b); }

  // (hi, lo) = a * m as 32x32 -> 64 bits per lane (Philox mulhilo32). vpmuludq multiplies the
  // even lanes' low words into 64-bit products; the odd lanes are shifted down and multiplied
  // the same way. Two merge-masked vpshufd then move each product's halves into place:
  // hi[2k] = pe.dword[2k+1], hi[2k+1] = po.dword[2k+1]; lo[2k] = pe.dword[2k], lo[2k+1] = po.dword[2k].
  // (GCC's own vectorization of the scalar code uses vpmullq, twice as slow.)
  static ITK_SIMD_FN void mulhilo(U a, U m, U* hi, U* lo) {
    const U pe = _mm512_mul_epu32(a, m);
    const U po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *hi = _mm512_mask_shuffle_epi32(po, 0x5555, pe, _MM_PERM_DDBB);
    *lo = _mm512_mask_shuffle_epi32(pe, 0xAAAA, po, _MM_PERM_CCAA);
  }

  // --- float32 ---
  static ITK_SIMD_FN F fset1(float v) { return _mm512_set1_ps(v); }
  static ITK_SIMD_FN F fload(const float* p) { return _mm512_loadu_ps(p); }
  static ITK_SIMD_FN void fstore(float* p, F v) { _mm512_storeu_ps(p, v); }
  static ITK_SIMD_FN F fadd(F a, F b) { return _mm512_add_ps(a, b); }
  static ITK_SIMD_FN F fsub(F a, F b) { return _mm512_sub_ps(a, b); }
  static ITK_SIMD_FN F fmul(F a, F b) { return _mm512_mul_ps(a, b); }
  static ITK_SIMD_FN F fdiv(F a, F b) { return _mm512_div_ps(a, b); }
  static ITK_SIMD_FN F fsqrt(F a) { return _mm512_sqrt_ps(a); }
  static ITK_SIMD_FN F cvt(U a) { return _mm512_cvtepi32_ps(a); }    // signed int32 -> float
  static ITK_SIMD_FN U cvtt(F a) { return _mm512_cvttps_epi32(a); }  // truncation toward 0
  static ITK_SIMD_FN U bits(F a) { return _mm512_castps_si512(a); }
  static ITK_SIMD_FN F from_bits(U a) { return _mm512_castsi512_ps(a); }
  static ITK_SIMD_FN F fsel(M m, F a, F b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
  static ITK_SIMD_FN M flt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static ITK_SIMD_FN M fgt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static ITK_SIMD_FN M fnan(F a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }

  // a, b, c, d hold word 0..3 of blocks 0..15; afterwards they hold the 64 words in memory order
  // (block 0 words 0-3, block 1 words 0-3, ...): pairs of words first, then pairs of pairs.
  static ITK_SIMD_FN void interleave4(U* a, U* b, U* c, U* d) {
    const U i_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const U i_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const U ab_lo = _mm512_permutex2var_epi32(*a, i_lo, *b), ab_hi = _mm512_permutex2var_epi32(*a, i_hi, *b);
    const U cd_lo = _mm512_permutex2var_epi32(*c, i_lo, *d), cd_hi = _mm512_permutex2var_epi32(*c, i_hi, *d);
    const U q_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const U q_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    *a = _mm512_permutex2var_epi64(ab_lo, q_lo, cd_lo);
    *b = _mm512_permutex2var_epi64(ab_lo, q_hi, cd_lo);
    *c = _mm512_permutex2var_epi64(ab_hi, q_lo, cd_hi);
    *d = _mm512_permutex2var_epi64(ab_hi, q_hi, cd_hi);
  }
  // 16 floats widened to double (exact).
  static ITK_SIMD_FN void store_widened(double* p, F v) {
    _mm512_storeu_pd(p, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    _mm512_storeu_pd(p + 8, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  // u32d of 16 words: (x + 0.5) * 2^-32 in double; every step is exact (normal.h u32d).
  static ITK_SIMD_FN void store_u32d(double* p, U v) {
    const __m512d half = _mm512_set1_pd(0.5), scale = _mm512_set1_pd(2.3283064365386962890625e-10);
    const __m512d lo = _mm512_cvtepu32_pd(_mm512_castsi512_si256(v));
    const __m512d hi = _mm512_cvtepu32_pd(_mm512_extracti64x4_epi64(v, 1));
    _mm512_storeu_pd(p, _mm512_mul_pd(_mm512_add_pd(lo, half), scale));
    _mm512_storeu_pd(p + 8, _mm512_mul_pd(_mm512_add_pd(hi, half), scale));
  }
  // --- float64: the 16 lanes of one F as two registers (lanes 0-7, 8-15) ---
  // Every conversion and operation is one correctly rounded IEEE instruction, as the scalar
  // static_cast / dadd / dmul of itk_hd.h (used by fBM's float64 state and sums).
  struct D {
    __m512d lo, hi;
  };
  static ITK_SIMD_FN D dset1(double v) { const __m512d x = _mm512_set1_pd(v); return {x, x}; }
  static ITK_SIMD_FN D dadd(D a, D b) { return {_mm512_add_pd(a.lo, b.lo), _mm512_add_pd(a.hi, b.hi)}; }
  static ITK_SIMD_FN D dsub(D a, D b) { return {_mm512_sub_pd(a.lo, b.lo), _mm512_sub_pd(a.hi, b.hi)}; }
  static ITK_SIMD_FN D dmul(D a, D b) { return {_mm512_mul_pd(a.lo, b.lo), _mm512_mul_pd(a.hi, b.hi)}; }
  static ITK_SIMD_FN D widen(F v) {  // float -> double, exact
    return {_mm512_cvtps_pd(_mm512_castps512_ps256(v)),
            _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))};
  }
  static ITK_SIMD_FN F narrow(D v) {  // double -> float, round to nearest even (static_cast<float>)
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(v.lo)), _mm512_cvtpd_ps(v.hi), 1);
  }
  static ITK_SIMD_FN D dload(const double* p) { return {_mm512_loadu_pd(p), _mm512_loadu_pd(p + 8)}; }
  static ITK_SIMD_FN void dstore(double* p, D v) { _mm512_storeu_pd(p, v.lo), _mm512_storeu_pd(p + 8, v.hi); }

  // The parts of a vector as registers of Base, and a Base register repeated in every part.
  static ITK_SIMD_FN void split(F v, F* out) { out[0] = v; }
  static ITK_SIMD_FN U dup(U v) { return v; }
};

}  // namespace
}  // namespace simd
}  // namespace itk

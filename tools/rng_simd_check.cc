// Exhaustive check of the SIMD generators (native/rng/rng_simd.h) against the scalar ITK_HD
// functions they restate: every lane must give the same bits. Not part of the addon; build and
// run by hand after changing either side (x86-64, GCC or Clang):
//   g++ -O2 -std=c++17 -ffp-contract=off -fno-math-errno tools/rng_simd_check.cc -o /tmp/chk && /tmp/chk
//   g++ -O2 -std=c++17 -ffp-contract=off -fno-math-errno -DCHECK_AVX2 tools/rng_simd_check.cc -o /tmp/chk2 && /tmp/chk2
// NEON (AArch64, natively or cross-built and run under qemu-user; CI does the latter):
//   aarch64-linux-gnu-g++ -O2 -std=c++17 -ffp-contract=off -fno-math-errno -static tools/rng_simd_check.cc -o /tmp/chkn
//   qemu-aarch64 /tmp/chkn [exp-stride]
// An exp-stride > 1 checks every stride-th bit pattern of exp's 2^32 (the other domains stay
// whole); under emulation the whole exp sweep takes tens of minutes.
// Domains: ln U24 over all 2^24 inputs, sin/cos over all 2^24 angles, exp over all 2^32 float
// bit patterns, Philox on 2^24 random counters and keys, Box–Muller on 2^24 random word pairs.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__aarch64__)
#include "../native/rng/simd_neon.h"
using S = itk::simd::Neon;
#elif defined(CHECK_AVX2)
#include "../native/rng/simd_avx2.h"
using S = itk::simd::Avx2;
#else
#include "../native/rng/simd_avx512.h"
using S = itk::simd::Avx512;
#endif
#include "../native/kernels/normal.h"
#include "../native/rng/rng_simd.h"

using namespace itk;
constexpr int L = S::kLanes;

static uint64_t g_fail = 0;
static void report(const char* what, uint64_t i, uint32_t got, uint32_t want) {
  if (g_fail++ < 10) std::printf("MISMATCH %s at %llu: %08x vs %08x\n", what, static_cast<unsigned long long>(i), got, want);
}

static uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

ITK_SIMD_TARGET static void check_log_sincos() {
  alignas(64) uint32_t x[L];
  alignas(64) float a[L], b[L];
  for (uint32_t q0 = 0; q0 < (1u << 24); q0 += L) {
    for (int l = 0; l < L; ++l) x[l] = (q0 + l) << 8;  // every value of x >> 8
    S::fstore(a, simd::log<S>(simd::u24<S>(S::load(x))));
    for (int l = 0; l < L; ++l)
      if (float_bits(a[l]) != float_bits(ik_logf(u24(x[l])))) report("log", q0 + l, float_bits(a[l]), float_bits(ik_logf(u24(x[l]))));
    for (int l = 0; l < L; ++l) x[l] = q0 + l;  // every angle n
    typename S::F s, c;
    simd::sincos_turn24<S>(S::load(x), &s, &c);
    S::fstore(a, s);
    S::fstore(b, c);
    for (int l = 0; l < L; ++l) {
      float rs, rc;
      ik_sincos_turn24(x[l], &rs, &rc);
      if (float_bits(a[l]) != float_bits(rs)) report("sin", x[l], float_bits(a[l]), float_bits(rs));
      if (float_bits(b[l]) != float_bits(rc)) report("cos", x[l], float_bits(b[l]), float_bits(rc));
    }
  }
}

ITK_SIMD_TARGET static void check_exp(uint64_t stride) {
  alignas(64) uint32_t x[L];
  alignas(64) float y[L];
  for (uint64_t i0 = 0; i0 < (uint64_t{1} << 32); i0 += L * stride) {
    for (int l = 0; l < L; ++l) x[l] = static_cast<uint32_t>(i0 + l * stride);
    S::fstore(y, simd::exp<S>(S::from_bits(S::load(x))));
    for (int l = 0; l < L; ++l) {
      const uint32_t want = float_bits(ik_expf(bits_float(x[l])));
      if (float_bits(y[l]) != want) report("exp", x[l], float_bits(y[l]), want);
    }
  }
}

ITK_SIMD_TARGET static void check_philox_box_muller() {
  uint64_t seed = 1;
  alignas(64) uint32_t c[4][L], w[4][L];
  alignas(64) float z0[L], z1[L];
  for (uint32_t it = 0; it < (1u << 24) / L; ++it) {
    const uint64_t k = splitmix(&seed);
    for (int i = 0; i < 4; ++i)
      for (int l = 0; l < L; ++l) c[i][l] = static_cast<uint32_t>(splitmix(&seed));
    const simd::PhiloxKeys<S> keys(static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32));
    simd::Words4<S> v{S::load(c[0]), S::load(c[1]), S::load(c[2]), S::load(c[3])};
    v = simd::philox10<S>(keys, v);
    S::store(w[0], v.v0), S::store(w[1], v.v1), S::store(w[2], v.v2), S::store(w[3], v.v3);
    typename S::F a, b;
    simd::box_muller<S>(v.v0, v.v1, &a, &b);
    S::fstore(z0, a), S::fstore(z1, b);
    for (int l = 0; l < L; ++l) {
      const Philox4 r = philox4x32(Philox4{{c[0][l], c[1][l], c[2][l], c[3][l]}}, static_cast<uint32_t>(k),
                                   static_cast<uint32_t>(k >> 32));
      for (int i = 0; i < 4; ++i)
        if (w[i][l] != r.v[i]) report("philox", it, w[i][l], r.v[i]);
      float r0, r1;
      box_muller(r.v[0], r.v[1], &r0, &r1);
      if (float_bits(z0[l]) != float_bits(r0)) report("z0", it, float_bits(z0[l]), float_bits(r0));
      if (float_bits(z1[l]) != float_bits(r1)) report("z1", it, float_bits(z1[l]), float_bits(r1));
    }
  }
}

int main(int argc, char** argv) {
  const uint64_t exp_stride = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
  check_log_sincos();
  check_philox_box_muller();
  check_exp(exp_stride < 1 ? 1 : exp_stride);
  std::printf("%s: %llu mismatches\n", S::kName, static_cast<unsigned long long>(g_fail));
  return g_fail ? 1 : 0;
}

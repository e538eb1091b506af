// Exhaustive check of the bound the Lp search's pruning relies on (native/unet/lp_pow.h):
//   |pow_approx(e) − pow_pos(e)| ≤ kPowApproxRel·pow_pos(e) + kPowApproxAbs, for pow_approx16
//   (AVX-512) and pow_approx8_avx2,
// for every float e in (0, kPowApproxMaxE) — all 1.25e9 bit patterns, subnormals included — at
// p ∈ {1, 1.5, 2, 2.4, 3, 3.7, 4} and four random p in [1, 4]. The exact side is pow_pos8, checked
// lane for lane against the scalar pow_pos on every 97th pattern. Prints the largest relative
// error (over results ≥ 2^-126) and exits 1 if the bound fails anywhere. Not part of the addon;
// build and run by hand (x86-64 with AVX-512) after changing either function:
//   g++ -O2 -std=c++17 -ffp-contract=off -fno-math-errno tools/lp_pow_check.cc -o /tmp/lpchk && /tmp/lpchk [avx512|avx2]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "../native/unet/lp_pow.h"

using namespace itk::unet;

__attribute__((target("avx2,fma"))) static void approx_avx2(const uint32_t* bits, float p, float* out) {
  const __m256 ones = _mm256_castsi256_ps(_mm256_set1_epi32(-1)), vp = _mm256_set1_ps(p);
  for (int h = 0; h < 2; ++h)
    _mm256_storeu_ps(out + 8 * h, pow_approx8_avx2(_mm256_loadu_ps(reinterpret_cast<const float*>(bits + 8 * h)), ones, vp));
}

__attribute__((target("avx512f,avx512dq"))) static int check(float p, bool avx2, double* worst_rel) {
  const uint32_t end = [] {
    uint32_t u;
    std::memcpy(&u, &kPowApproxMaxE, 4);
    return u;
  }();
  const __m512 vp = _mm512_set1_ps(p);
  const __m512d pd = _mm512_set1_pd(p);
  double wr = 0;
  long bad = 0;
  for (uint32_t b0 = 1; b0 < end; b0 += 16) {
    alignas(64) uint32_t bits[16];
    for (int j = 0; j < 16; ++j) bits[j] = b0 + j < end ? b0 + j : b0;
    const __m512 e = _mm512_castsi512_ps(_mm512_load_si512(bits));
    alignas(64) float a[16];
    alignas(64) double x[16];
    if (avx2)
      approx_avx2(bits, p, a);
    else
      _mm512_store_ps(a, pow_approx16(e, 0xFFFF, vp));
    _mm512_store_pd(x, pow_pos8(_mm512_castps512_ps256(e), pd));
    _mm512_store_pd(x + 8, pow_pos8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)), pd));
    for (int j = 0; j < 16; ++j) {
      float ej;
      std::memcpy(&ej, &bits[j], 4);
      if ((b0 + j) % 97 == 0 && static_cast<double>(pow_pos(ej, p)) != x[j]) {
        std::printf("pow_pos8 != pow_pos at e = %a, p = %g\n", ej, p);
        return 1;
      }
      const double err = std::fabs(static_cast<double>(a[j]) - x[j]);
      if (err > kPowApproxRel * x[j] + kPowApproxAbs) {
        if (bad++ < 5) std::printf("bound fails: e = %a, p = %g: approx %a, exact %a\n", ej, p, a[j], x[j]);
      }
      if (x[j] >= 1.1754943508222875e-38 && err / x[j] > wr) wr = err / x[j];
    }
  }
  *worst_rel = wr;
  return bad ? 1 : 0;
}

int main(int argc, char** argv) {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512dq")) {
    std::printf("needs AVX-512 F and DQ\n");
    return 2;
  }
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> up(1.0f, 4.0f);
  float ps[] = {1.0f, 1.5f, 2.0f, 2.4f, 3.0f, 3.7f, 4.0f, up(rng), up(rng), up(rng), up(rng)};
  int rc = 0;
  // optional argument: "avx512" or "avx2" checks that variant only
  const int first = argc > 1 && std::strcmp(argv[1], "avx2") == 0 ? 1 : 0;
  const int last = argc > 1 && std::strcmp(argv[1], "avx512") == 0 ? 1 : 2;
  for (int avx2 = first; avx2 < last; ++avx2)
    for (float p : ps) {
      double wr = 0;
      const int r = check(p, avx2 != 0, &wr);
      std::printf("%s p = %.7g: max relative error %.3e (bound %.3e) %s\n", avx2 ? "avx2  " : "avx512", p, wr, kPowApproxRel,
                  r ? "FAIL" : "ok");
      std::fflush(stdout);
      rc |= r;
    }
  return rc;
}

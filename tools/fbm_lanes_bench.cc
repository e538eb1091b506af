// Kernel-only timing of the MA-fBM lane kernels (native/fbm/fbm_markov_lanes_simd.h) on a reused,
// already-touched output, so neither allocation nor first-touch page faults are counted (the
// benchmarks/fbm.bench.ts rows include both). Also checks every lane against the per-path code
// fbm_markov_path bit for bit. Not part of the addon; build and run by hand (x86-64, GCC or Clang):
//   g++ -O3 -std=c++17 -ffp-contract=off -fno-math-errno tools/fbm_lanes_bench.cc -o /tmp/fb && /tmp/fb [K] [exact] [paths] [n]
//   add -DBENCH_AVX2 for the AVX2 kernels. Prints CPU seconds (CLOCK_PROCESS_CPUTIME_ID) per call
//   and cycles per path-step at the clock given by ITK_GHZ (default 3.45, the test machine's).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

#ifdef BENCH_AVX2
#include "../native/rng/simd_avx2.h"
using S = itk::simd::Avx2;
#else
#include "../native/rng/simd_avx512.h"
using S = itk::simd::Avx512;
#endif
#include "../native/fbm/fbm_markov_lanes_simd.h"

using namespace itk;

static double cpu_s() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char** argv) {
  const int K = argc > 1 ? std::atoi(argv[1]) : 5;
  const bool exact = argc > 2 ? std::atoi(argv[2]) != 0 : true;
  const std::size_t paths = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10000;
  const uint32_t n = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 1000;
  const double ghz = std::getenv("ITK_GHZ") ? std::atof(std::getenv("ITK_GHZ")) : 3.45;
  // Plausible constants (values do not change the operation count): γ on a geometric grid.
  std::vector<float> decay(K), m(K), lc(K * K);
  std::vector<double> omega(K);
  const double dt = 1.0 / n;
  for (int k = 0; k < K; ++k) {
    const double g = std::pow(20.0, (k + 1.0 - (K + 1) / 2.0) / 2.0);
    decay[k] = static_cast<float>(exact ? std::exp(-g * dt) : 1 - g * dt);
    m[k] = static_cast<float>(exact ? -std::expm1(-g * dt) / g / dt : 1.0);
    omega[k] = 1.0 / K;
    for (int l = 0; l < K; ++l) lc[k * K + l] = static_cast<float>(k == l ? 1e-3 : 1e-5);
  }
  FbmMarkovArgs<float> a;
  a.K = K;
  a.n = n;
  a.exact = exact;
  a.key_lo = 1;
  a.key_hi = 2;
  a.sqrt_dt = static_cast<float>(std::sqrt(dt));
  a.decay = decay.data();
  a.m = m.data();
  a.lc = lc.data();
  a.omega = omega.data();
  const std::size_t row = n + 1;
  std::vector<float> out(paths * row), ref(row);
  const auto fn = simd::fbm_lanes_kernel<S, float>(a, 0);
  auto run = [&] {
    for (std::size_t p = 0; p < paths; p += fbm::kFbmGroup)
      fn(a, p, static_cast<int>(std::min<std::size_t>(fbm::kFbmGroup, paths - p)), 0, out.data() + p * row, nullptr, row, 1);
  };
  run();  // touches the output
  std::size_t bad = 0;
  for (std::size_t p = 0; p < paths; p += 997) {
    fbm_markov_path<float, float>(a, p, 0, ref.data(), nullptr, 1);
    bad += std::memcmp(ref.data(), out.data() + p * row, row * sizeof(float)) != 0;
  }
  double best = 1e30;
  const int reps = std::getenv("ITK_REPS") ? std::atoi(std::getenv("ITK_REPS")) : 9;
  for (int r = 0; r < reps; ++r) {
    const double t = cpu_s();
    run();
    best = std::min(best, cpu_s() - t);
  }
  const double ps = static_cast<double>(paths) * n;
  std::printf("%s K=%d %s %zu x %u: %.2f ms CPU, %.3e path-steps/s, %.2f cycles/path-step at %.2f GHz; %zu mismatching paths\n",
              S::kName, K, exact ? "exact" : "euler", paths, n, best * 1e3, ps / best, best * ghz * 1e9 / ps, ghz, bad);
  return bad != 0;
}

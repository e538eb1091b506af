// Kernel-only timing of the fused SDE lane kernels (native/sde/sde_lanes_simd.h) on GBM Euler and
// Heston log-Euler FT, float32, final state only, with a bit check of every 97th path against the
// per-path code sde::run_unit (what CUDA runs). Not part of the addon; build and run by hand:
//   g++ -O3 -std=c++17 -ffp-contract=off -fno-math-errno tools/sde_lanes_bench.cc -o /tmp/sb && /tmp/sb [gbm|heston] [paths] [steps] [begin]
//   add -DBENCH_AVX2 for the AVX2 kernels. Prints CPU seconds (CLOCK_PROCESS_CPUTIME_ID) per call
//   and cycles per path-step at the clock given by ITK_GHZ (default 3.45, the test machine's);
//   `begin` > 0 starts the step range inside a four-step noise group.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#ifdef BENCH_AVX2
#include "../native/rng/simd_avx2.h"
using S = itk::simd::Avx2;
#else
#include "../native/rng/simd_avx512.h"
using S = itk::simd::Avx512;
#endif
#include "../native/sde/sde_lanes_simd.h"

using namespace itk;

static double cpu_s() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "gbm";
  const std::size_t paths = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000000;
  const uint32_t steps = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 252;
  const uint32_t begin = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 0;
  const double ghz = std::getenv("ITK_GHZ") ? std::atof(std::getenv("ITK_GHZ")) : 3.45;
  const bool heston = model == "heston";
  const uint32_t d = heston ? 2 : 1;
  const double h = 1.0 / steps;
  // lib/sde/models.ts parameter layouts (sde_fused.h): GBM [μ, σ, (μ − σ²/2)h, L]; Heston
  // [μ, κ, θ, ξ, ρ, sqrt(1 − ρ²)].
  std::vector<float> par = heston ? std::vector<float>{0.05f, 2.0f, 0.04f, 0.5f, -0.7f, static_cast<float>(std::sqrt(1 - 0.49))}
                                  : std::vector<float>{0.05f, 0.2f, static_cast<float>((0.05 - 0.02) * h), 1.0f};
  std::vector<float> tcoef(sde::kTcoef, 1.0f);
  sde::FusedArgs<float> a;
  a.kind = heston ? sde::kHeston : sde::kGbm;
  a.method = heston ? sde::kLogEulerFT : sde::kEuler;
  a.dim = d;
  a.m = d;
  a.paths = paths;
  a.step_begin = begin;
  a.step_end = steps;
  a.noise.key_lo = 1;
  a.noise.key_hi = 0;
  a.noise.stream = kStreamBrownian;
  a.noise.m = d;
  a.noise.h = static_cast<float>(h);
  a.noise.hf = static_cast<float>(h);
  a.noise.sqrt_hf = static_cast<float>(std::sqrt(h));
  a.noise.sqrt_hf12 = static_cast<float>(std::sqrt(h / 12));
  a.h = static_cast<float>(h);
  a.par = par.data();
  a.tcoef = tcoef.data();
  std::vector<float> x0(paths * d), x(paths * d);
  for (std::size_t p = 0; p < paths; ++p) {
    x0[p * d] = heston ? 100.0f : 1.0f;
    if (heston) x0[p * d + 1] = 0.04f;
  }
  const SdeLanesFn fn = simd::sde_lanes_kernel<S>(a);
  auto run = [&] {
    std::memcpy(x.data(), x0.data(), x.size() * sizeof(float));
    a.x = x.data();
    for (std::size_t p = 0; p < paths; p += S::kLanes)
      fn(a, p, static_cast<int>(std::min<std::size_t>(S::kLanes, paths - p)));
  };
  run();
  std::size_t bad = 0;
  for (std::size_t p = 0; p < paths; p += 97) {
    std::vector<float> y(x0.begin() + p * d, x0.begin() + (p + 1) * d);
    sde::FusedArgs<float> b = a;
    b.x = y.data() - p * d;  // run_unit reads and writes row p
    sde::run_unit(b, static_cast<uint64_t>(p));
    bad += std::memcmp(y.data(), x.data() + p * d, d * sizeof(float)) != 0;
  }
  double best = 1e30;
  const int reps = std::getenv("ITK_REPS") ? std::atoi(std::getenv("ITK_REPS")) : 5;
  for (int r = 0; r < reps; ++r) {
    const double t = cpu_s();
    run();
    best = std::min(best, cpu_s() - t);
  }
  const double ps = static_cast<double>(paths) * (steps - begin);
  std::printf("%s %s %zu x %u (from step %u): %.2f ms CPU, %.3e path-steps/s, %.2f cycles/path-step at %.2f GHz; %zu mismatching paths\n",
              S::kName, model.c_str(), paths, steps, begin, best * 1e3, ps / best, best * ghz * 1e9 / ps, ghz, bad);
  return bad != 0;
}

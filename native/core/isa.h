// The one run-time choice of instruction set. Every per-ISA kernel family of native/ (the Philox
// lanes of rng and the SDE/fBM lanes built on them, the OT row kernels, the UNet qdot and FP32
// GEMM tiles and calibration sums, the cloned loops of ISA_CLONED functions below) picks its
// table here, once per process:
//   - the CPU's level: scalar < avx2 (AVX2) < avx512 (AVX-512 F, DQ, BW, VL) on x86-64, scalar <
//     neon (Advanced SIMD, every ARMv8-A core) on AArch64, cpu_features.h;
//   - ITOKIT_CPU=scalar|avx2|avx512|neon (avx512vnni is read as avx512) caps that level, so a test or a
//     bisection can force a lower path in a child process; unset or unknown names cap nothing;
//   - each family then takes the first of its tables, best first, that is within the cap and that
//     it reports usable (a family may need more than the level: VNNI, FMA).
// Same choice everywhere: ITOKIT_CPU=avx2 means AVX2 in every family, not only in those that
// happened to parse the variable.
#pragma once
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "cpu_features.h"

namespace itk {

// Levels compare within one architecture only (a build lists the tables of its own architecture).
enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

// The level a table name belongs to: "scalar", "avx2", "avx512…" (avx512vnni included), "neon".
inline Isa isa_of_name(const char* name) {
  if (std::strncmp(name, "avx512", 6) == 0) return Isa::Avx512;
  if (std::strcmp(name, "avx2") == 0) return Isa::Avx2;
  if (std::strcmp(name, "neon") == 0) return Isa::Neon;
  return Isa::Scalar;
}

// The highest level this CPU runs, under the ITOKIT_CPU cap (both read once).
inline Isa cpu_isa() {
  static const Isa level = [] {
    const CpuFeatures& f = cpu_features();
    Isa cpu = Isa::Scalar;
    if (f.avx2) cpu = Isa::Avx2;
    if (f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl) cpu = Isa::Avx512;
    if (f.neon) cpu = Isa::Neon;
    // A cap names a level of this architecture (scalar, avx2, avx512… on x86-64; scalar, neon on
    // AArch64); other names cap nothing.
    const char* env = std::getenv("ITOKIT_CPU");
    const bool x86_name = env && (std::strcmp(env, "avx2") == 0 || std::strncmp(env, "avx512", 6) == 0);
    const bool arm_name = env && std::strcmp(env, "neon") == 0;
    const bool arm = f.neon;
    if (env && (std::strcmp(env, "scalar") == 0 || (x86_name && !arm) || (arm_name && arm))) {
      const Isa cap = isa_of_name(env);
      if (cap < cpu) cpu = cap;
    }
    return cpu;
  }();
  return level;
}

// A family's table: the first name of `best_first` whose level is within cpu_isa() and for which
// `named(name, &table)` fills a usable table; `fallback` (the portable table's name) otherwise.
template <class Table, class Named>
Table isa_choose(std::initializer_list<const char*> best_first, const char* fallback, Named named) {
  Table t{};
  for (const char* name : best_first)
    if (isa_of_name(name) <= cpu_isa() && named(name, &t)) return t;
  named(fallback, &t);
  return t;
}

}  // namespace itk

// Loops that the compiler vectorises per ISA (no intrinsics): compiled for AVX-512, AVX2 and
// baseline x86-64. GCC's target_clones picks the clone from the CPU alone, so ITOKIT_CPU does not
// reach these; they hold no reassociation (-ffp-contract=off, no -ffast-math), so every clone gives
// the bits of the baseline one and the choice changes speed only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(ITK_NO_CLONES)
#define ITK_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ITK_ISA_CLONES
#endif

// Per-row vector kernels of the OT passes, one table per instruction set, chosen once at run time
// (the dispatcher pattern of native/rng/rng_batch.cc: AVX-512F, else AVX2+FMA, else portable on
// x86-64; NEON on AArch64; ITOKIT_CPU=scalar|avx2 forces a lower path). The passes are exp-bound
// (docs/design/ot.md), so the vector paths compute exp with FMA (ot_kernels_body.h); results agree
// with the portable path to a few ulp per entry, and every path is deterministic for any thread
// count (fixed lane order).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace itk {
namespace ot {

struct OtKernels {
  const char* name;
  // e_j = exp((shift + w_j) − (c_j − c0)·ir) for j < m; stores e into out and/or adds it to acc
  // (either may be null); returns Σ_j e_j summed in a fixed lane order.
  double (*row_exp)(const double* c, const double* w, std::size_t m, double shift, double c0, double ir, double* out,
                    double* acc);
  // z_j ← exp(z_j), adds e to acc when acc != null; returns Σ_j e_j (fixed lane order).
  double (*exp_sum)(double* z, std::size_t m, double* acc);
  // acc_j += al·k_j (the column accumulation of a kernel-scaling row, kernel_scaling.cc).
  void (*axpy)(double* acc, double al, const double* k, std::size_t m);
  // Σ_j c_j e_j (fixed lane order).
  double (*dot)(const double* c, const double* e, std::size_t m);
};

// The table in use (chosen on first call).
const OtKernels& ot_kernels();
// Names of the tables this CPU can run, best first ("avx512", "avx2", "neon", "scalar").
std::vector<std::string> ot_kernel_paths();
// Switches the table (tests: every path against the portable one). Returns false for an unknown
// or unsupported name. Not thread-safe against running solves.
bool set_ot_kernel_path(const std::string& name);

const OtKernels& ot_kernels_portable();
#if defined(__x86_64__) && defined(__GNUC__)
const OtKernels& ot_kernels_avx512();
const OtKernels& ot_kernels_avx2();
#endif
#if defined(__aarch64__) && defined(__GNUC__)
const OtKernels& ot_kernels_neon();
#endif

}  // namespace ot
}  // namespace itk

// The portable OT row kernels (baseline x86-64 or any other CPU: vexp.h's branch-free exp with
// GCC vector extensions, no FMA) and the run-time choice of ot_kernels.h.
#include "ot_kernels.h"

#include <cstdlib>
#include <cstring>

#include "../core/cpu_features.h"
#include "../core/isa.h"
#include "vexp.h"

namespace itk {
namespace ot {
namespace {

// Eight entries per step in two v4d halves, then a scalar tail; the lane sums fold in a fixed order.
template <class Z>
double exp_rows(std::size_t m, Z&& z_of, double* out, double* acc) {
  double s = 0;
  std::size_t j = 0;
#if defined(ITK_OT_HAVE_V4)
  v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  for (; j + 8 <= m; j += 8) {
    v4d x0, x1;
    for (int l = 0; l < 4; ++l) {
      x0[l] = z_of(j + l);
      x1[l] = z_of(j + 4 + l);
    }
    x0 = exp_fast4(x0);
    x1 = exp_fast4(x1);
    for (int l = 0; l < 4; ++l) {
      if (out) {
        out[j + l] = x0[l];
        out[j + 4 + l] = x1[l];
      }
      if (acc) {
        acc[j + l] += x0[l];
        acc[j + 4 + l] += x1[l];
      }
    }
    a0 += x0;
    a1 += x1;
  }
  s = ((a0[0] + a1[0]) + (a0[1] + a1[1])) + ((a0[2] + a1[2]) + (a0[3] + a1[3]));
#endif
  for (; j < m; ++j) {
    const double e = exp_fast(z_of(j));
    if (out) out[j] = e;
    if (acc) acc[j] += e;
    s += e;
  }
  return s;
}

double row_exp_p(const double* c, const double* w, std::size_t m, double shift, double c0, double ir, double* out,
                 double* acc) {
  return exp_rows(m, [&](std::size_t j) { return (shift + w[j]) - (c[j] - c0) * ir; }, out, acc);
}

double exp_sum_p(double* z, std::size_t m, double* acc) {
  return exp_rows(m, [&](std::size_t j) { return z[j]; }, z, acc);
}

double dot_p(const double* c, const double* e, std::size_t m) {
  double s[4] = {0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 4 <= m; j += 4)
    for (int l = 0; l < 4; ++l) s[l] += c[j + l] * e[j + l];
  for (; j < m; ++j) s[0] += c[j] * e[j];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

void axpy_p(double* acc, double al, const double* k, std::size_t m) {
  for (std::size_t j = 0; j < m; ++j) acc[j] += al * k[j];
}

const OtKernels kPortable{"scalar", row_exp_p, exp_sum_p, axpy_p, dot_p};

bool supported(const std::string& name) {
  if (name == "scalar") return true;
#if defined(__x86_64__) && defined(__GNUC__)
  const CpuFeatures& f = cpu_features();
  if (name == "avx512") return f.avx512f && f.avx512dq;
  if (name == "avx2") return f.avx2 && f.fma;
#endif
#if defined(__aarch64__) && defined(__GNUC__)
  if (name == "neon") return true;
#endif
  return false;
}

const OtKernels& table(const std::string& name) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (name == "avx512") return ot_kernels_avx512();
  if (name == "avx2") return ot_kernels_avx2();
#endif
#if defined(__aarch64__) && defined(__GNUC__)
  if (name == "neon") return ot_kernels_neon();
#endif
  return kPortable;
}

// The best table within native/core/isa.h's level (CPU features under the ITOKIT_CPU cap).
const OtKernels* choose() {
  return isa_choose<const OtKernels*>({"avx512", "avx2", "neon"}, "scalar", [](const char* name, const OtKernels** out) {
    if (!supported(name)) return false;
    *out = &table(name);
    return true;
  });
}

const OtKernels*& current() {
  static const OtKernels* k = choose();
  return k;
}

}  // namespace

const OtKernels& ot_kernels_portable() { return kPortable; }

const OtKernels& ot_kernels() { return *current(); }

std::vector<std::string> ot_kernel_paths() {
  std::vector<std::string> out;
  for (const char* p : {"avx512", "avx2", "neon", "scalar"})
    if (supported(p)) out.push_back(p);
  return out;
}

bool set_ot_kernel_path(const std::string& name) {
  if (!supported(name)) return false;
  current() = &table(name);
  return true;
}

}  // namespace ot
}  // namespace itk

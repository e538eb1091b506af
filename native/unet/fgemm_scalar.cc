// Scalar FP32 micro-kernel (the oracle the SIMD tiles equal bit for bit: one fma per k, k
// ascending) and the run-time dispatch of fgemm.h.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "../core/cpu_features.h"
#include "../core/isa.h"
#include "fgemm.h"

namespace itk {
namespace unet {

void fgemm_tile_scalar(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c, bool accumulate) {
  if (!accumulate) std::memset(c, 0, sizeof(float) * kMr * kNr);
  for (int r = 0; r < kMr; ++r) {
    float* cr = c + r * kNr;
    for (int k = 0; k < kc; ++k) {
      const float w = wp[k * kMr + r];
      const float* pk = rows[k] + off;
      for (int j = 0; j < kNr; ++j) cr[j] = std::fma(w, pk[j], cr[j]);
    }
  }
}

void fstore_scalar(const float* c, int nrows, const float* bias, const float* add, const FStoreRun* runs, int nrun, float* y,
                   std::size_t ystride) {
  for (int row = 0; row < nrows; ++row) {
    const float* cr = c + static_cast<std::size_t>(row) * kNr;
    float* yr = y + row * ystride;
    for (int r = 0; r < nrun; ++r) {
      const float* s = cr + runs[r].j0;
      float* d = yr + runs[r].yoff;
      const int len = runs[r].len;
      if (add) {
        const float extra = add[runs[r].aoff + row];
        for (int i = 0; i < len; ++i) d[i] = (s[i] + bias[row]) + extra;
      } else {
        for (int i = 0; i < len; ++i) d[i] = s[i] + bias[row];
      }
    }
  }
}

bool fgemm_kernels_named(const std::string& name, FGemmKernels* out) {
  if (name == "scalar") {
    *out = FGemmKernels{fgemm_tile_scalar, fstore_scalar, "scalar"};
    return true;
  }
#if defined(__x86_64__) && defined(__GNUC__)
  const CpuFeatures& f = cpu_features();
  if (name == "avx2" && f.avx2 && f.fma) {
    *out = FGemmKernels{fgemm_tile_avx2, fstore_scalar, "avx2"};
    return true;
  }
  if ((name == "avx512" || name == "avx512vnni") && f.avx512f) {
    *out = FGemmKernels{fgemm_tile_avx512, fstore_avx512, "avx512", fgemm_tile1_avx512};
    return true;
  }
#endif
  return false;
}

const FGemmKernels& fgemm_kernels() {
  // the best table within native/core/isa.h's level (CPU features under the ITOKIT_CPU cap)
  static const FGemmKernels k = isa_choose<FGemmKernels>({"avx512", "avx2"}, "scalar", [](const char* n, FGemmKernels* r) { return fgemm_kernels_named(n, r); });
  return k;
}

}  // namespace unet
}  // namespace itk

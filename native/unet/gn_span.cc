// Baseline table of gn_span.h (the shared loop bodies compiled for plain x86-64 / AArch64) and
// the run-time choice among the tables.
#include "gn_span.h"

#include "../core/cpu_features.h"
#include "../core/isa.h"
#include "gn_span_body.h"

namespace itk {
namespace unet {
namespace {

void gn_quant_span_scalar(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta, float zero,
                          uint8_t* codes) {
  gn_quant_span_body(x, n, mf, inv, ga, be, silu, delta, zero, codes);
}
void gn_span_scalar(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y) {
  gn_span_body(x, n, mf, inv, ga, be, silu, y);
}

}  // namespace

bool gn_span_kernels_named(const std::string& name, GnSpanKernels* out) {
  if (name == "scalar") {
    *out = GnSpanKernels{gn_quant_span_scalar, gn_span_scalar, "scalar"};
    return true;
  }
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  const CpuFeatures& f = cpu_features();
  if (name == "avx2" && f.avx2) {
    *out = GnSpanKernels{gn_quant_span_avx2, gn_span_avx2, "avx2"};
    return true;
  }
  if ((name == "avx512" || name == "avx512vnni") && f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl) {
    *out = GnSpanKernels{gn_quant_span_avx512, gn_span_avx512, "avx512"};
    return true;
  }
#endif
  return false;
}

const GnSpanKernels& gn_span_kernels() {
  static const GnSpanKernels k =
      isa_choose<GnSpanKernels>({"avx512", "avx2"}, "scalar", [](const char* n, GnSpanKernels* r) { return gn_span_kernels_named(n, r); });
  return k;
}

}  // namespace unet
}  // namespace itk

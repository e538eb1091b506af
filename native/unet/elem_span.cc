// Baseline table of elem_span.h (the shared loop bodies compiled for plain x86-64 / AArch64) and
// the run-time choice among the tables.
#include "elem_span.h"

#include "../core/cpu_features.h"
#include "../core/isa.h"
#include "elem_span_body.h"

namespace itk {
namespace unet {

ITK_ELEM_SPAN_TABLE(scalar, )

bool elem_span_kernels_named(const std::string& name, ElemSpanKernels* out) {
  if (name == "scalar") {
    *out = elem_span_table_scalar();
    return true;
  }
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  const CpuFeatures& f = cpu_features();
  if (name == "avx2" && f.avx2) {
    *out = elem_span_table_avx2();
    return true;
  }
  if ((name == "avx512" || name == "avx512vnni") && f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl) {
    *out = elem_span_table_avx512();
    return true;
  }
#endif
  return false;
}

const ElemSpanKernels& elem_span_kernels() {
  static const ElemSpanKernels k =
      isa_choose<ElemSpanKernels>({"avx512", "avx2"}, "scalar", [](const char* n, ElemSpanKernels* r) { return elem_span_kernels_named(n, r); });
  return k;
}

}  // namespace unet
}  // namespace itk

// AVX2 and AVX-512 tables of gn_span.h: the shared loop bodies (gn_span_body.h) vectorised under
// per-function target attributes; the AVX-512 ones with 512-bit vectors (see gn_span.h for why).
#include "gn_span.h"
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "gn_span_body.h"

namespace itk {
namespace unet {

#define ITK_GN_AVX2 __attribute__((target("avx2")))
#define ITK_GN_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512")))

ITK_GN_AVX2 void gn_quant_span_avx2(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta, float zero,
                                    uint8_t* codes) {
  gn_quant_span_body(x, n, mf, inv, ga, be, silu, delta, zero, codes);
}
ITK_GN_AVX2 void gn_span_avx2(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y) {
  gn_span_body(x, n, mf, inv, ga, be, silu, y);
}
ITK_GN_AVX512 void gn_quant_span_avx512(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float delta,
                                        float zero, uint8_t* codes) {
  gn_quant_span_body(x, n, mf, inv, ga, be, silu, delta, zero, codes);
}
ITK_GN_AVX512 void gn_span_avx512(const float* x, std::size_t n, float mf, float inv, float ga, float be, bool silu, float* y) {
  gn_span_body(x, n, mf, inv, ga, be, silu, y);
}

}  // namespace unet
}  // namespace itk
#endif

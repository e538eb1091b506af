// AVX2 and AVX-512 tables of elem_span.h: the shared loop bodies (elem_span_body.h) vectorised
// under per-function target attributes; the AVX-512 one with 512-bit vectors (see elem_span.h).
#include "elem_span.h"
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include "elem_span_body.h"

namespace itk {
namespace unet {

ITK_ELEM_SPAN_TABLE(avx2, __attribute__((target("avx2"))))
ITK_ELEM_SPAN_TABLE(avx512, __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512"))))

}  // namespace unet
}  // namespace itk
#endif

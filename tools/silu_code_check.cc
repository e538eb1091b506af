// Check of the certified SiLU code hint of the fused GroupNorm+SiLU+quantizer
// (native/unet/elem_span_body.h silu_code_hint, gn_quant): for every `stride`-th float bit pattern
// a (default 97: ~44M values; 1: all 4.3e9), at several (Δ, z), the codes of the AVX-512, AVX2 and
// baseline gn_quant tables (γ = 1, β = 0, μ = 0, 1/σ = 1, so the GroupNorm map is the identity)
// must equal quant_code(silu(a), Δ, z, 255), the exact exp_f32 path. Also prints the largest
// relative error of the float SiLU hint against silu() over |a| ≤ 80 (the tolerance kSiluHintTol
// must stay well above it) and the share of uncertain elements. Exits 1 on any mismatch. Not part
// of the addon; build and run by hand (x86-64 with AVX-512) after changing the hint:
//   g++ -O2 -std=c++17 -ffp-contract=off -fno-math-errno tools/silu_code_check.cc -o /tmp/silu_chk && /tmp/silu_chk [stride]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../native/unet/elem_span_body.h"

namespace itk {
namespace unet {
ITK_ELEM_SPAN_TABLE(chk_scalar, )
ITK_ELEM_SPAN_TABLE(chk_avx2, __attribute__((target("avx2"))))
ITK_ELEM_SPAN_TABLE(chk_avx512, __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,prefer-vector-width=512"))))
}  // namespace unet
}  // namespace itk

using namespace itk;
using namespace itk::unet;

int main(int argc, char** argv) {
  const uint64_t stride = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 97;
  const ElemSpanKernels tables[3] = {elem_span_table_chk_scalar(), elem_span_table_chk_avx2(), elem_span_table_chk_avx512()};
  const float deltas[] = {1e-5f, 0.0031f, 0.0171f, 0.05f, 0.31f, 1.7f};
  const float zeros[] = {0.0f, 3.5f, 17.0f, 200.0f};
  constexpr std::size_t kBlock = 1 << 16;
  std::vector<float> a;
  std::vector<uint8_t> want(kBlock), got(kBlock);
  long bad = 0;
  double worst = 0, n_all = 0, n_unsure = 0;
  float worst_a = 0;
  for (uint64_t u0 = 0; u0 < (uint64_t{1} << 32); u0 += stride * kBlock) {
    a.clear();
    for (uint64_t u = u0; u < u0 + stride * kBlock && u < (uint64_t{1} << 32); u += stride) {
      const uint32_t b = static_cast<uint32_t>(u);
      float f;
      std::memcpy(&f, &b, 4);
      a.push_back(f);
    }
    for (const float x : a) {  // the hint's own error (Δ = 1)
      if (!(std::fabs(x) <= 80.0f)) continue;
      bool sure;
      (void)silu_code_hint(x, 1.0f, &sure);
      n_all += 1;
      n_unsure += !sure;
      const double h = silu_hint(x), e = silu(x);
      if (e != 0 && std::fabs(h - e) / std::fabs(e) > worst) {
        worst = std::fabs(h - e) / std::fabs(e);
        worst_a = x;
      }
    }
    for (const float d : deltas)
      for (const float z : zeros) {
        for (std::size_t i = 0; i < a.size(); ++i) want[i] = static_cast<uint8_t>(quant_code(silu(a[i]), d, z, 255));
        for (const ElemSpanKernels& k : tables) {
          k.gn_quant(a.data(), a.size(), 0.0f, 1.0f, 1.0f, 0.0f, true, d, z, got.data());
          for (std::size_t i = 0; i < a.size(); ++i)
            if (got[i] != want[i] && bad++ < 10)
              std::printf("MISMATCH %s: a = %.9g, Δ = %g, z = %g: %d, exact %d\n", k.name, a[i], d, z, got[i], want[i]);
        }
      }
  }
  std::printf("SiLU hint: max relative error %.3e (2^%.2f) at a = %.9g over |a| <= 80; tolerance %.3e; uncertain at Δ = 1: %.4f %%\n", worst,
              std::log2(worst), worst_a, kSiluHintTol, 100.0 * n_unsure / n_all);
  std::printf("%ld mismatches\n", bad);
  return bad != 0;
}

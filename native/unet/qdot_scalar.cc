// Scalar integer dot products: the oracle every SIMD path must equal bit for bit (docs/design/unet.md §9), and the
// portable fallback. Also the run-time dispatch.
#include <cstdlib>
#include <cstring>

#include "../core/cpu_features.h"
#include "../core/isa.h"
#include "../kernels/quant_ops.h"
#include "qdot.h"

namespace itk {
namespace unet {

void qdot4_w4_scalar(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2, const uint8_t* a3,
                     int nblk, int32_t* out) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int b = 0; b < nblk; ++b) {
    const uint8_t* wb = w + 16 * b;
    const int o = 32 * b;
    for (int i = 0; i < 32; ++i) {
      const int32_t c = i < 16 ? (wb[i] & 0x0F) : (wb[i - 16] >> 4);
      s0 += c * a0[o + i];
      s1 += c * a1[o + i];
      s2 += c * a2[o + i];
      s3 += c * a3[o + i];
    }
  }
  out[0] = s0; out[1] = s1; out[2] = s2; out[3] = s3;
}

void qdot4_w8_scalar(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2, const uint8_t* a3,
                     int nblk, int32_t* out) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const int n = 32 * nblk;
  for (int i = 0; i < n; ++i) {
    const int32_t c = w[i];
    s0 += c * a0[i];
    s1 += c * a1[i];
    s2 += c * a2[i];
    s3 += c * a3[i];
  }
  out[0] = s0; out[1] = s1; out[2] = s2; out[3] = s3;
}

void qdot16_w4_scalar(const uint8_t* w, int wstride, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                      const uint8_t* a3, int nblk, int32_t* out) {
  for (int i = 0; i < 4; ++i) qdot4_w4_scalar(w + static_cast<std::size_t>(i) * wstride, a0, a1, a2, a3, nblk, out + 4 * i);
}

void qdot16_w8_scalar(const uint8_t* w, int wstride, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                      const uint8_t* a3, int nblk, int32_t* out) {
  for (int i = 0; i < 4; ++i) qdot4_w8_scalar(w + static_cast<std::size_t>(i) * wstride, a0, a1, a2, a3, nblk, out + 4 * i);
}

std::vector<int8_t> qpack_s8(const uint8_t* kern, int row_bytes, int O, int K, int Kp, int bits, const float* zero) {
  const int nb = (O + kQo - 1) / kQo;
  std::vector<int8_t> p(static_cast<std::size_t>(nb) * Kp * kQo, 0);
  for (int o = 0; o < O; ++o) {
    int8_t* blk = p.data() + static_cast<std::size_t>(o / kQo) * Kp * kQo;
    const int i = o % kQo;
    const uint8_t* row = kern + static_cast<std::size_t>(o) * row_bytes;
    const int zw = bits == 4 ? static_cast<int>(zero[o]) : 0;  // 4-bit: w − z_w, in −15..15
    for (int k = 0; k < Kp; ++k) {
      const int c = k < K ? (bits == 8 ? kern_code(row, bits, k) - 128 : kern_code(row, bits, k) - zw) : 0;
      blk[(static_cast<std::size_t>(k / 4) * kQo + i) * 4 + k % 4] = static_cast<int8_t>(c);
    }
  }
  return p;
}

void qtile_scalar(const int8_t* wp, int ntaps, const int* tapoff, int qpt, const uint8_t* const* a, const QEpi& e) {
  int32_t out[kQo * kQr];
  for (int r = 0; r < kQr; ++r)
    for (int i = 0; i < kQo; ++i) {
      int32_t s = 0;
      for (int tp = 0; tp < ntaps; ++tp) {
        const uint8_t* ar = a[r] + tapoff[tp];
        const int8_t* wt = wp + static_cast<std::size_t>(tp) * qpt * kQo * 4;
        for (int q = 0; q < qpt; ++q)
          for (int t = 0; t < 4; ++t) s += static_cast<int32_t>(ar[4 * q + t]) * wt[(static_cast<std::size_t>(q) * kQo + i) * 4 + t];
      }
      out[i * kQr + r] = s;
    }
  qtile_epilogue(out, e);
}

bool qdot_kernels_named(const std::string& name, QDotKernels* out) {
  if (name == "scalar") {
    *out = QDotKernels{qdot4_w4_scalar, qdot4_w8_scalar, "scalar", nullptr, nullptr};
    return true;
  }
#if defined(__x86_64__) && defined(__GNUC__)  // GCC and Clang: per-function target attributes
  const CpuFeatures& f = cpu_features();
  if (name == "avx2" && f.avx2) {
    *out = QDotKernels{qdot4_w4_avx2, qdot4_w8_avx2, "avx2", nullptr, nullptr};  // rows one at a time
    return true;
  }
  if (name == "avx512vnni" && f.avx512vnni && f.avx512vl && f.avx512bw) {
    *out = QDotKernels{qdot4_w4_vnni, qdot4_w8_vnni, "avx512vnni", qdot16_w4_vnni, nullptr, qtile_vnni};
    return true;
  }
#endif
  return false;
}

const QDotKernels& qdot_kernels() {
  // the best table within native/core/isa.h's level (CPU features under the ITOKIT_CPU cap)
  static const QDotKernels k = isa_choose<QDotKernels>({"avx512vnni", "avx2"}, "scalar", [](const char* n, QDotKernels* r) { return qdot_kernels_named(n, r); });
  return k;
}

}  // namespace unet
}  // namespace itk

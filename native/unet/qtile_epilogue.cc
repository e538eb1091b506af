// Reference per-channel epilogue of the integer tile (qdot.h qtile_epilogue, QEpi): zero-point identity,
// int32 → float, × (Δ_w·Δ_a), + bias (+ the temporal feature), for 8 pixels × 32 channels at once,
// written straight into the NCHW output (8 contiguous pixels per channel, vectorised over them).
// qtile_vnni fuses the same operations on its registers; this one serves qtile_scalar.
#include <cstddef>
#include <cstdint>

#include "../core/isa.h"
#include "qdot.h"

namespace itk {
namespace unet {

namespace {
// One channel's 8 pixels as one vector (GCC/Clang vector extensions: a ymm in the AVX2/AVX-512
// clones, two xmm in the baseline one). Written out because the auto-vectoriser left the 8-pixel
// loops scalar (one vcvtsi2ss/vmulss/vaddss per element, perf annotate), which made this epilogue
// cost as much as the tile.
typedef int32_t V8i __attribute__((vector_size(32)));
typedef uint32_t V8u __attribute__((vector_size(32)));
typedef float V8f __attribute__((vector_size(32)));
static_assert(kQr == 8, "one vector per channel");
}  // namespace

ITK_ISA_CLONES void qtile_epilogue(const int32_t* acc, const QEpi& e) {
  // uint32: wrap-around is defined; the sum modulo 2^32 is the exact acc′ (|acc′| < 2^31).
  V8u s;
  for (int r = 0; r < kQr; ++r) s[r] = static_cast<uint32_t>(e.sa[r < e.nr ? r : 0]);
  for (int i = 0; i < e.ni; ++i) {
    V8u a;
    __builtin_memcpy(&a, acc + i * kQr, sizeof a);  // channel i's 8 pixels (channel-major tile)
    const V8u t = a + static_cast<uint32_t>(e.czw[i]) * s + static_cast<uint32_t>(e.kc[i]);
    // fadd(fmul(float(acc′), so), bias), then fadd extra: separately rounded (-ffp-contract=off)
    V8f v = __builtin_convertvector(reinterpret_cast<const V8i&>(t), V8f) * e.so[i] + e.bias[i];
    if (e.extra) v = v + e.extra[i];
    float* yi = e.y + i * e.ldy;
    if (e.nr == kQr) {
      __builtin_memcpy(yi, &v, sizeof v);  // one contiguous 8-float run of the NCHW output
    } else {
      for (int r = 0; r < e.nr; ++r) yi[r] = v[r];
    }
  }
}

}  // namespace unet
}  // namespace itk

// Per-channel epilogue of the VNNI integer tile (qdot.h qtile_epilogue): zero-point identity,
// int32 → float, × (Δ_w·Δ_a), + bias (+ the temporal feature), for 8 pixels × 32 channels at once.
// Replaces a scalar int64 loop per output that cost more than the integer dots on small layers.
#include <cstdint>

#include "../core/isa.h"
#include "qdot.h"

namespace itk {
namespace unet {

ITK_ISA_CLONES void qtile_epilogue(const int32_t* acc, const int32_t* sa, int nr, const int32_t* czw, const int32_t* kc,
                                   const float* so, const float* bias, const float* extra, float* out) {
  for (int r = 0; r < nr; ++r) {
    const uint32_t s = static_cast<uint32_t>(sa[r]);
    const int32_t* ar = acc + r * kQo;
    float* o = out + r * kQo;
    // uint32: wrap-around is defined; the sum modulo 2^32 is the exact acc′ (|acc′| < 2^31).
    if (extra) {
      for (int i = 0; i < kQo; ++i) {
        const uint32_t t = static_cast<uint32_t>(ar[i]) + static_cast<uint32_t>(czw[i]) * s + static_cast<uint32_t>(kc[i]);
        const float v = static_cast<float>(static_cast<int32_t>(t)) * so[i] + bias[i];
        o[i] = v + extra[i];
      }
    } else {
      for (int i = 0; i < kQo; ++i) {
        const uint32_t t = static_cast<uint32_t>(ar[i]) + static_cast<uint32_t>(czw[i]) * s + static_cast<uint32_t>(kc[i]);
        o[i] = static_cast<float>(static_cast<int32_t>(t)) * so[i] + bias[i];
      }
    }
  }
}

}  // namespace unet
}  // namespace itk

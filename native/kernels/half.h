// IEEE 754 binary16 <-> binary32 conversions (docs/design/unet.md §2 dtypes, §8 `fp_weights`):
// float -> half rounds to nearest, ties to even, with subnormals, overflow to ±Inf and NaN kept
// quiet; half -> float is exact. Integer bit manipulation only, so the result does not depend on
// the host's F16C support or rounding mode, and the same code serves CPU and CUDA.
#pragma once
#include <cstdint>

#include "itk_hd.h"

namespace itk {

// binary32 -> binary16, round to nearest even.
ITK_HD uint16_t f32_to_f16(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t exp = (x >> 23) & 0xFFu;
  uint32_t man = x & 0x7FFFFFu;
  if (exp == 0xFFu) return static_cast<uint16_t>(sign | 0x7C00u | (man ? 0x200u | (man >> 13) : 0u));  // Inf, quiet NaN
  const int e = static_cast<int>(exp) - 127 + 15;  // biased half exponent
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7C00u);  // overflow -> Inf
  if (e <= 0) {
    // subnormal half: code = 1.man · 2^(exp−127) / 2^−24 = man24 · 2^(e−14), e = exp − 112
    if (e < -10) return sign;  // below half the smallest subnormal: ±0
    man |= 0x800000u;
    const int shift = 14 - e;  // 14..24
    const uint32_t half_man = man >> shift;
    const uint32_t rem = man & ((1u << shift) - 1u), halfway = 1u << (shift - 1);
    const uint32_t r = half_man + ((rem > halfway || (rem == halfway && (half_man & 1u))) ? 1u : 0u);
    return static_cast<uint16_t>(sign | r);  // a carry into bit 10 yields the smallest normal, as it should
  }
  const uint32_t half_man = man >> 13, rem = man & 0x1FFFu;
  uint32_t r = (static_cast<uint32_t>(e) << 10) | half_man;
  if (rem > 0x1000u || (rem == 0x1000u && (half_man & 1u))) ++r;  // a carry may round up to Inf: correct
  return static_cast<uint16_t>(sign | r);
}

// binary16 -> binary32 (exact).
ITK_HD float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
  if (exp == 0x1Fu) return bits_float(sign | 0x7F800000u | (man << 13));
  if (exp == 0) {
    if (man == 0) return bits_float(sign);
    // subnormal: man · 2^−24, exactly representable in binary32
    const float v = static_cast<float>(man) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_float(sign | ((exp + 112u) << 23) | (man << 13));
}

}  // namespace itk

// Per-element quantization arithmetic shared by the CPU loops and the CUDA kernels
// (docs/design/unet.md §7.3–7.4, §8). Rounding is half-to-even (rintf in the default rounding
// mode), as torch.round, so fake-quant and integer paths agree bit for bit with the reference.
#pragma once
#include <cmath>
#include <cstdint>

#include "itk_hd.h"

namespace itk {

// Asymmetric uniform quantizer code: clamp(round(x/Δ) + z, 0, qmax). Division, not a
// reciprocal multiply, as in the TFMQ-DM code (quant_layer.py).
ITK_HD int quant_code(float x, float delta, float zero, int qmax) {
  float q = fadd(rintf(fdiv(x, delta)), zero);
  if (!(q >= 0.0f)) q = 0.0f;  // also maps NaN to 0
  if (q > static_cast<float>(qmax)) q = static_cast<float>(qmax);
  return static_cast<int>(q);
}

// Dequantized value Δ·(q − z).
ITK_HD float dequant(int q, float delta, float zero) {
  return fmul(delta, fsub(static_cast<float>(q), zero));
}

// Fake quantization: quantize then dequantize.
ITK_HD float fake_quant(float x, float delta, float zero, int qmax) {
  return dequant(quant_code(x, delta, zero, qmax), delta, zero);
}

// Code k of a canonical packed int4 row (§8): byte j holds code 2j low, 2j+1 high.
ITK_HD int unpack_int4(const uint8_t* row, int k) {
  const uint8_t b = row[k >> 1];
  return (k & 1) ? (b >> 4) : (b & 0x0F);
}

// Code k of a kernel-layout row (native/unet/qdot.h): 8-bit codes in order; 4-bit codes in
// 32-code blocks of 16 bytes, byte i = code i | code (i+16) << 4.
ITK_HD int kern_code(const uint8_t* row, int bits, int k) {
  if (bits == 8) return row[k];
  const int blk = k >> 5, j = k & 31;
  const uint8_t b = row[blk * 16 + (j & 15)];
  return j < 16 ? (b & 0x0F) : (b >> 4);
}

// Epilogue of the integer GEMM (§9): acc += Δw·acc′ over groups in double, then
// y = float(acc·Δa) + bias, separately rounded so CPU and CUDA agree bit for bit.
ITK_HD double qconv_accumulate(double acc, float wscale, int64_t accp) {
  return dadd(acc, dmul(static_cast<double>(wscale), static_cast<double>(accp)));
}
ITK_HD float qconv_output(double acc, float delta, float bias) {
  return fadd(static_cast<float>(dmul(acc, static_cast<double>(delta))), bias);
}

// Per-channel epilogue (one group per row): y = float(acc′)·(Δw·Δa) + bias. acc′ is converted
// once; the product scale Δw·Δa is formed once per output channel.
ITK_HD float qconv_scale(float wscale, float delta) { return fmul(wscale, delta); }
ITK_HD float qconv_output_pc(int64_t accp, float scale, float bias) {
  return fadd(fmul(static_cast<float>(accp), scale), bias);
}

// The integer identity of §9: Σ(a−z_a)(w−z_w) = Σaw − z_w·Σa − z_a·Σw + K·z_a·z_w, in int64.
ITK_HD int64_t zero_corrected(int32_t saw, int32_t sa, int32_t sw, int32_t za, int32_t zw, int32_t k) {
  return static_cast<int64_t>(saw) - static_cast<int64_t>(zw) * sa - static_cast<int64_t>(za) * sw +
         static_cast<int64_t>(k) * za * zw;
}

}  // namespace itk

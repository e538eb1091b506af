// Warp-level tensor-core instructions of the UNet kernels (PTX ISA §9.7.14, mma.sync) and the
// operand roundings they read. Every lane
// of the warp must call them together with its fragment registers (layouts: qmma_frag.h). They
// exist from sm_80; the launchers only choose the kernels that use them on such devices, so older
// targets (the sm_75 CI build) compile a trap in their place. The CPU emulation of the kernels
// (tools/unet-cuda-emu/shim.h) defines the same functions from the PTX tables.
#pragma once
#include <cstdint>

namespace itk {
namespace unet {
namespace dev {

// d += A·B for one m16n8k32 tile: A 16×32 and B 32×8 unsigned 8-bit codes, exact s32 accumulators.
__device__ __forceinline__ void mma_u8_m16n8k32(int32_t* d, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();
#endif
}

// d += A·B for one m16n8k8 TF32 tile (A 16×8, B 8×8 as TF32 bit patterns from tf32_bits), FP32 accumulators.
__device__ __forceinline__ void mma_tf32_m16n8k8(float* d, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();
#endif
}

// d += A·B for one m16n8k16 bfloat16 tile (registers of two bf16 each, from bf16x2_bits), FP32 accumulators.
__device__ __forceinline__ void mma_bf16_m16n8k16(float* d, const uint32_t* a, const uint32_t* b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();
#endif
}

// x rounded to TF32 (10 mantissa bits, nearest, ties away: cvt.rna), as the 32-bit pattern the MMA reads.
__device__ __forceinline__ uint32_t tf32_bits(float x) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
#else
  return __float_as_uint(x);
#endif
}

// lo and hi rounded to bfloat16 (nearest even), lo in the low half: the operand order of the MMA.
__device__ __forceinline__ uint32_t bf16x2_bits(float lo, float hi) {
  const uint32_t l = __float_as_uint(lo), h = __float_as_uint(hi);
  // round to nearest even on the 16 dropped bits; NaN and Inf cannot occur (finite weights and activations)
  const uint32_t lr = (l + 0x7FFFu + ((l >> 16) & 1u)) >> 16, hr = (h + 0x7FFFu + ((h >> 16) & 1u)) >> 16;
  return (lr & 0xFFFFu) | (hr << 16);
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

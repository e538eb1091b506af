// Warp-level tensor-core instructions of the UNet kernels (PTX ISA §9.7.14, mma.sync). Every lane
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

}  // namespace dev
}  // namespace unet
}  // namespace itk

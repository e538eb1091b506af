// Integer dot products of the W4A8 / W8A8 GEMM (spec/quantized-unet.md §9): one weight row
// against four activation rows, int32 accumulators. Three implementations chosen at run time
// (scalar oracle, AVX2, AVX-512 VNNI); every path returns bit-identical accumulators, because
// each computes the exact integer Σ a·w (no saturation is possible within the bounds below).
//
// Layouts (a block is 32 consecutive K codes):
//  - activations: u8 codes, 32 bytes per block;
//  - 8-bit weights: u8 codes, 32 bytes per block;
//  - 4-bit weights: 16 bytes per block, byte i = code i | code (i+16) << 4 (Q4_0-style pairs,
//    repacked at load from the canonical file layout of §8).
// Bounds: K·255·255 < 2^31 (K ≤ 33,000) for 8-bit weights; the loader splits nothing, it
// refuses larger K.
#pragma once
#include <cstdint>
#include <string>

namespace itk {
namespace unet {

// out[r] = Σ_{blocks} Σ_j a_r[j]·w[j] over `nblk` blocks, for r = 0..3.
using QDot4Fn = void (*)(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                         const uint8_t* a3, int nblk, int32_t out[4]);

// out[4·i + r] = Σ a_r·w_i for four weight rows w_0..w_3 (row stride `wstride` bytes) and four
// activation rows: each activation load feeds four rows (register blocking).
using QDot16Fn = void (*)(const uint8_t* w, int wstride, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                          const uint8_t* a3, int nblk, int32_t out[16]);

struct QDotKernels {
  QDot4Fn w4 = nullptr;
  QDot4Fn w8 = nullptr;
  const char* name = "scalar";
  QDot16Fn w4x4 = nullptr;
  QDot16Fn w8x4 = nullptr;
};

// The kernels for this CPU (chosen once; ITOKIT_CPU=scalar|avx2|avx512vnni forces a path when the
// CPU supports it).
const QDotKernels& qdot_kernels();
// A specific path ("scalar", "avx2", "avx512vnni"); returns false when the CPU lacks it.
bool qdot_kernels_named(const std::string& name, QDotKernels* out);

// Implementations (one translation unit each).
void qdot4_w4_scalar(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot4_w8_scalar(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot16_w4_scalar(const uint8_t*, int, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot16_w8_scalar(const uint8_t*, int, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
#if defined(__x86_64__) && defined(__GNUC__)  // GCC and Clang: per-function target attributes
void qdot16_w4_vnni(const uint8_t*, int, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot4_w4_avx2(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot4_w8_avx2(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot4_w4_vnni(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot4_w8_vnni(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
#endif

}  // namespace unet
}  // namespace itk

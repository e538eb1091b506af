// Integer dot products of the W4A8 / W8A8 GEMM (docs/design/unet.md §9): one weight row
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
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace itk {
namespace unet {

// out[r] = Σ_{blocks} Σ_j a_r[j]·w[j] over `nblk` blocks, for r = 0..3.
using QDot4Fn = void (*)(const uint8_t* w, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                         const uint8_t* a3, int nblk, int32_t out[4]);

// out[4·i + r] = Σ a_r·w_i for four weight rows w_0..w_3 (row stride `wstride` bytes) and four
// activation rows: each activation load feeds four rows (register blocking).
using QDot16Fn = void (*)(const uint8_t* w, int wstride, const uint8_t* a0, const uint8_t* a1, const uint8_t* a2,
                          const uint8_t* a3, int nblk, int32_t out[16]);

// Channel-vectorised tile of the per-channel integer GEMM (oneDNN-style VNNI layout):
// out[r][i] = Σ_k a_r[k]·w_i[k] for 8 activation rows a_r (u8, Kp bytes each) and 32 output
// channels i, weights packed as s8 quads [Kp/4][32][4] (qpack_s8). One vpdpbusd multiplies a
// broadcast quad of a_r by the quads of 16 channels: no horizontal sums, each weight load feeds 8
// pixels. W4 codes are packed minus their channel's zero point, w − z_w in −15..15, so the tile
// sums Σ a·(w − z_w) and the epilogue needs no z_w·Σa_r term (czw = 0, no pass over the
// activations for Σa); 8-bit codes are packed as w − 128 and the caller adds (128 − z_w)·Σa_r.
// Exact int32 (bounds as above).
//
// Implicit GEMM (no patch copy): K is walked as `ntaps` runs of `qpt` quads; run t of pixel r reads
// the quads at a[r] + tapoff[t] and the weight quads t·qpt … (t+1)·qpt − 1. A patch row is one run
// (ntaps = 1, tapoff = {0}, qpt = Kp/4); a stride-1 k×k conv on zero-point-padded NHWC codes
// whose channel count is a multiple of 4 is k² runs of I/4 quads, one per tap, each at a fixed
// offset from the pixel's window corner (K order (ky, kx, ci) = the kernel layout's). Integer sums
// are exact, so both walks give the same int32.
constexpr int kQo = 32;  // output channels per tile
constexpr int kQr = 8;   // activation rows (pixels) per tile

// Per-channel epilogue of a tile (docs/design/unet.md §9): for pixel rows r < nr and channels
// i < ni, y[i·ldy + r] = float(acc′)·so[i] + bias[i] (+ extra[i] when extra != nullptr), separately
// rounded (the scalar path's fadd(fmul(float(acc′), so), bias), then fadd extra), with
// acc′ = acc[r][i] + czw[i]·sa[r] + kc[i] = Σ(a − z_a)(w − z_w), czw = 128 − z_w for 8-bit codes
// and 0 for 4-bit ones (packed as w − z_w: Σ a·(w − z_w) − z_a·Σ(w − z_w) is the same integer),
// kc = K·z_a·z_w − z_a·Σw. Evaluated in wrapping 32-bit arithmetic: the true acc′ satisfies
// |acc′| ≤ K·255² < 2^31, so arithmetic modulo 2^32 gives it exactly, and int32 → float rounds it
// as the int64 → float of zero_corrected does. czw, kc, so, bias hold kQo entries (padded past O);
// extra holds ni (the tile reads no further).
struct QEpi {
  const int32_t* czw;
  const int32_t* kc;
  const float* so;
  const float* bias;
  const float* extra;  // nullptr: none
  const int32_t* sa;   // Σa of the nr pixels
  int nr, ni;
  float* y;  // NCHW output at (channel 0 of the block, pixel 0 of the tile)
  std::size_t ldy;
};

// The tile writes its epilogue straight into y: each channel's 8 pixels are one contiguous run
// of the NCHW output.
using QTileFn = void (*)(const int8_t* wp, int ntaps, const int* tapoff, int qpt, const uint8_t* const* a, const QEpi& e);

// The reference epilogue (portable, vectorised over each channel's 8 pixels by the ISA clones) of
// int32 accumulators stored channel-major, acc[i·kQr + r]; qtile_vnni fuses the same operations.
void qtile_epilogue(const int32_t* acc /* [kQo][kQr] */, const QEpi& e);

struct QDotKernels {
  QDot4Fn w4 = nullptr;
  QDot4Fn w8 = nullptr;
  const char* name = "scalar";
  QDot16Fn w4x4 = nullptr;
  QDot16Fn w8x4 = nullptr;
  QTileFn tile = nullptr;  // nullptr: the row kernels above
};

// Kernel-layout weight rows (row_bytes each, quant_ops.h kern_code) packed for QTileFn:
// ceil(O/32) blocks of [Kp/4][32][4] s8: 8-bit codes minus 128, 4-bit codes minus the channel's
// zero point zero[o] (per-channel layers; `zero` is read for 4-bit only). Quads past K are 0, and
// the activation rows are 0 past K, so they add nothing. Channels past O are 0 and discarded.
std::vector<int8_t> qpack_s8(const uint8_t* kern, int row_bytes, int O, int K, int Kp, int bits, const float* zero);
void qtile_scalar(const int8_t* wp, int ntaps, const int* tapoff, int qpt, const uint8_t* const* a, const QEpi& e);

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
void qtile_vnni(const int8_t* wp, int ntaps, const int* tapoff, int qpt, const uint8_t* const* a, const QEpi& e);
void qdot4_w4_vnni(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
void qdot4_w8_vnni(const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, const uint8_t*, int, int32_t*);
#endif

}  // namespace unet
}  // namespace itk

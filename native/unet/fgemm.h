// FP32 GEMM micro-kernels of the blocked implicit-GEMM convolution (unet_ops.cc conv_fp):
// C[8][48] (+)= Σ_k Wp[k][0..7] ⊗ P[k][0..47] over one K block, every output accumulated as
// c = fma(w_k, p_k, c) for k ascending. One rounding per k, the same sequence on every ISA and
// on the GPU (native/unet/cuda/unet_conv.cu uses __fmaf_rn in the same order), so the three paths and the
// CUDA conv give identical bits; threads never split a sum.
//
// Layouts (ggml/BLIS style, packed per call so a tile's operands are contiguous):
//  - Wp: weights packed in blocks of kMr = 8 output channels, [K][8] per block (rows past O are 0);
//  - P:  one K block of the patch matrix for kNr = 48 output pixels, given as kc row pointers plus
//        one offset `off` (row k is rows[k] + off, 48 floats): rows of an im2col block (off = 0),
//        or windows of a padded input read in place, whose pointers are the same for every column
//        tile up to the tile's offset (built once per conv, not once per tile and K block);
//  - C:  the 8 × 48 accumulator tile, row stride kNr.
// Register tiles: AVX-512 8 × 48 (24 zmm accumulators, 3 patch loads + 8 broadcasts per k);
// AVX2+FMA 4 × 24 quarters (12 ymm accumulators); scalar loops with std::fma.
#pragma once
#include <cstddef>
#include <string>

namespace itk {
namespace unet {

constexpr int kMr = 8;   // output channels per micro tile
constexpr int kNr = 48;  // output pixels per micro tile (and per column tile of conv_fp)

// C (+)= Wp ⊗ P over kc values of k (rows[k] + off: 48 patch values); accumulate = false starts C
// from +0.
using FGemmFn = void (*)(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c, bool accumulate);

// One run of kept columns of a tile: columns [j0, j0 + len) of every C row go to
// y + yoff + row·ystride, with extra term add[aoff + row] (conv_fp: one image's consecutive pixels).
struct FStoreRun {
  int j0, len;
  std::size_t yoff, aoff;
};

// The conv epilogue of a whole tile in one call: y = (C[row][j] + bias[row]) (+ add[aoff + row]),
// two separately rounded adds in that order (as on the GPU); add == nullptr: no extra term.
// One call per tile instead of one per (row, run): 8 × 8 maps have runs of 8 columns, and a
// call per run cost as much as a third of the tile's FMAs.
using FStoreFn = void (*)(const float* c, int nrows, const float* bias, const float* add, const FStoreRun* runs, int nrun,
                          float* y, std::size_t ystride);

struct FGemmKernels {
  FGemmFn tile = nullptr;
  FStoreFn store = nullptr;
  const char* name = "scalar";
  // Row 0 of `tile` only, for a block whose channels past the first are padding (O ≡ 1 mod 8,
  // e.g. a UNet's 1-channel conv_out, where `tile` spends 7/8 of its FMAs on zero rows); rows
  // 1..7 of c are left as they are. nullptr: `tile`.
  FGemmFn tile1 = nullptr;
};

// The kernel for this CPU (chosen once; ITOKIT_CPU=scalar|avx2|avx512 forces a path the CPU has;
// "avx512vnni" selects the AVX-512 kernel here).
const FGemmKernels& fgemm_kernels();
// A specific path ("scalar", "avx2", "avx512"); false when the CPU lacks it.
bool fgemm_kernels_named(const std::string& name, FGemmKernels* out);

void fgemm_tile_scalar(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c, bool accumulate);
void fstore_scalar(const float* c, int nrows, const float* bias, const float* add, const FStoreRun* runs, int nrun, float* y,
                   std::size_t ystride);
#if defined(__x86_64__) && defined(__GNUC__)
void fgemm_tile_avx2(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c, bool accumulate);
void fgemm_tile_avx512(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c, bool accumulate);
void fgemm_tile1_avx512(int kc, const float* wp, const float* const* rows, std::ptrdiff_t off, float* c, bool accumulate);
void fstore_avx512(const float* c, int nrows, const float* bias, const float* add, const FStoreRun* runs, int nrun, float* y,
                   std::size_t ystride);
#endif

}  // namespace unet
}  // namespace itk

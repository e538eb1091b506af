// Index math of the tensor-core integer convolution (native/unet/cuda/unet_qmma.cu), host- and
// device-callable so the CPU emulation (tools/unet-cuda-emu) checks the very functions the kernel
// uses against its own transcription of the PTX tables.
//
// One warp-level mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 computes D[16×8] += A[16×32]·B[32×8]
// (PTX ISA §9.7.14.5, "Matrix Fragments for mma.m16n8k32", .u8/.s8 operands). With
// gid = lane >> 2 and tig = lane & 3:
//   A: four .b32 registers of four u8 each (byte e = lowest k first); register r holds row
//      gid + 8·(r & 1), codes k = 4·tig + 16·(r >> 1) + e, i.e. 4-code word tig + 4·(r >> 1).
//   B: two registers; register r holds column gid, codes k = 4·tig + 16·r + e (word tig + 4·r).
//   C/D: four s32; element r is row gid + 8·(r >> 1), column 2·tig + (r & 1).
// The same register maps hold for m16n8k8 .tf32 (one element per register) and m16n8k16 .bf16 (two
// per register, the lower k in the low half): counted in 32-bit registers, A register r is row
// gid + 8·(r & 1), register column tig + 4·(r >> 1); B register r is register row tig + 4·r of
// column gid (PTX ISA §9.7.14.5, "m16n8k8" and "m16n8k16"). The FP tensor-core conv
// (unet_conv_mma.cu) therefore uses the functions below too, with "word" meaning one register.
// Shared memory keeps both operands K-contiguous as 4-code words, one row of 8 words (32 codes, one
// K block of native/unet/qdot.h) per output channel (A) or per GEMM column (B), so a fragment
// register is one 32-bit shared load. Rows are kQmmaStride = 12 words apart: the 8 rows × 4 words a
// fragment load touches then fall in 32 distinct banks (12·r mod 32 for r < 8 = 0, 12, 24, 4, 16,
// 28, 8, 20, each followed by 4 consecutive banks).
#pragma once
#include "../../kernels/itk_hd.h"

namespace itk {
namespace unet {
namespace dev {

constexpr int kQmmaStride = 12;  // 32-bit words between two rows of a shared operand tile
constexpr int kQmmaWords = 8;    // 4-code words per row and K block (32 codes)

// Row (within the 16-row A tile) and 4-code word of A register r of a lane.
ITK_HD int qmma_a_row(int lane, int r) { return (lane >> 2) + 8 * (r & 1); }
ITK_HD int qmma_a_word(int lane, int r) { return (lane & 3) + 4 * (r >> 1); }
// Column (within the 8-column B tile) and 4-code word of B register r of a lane.
ITK_HD int qmma_b_col(int lane) { return lane >> 2; }
ITK_HD int qmma_b_word(int lane, int r) { return (lane & 3) + 4 * r; }
// Row and column of accumulator element r of a lane.
ITK_HD int qmma_c_row(int lane, int r) { return (lane >> 2) + 8 * (r >> 1); }
ITK_HD int qmma_c_col(int lane, int r) { return 2 * (lane & 3) + (r & 1); }
// Offset of word w of shared row `row`.
ITK_HD int qmma_smem(int row, int w) { return row * kQmmaStride + w; }

// K blocks and groups (docs/design/unet.md §7.3, §9): groups are whole multiples of 32 codes, so
// block kb ends group gi = qconv_group_of(kb) exactly when qconv_group_end says so, and that group
// has qconv_group_len codes (the last one may be short, K not a multiple of gsize). Both integer
// kernels (dp4a and MMA) flush their accumulators by these.
ITK_HD bool qconv_group_end(int kb, int nkb, int ng, int gsize) {
  return kb + 1 == nkb || (ng > 1 && ((kb + 1) * 32) % gsize == 0);
}
ITK_HD int qconv_group_of(int kb, int ng, int gsize) { return ng > 1 ? (kb * 32) / gsize : 0; }
ITK_HD int qconv_group_len(int gi, int K, int gsize) {
  const int end = (gi + 1) * gsize;
  return (end < K ? end : K) - gi * gsize;
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

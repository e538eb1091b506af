#include "unet_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../core/error.h"
#include "../core/isa.h"
#include "../core/threadpool.h"
#include "../kernels/quant_ops.h"
#include "gn_sums.h"
#include "../kernels/unet_elem.h"
#include "fgemm.h"
#include "elem_span.h"
#include "qdot.h"

namespace itk {
namespace unet {
namespace {

constexpr int kNc = 64;  // output pixels per tile
constexpr int kMaxTaps = 64;  // taps of an implicit integer conv (k ≤ 8)
constexpr int kOb = 64;  // output channels per tile

#define ITK_CLONES ITK_ISA_CLONES  // native/core/isa.h

// codes[i] = quant_code(x[i], Δ, z, 255) for a contiguous span (cloned so that rintf becomes
// one vroundps instead of a libm call on baseline x86-64).
ITK_CLONES void quantize_span(const float* x, std::size_t n, float delta, float zero, uint8_t* codes) {
  for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quant_code(x[i], delta, zero, 255));
}

// a[i] = residual(a[i], b[i], s) (unet_elem.h), cloned: the baseline build vectorised it with
// 128-bit SSE only. Elementwise IEEE adds and divides: the same bits at any width.
ITK_CLONES void residual_span(float* a, const float* b, std::size_t n, float s) {
  if (s == 1.0f) {
    for (std::size_t i = 0; i < n; ++i) a[i] = residual(a[i], b[i], 1.0f);
  } else {
    for (std::size_t i = 0; i < n; ++i) a[i] = residual(a[i], b[i], s);
  }
}

// Σ of n u8 codes (vectorised by the clones).
ITK_CLONES int32_t sum_u8(const uint8_t* a, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; ++i) s += a[i];
  return s;
}

// out[p] = Σ of the I codes of pixel p, for npix NHWC pixels: one call per image instead of one
// (ifunc-dispatched) sum_u8 call per pixel.
ITK_CLONES void pixel_sums(const uint8_t* src, std::size_t npix, int I, int32_t* out) {
  for (std::size_t p = 0; p < npix; ++p) {
    const uint8_t* a = src + p * static_cast<std::size_t>(I);
    int32_t s = 0;
    for (int i = 0; i < I; ++i) s += a[i];
    out[p] = s;
  }
}

// Window sums of one image for a stride-1 KH × KW conv: ws[oy·Wo + ox] = Σ_{ky, kx} ps[(oy + ky)·Ws
// + ox + kx] over the (padded) Hs × Ws grid of per-pixel sums ps, Wo = Ws − KW + 1. Exact
// integers, so the order of the adds is free: rows of outputs at once (vectorised over ox).
ITK_CLONES void window_sums(const int32_t* ps, int Ho, int Wo, int Ws, int KH, int KW, int32_t* ws) {
  for (int oy = 0; oy < Ho; ++oy) {
    int32_t* w = ws + static_cast<std::size_t>(oy) * Wo;
    for (int ox = 0; ox < Wo; ++ox) w[ox] = 0;
    for (int ky = 0; ky < KH; ++ky)
      for (int kx = 0; kx < KW; ++kx) {
        const int32_t* r = ps + static_cast<std::size_t>(oy + ky) * Ws + kx;
        for (int ox = 0; ox < Wo; ++ox) w[ox] += r[ox];
      }
  }
}

// GroupNorm's two sums (gn_sums.h: chunks of 16 float lanes combined in double, the GPU's order
// too), vectorised by the clones.
ITK_CLONES double lane_sum(const float* x, std::size_t n) { return gn_sum(x, n); }
ITK_CLONES double lane_sq_dev(const float* x, std::size_t n, float mean) { return gn_sq_dev(x, n, mean); }

// Attention of the queries n0 ≤ n < n1 of one head (attention_core), q, k, v, out as [d][N]
// planes: scores S[i][m] = Σ_c q[c][n]·k[c][m] from +0, c ascending, separately rounded (the
// GPU's order, unet_attn.cu), times `scale`; softmax with max subtraction, e^(s − max) by
// exp_f32, the row sum in double in key order; out[c][n] = Σ_m p[m]·v[c][m] in 16 float lanes
// summed in lane order, then the tail. One call per block of at most kAttnQ queries: each k and v
// row is read once for the whole block. S: 2·kAttnQ·N (scores, then their transpose).
constexpr int kAttnQ = 16;  // queries per attention block
// 16 floats as one GCC generic vector (a zmm in the AVX-512 clone, split by the others); products
// and sums stay separately rounded (-ffp-contract=off).
typedef float V16 __attribute__((vector_size(64)));
#define ITK_LOAD16(v, p) std::memcpy(&(v), (p), sizeof(V16))
ITK_CLONES void attn_rows(const float* qb, const float* kb, const float* vb, int d, int N, int n0, int n1, float scale,
                          float* S, float* ob, void (*exp_row)(float*, std::size_t, float)) {
  const int nq = n1 - n0;
  // Scores in register tiles of 4 queries × 64 keys (16 vectors; each k slab read once per 4
  // queries), c ascending from +0 in each: the per-element order of the plain loop, without a load
  // and store of S per c. A last group of fewer queries repeats the last one (same values).
  const int m64 = N / 64 * 64, m16 = N / 16 * 16;
  for (int i = 0; i < nq; i += 4) {
    int qi[4];
    float* sr[4];
    for (int u = 0; u < 4; ++u) {
      qi[u] = n0 + std::min(i + u, nq - 1);
      sr[u] = S + static_cast<std::size_t>(qi[u] - n0) * N;
    }
    for (int m = 0; m < m64; m += 64) {
      V16 a[4][4] = {};
      for (int c = 0; c < d; ++c) {
        const float* kr = kb + static_cast<std::size_t>(c) * N + m;
        const float* qc = qb + static_cast<std::size_t>(c) * N;
        V16 kv[4];
        for (int v = 0; v < 4; ++v) ITK_LOAD16(kv[v], kr + 16 * v);
#pragma GCC unroll 4
        for (int u = 0; u < 4; ++u) {
          const float qu = qc[qi[u]];
#pragma GCC unroll 4
          for (int v = 0; v < 4; ++v) a[u][v] += qu * kv[v];
        }
      }
      for (int u = 0; u < 4; ++u) std::memcpy(sr[u] + m, a[u], sizeof a[u]);
    }
    for (int m = m64; m < m16; m += 16) {
      V16 a[4] = {};
      for (int c = 0; c < d; ++c) {
        V16 kv;
        ITK_LOAD16(kv, kb + static_cast<std::size_t>(c) * N + m);
        const float* qc = qb + static_cast<std::size_t>(c) * N;
        for (int u = 0; u < 4; ++u) a[u] += qc[qi[u]] * kv;
      }
      for (int u = 0; u < 4; ++u) std::memcpy(sr[u] + m, &a[u], sizeof a[u]);
    }
    for (int m = m16; m < N; ++m) {
      float a[4] = {};
      for (int c = 0; c < d; ++c) {
        const float kv = kb[static_cast<std::size_t>(c) * N + m];
        const float* qc = qb + static_cast<std::size_t>(c) * N;
        for (int u = 0; u < 4; ++u) a[u] += qc[qi[u]] * kv;
      }
      for (int u = 0; u < 4; ++u) sr[u][m] = a[u];
    }
  }
  for (int i = 0; i < nq; ++i) {
    float* s = S + static_cast<std::size_t>(i) * N;
    // s *= scale and the row max in 16 lanes (GCC does not vectorise a float max reduction: it
    // may not reorder it). Lane maxima combined afterwards give the same maximum: the running
    // max keeps its value unless a score is larger, so a NaN score is skipped in either order,
    // and only the sign of a zero maximum could differ, which e^(s − max) does not see.
    V16 mxv;
    for (int u = 0; u < 16; ++u) mxv[u] = -INFINITY;
    int m = 0;
    for (; m + 16 <= N; m += 16) {
      V16 t;
      ITK_LOAD16(t, s + m);
      t *= scale;
      std::memcpy(s + m, &t, sizeof t);
      mxv = mxv < t ? t : mxv;
    }
    float mx = -INFINITY;
    for (int u = 0; u < 16; ++u) mx = std::max(mx, mxv[u]);
    for (; m < N; ++m) {
      s[m] *= scale;
      mx = std::max(mx, s[m]);
    }
    exp_row(s, static_cast<std::size_t>(N), mx);  // s[m] = softmax_exp(s[m], mx) (elem_span.h, 512-bit on AVX-512)
  }
  // T = Sᵀ ([m][kAttnQ], queries contiguous). Each query's row sum is in double in key order, as
  // a per-row loop would add, but the 16 queries' sums advance together (one vector add per key
  // instead of a serial chain per row); then T[m][i] *= 1/sum_i, the per-row scaling.
  float* T = S + static_cast<std::size_t>(kAttnQ) * N;
  for (int m = 0; m < N; ++m)
    for (int i = 0; i < kAttnQ; ++i) T[static_cast<std::size_t>(m) * kAttnQ + i] = i < nq ? S[static_cast<std::size_t>(i) * N + m] : 0.0f;
  {
    double sum[kAttnQ] = {};
    for (int m = 0; m < N; ++m)
      for (int i = 0; i < kAttnQ; ++i) sum[i] += T[static_cast<std::size_t>(m) * kAttnQ + i];
    float inv[kAttnQ];
    for (int i = 0; i < kAttnQ; ++i) inv[i] = i < nq ? softmax_inv(sum[i]) : 0.0f;
    for (int m = 0; m < N; ++m)
      for (int i = 0; i < kAttnQ; ++i) T[static_cast<std::size_t>(m) * kAttnQ + i] *= inv[i];
  }
  // P·V vectorised across the block's queries: lane j of query i accumulates T[m + j][i]·v[m + j]
  // for m = 0, 16, … exactly as a per-query 16-lane dot would, then the lanes are summed in lane
  // order and the tail added: the same bits, with no per-output horizontal sum.
  for (int c = 0; c < d; ++c) {
    const float* vr = vb + static_cast<std::size_t>(c) * N;
    V16 acc[16];
    for (int j = 0; j < 16; ++j) acc[j] = V16{};
    int m = 0;
    for (; m + 16 <= N; m += 16)
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j) {
        V16 t;
        ITK_LOAD16(t, T + static_cast<std::size_t>(m + j) * kAttnQ);
        acc[j] += t * vr[m + j];
      }
    V16 r = V16{};
    for (int j = 0; j < 16; ++j) r += acc[j];
    for (; m < N; ++m) {
      V16 t;
      ITK_LOAD16(t, T + static_cast<std::size_t>(m) * kAttnQ);
      r += t * vr[m];
    }
    float rs[kAttnQ];
    std::memcpy(rs, &r, sizeof rs);
    for (int i = 0; i < nq; ++i) ob[static_cast<std::size_t>(c) * N + n0 + i] = rs[i];
  }
}


// dst[p·C + ci] = tile[ci·kPix + p] for p < np, ci < C: a channel-major code tile (rows of kPix
// pixels) written out pixel-major (NHWC). Full 16 × 16 blocks go through the SSE2 unpack
// transpose (4 stages of 16 unpacks); the rest byte by byte. Pure data movement.
constexpr std::size_t kPix = 64;  // pixels per code tile (quantize_nhwc, group_norm_quant_nhwc)
void tile_to_nhwc(const uint8_t* tile, std::size_t C, std::size_t np, uint8_t* dst) {
  std::size_t c16 = 0, p16 = 0;
#if defined(__SSE2__)
  c16 = C / 16 * 16;
  p16 = np / 16 * 16;
  for (std::size_t c0 = 0; c0 < c16; c0 += 16)
    for (std::size_t p0 = 0; p0 < p16; p0 += 16) {
      __m128i a[16], b[16];
      for (int i = 0; i < 16; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + (c0 + i) * kPix + p0));
      for (int i = 0; i < 8; ++i) {  // pairs of channels, pixels 0..7 | 8..15
        b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
        b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
      }
      for (int j = 0; j < 4; ++j) {  // groups of 4 channels, pixels in fours
        a[4 * j + 0] = _mm_unpacklo_epi16(b[4 * j], b[4 * j + 2]);
        a[4 * j + 1] = _mm_unpackhi_epi16(b[4 * j], b[4 * j + 2]);
        a[4 * j + 2] = _mm_unpacklo_epi16(b[4 * j + 1], b[4 * j + 3]);
        a[4 * j + 3] = _mm_unpackhi_epi16(b[4 * j + 1], b[4 * j + 3]);
      }
      for (int h = 0; h < 2; ++h)  // groups of 8 channels, pixels in pairs
        for (int m = 0; m < 4; ++m) {
          b[8 * h + 2 * m] = _mm_unpacklo_epi32(a[8 * h + m], a[8 * h + 4 + m]);
          b[8 * h + 2 * m + 1] = _mm_unpackhi_epi32(a[8 * h + m], a[8 * h + 4 + m]);
        }
      for (int q = 0; q < 8; ++q) {  // 16 channels of one pixel
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (p0 + 2 * q) * C + c0), _mm_unpacklo_epi64(b[q], b[8 + q]));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (p0 + 2 * q + 1) * C + c0), _mm_unpackhi_epi64(b[q], b[8 + q]));
      }
    }
#endif
  for (std::size_t p = 0; p < np; ++p) {
    const std::size_t cs = p < p16 ? c16 : 0;
    for (std::size_t ci = cs; ci < C; ++ci) dst[p * C + ci] = tile[ci * kPix + p];
  }
}

struct Geo {
  int Ho, Wo, pt, pb;
};

Geo geometry(const Conv& c, int H, int W) {
  Geo g;
  g.pt = c.pad;
  g.pb = c.pad + (c.pad_br ? 1 : 0);
  g.Ho = (H + g.pt + g.pb - c.KH) / c.stride + 1;
  g.Wo = (W + g.pt + g.pb - c.KW) / c.stride + 1;
  require(g.Ho > 0 && g.Wo > 0, Code::Shape, c.name + ": input too small for the kernel");
  return g;
}

}  // namespace

std::vector<float> pack_weights(const float* w, int O, int K) {
  const int nb = (O + kMr - 1) / kMr;
  std::vector<float> p(static_cast<std::size_t>(nb) * K * kMr, 0.0f);
  for (int o = 0; o < O; ++o) {
    float* dst = p.data() + static_cast<std::size_t>(o / kMr) * K * kMr + o % kMr;
    const float* src = w + static_cast<std::size_t>(o) * K;
    for (int k = 0; k < K; ++k) dst[static_cast<std::size_t>(k) * kMr] = src[k];
  }
  return p;
}

namespace {

// K block of the FP32 GEMM: a 128 × 48 patch block (24 KiB) stays in L1 while every 8-channel
// weight block of the task streams past it.
constexpr int kKc = 128;

// One run of a patch row: columns [j0, j0 + len) read x[src + ci·plane + i·stride] (source
// pixels one stride apart in one row: consecutive at stride 1), or are padding (src < 0).
struct Run {
  int j0, len, src;
};

// The rows k0 .. k0 + kc − 1 of a column tile's patch matrix (k = ci·taps + tap), copied run by
// run from the input planes (cloned: the copies become AVX-512 / AVX2 moves).
ITK_CLONES void fill_patch(const float* x, std::size_t plane, int taps, int k0, int kc, const Run* runs, const int* nrun,
                           int step, float* P) {
  for (int kk = 0; kk < kc; ++kk) {
    const int k = k0 + kk, ci = k / taps, tap = k % taps;
    const float* xc = x + static_cast<std::size_t>(ci) * plane;
    float* prow = P + static_cast<std::size_t>(kk) * kNr;
    const Run* rt = runs + static_cast<std::size_t>(tap) * kNr;
    for (int r = 0; r < nrun[tap]; ++r) {
      float* d = prow + rt[r].j0;
      const int len = rt[r].len;
      if (rt[r].src < 0) {
        for (int i = 0; i < len; ++i) d[i] = 0.0f;
      } else {
        const float* s = xc + rt[r].src;
        if (step == 1) {
          for (int i = 0; i < len; ++i) d[i] = s[i];
        } else {
          for (int i = 0; i < len; ++i) d[i] = s[static_cast<std::size_t>(i) * step];
        }
      }
    }
  }
}

// One channel of the shared-pad copy (conv_fp_packed direct mode): for each of the B images
// (source planes `plane` floats apart) `pt` zero rows, then its H rows, each as `pt` zeros and
// W values (row pitch Wq = W + pt); then the last image's `pt` bottom zero rows. One call per
// channel: a call per image (8 × 8 maps: 8 rows of 8 floats) cost 8 % of a 64→64 conv. Rows are
// copied in 8-float blocks (one 256-bit move each in the AVX clones; W is 8, 16 or 32 here).
ITK_CLONES void pad_channel(const float* src, std::size_t plane, int B, int H, int W, int pt, int Wq, float* dst) {
  for (int b = 0; b < B; ++b) {
    const float* sb = src + static_cast<std::size_t>(b) * plane;
    for (int i = 0; i < pt * Wq; ++i) dst[i] = 0.0f;
    dst += static_cast<std::size_t>(pt) * Wq;
    for (int yy = 0; yy < H; ++yy, dst += Wq) {
      for (int i = 0; i < pt; ++i) dst[i] = 0.0f;
      const float* s = sb + static_cast<std::size_t>(yy) * W;
      float* d = dst + pt;
      int i = 0;
      for (; i + 8 <= W; i += 8) std::memcpy(d + i, s + i, 8 * sizeof(float));
      for (; i < W; ++i) d[i] = s[i];
    }
  }
  for (int i = 0; i < pt * Wq; ++i) dst[i] = 0.0f;  // bottom padding
}

}  // namespace

Tensor conv_fp(const Conv& c, const Tensor& x, const float* w, const float* add, const FGemmKernels* kern) {
  const std::vector<float> wp = pack_weights(w, c.O, c.I * c.KH * c.KW);
  return conv_fp_packed(c, x, wp.data(), add, kern);
}

Tensor conv_fp_packed(const Conv& c, const Tensor& x, const float* wp, const float* add, const FGemmKernels* kern) {
  require(x.C == c.I, Code::Shape, c.name + ": channel mismatch");
  const Geo g = geometry(c, x.H, x.W);
  Tensor y = Tensor::uninit(x.B, c.O, g.Ho, g.Wo);  // every (b, o, pixel) is one kept column's store
  const int taps = c.KH * c.KW;
  const int K = c.I * taps;
  const int N = g.Ho * g.Wo;
  const std::size_t plane = static_cast<std::size_t>(x.H) * x.W;
  // Direct mode (stride 1, KH·KW > 1, symmetric padding pt ≤ KH−1, KW−1): the input is copied once
  // with shared zero padding, per channel as pt zero rows, then for every image its H rows, each
  // led by pt zeros, followed by pt zero rows (row pitch Wq = W + pt, Hq = H + pt rows per image):
  // a row's right padding is the next row's left padding, an image's bottom padding the next
  // image's top. Column q then stands for output (b, oy, ox) with q = b·Hq·Wq + oy·Wq + ox, and
  // the patch row of (ci, ky, kx) for columns q0 … q0 + 47 is the window at ci·CS + q0 + ky·Wq + kx
  // (CS: the channel's size), read in place. Columns with ox ≥ Wo or oy ≥ Ho are computed and
  // dropped (a 3 × 3 conv keeps 64/81 of an 8 × 8 map's columns, 256/289 of a 16 × 16 one); used
  // when at least 60 % are kept, else the im2col mode builds each K block's rows. Padding taps
  // are fma(w, 0, acc) in both modes: the same bits.
  const int Hq = x.H + g.pt, Wq = x.W + g.pt;
  const bool direct = c.stride == 1 && taps > 1 && g.pt == g.pb && g.pt < c.KH && g.pt < c.KW &&
                      static_cast<double>(N) >= 0.6 * Hq * Wq;
  const std::size_t planeq = static_cast<std::size_t>(Hq) * Wq;
  const std::size_t chan = static_cast<std::size_t>(x.B) * planeq + static_cast<std::size_t>(g.pt) * Wq;  // CS
  const long long Ntot = direct ? static_cast<long long>(x.B) * static_cast<long long>(planeq) : static_cast<long long>(x.B) * N;
  // Reused per calling thread (a fresh buffer per layer cost page faults and a full memset).
  thread_local std::vector<float> xp_tls;
  std::vector<float>& xp = xp_tls;
  if (direct) {
    // + slack: the last tile's windows run up to 47 + (KH−1)·Wq + KW−1 floats past the end
    const std::size_t body = static_cast<std::size_t>(c.I) * chan;
    const std::size_t slack = kNr + static_cast<std::size_t>(c.KH) * Wq + c.KW;
    if (xp.size() < body + slack) xp.resize(body + slack);
    parallel_for(static_cast<std::size_t>(c.I), [&](std::size_t ci) {
      pad_channel(x.d.data() + ci * plane, static_cast<std::size_t>(c.I) * plane, x.B, x.H, x.W, g.pt, Wq, xp.data() + ci * chan);
    });
    std::fill(xp.begin() + static_cast<std::ptrdiff_t>(body), xp.begin() + static_cast<std::ptrdiff_t>(body + slack), 0.0f);
  }
  // Patch rows read in place, the same for every column tile up to the tile's offset (fgemm.h
  // `off`), so built once here: direct mode, the window of k = ci·taps + tap at
  // ci·CS + ky·Wq + kx (+ the tile's first column q0); 1 × 1 stride 1, channel row k (+ the
  // tile's first source pixel, used by tiles of 48 pixels of one image).
  thread_local std::vector<const float*> win_tls;
  std::vector<const float*>& win = win_tls;
  if (direct || (taps == 1 && c.stride == 1)) {
    win.resize(static_cast<std::size_t>(K));
    for (int k = 0; k < K; ++k) {
      const int ci = k / taps, tap = k % taps;
      win[k] = direct ? xp.data() + static_cast<std::size_t>(ci) * chan + (tap / c.KW) * Wq + tap % c.KW
                      : x.d.data() + static_cast<std::size_t>(k) * plane;
    }
  }
  const int nob = (c.O + kMr - 1) / kMr;
  const long long ntiles = (Ntot + kNr - 1) / kNr;
  // Few column tiles (small maps, small batches): split the channel blocks too, so both cores get
  // work. The split depends on the shapes only; no output's sum is ever split.
  const int ochunks = ntiles >= 16 ? 1 : std::min<int>(nob, static_cast<int>((16 + ntiles - 1) / ntiles));
  const int obper = (nob + ochunks - 1) / ochunks;
  const FGemmKernels& kk_ = kern ? *kern : fgemm_kernels();
  const FGemmFn tile = kk_.tile;
  const FStoreFn store = kk_.store;
  // The last channel block holds one real channel (O ≡ 1 mod 8): the one-row tile, when the ISA has one.
  const FGemmFn tile1 = kk_.tile1 ? kk_.tile1 : tile;
  const int last_ob1 = c.O % kMr == 1 ? nob - 1 : -1;
  parallel_for(static_cast<std::size_t>(ntiles) * ochunks, [&](std::size_t task) {
    const long long n0 = static_cast<long long>(task / ochunks) * kNr;
    const int ob0 = static_cast<int>(task % ochunks) * obper, ob1 = std::min(nob, ob0 + obper);
    if (ob0 >= ob1) return;
    const int nn = static_cast<int>(std::min<long long>(kNr, Ntot - n0));
    thread_local std::vector<float> P_tls, C_tls;
    thread_local std::vector<Run> runs_tls;
    thread_local std::vector<int> nrun_tls;
    std::vector<float>& P = P_tls;
    std::vector<float>& C = C_tls;
    C.resize(static_cast<std::size_t>(ob1 - ob0) * kMr * kNr);
    const float* rows[kKc];
    // Output of every column: image col_b (−1: dropped) and pixel col_p.
    int col_b[kNr], col_p[kNr], col_y[kNr], col_x[kNr];
    for (int j = 0; j < kNr; ++j) {
      col_b[j] = -1;
      col_p[j] = 0;
    }
    if (direct) {
      // (image, row, column) of column n0 once, then stepped: no divisions per column
      int b = static_cast<int>(n0 / static_cast<long long>(planeq));
      const int r = static_cast<int>(n0 - static_cast<long long>(b) * static_cast<long long>(planeq));
      int oy = r / Wq, ox = r % Wq;
      for (int j = 0; j < nn; ++j) {
        if (oy < g.Ho && ox < g.Wo) {
          col_b[j] = b;
          col_p[j] = oy * g.Wo + ox;
        }
        if (++ox == Wq) {
          ox = 0;
          if (++oy == Hq) {
            oy = 0;
            ++b;
          }
        }
      }
    } else {
      for (int j = 0; j < nn; ++j) {
        const long long n = n0 + j;
        col_b[j] = static_cast<int>(n / N);
        col_p[j] = static_cast<int>(n - static_cast<long long>(col_b[j]) * N);
        col_y[j] = (col_p[j] / g.Wo) * c.stride - g.pt;
        col_x[j] = (col_p[j] % g.Wo) * c.stride - g.pt;
      }
    }
    std::vector<Run>& runs = runs_tls;
    std::vector<int>& nrun = nrun_tls;
    if (!direct) {
      // Source offset of every (tap, column), as runs of consecutive source pixels: the patch rows
      // of every input channel are then block copies.
      P.resize(static_cast<std::size_t>(kKc) * kNr);
      runs.resize(static_cast<std::size_t>(taps) * kNr);
      nrun.assign(taps, 0);
      for (int tap = 0; tap < taps; ++tap) {
        const int ky = tap / c.KW, kx = tap % c.KW;
        Run* rt = runs.data() + static_cast<std::size_t>(tap) * kNr;
        int nr = 0, prev = -2;
        for (int j = 0; j < kNr; ++j) {
          int src = -1;
          if (j < nn) {
            const int iy = col_y[j] + ky, ix = col_x[j] + kx;
            if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W)
              src = static_cast<int>(static_cast<std::size_t>(col_b[j]) * c.I * plane + static_cast<std::size_t>(iy) * x.W + ix);
          }
          const bool extend = nr > 0 && ((src < 0 && prev < 0) || (src >= 0 && prev >= 0 && src == prev + c.stride));
          if (extend)
            ++rt[nr - 1].len;
          else
            rt[nr++] = Run{j, 1, src};
          prev = src;
        }
        nrun[tap] = nr;
      }
    }
    // 1 × 1 tile over 48 consecutive pixels of one image: its patch rows are the input's channel
    // rows themselves (k = ci), read in place.
    const bool in_place = !direct && taps == 1 && c.stride == 1 && nrun[0] == 1 && runs[0].src >= 0 && runs[0].len == kNr;
    for (int k0 = 0; k0 < K; k0 += kKc) {
      const int kc = std::min(kKc, K - k0);
      const float* const* kr = win.data() + k0;
      std::ptrdiff_t off = direct ? static_cast<std::ptrdiff_t>(n0) : 0;
      if (in_place) {
        off = runs[0].src;
      } else if (!direct) {
        fill_patch(x.d.data(), plane, taps, k0, kc, runs.data(), nrun.data(), c.stride, P.data());
        for (int kk = 0; kk < kc; ++kk) rows[kk] = P.data() + static_cast<std::size_t>(kk) * kNr;
        kr = rows;
      }
      for (int ob = ob0; ob < ob1; ++ob)
        (ob == last_ob1 ? tile1 : tile)(kc, wp + (static_cast<std::size_t>(ob) * K + k0) * kMr, kr, off,
                                        C.data() + static_cast<std::size_t>(ob - ob0) * kMr * kNr, k0 > 0);
    }
    // epilogue: + bias (+ add[b, o]), NCHW stores of runs of kept columns that are consecutive
    // pixels of one image (the runs are found once per tile; one kernel call stores the tile)
    FStoreRun out_runs[kNr];
    int n_out = 0;
    for (int j = 0; j < nn;) {
      const int b = col_b[j];
      if (b < 0) {
        ++j;
        continue;
      }
      int e = j + 1;
      while (e < nn && col_b[e] == b && col_p[e] == col_p[e - 1] + 1) ++e;
      out_runs[n_out++] = FStoreRun{j, e - j, static_cast<std::size_t>(b) * c.O * N + col_p[j], static_cast<std::size_t>(b) * c.O};
      j = e;
    }
    const int o0 = ob0 * kMr, o_end = std::min(c.O, ob1 * kMr);
    store(C.data(), o_end - o0, c.b.data() + o0, add ? add + o0 : nullptr, out_runs, n_out,
          y.d.data() + static_cast<std::size_t>(o0) * N, static_cast<std::size_t>(N));
  });
  return y;
}

std::vector<uint8_t> quantize_nhwc(const Tensor& x, float delta, float zero) {
  std::vector<uint8_t> q(x.size());
  const std::size_t P = x.plane(), C = static_cast<std::size_t>(x.C);
  // pixels per task: kPix, a C × 64 code tile stays in L1/L2
  const std::size_t blocks = (P + kPix - 1) / kPix;
  // Per (image, pixel block): codes of every channel computed from contiguous NCHW spans into a
  // channel-major tile, then written out pixel-major, so NHWC rows are stored contiguously (the
  // strided byte scatter this replaces was 15 % of a W4A8 forward of the built-in model).
  parallel_for(static_cast<std::size_t>(x.B) * blocks, [&](std::size_t task) {
    const std::size_t b = task / blocks, p0 = (task % blocks) * kPix, np = std::min(kPix, P - p0);
    thread_local std::vector<uint8_t> tile_tls;
    std::vector<uint8_t>& tile = tile_tls;
    if (tile.size() < C * kPix) tile.resize(C * kPix);
    for (std::size_t ci = 0; ci < C; ++ci)
      quantize_span(x.d.data() + (b * C + ci) * P + p0, np, delta, zero, tile.data() + ci * kPix);
    tile_to_nhwc(tile.data(), C, np, q.data() + (b * P + p0) * C);
  });
  return q;
}

Tensor conv_int(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                const float* add) {
  const QWeights& q = c.q;
  require(q.bits == 4 || q.bits == 8, Code::Internal, c.name + ": layer has no integer weights");
  const Geo g = geometry(c, H, W);
  Tensor y = Tensor::uninit(B, c.O, g.Ho, g.Wo);  // the tasks' (b, pixel tile, channel tile) cover it
  const int N = g.Ho * g.Wo;
  const int Kp = q.Kp;
  const int ntiles = (N + kNc - 1) / kNc;
  const int otiles = (c.O + kOb - 1) / kOb;
  const std::size_t tasks = static_cast<std::size_t>(B) * ntiles * otiles;
  const QDotKernels& kern = qdot_kernels();
  const QDot4Fn dot = q.bits == 4 ? kern.w4 : kern.w8;
  const int row_bytes = q.bits == 4 ? Kp / 2 : Kp;
  const int gsize = q.group > 0 ? q.group : q.K;  // K codes per group (last group may be shorter: per-channel only)
  const int bpg = q.group > 0 ? q.group / 32 : Kp / 32;
  const int za = static_cast<int>(zero);
  const uint8_t zfill = static_cast<uint8_t>(za);
  // Per channel with a VNNI tile: weights repacked as s8 quads of 32 channels (qdot.h QTileFn).
  const bool tiled = q.ng == 1 && kern.tile != nullptr;
  std::shared_ptr<const std::vector<int8_t>> wq_held;
  if (tiled) {
    std::lock_guard<std::mutex> l(c.pack.mu);  // packed once per layer (PackCache), not per call
    if (!c.pack.s8) c.pack.s8 = std::make_shared<const std::vector<int8_t>>(qpack_s8(q.kern.data(), row_bytes, c.O, q.K, Kp, q.bits, q.zero.data()));
    wq_held = c.pack.s8;
  }
  const int8_t* wq = tiled ? wq_held->data() : nullptr;
  // Implicit GEMM (qdot.h): with the VNNI tile, stride 1 and I a multiple of 4, the tile reads each
  // tap's window of the NHWC codes in place, from a copy padded with z_a when the conv pads
  // (padding taps then read z_a, as the patch rows did), with no patch copy.
  const bool implicit = tiled && c.stride == 1 && c.I % 4 == 0;
  const bool padded = implicit && (g.pt > 0 || g.pb > 0);
  const int Hs = padded ? H + g.pt + g.pb : H, Ws = padded ? W + g.pt + g.pb : W;  // grid the tile and Σa read
  thread_local std::vector<uint8_t> xpad_tls;
  std::vector<uint8_t>& xpad = xpad_tls;
  if (padded) {
    const std::size_t row = static_cast<std::size_t>(Ws) * c.I;
    // grow only: resize() would zero-fill the tail on every layer that follows a smaller one
    // (400 KB per 16×16 layer of digits16, a third of its conv time); every byte used is written below
    if (xpad.size() < static_cast<std::size_t>(B) * Hs * row) xpad.resize(static_cast<std::size_t>(B) * Hs * row);
    parallel_for(static_cast<std::size_t>(B) * Hs, [&](std::size_t t) {
      const int bb = static_cast<int>(t / Hs), yy = static_cast<int>(t % Hs) - g.pt;
      uint8_t* d = xpad.data() + t * row;
      if (yy < 0 || yy >= H) {
        std::memset(d, zfill, row);
        return;
      }
      std::memset(d, zfill, static_cast<std::size_t>(g.pt) * c.I);
      std::memcpy(d + static_cast<std::size_t>(g.pt) * c.I, xq.data() + (static_cast<std::size_t>(bb) * H + yy) * W * c.I,
                  static_cast<std::size_t>(W) * c.I);
      std::memset(d + static_cast<std::size_t>(g.pt + W) * c.I, zfill, static_cast<std::size_t>(g.pb) * c.I);
    });
  }
  const uint8_t* src = padded ? xpad.data() : xq.data();
  // Σ codes of every pixel of the grid read (per-channel layers): a patch row's Σa is then the sum
  // over its taps (z_a·I for a padding tap) instead of a pass over its K codes. Exact integers:
  // the same Σa.
  const std::size_t npix = static_cast<std::size_t>(B) * Hs * Ws;
  thread_local std::vector<int32_t> pix_sum_tls;
  std::vector<int32_t>& pix_sum = pix_sum_tls;
  // Implicit: then Σa of every output pixel's window (window_sums), so a tile looks its pixels' Σa
  // up instead of adding KH·KW per-pixel sums each. The 4-bit VNNI tile needs no Σa at all (its
  // weights are packed as w − z_w, qdot.h).
  const bool need_sa = !(tiled && q.bits == 4);
  thread_local std::vector<int32_t> win_sum_tls;
  std::vector<int32_t>& win_sum = win_sum_tls;
  if (q.ng == 1 && need_sa) {
    if (pix_sum.size() < npix) pix_sum.resize(npix);  // grow only, as xpad; [0, npix) is written below
    if (implicit && win_sum.size() < static_cast<std::size_t>(B) * N) win_sum.resize(static_cast<std::size_t>(B) * N);  // grow only
    const std::size_t per = static_cast<std::size_t>(Hs) * Ws;
    parallel_for(static_cast<std::size_t>(B), [&](std::size_t bb) {
      pixel_sums(src + bb * per * c.I, per, c.I, pix_sum.data() + bb * per);
      if (implicit) window_sums(pix_sum.data() + bb * per, g.Ho, g.Wo, Ws, c.KH, c.KW, win_sum.data() + bb * N);
    });
  }
  const int ntaps = implicit ? c.KH * c.KW : 1;
  const int qpt = implicit ? c.I / 4 : Kp / 4;
  int tapoff[kMaxTaps] = {0};
  require(ntaps <= kMaxTaps, Code::Internal, c.name + ": kernel too large");
  if (implicit)
    for (int t = 0; t < ntaps; ++t) tapoff[t] = ((t / c.KW) * Ws + t % c.KW) * c.I;
  // Per-channel epilogue constants (qdot.h QEpi), padded to whole 32-channel blocks.
  const int Opad = (c.O + kQo - 1) / kQo * kQo;
  std::vector<int32_t> czw, kcst;
  std::vector<float> sov, biasv;
  if (tiled) {
    czw.assign(Opad, 0);
    kcst.assign(Opad, 0);
    sov.assign(Opad, 0.0f);
    biasv.assign(Opad, 0.0f);
    for (int o = 0; o < c.O; ++o) {
      const int32_t zw = static_cast<int32_t>(q.zero[o]);
      czw[o] = q.bits == 8 ? 128 - zw : 0;  // 8-bit codes were packed as w − 128, 4-bit ones as w − z_w
      kcst[o] = static_cast<int32_t>(static_cast<uint32_t>(q.K) * static_cast<uint32_t>(za) * static_cast<uint32_t>(zw) -
                                     static_cast<uint32_t>(za) * static_cast<uint32_t>(q.wsum[o]));
      sov[o] = qconv_scale(q.scale[o], delta);
      biasv[o] = c.b[o];
    }
  }
  parallel_for(tasks, [&](std::size_t task) {
    const int ot = static_cast<int>(task % otiles);
    const int nt = static_cast<int>((task / otiles) % ntiles);
    const int b = static_cast<int>(task / (static_cast<std::size_t>(otiles) * ntiles));
    const int n0 = nt * kNc, nn = std::min(kNc, N - n0);
    const int o0 = ot * kOb, no = std::min(kOb, c.O - o0);
    // Patch: one row of Kp codes per output pixel, OHWI order k = (ky·KW + kx)·I + ci.
    // Per-thread scratch, reused across tasks and layers (a fresh zeroed tile per task cost more
    // than the integer dots on small maps). Rows j >= nn are read by the 4-pixel kernels but their
    // results are discarded; the K..Kp tail of each gathered row is zeroed below.
    thread_local std::vector<uint8_t> P_tls;
    thread_local std::vector<int32_t> sa_tls;
    std::vector<uint8_t>& P = P_tls;  // one TLS lookup per task, not per use
    std::vector<int32_t>& sa = sa_tls;
    if (!implicit && P.size() < static_cast<std::size_t>(kNc) * Kp) P.resize(static_cast<std::size_t>(kNc) * Kp);
    if (sa.size() < static_cast<std::size_t>(kNc) * q.ng) sa.resize(static_cast<std::size_t>(kNc) * q.ng);
    const uint8_t* corner[kNc];  // implicit: each pixel's window corner in src
    // Σa of the tile's pixels: sa, or win_sum's in place (implicit), or zeros (4-bit tile: czw = 0)
    static const int32_t kNoSa[kNc] = {};
    const int32_t* tile_sa = sa.data();
    if (implicit) {  // the window's taps are read in place; Σa precomputed (window_sums)
      int oy = n0 / g.Wo, ox = n0 % g.Wo;  // tiles lie in one image: consecutive pixels, row by row
      for (int j = 0; j < nn; ++j) {
        corner[j] = src + ((static_cast<std::size_t>(b) * Hs + oy) * Ws + ox) * c.I;
        if (++ox == g.Wo) {
          ox = 0;
          ++oy;
        }
      }
      if (need_sa) tile_sa = win_sum.data() + static_cast<std::size_t>(b) * N + n0;
    }
    if (!need_sa) tile_sa = kNoSa;
    for (int j = 0; j < nn && !implicit; ++j) {
      const int n = n0 + j, oy = n / g.Wo, ox = n % g.Wo;
      uint8_t* prow = P.data() + static_cast<std::size_t>(j) * Kp;
      int32_t s_a = 0;  // Σ of the patch codes (per-channel layers): per-pixel sums of the taps
      for (int ky = 0; ky < c.KH; ++ky)
        for (int kx = 0; kx < c.KW; ++kx) {
          const int iy = oy * c.stride - g.pt + ky, ix = ox * c.stride - g.pt + kx;
          uint8_t* dst = prow + (ky * c.KW + kx) * c.I;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            const std::size_t pix = (static_cast<std::size_t>(b) * H + iy) * W + ix;
            std::memcpy(dst, xq.data() + pix * c.I, c.I);
            if (q.ng == 1 && need_sa) s_a += pix_sum[pix];
          } else {
            std::memset(dst, zfill, c.I);  // padding dequantizes to exactly 0 (docs/design/unet.md §9)
            s_a += za * c.I;
          }
        }
      std::memset(prow + q.K, 0, static_cast<std::size_t>(Kp - q.K));
      if (q.ng == 1) {
        sa[j] = s_a;
        continue;
      }
      for (int gi = 0; gi < q.ng; ++gi) {
        const int k0 = gi * gsize, k1 = std::min(q.K, k0 + gsize);
        sa[static_cast<std::size_t>(j) * q.ng + gi] = sum_u8(prow + k0, k1 - k0);
      }
    }
    float* yb = y.img(b);
    if (tiled) {
      // kOb is a multiple of kQo: o0 starts a packed block
      for (int oc = o0; oc < o0 + no; oc += kQo) {
        const int8_t* wblk = wq + static_cast<std::size_t>(oc / kQo) * Kp * kQo;
        const int ni = std::min(kQo, o0 + no - oc);
        const float* extra = add ? add + static_cast<std::size_t>(b) * c.O + oc : nullptr;
        for (int j = 0; j < nn; j += kQr) {
          const uint8_t* rows[kQr];
          for (int r = 0; r < kQr; ++r)
            rows[r] = implicit ? corner[std::min(j + r, nn - 1)] : P.data() + static_cast<std::size_t>(std::min(j + r, kNc - 1)) * Kp;
          const QEpi epi{czw.data() + oc, kcst.data() + oc, sov.data() + oc, biasv.data() + oc, extra, tile_sa + j,
                         std::min(kQr, nn - j), ni, yb + static_cast<std::size_t>(oc) * N + n0 + j, static_cast<std::size_t>(N)};
          kern.tile(wblk, ntaps, tapoff, qpt, rows, epi);
        }
      }
      return;
    }
    int o_first = o0;
    const QDot16Fn dot16 = q.bits == 4 ? kern.w4x4 : kern.w8x4;
    if (q.ng == 1 && dot16) {
      // four output channels × four pixels per call (register-blocked kernel)
      for (; o_first + 4 <= o0 + no; o_first += 4) {
        const uint8_t* w4rows = q.kern.data() + static_cast<std::size_t>(o_first) * row_bytes;
        for (int j = 0; j < nn; j += 4) {
          const uint8_t* a0 = P.data() + static_cast<std::size_t>(j) * Kp;
          const uint8_t* a1 = P.data() + static_cast<std::size_t>(std::min(j + 1, kNc - 1)) * Kp;
          const uint8_t* a2 = P.data() + static_cast<std::size_t>(std::min(j + 2, kNc - 1)) * Kp;
          const uint8_t* a3 = P.data() + static_cast<std::size_t>(std::min(j + 3, kNc - 1)) * Kp;
          int32_t saw[16];
          dot16(w4rows, row_bytes, a0, a1, a2, a3, bpg, saw);
          for (int i = 0; i < 4; ++i) {
            const int o = o_first + i;
            const float so = qconv_scale(q.scale[o], delta);
            const int32_t zw = static_cast<int32_t>(q.zero[o]), sw = q.wsum[o];
            const float bias = c.b[o];
            float* yo = yb + static_cast<std::size_t>(o) * N + n0;
            for (int r = 0; r < 4 && j + r < nn; ++r) {
              float v = qconv_output_pc(zero_corrected(saw[4 * i + r], sa[j + r], sw, za, zw, q.K), so, bias);
              if (add) v = fadd(v, add[static_cast<std::size_t>(b) * c.O + o]);
              yo[j + r] = v;
            }
          }
        }
      }
    }
    for (int o = o_first; o < o0 + no; ++o) {
      const uint8_t* wrow = q.kern.data() + static_cast<std::size_t>(o) * row_bytes;
      const float bias = c.b[o];
      const float extra = add ? add[static_cast<std::size_t>(b) * c.O + o] : 0.0f;
      float* yo = yb + static_cast<std::size_t>(o) * N + n0;
      if (q.ng == 1) {
        // per output channel: one dot over all of K, float epilogue
        const float so = qconv_scale(q.scale[o], delta);
        const int32_t zw = static_cast<int32_t>(q.zero[o]), sw = q.wsum[o];
        for (int j = 0; j < nn; j += 4) {
          const uint8_t* a0 = P.data() + static_cast<std::size_t>(j) * Kp;
          const uint8_t* a1 = P.data() + static_cast<std::size_t>(std::min(j + 1, kNc - 1)) * Kp;
          const uint8_t* a2 = P.data() + static_cast<std::size_t>(std::min(j + 2, kNc - 1)) * Kp;
          const uint8_t* a3 = P.data() + static_cast<std::size_t>(std::min(j + 3, kNc - 1)) * Kp;
          int32_t saw[4];
          dot(wrow, a0, a1, a2, a3, bpg, saw);
          for (int r = 0; r < 4 && j + r < nn; ++r) {
            float v = qconv_output_pc(zero_corrected(saw[r], sa[j + r], sw, za, zw, q.K), so, bias);
            if (add) v = fadd(v, extra);
            yo[j + r] = v;
          }
        }
        continue;
      }
      for (int j = 0; j < nn; j += 4) {
        double accd[4] = {0, 0, 0, 0};
        const uint8_t* a[4];
        for (int r = 0; r < 4; ++r) a[r] = P.data() + static_cast<std::size_t>(std::min(j + r, kNc - 1)) * Kp;
        for (int gi = 0; gi < q.ng; ++gi) {
          const int blk0 = gi * bpg;
          const int wb = q.bits == 4 ? 16 * blk0 : 32 * blk0;
          int32_t saw[4];
          dot(wrow + wb, a[0] + 32 * blk0, a[1] + 32 * blk0, a[2] + 32 * blk0, a[3] + 32 * blk0, bpg, saw);
          const std::size_t qi = static_cast<std::size_t>(o) * q.ng + gi;
          const int32_t zw = static_cast<int32_t>(q.zero[qi]);
          const int kg = std::min(q.K, (gi + 1) * gsize) - gi * gsize;
          for (int r = 0; r < 4; ++r) {
            const int32_t s_a = j + r < nn ? sa[static_cast<std::size_t>(j + r) * q.ng + gi] : 0;
            const int64_t accp = zero_corrected(saw[r], s_a, q.wsum[qi], za, zw, kg);
            accd[r] = qconv_accumulate(accd[r], q.scale[qi], accp);
          }
        }
        for (int r = 0; r < 4 && j + r < nn; ++r) {
          float v = qconv_output(accd[r], delta, bias);
          if (add) v = fadd(v, extra);
          yo[j + r] = v;
        }
      }
    }
  });
  return y;
}

namespace {

// GroupNorm statistics of one (image, group) span of n values: μ and 1/√(σ²+eps) rounded to
// float, from two passes (mean, then squared deviations) summed as gn_sums.h defines.
void gn_stats(const float* xs, std::size_t n, float eps, float* mf, float* inv) {
  *mf = gn_mean(lane_sum(xs, n), static_cast<double>(n));
  *inv = gn_inv_std(lane_sq_dev(xs, n, *mf), static_cast<double>(n), eps);
}

}  // namespace

std::vector<uint8_t> group_norm_quant_nhwc(const GroupNorm& gn, const Tensor& x, bool silu, float delta, float zero) {
  require(x.C == gn.C && gn.C % gn.G == 0, Code::Shape, gn.name + ": channel mismatch");
  const int cpg = gn.C / gn.G;
  const std::size_t P = x.plane(), C = static_cast<std::size_t>(x.C);
  thread_local std::vector<float> st_tls;  // [B][G] (μ, 1/σ) pairs, reused across layers
  std::vector<float>& st = st_tls;
  st.resize(static_cast<std::size_t>(x.B) * gn.G * 2);
  parallel_for(static_cast<std::size_t>(x.B) * gn.G, [&](std::size_t task) {
    const int b = static_cast<int>(task / gn.G), g = static_cast<int>(task % gn.G);
    gn_stats(x.img(b) + static_cast<std::size_t>(g) * cpg * P, static_cast<std::size_t>(cpg) * P, gn.eps, &st[2 * task], &st[2 * task + 1]);
  });
  std::vector<uint8_t> q(x.size());
  const std::size_t blocks = (P + kPix - 1) / kPix;
  // codes = quant_code(SiLU?(gn_affine(x))): GroupNorm(+SiLU) and the 8-bit activation quantizer
  // in one pass, the same expression tree as group_norm followed by quantize_nhwc (elem_span.h).
  const auto gn_quant_span = elem_span_kernels().gn_quant;
  parallel_for(static_cast<std::size_t>(x.B) * blocks, [&](std::size_t task) {
    const std::size_t b = task / blocks, p0 = (task % blocks) * kPix, np = std::min(kPix, P - p0);
    thread_local std::vector<uint8_t> tile_tls;
    std::vector<uint8_t>& tile = tile_tls;
    if (tile.size() < C * kPix) tile.resize(C * kPix);
    for (std::size_t ci = 0; ci < C; ++ci) {
      const float* s = st.data() + 2 * (b * gn.G + ci / cpg);
      gn_quant_span(x.d.data() + (b * C + ci) * P + p0, np, s[0], s[1], gn.gamma[ci], gn.beta[ci], silu, delta, zero, tile.data() + ci * kPix);
    }
    tile_to_nhwc(tile.data(), C, np, q.data() + (b * P + p0) * C);
  });
  return q;
}

Tensor group_norm(const GroupNorm& gn, const Tensor& x, bool silu) {
  require(x.C == gn.C && gn.C % gn.G == 0, Code::Shape, gn.name + ": channel mismatch");
  Tensor y = Tensor::uninit(x.B, x.C, x.H, x.W);  // G groups × cpg channels = every channel
  const int cpg = gn.C / gn.G;
  const std::size_t P = x.plane();
  const auto gn_span = elem_span_kernels().gn;  // y = SiLU?(gn_affine(x)) (elem_span.h)
  parallel_for(static_cast<std::size_t>(x.B) * gn.G, [&](std::size_t task) {
    const int b = static_cast<int>(task / gn.G), g = static_cast<int>(task % gn.G);
    const float* xs = x.img(b) + static_cast<std::size_t>(g) * cpg * P;
    float* ys = y.img(b) + static_cast<std::size_t>(g) * cpg * P;
    float mf, inv;
    gn_stats(xs, static_cast<std::size_t>(cpg) * P, gn.eps, &mf, &inv);
    for (int cc = 0; cc < cpg; ++cc) {
      const int ch = g * cpg + cc;
      const float ga = gn.gamma[ch], be = gn.beta[ch];
      gn_span(xs + cc * P, P, mf, inv, ga, be, silu, ys + cc * P);
    }
  });
  return y;
}

void silu_inplace(Tensor* x) { elem_span_kernels().silu(x->d.data(), x->size()); }

Tensor attention_core(const Tensor& q, const Tensor& k, const Tensor& v, int head_dim) {
  const int C = q.C, N = q.H * q.W;
  const int d = head_dim > 0 ? head_dim : C;
  require(C % d == 0, Code::Shape, "attention: head dim must divide the channels");
  const int nh = C / d;
  Tensor out = Tensor::uninit(q.B, C, q.H, q.W);  // every (image, head, query block) writes its d rows
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  constexpr int kQ = kAttnQ;
  const int qt = (N + kQ - 1) / kQ;
  const auto exp_row = elem_span_kernels().softmax_exp;
  parallel_for(static_cast<std::size_t>(q.B) * nh * qt, [&](std::size_t task) {
    const int t = static_cast<int>(task % qt);
    const int h = static_cast<int>((task / qt) % nh);
    const int b = static_cast<int>(task / (static_cast<std::size_t>(qt) * nh));
    const float* qb = q.img(b) + static_cast<std::size_t>(h) * d * N;
    const float* kb = k.img(b) + static_cast<std::size_t>(h) * d * N;
    const float* vb = v.img(b) + static_cast<std::size_t>(h) * d * N;
    float* ob = out.img(b) + static_cast<std::size_t>(h) * d * N;
    thread_local std::vector<float> S_tls;
    std::vector<float>& S = S_tls;
    if (S.size() < static_cast<std::size_t>(2 * kQ) * N) S.resize(static_cast<std::size_t>(2 * kQ) * N);
    attn_rows(qb, kb, vb, d, N, t * kQ, std::min(N, (t + 1) * kQ), scale, S.data(), ob, exp_row);
  });
  return out;
}

Tensor upsample2x(const Tensor& x) {
  Tensor y = Tensor::uninit(x.B, x.C, x.H * 2, x.W * 2);
  for (int bc = 0; bc < x.B * x.C; ++bc) {
    const float* s = x.d.data() + static_cast<std::size_t>(bc) * x.plane();
    float* dst = y.d.data() + static_cast<std::size_t>(bc) * y.plane();
    for (int yy = 0; yy < y.H; ++yy)
      for (int xx = 0; xx < y.W; ++xx) dst[yy * y.W + xx] = s[(yy / 2) * x.W + xx / 2];
  }
  return y;
}

std::vector<uint8_t> upsample2x_nhwc(const std::vector<uint8_t>& q, int B, int H, int W, int C) {
  std::vector<uint8_t> y(static_cast<std::size_t>(B) * 4 * H * W * C);
  const std::size_t row = static_cast<std::size_t>(C);
  for (int b = 0; b < B; ++b)
    for (int yy = 0; yy < 2 * H; ++yy)
      for (int xx = 0; xx < 2 * W; ++xx)
        std::memcpy(y.data() + ((static_cast<std::size_t>(b) * 2 * H + yy) * 2 * W + xx) * row,
                    q.data() + ((static_cast<std::size_t>(b) * H + yy / 2) * W + xx / 2) * row, row);
  return y;
}

Tensor concat(const Tensor& a, const Tensor& b) {
  require(a.B == b.B && a.H == b.H && a.W == b.W, Code::Shape, "concat: shape mismatch");
  Tensor y = Tensor::uninit(a.B, a.C + b.C, a.H, a.W);  // image by image: a's channels, then b's
  const std::size_t pa = static_cast<std::size_t>(a.C) * a.plane(), pb = static_cast<std::size_t>(b.C) * b.plane();
  for (int i = 0; i < a.B; ++i) {
    std::memcpy(y.img(i), a.img(i), pa * sizeof(float));
    std::memcpy(y.img(i) + pa, b.img(i), pb * sizeof(float));
  }
  return y;
}

void add_scale_inplace(Tensor* a, const Tensor& b, float s) {
  require(a->size() == b.size(), Code::Shape, "residual: shape mismatch");
  residual_span(a->d.data(), b.d.data(), a->size(), s);
}

}  // namespace unet
}  // namespace itk

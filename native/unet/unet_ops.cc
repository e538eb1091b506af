#include "unet_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/quant_ops.h"
#include "../kernels/unet_elem.h"
#include "qdot.h"

namespace itk {
namespace unet {
namespace {

constexpr int kNc = 64;  // output pixels per tile
constexpr int kOb = 64;  // output channels per tile

#if defined(__x86_64__) && defined(__GNUC__)
#define ITK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ITK_CLONES
#endif

// acc[o][n] = Σ_k W[o][k]·P[k][n] for `no` rows of W (row stride K) and a K×kNc patch, k in
// ascending order (no FMA contraction: the build uses -ffp-contract=off). Register block of
// 4 rows × 16 columns: one 16-wide load of P feeds 64 multiply-adds.
ITK_CLONES void gemm_tile(const float* W, int K, int no, const float* P, float* acc) {
  constexpr int kC = 16;
  int o = 0;
  for (; o + 4 <= no; o += 4) {
    const float* w0 = W + static_cast<std::size_t>(o) * K;
    const float* w1 = w0 + K;
    const float* w2 = w1 + K;
    const float* w3 = w2 + K;
    for (int n0 = 0; n0 < kNc; n0 += kC) {
      float a0[kC] = {}, a1[kC] = {}, a2[kC] = {}, a3[kC] = {};
      for (int k = 0; k < K; ++k) {
        const float* p = P + static_cast<std::size_t>(k) * kNc + n0;
        const float c0 = w0[k], c1 = w1[k], c2 = w2[k], c3 = w3[k];
        for (int n = 0; n < kC; ++n) {
          a0[n] += c0 * p[n];
          a1[n] += c1 * p[n];
          a2[n] += c2 * p[n];
          a3[n] += c3 * p[n];
        }
      }
      std::memcpy(acc + static_cast<std::size_t>(o) * kNc + n0, a0, sizeof a0);
      std::memcpy(acc + static_cast<std::size_t>(o + 1) * kNc + n0, a1, sizeof a1);
      std::memcpy(acc + static_cast<std::size_t>(o + 2) * kNc + n0, a2, sizeof a2);
      std::memcpy(acc + static_cast<std::size_t>(o + 3) * kNc + n0, a3, sizeof a3);
    }
  }
  for (; o < no; ++o) {
    float a0[kNc] = {};
    const float* w0 = W + static_cast<std::size_t>(o) * K;
    for (int k = 0; k < K; ++k) {
      const float* p = P + static_cast<std::size_t>(k) * kNc;
      const float c0 = w0[k];
      for (int n = 0; n < kNc; ++n) a0[n] += c0 * p[n];
    }
    std::memcpy(acc + static_cast<std::size_t>(o) * kNc, a0, sizeof a0);
  }
}

// codes[i] = quant_code(x[i], Δ, z, 255) for a contiguous span (cloned so that rintf becomes
// one vroundps instead of a libm call on baseline x86-64).
ITK_CLONES void quantize_span(const float* x, std::size_t n, float delta, float zero, uint8_t* codes) {
  for (std::size_t i = 0; i < n; ++i) codes[i] = static_cast<uint8_t>(quant_code(x[i], delta, zero, 255));
}

// Σ of n u8 codes (vectorised by the clones).
ITK_CLONES int32_t sum_u8(const uint8_t* a, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; ++i) s += a[i];
  return s;
}

// Σx and Σ(x − μ)² of a span with 16 independent float lanes (vectorised by the clones; lane
// order fixed, so the result does not depend on the ISA), combined in double.
ITK_CLONES double lane_sum(const float* x, std::size_t n) {
  float acc[16] = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += x[i + j];
  double s = 0;
  for (int j = 0; j < 16; ++j) s += acc[j];
  for (; i < n; ++i) s += x[i];
  return s;
}
ITK_CLONES double lane_sq_dev(const float* x, std::size_t n, float mean) {
  float acc[16] = {};
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) {
      const float d = x[i + j] - mean;
      acc[j] += d * d;
    }
  double s = 0;
  for (int j = 0; j < 16; ++j) s += acc[j];
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - mean;
    s += d * d;
  }
  return s;
}

// y[i] += a·x[i] (cloned for AVX2/AVX-512).
ITK_CLONES void axpy(float a, const float* x, float* y, int n) {
  for (int i = 0; i < n; ++i) y[i] += a * x[i];
}

// Σ a[i]·b[i] in 16 fixed float lanes, lanes summed in order.
ITK_CLONES float lane_dot(const float* a, const float* b, int n) {
  float acc[16] = {};
  int i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0;
  for (int j = 0; j < 16; ++j) s += acc[j];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
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

Tensor conv_fp(const Conv& c, const Tensor& x, const float* w, const float* add) {
  require(x.C == c.I, Code::Shape, c.name + ": channel mismatch");
  const Geo g = geometry(c, x.H, x.W);
  Tensor y(x.B, c.O, g.Ho, g.Wo);
  const int K = c.I * c.KH * c.KW;
  const int N = g.Ho * g.Wo;
  const int ntiles = (N + kNc - 1) / kNc;
  const int otiles = (c.O + kOb - 1) / kOb;
  const std::size_t tasks = static_cast<std::size_t>(x.B) * ntiles * otiles;
  parallel_for(tasks, [&](std::size_t task) {
    const int ot = static_cast<int>(task % otiles);
    const int nt = static_cast<int>((task / otiles) % ntiles);
    const int b = static_cast<int>(task / (static_cast<std::size_t>(otiles) * ntiles));
    const int n0 = nt * kNc, nn = std::min(kNc, N - n0);
    const int o0 = ot * kOb, no = std::min(kOb, c.O - o0);
    std::vector<float> P(static_cast<std::size_t>(K) * kNc, 0.0f);
    const float* xb = x.img(b);
    // Source offset of every (tap, pixel) of the tile, −1 for padding: the division-heavy index
    // math runs once per tap instead of once per patch element.
    const int taps = c.KH * c.KW;
    std::vector<int> off(static_cast<std::size_t>(taps) * kNc, -1);
    for (int tap = 0; tap < taps; ++tap) {
      const int ky = tap / c.KW, kx = tap % c.KW;
      for (int j = 0; j < nn; ++j) {
        const int n = n0 + j, oy = n / g.Wo, ox = n % g.Wo;
        const int iy = oy * c.stride - g.pt + ky, ix = ox * c.stride - g.pt + kx;
        if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W) off[tap * kNc + j] = iy * x.W + ix;
      }
    }
    const std::size_t plane = static_cast<std::size_t>(x.H) * x.W;
    for (int ci = 0; ci < c.I; ++ci) {
      const float* xc = xb + ci * plane;
      for (int tap = 0; tap < taps; ++tap) {
        float* prow = P.data() + static_cast<std::size_t>(ci * taps + tap) * kNc;
        const int* ot = off.data() + tap * kNc;
        for (int j = 0; j < nn; ++j) prow[j] = ot[j] >= 0 ? xc[ot[j]] : 0.0f;
      }
    }
    std::vector<float> acc(static_cast<std::size_t>(no) * kNc);
    gemm_tile(w + static_cast<std::size_t>(o0) * K, K, no, P.data(), acc.data());
    float* yb = y.img(b);
    for (int o = 0; o < no; ++o) {
      const float bias = c.b[o0 + o];
      const float extra = add ? add[static_cast<std::size_t>(b) * c.O + o0 + o] : 0.0f;
      float* yo = yb + static_cast<std::size_t>(o0 + o) * N + n0;
      const float* ao = acc.data() + static_cast<std::size_t>(o) * kNc;
      for (int j = 0; j < nn; ++j) {
        float v = ao[j] + bias;
        if (add) v += extra;
        yo[j] = v;
      }
    }
  });
  return y;
}

std::vector<uint8_t> quantize_nhwc(const Tensor& x, float delta, float zero) {
  std::vector<uint8_t> q(x.size());
  const std::size_t P = x.plane(), C = static_cast<std::size_t>(x.C);
  constexpr std::size_t kPix = 64;  // pixels per task: a C × 64 code tile stays in L1/L2
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
    uint8_t* dst = q.data() + (b * P + p0) * C;
    for (std::size_t p = 0; p < np; ++p)
      for (std::size_t ci = 0; ci < C; ++ci) dst[p * C + ci] = tile[ci * kPix + p];
  });
  return q;
}

Tensor conv_int(const Conv& c, const std::vector<uint8_t>& xq, int B, int H, int W, float delta, float zero,
                const float* add) {
  const QWeights& q = c.q;
  require(q.bits == 4 || q.bits == 8, Code::Internal, c.name + ": layer has no integer weights");
  const Geo g = geometry(c, H, W);
  Tensor y(B, c.O, g.Ho, g.Wo);
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
    if (P.size() < static_cast<std::size_t>(kNc) * Kp) P.resize(static_cast<std::size_t>(kNc) * Kp);
    if (sa.size() < static_cast<std::size_t>(kNc) * q.ng) sa.resize(static_cast<std::size_t>(kNc) * q.ng);
    for (int j = 0; j < nn; ++j) {
      const int n = n0 + j, oy = n / g.Wo, ox = n % g.Wo;
      uint8_t* prow = P.data() + static_cast<std::size_t>(j) * Kp;
      for (int ky = 0; ky < c.KH; ++ky)
        for (int kx = 0; kx < c.KW; ++kx) {
          const int iy = oy * c.stride - g.pt + ky, ix = ox * c.stride - g.pt + kx;
          uint8_t* dst = prow + (ky * c.KW + kx) * c.I;
          if (iy >= 0 && iy < H && ix >= 0 && ix < W)
            std::memcpy(dst, xq.data() + ((static_cast<std::size_t>(b) * H + iy) * W + ix) * c.I, c.I);
          else
            std::memset(dst, zfill, c.I);  // padding dequantizes to exactly 0 (§9)
        }
      std::memset(prow + q.K, 0, static_cast<std::size_t>(Kp - q.K));
      for (int gi = 0; gi < q.ng; ++gi) {
        const int k0 = gi * gsize, k1 = std::min(q.K, k0 + gsize);
        sa[static_cast<std::size_t>(j) * q.ng + gi] = sum_u8(prow + k0, k1 - k0);
      }
    }
    float* yb = y.img(b);
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

Tensor group_norm(const GroupNorm& gn, const Tensor& x, bool silu) {
  require(x.C == gn.C && gn.C % gn.G == 0, Code::Shape, gn.name + ": channel mismatch");
  Tensor y(x.B, x.C, x.H, x.W);
  const int cpg = gn.C / gn.G;
  const std::size_t P = x.plane();
  parallel_for(static_cast<std::size_t>(x.B) * gn.G, [&](std::size_t task) {
    const int b = static_cast<int>(task / gn.G), g = static_cast<int>(task % gn.G);
    const float* xs = x.img(b) + static_cast<std::size_t>(g) * cpg * P;
    float* ys = y.img(b) + static_cast<std::size_t>(g) * cpg * P;
    const std::size_t n = static_cast<std::size_t>(cpg) * P;
    // two passes (mean, then squared deviations), float lanes combined in double
    const double mean = lane_sum(xs, n) / static_cast<double>(n);
    const float mf = static_cast<float>(mean);
    const double v = lane_sq_dev(xs, n, mf);
    const float inv = static_cast<float>(1.0 / std::sqrt(v / static_cast<double>(n) + gn.eps));
    for (int cc = 0; cc < cpg; ++cc) {
      const int ch = g * cpg + cc;
      const float ga = gn.gamma[ch], be = gn.beta[ch];
      for (std::size_t p = 0; p < P; ++p) {
        const float t = gn_affine(xs[cc * P + p], mf, inv, ga, be);
        ys[cc * P + p] = silu ? itk::silu(t) : t;
      }
    }
  });
  return y;
}

void silu_inplace(Tensor* x) {
  for (float& v : x->d) v = silu(v);
}

Tensor attention_core(const Tensor& q, const Tensor& k, const Tensor& v, int head_dim) {
  const int C = q.C, N = q.H * q.W;
  const int d = head_dim > 0 ? head_dim : C;
  require(C % d == 0, Code::Shape, "attention: head dim must divide the channels");
  const int nh = C / d;
  Tensor out(q.B, C, q.H, q.W);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  constexpr int kQ = 16;
  const int qt = (N + kQ - 1) / kQ;
  parallel_for(static_cast<std::size_t>(q.B) * nh * qt, [&](std::size_t task) {
    const int t = static_cast<int>(task % qt);
    const int h = static_cast<int>((task / qt) % nh);
    const int b = static_cast<int>(task / (static_cast<std::size_t>(qt) * nh));
    const float* qb = q.img(b) + static_cast<std::size_t>(h) * d * N;
    const float* kb = k.img(b) + static_cast<std::size_t>(h) * d * N;
    const float* vb = v.img(b) + static_cast<std::size_t>(h) * d * N;
    float* ob = out.img(b) + static_cast<std::size_t>(h) * d * N;
    std::vector<float> s(N);
    for (int n = t * kQ; n < std::min(N, (t + 1) * kQ); ++n) {
      std::fill(s.begin(), s.end(), 0.0f);
      for (int c = 0; c < d; ++c) axpy(qb[static_cast<std::size_t>(c) * N + n], kb + static_cast<std::size_t>(c) * N, s.data(), N);
      float mx = -INFINITY;
      for (int m = 0; m < N; ++m) {
        s[m] *= scale;
        mx = std::max(mx, s[m]);
      }
      double sum = 0;
      for (int m = 0; m < N; ++m) {
        s[m] = std::exp(s[m] - mx);
        sum += s[m];
      }
      const float inv = static_cast<float>(1.0 / sum);
      for (int m = 0; m < N; ++m) s[m] *= inv;
      for (int c = 0; c < d; ++c) ob[static_cast<std::size_t>(c) * N + n] = lane_dot(s.data(), vb + static_cast<std::size_t>(c) * N, N);
    }
  });
  return out;
}

Tensor upsample2x(const Tensor& x) {
  Tensor y(x.B, x.C, x.H * 2, x.W * 2);
  for (int bc = 0; bc < x.B * x.C; ++bc) {
    const float* s = x.d.data() + static_cast<std::size_t>(bc) * x.plane();
    float* dst = y.d.data() + static_cast<std::size_t>(bc) * y.plane();
    for (int yy = 0; yy < y.H; ++yy)
      for (int xx = 0; xx < y.W; ++xx) dst[yy * y.W + xx] = s[(yy / 2) * x.W + xx / 2];
  }
  return y;
}

Tensor concat(const Tensor& a, const Tensor& b) {
  require(a.B == b.B && a.H == b.H && a.W == b.W, Code::Shape, "concat: shape mismatch");
  Tensor y(a.B, a.C + b.C, a.H, a.W);
  const std::size_t pa = static_cast<std::size_t>(a.C) * a.plane(), pb = static_cast<std::size_t>(b.C) * b.plane();
  for (int i = 0; i < a.B; ++i) {
    std::memcpy(y.img(i), a.img(i), pa * sizeof(float));
    std::memcpy(y.img(i) + pa, b.img(i), pb * sizeof(float));
  }
  return y;
}

void add_scale_inplace(Tensor* a, const Tensor& b, float s) {
  require(a->size() == b.size(), Code::Shape, "residual: shape mismatch");
  for (std::size_t i = 0; i < a->size(); ++i) a->d[i] = residual(a->d[i], b.d[i], s);
}

}  // namespace unet
}  // namespace itk

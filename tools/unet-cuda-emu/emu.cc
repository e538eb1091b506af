// CPU emulation of the kernel bodies of native/unet/cuda/unet_conv.cu, unet_qconv.cu (dp4a),
// unet_qmma.cu (tensor cores, warp MMA emulated in shim.h from the PTX tables), unet_conv_mma.cu and
// unet_norm.cu (GroupNorm, and GroupNorm writing quantizer codes) — their *_kernels.cuh headers, compiled here as C++ over shim.h, the very lines the
// GPU build compiles (test/unet-device.test.ts builds and runs this) — against naive references: the convs
// must match bit for bit (tiling, gather, padding, K tails, group flushes, fragment layouts),
// GroupNorm the CPU's statistics (gn_sums.h) bit for bit.
#include <cstdio>
#include <cmath>
#include <cstring>
#include "shim.h"
#include "native/unet/cuda/unet_conv_kernels.cuh"
#include "native/unet/cuda/unet_qconv_kernels.cuh"
#include "native/unet/cuda/unet_qmma_kernels.cuh"
#include "native/unet/cuda/unet_conv_mma_kernels.cuh"
#include "native/unet/cuda/unet_norm_kernels.cuh"
#include "native/unet/gn_sums.h"
using namespace itk;
using namespace itk::unet::dev;
static uint32_t rs = 12345;
static uint32_t rnd() { return rs = rs * 1664525u + 1013904223u; }
static float frand() { return (rnd() >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f; }
static int fails = 0;

static ConvGeo geo(int B, int I, int H, int W, int O, int k, int stride, int pad, bool br) {
  const int pb = pad + (br ? 1 : 0);
  return ConvGeo{B, I, H, W, O, k, k, stride, pad, (H + pad + pb - k) / stride + 1, (W + pad + pb - k) / stride + 1};
}

static void test_fp(int B, int I, int H, int W, int O, int k, int stride, int pad, bool br, bool add) {
  const ConvGeo g = geo(B, I, H, W, O, k, stride, pad, br);
  const int K = I * k * k, P = g.Ho * g.Wo;
  std::vector<float> x(B * I * H * W), w(O * K), bias(O), ad(B * O), y(B * O * P, NAN);
  for (auto& v : x) v = frand();
  for (auto& v : w) v = frand();
  for (auto& v : bias) v = frand();
  for (auto& v : ad) v = frand();
  const long long N = (long long)B * P;
  launch(dim3{unsigned((N + 63) / 64), unsigned((O + 63) / 64), 1}, 256, fpk::conv_fp_kernel, g, (const float*)x.data(),
         (const float*)w.data(), (const float*)bias.data(), add ? (const float*)ad.data() : (const float*)nullptr, O, y.data());
  int bad = 0;
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < O; ++o)
      for (int oy = 0; oy < g.Ho; ++oy)
        for (int ox = 0; ox < g.Wo; ++ox) {
          float acc = 0.0f;
          for (int ci = 0; ci < I; ++ci)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                const float v = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[((b * I + ci) * H + iy) * W + ix] : 0.0f;
                acc = std::fma(w[o * K + (ci * k + ky) * k + kx], v, acc);  // one rounding per k, k ascending
              }
          float v = acc + bias[o];
          if (add) v = v + ad[b * O + o];
          const float got = y[(b * O + o) * P + oy * g.Wo + ox];
          if (std::memcmp(&got, &v, 4) != 0 && bad++ < 3) printf("  fp mismatch b%d o%d (%d,%d): %g vs %g\n", b, o, oy, ox, got, v);
        }
  printf("fp  B%d I%d %dx%d O%d k%d s%d p%d br%d add%d: %s\n", B, I, H, W, O, k, stride, pad, br, add, bad ? "FAIL" : "ok");
  fails += bad != 0;
}

static void test_int(int B, int I, int H, int W, int O, int k, int stride, int pad, bool br, int bits, int group, bool add) {
  const ConvGeo g = geo(B, I, H, W, O, k, stride, pad, br);
  const int K = I * k * k, P = g.Ho * g.Wo, Kp = (K + 31) / 32 * 32;
  const int qmax = (1 << bits) - 1;
  const int gsize = group > 0 ? group : K, ng = group > 0 ? K / group : 1;
  const int row_bytes = bits == 4 ? Kp / 2 : Kp;
  std::vector<uint8_t> xq(B * H * W * I), codes(O * K), kern(O * row_bytes, 0);
  std::vector<int32_t> wsum(O * ng, 0);
  std::vector<float> scale(O * ng), zero(O * ng), bias(O), ad(B * O), y(B * O * P, NAN);
  for (auto& v : xq) v = rnd() >> 24;
  for (auto& v : codes) v = (rnd() >> 16) % (qmax + 1);
  for (auto& v : scale) v = 0.001f + 0.01f * (frand() + 1);
  for (auto& v : zero) v = float(int((rnd() >> 16) % (qmax + 11)) - 5);
  for (auto& v : bias) v = frand();
  for (auto& v : ad) v = frand();
  for (int o = 0; o < O; ++o)
    for (int kk = 0; kk < K; ++kk) {
      const uint8_t c = codes[o * K + kk];
      wsum[o * ng + kk / gsize] += c;
      if (bits == 8) kern[o * row_bytes + kk] = c;
      else {
        const int blk = kk / 32, j = kk % 32;
        kern[o * row_bytes + blk * 16 + (j & 15)] |= j < 16 ? c : c << 4;
      }
    }
  const float delta = 0.0173f;
  const int za = int(rnd() >> 24);
  const float aq[2] = {delta, float(za)};  // the quantizer {Δ, z} the kernels read from device memory
  QW q{kern.data(), wsum.data(), scale.data(), zero.data(), bits, K, row_bytes, gsize, ng, Kp / 32};
  const long long N = (long long)B * P;
  for (int mma = 0; mma < 2; ++mma) {
  std::fill(y.begin(), y.end(), NAN);
  const int calls0 = g_mma_calls;
  if (mma)
    launch(dim3{unsigned((N + 63) / 64), unsigned((O + 63) / 64), 1}, 128, qmk::qmma_kernel, g, (const uint8_t*)xq.data(), q,
           (const float*)bias.data(), (const float*)aq, add ? (const float*)ad.data() : (const float*)nullptr, O, y.data());
  else
    launch(dim3{unsigned((N + 63) / 64), unsigned((O + 63) / 64), 1}, 256, qk::qconv_kernel, g, (const uint8_t*)xq.data(), q,
           (const float*)bias.data(), (const float*)aq, add ? (const float*)ad.data() : (const float*)nullptr, O, y.data());
  // the MMA kernel must really have gone through the emulated tensor core: 4 warps × 8 MMAs per K block and tile
  const long long want = mma ? 32LL * ((N + 63) / 64) * ((O + 63) / 64) * (Kp / 32) : 0;
  if (g_mma_calls - calls0 != want) {
    printf("  %s: %d warp MMAs, expected %lld\n", mma ? "mma" : "dp4a", g_mma_calls - calls0, want);
    ++fails;
  }
  int bad = 0;
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < O; ++o)
      for (int oy = 0; oy < g.Ho; ++oy)
        for (int ox = 0; ox < g.Wo; ++ox) {
          double accd = 0;
          int64_t accp = 0;
          for (int gi = 0; gi < ng; ++gi) {
            int32_t saw = 0, sa = 0;
            for (int kk = gi * gsize; kk < std::min(K, (gi + 1) * gsize); ++kk) {  // OHWI: k = (ky·KW + kx)·I + ci
              const int tap = kk / I, ci = kk % I, ky = tap / k, kx = tap % k;
              const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
              const int a = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? xq[((b * H + iy) * W + ix) * I + ci] : za;
              saw += a * codes[o * K + kk];
              sa += a;
            }
            const int kg = std::min(K, (gi + 1) * gsize) - gi * gsize;
            const int64_t c = zero_corrected(saw, sa, wsum[o * ng + gi], za, int32_t(zero[o * ng + gi]), kg);
            if (ng == 1) accp = c;
            else accd = qconv_accumulate(accd, scale[o * ng + gi], c);
          }
          float v = ng == 1 ? qconv_output_pc(accp, qconv_scale(scale[o], delta), bias[o]) : qconv_output(accd, delta, bias[o]);
          if (add) v = fadd(v, ad[b * O + o]);
          const float got = y[(b * O + o) * P + oy * g.Wo + ox];
          if (std::memcmp(&got, &v, 4) != 0 && bad++ < 3) printf("  int mismatch b%d o%d (%d,%d): %.9g vs %.9g\n", b, o, oy, ox, got, v);
        }
  printf("int%d %s g%d B%d I%d %dx%d O%d k%d s%d p%d br%d add%d: %s\n", bits, mma ? "mma " : "dp4a", group, B, I, H, W, O, k, stride, pad, br,
         add, bad ? "FAIL" : "ok");
  fails += bad != 0;
  }
}

// The kernel's fragment index functions (qmma_frag.h) against the PTX tables of shim.h: every
// (lane, register, byte) names the element the table does, and the elements of A, B and C are
// each held by exactly one lane.
static void test_fragments() {
  int bad = 0, seenA[16][32] = {}, seenB[32][8] = {}, seenC[16][8] = {};
  for (int lane = 0; lane < 32; ++lane) {
    for (int i = 0; i < 16; ++i) {
      int row, col;
      ptx_a_elem(lane, i, row, col);
      ++seenA[row][col];
      bad += qmma_a_row(lane, i / 4) != row || 4 * qmma_a_word(lane, i / 4) + i % 4 != col;
    }
    for (int i = 0; i < 8; ++i) {
      int row, col;
      ptx_b_elem(lane, i, row, col);
      ++seenB[row][col];
      bad += qmma_b_col(lane) != col || 4 * qmma_b_word(lane, i / 4) + i % 4 != row;
    }
    for (int i = 0; i < 4; ++i) {
      int row, col;
      ptx_c_elem(lane, i, row, col);
      ++seenC[row][col];
      bad += qmma_c_row(lane, i) != row || qmma_c_col(lane, i) != col;
    }
  }
  for (auto& r : seenA) for (int v : r) bad += v != 1;
  for (auto& r : seenB) for (int v : r) bad += v != 1;
  for (auto& r : seenC) for (int v : r) bad += v != 1;
  // shared-memory rows: the words one A or B fragment load touches (8 rows × 4 words) hit 32 distinct banks
  for (int r = 0; r < 4; ++r) {
    int banks[32] = {};
    for (int lane = 0; lane < 32; ++lane) ++banks[qmma_smem(qmma_a_row(lane, r) % 8, qmma_a_word(lane, r)) % 32];
    for (int v : banks) bad += v != 1;
  }
  printf("mma fragment maps vs PTX tables: %s\n", bad ? "FAIL" : "ok");
  fails += bad != 0;
}

// The tensor-core FP conv (unet_conv_mma.cu) for fpPrecision tf32 (P = 1) and bf16 (P = 2): against a
// double reference over the rounded operands; the emulated MMA rounds once per MMA, so the bound is
// a few FP32 ulps of Σ|w·x| (a wrong fragment map or rounding is off by O(1)).
static void test_fp_mma(int P, int B, int I, int H, int W, int O, int k, int stride, int pad, bool br, bool add) {
  const ConvGeo g = geo(B, I, H, W, O, k, stride, pad, br);
  const int K = I * k * k, P_ = g.Ho * g.Wo;
  std::vector<float> x(B * I * H * W), w(O * K), bias(O), ad(B * O), y(B * O * P_, NAN);
  for (auto& v : x) v = frand();
  for (auto& v : w) v = frand();
  for (auto& v : bias) v = frand();
  for (auto& v : ad) v = frand();
  const long long N = (long long)B * P_;
  auto kern = P == 1 ? fmk::conv_mma_kernel<1> : fmk::conv_mma_kernel<2>;
  launch(dim3{unsigned((N + 63) / 64), unsigned((O + 63) / 64), 1}, 128, kern, g, (const float*)x.data(), (const float*)w.data(),
         (const float*)bias.data(), add ? (const float*)ad.data() : (const float*)nullptr, O, y.data());
  // operand rounding, independent of the shim's: TF32 keeps 10 fraction bits (ties away), bf16 7 (ties even)
  auto rnd = [P](float v) -> double {
    if (v == 0.0f) return 0.0;
    int e;
    const double m = std::frexp((double)v, &e);
    return P == 1 ? std::ldexp(std::round(std::ldexp(m, 11)), e - 11) : std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8);
  };
  int bad = 0;
  double worst = 0;
  for (int b = 0; b < B; ++b)
    for (int o = 0; o < O; ++o)
      for (int oy = 0; oy < g.Ho; ++oy)
        for (int ox = 0; ox < g.Wo; ++ox) {
          double acc = 0, mag = 0;
          for (int ci = 0; ci < I; ++ci)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                const float v = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? x[((b * I + ci) * H + iy) * W + ix] : 0.0f;
                const double p = rnd(w[o * K + (ci * k + ky) * k + kx]) * rnd(v);
                acc += p;
                mag += std::fabs(p);
              }
          double want = acc + bias[o];
          if (add) want += ad[b * O + o];
          const double got = y[(b * O + o) * P_ + oy * g.Wo + ox];
          const double err = std::fabs(got - want) / (mag + std::fabs(bias[o]) + 1e-30);
          worst = std::max(worst, err);
          if (!(err <= 4e-7 * (K / 8 + 2)) && bad++ < 3) printf("  fp-mma mismatch b%d o%d (%d,%d): %.9g vs %.9g\n", b, o, oy, ox, got, want);
        }
  printf("fp %s B%d I%d %dx%d O%d k%d s%d p%d br%d add%d: worst rel %.2g %s\n", P == 1 ? "tf32" : "bf16", B, I, H, W, O, k, stride, pad, br, add, worst,
         bad ? "FAIL" : "ok");
  fails += bad != 0;
}

static void test_gn(int B, int C, int HW, int G, bool act) {
  std::vector<float> x(B * C * HW), ga(C), be(C), y(B * C * HW, NAN);
  for (auto& v : x) v = 3 * frand() + 0.5f;
  for (auto& v : ga) v = 1 + 0.1f * frand();
  for (auto& v : be) v = 0.1f * frand();
  launch(dim3{unsigned(B * G), 1, 1}, 256, gnk::gn_kernel, (const float*)x.data(), C, HW, G, 1e-5f, (const float*)ga.data(), (const float*)be.data(), act,
         gnk::GnOut{y.data(), nullptr, nullptr});
  // The fused GroupNorm + quantizer must give the codes of quantizing that y, in NHWC, exactly.
  const float delta = 0.013f, zero = 97.f, aq[2] = {delta, zero};
  std::vector<uint8_t> codes(B * C * HW, 0xAB), want(B * C * HW);
  launch(dim3{unsigned(B * G), 1, 1}, 256, gnk::gn_kernel, (const float*)x.data(), C, HW, G, 1e-5f, (const float*)ga.data(), (const float*)be.data(), act,
         gnk::GnOut{nullptr, codes.data(), aq});
  for (int b = 0; b < B; ++b)
    for (int c = 0; c < C; ++c)
      for (int p = 0; p < HW; ++p) want[(b * HW + p) * C + c] = (uint8_t)quant_code(y[(b * C + c) * HW + p], delta, zero, 255);
  const bool codes_ok = codes == want;
  printf("gn→codes B%d C%d HW%d G%d silu%d: %s\n", B, C, HW, G, act, codes_ok ? "ok" : "FAIL");
  fails += !codes_ok;
  // The CPU's statistics (gn_sums.h, the lines unet_ops.cc runs) and the shared affine/SiLU: bit for bit.
  const int cpg = C / G;
  int bad = 0;
  for (int b = 0; b < B; ++b)
    for (int g = 0; g < G; ++g) {
      const float* xs = &x[(b * C + g * cpg) * HW];
      const std::size_t n = (std::size_t)cpg * HW;
      const float mf = gn_mean(unet::gn_sum(xs, n), (double)n);
      const float inv = gn_inv_std(unet::gn_sq_dev(xs, n, mf), (double)n, 1e-5f);
      for (std::size_t i = 0; i < n; ++i) {
        const int ch = g * cpg + (int)(i / HW);
        const float t = gn_affine(xs[i], mf, inv, ga[ch], be[ch]);
        const float want = act ? itk::silu(t) : t;
        const float got = y[(b * C + g * cpg) * HW + i];
        if (std::memcmp(&got, &want, 4) != 0 && bad++ < 3) printf("  gn mismatch b%d g%d i%zu: %.9g vs %.9g\n", b, g, i, got, want);
      }
    }
  printf("gn  B%d C%d HW%d G%d silu%d: %s\n", B, C, HW, G, act, bad ? "FAIL" : "ok (the CPU's bits)");
  fails += bad != 0;
}

int main() {
  test_fragments();
  test_fp(2, 3, 9, 7, 70, 3, 1, 1, false, true);    // partial tiles in M and N, K = 27 (< one tile)
  test_fp(1, 20, 8, 8, 16, 3, 2, 0, true, false);   // stride 2, diffusers pad (0,1,0,1)
  test_fp(3, 17, 6, 6, 5, 3, 2, 1, false, false);   // stride 2, symmetric pad
  test_fp(5, 40, 1, 1, 33, 1, 1, 0, false, true);   // linear layer (1x1 on [B, C, 1, 1])
  test_fp(2, 8, 5, 5, 130, 1, 1, 0, false, false);  // 1x1 shortcut, O > 2 tiles
  for (int bits : {4, 8}) {
    test_int(2, 32, 9, 7, 70, 3, 1, 1, false, bits, 0, true);   // vec gather, K = 288
    test_int(3, 6, 5, 6, 10, 3, 1, 1, false, bits, 0, false);   // I % 4 != 0: byte gather, K = 54
    test_int(2, 24, 8, 8, 16, 3, 1, 1, false, bits, 0, true);   // K = 216: partial last block
    test_int(1, 64, 8, 8, 20, 3, 2, 0, true, bits, 0, false);   // stride 2 + bottom/right pad
    test_int(2, 64, 6, 6, 67, 3, 1, 1, false, bits, 32, true);  // group-wise, 18 groups
    test_int(2, 128, 4, 4, 9, 3, 1, 1, false, bits, 64, false); // group 64
    test_int(5, 96, 1, 1, 40, 1, 1, 0, false, bits, 32, true);  // linear, group 32
    test_int(4, 20, 3, 3, 12, 1, 1, 0, false, bits, 0, false);  // 1x1, K = 20 < 32
    test_int(3, 10, 7, 5, 30, 3, 1, 1, false, bits, 0, true);   // odd model: C_in 10, odd H and W, O = 30 (partial m16 tile)
    test_int(2, 30, 3, 3, 10, 3, 1, 1, false, bits, 0, false);  // C_in 30 (K = 270, partial block), O = 10
    test_int(1, 60, 5, 7, 33, 3, 1, 1, false, bits, 0, true);   // C_in 60 (vec gather, K = 540), N = 35 (partial n8 tiles)
    test_int(2, 96, 5, 3, 65, 3, 1, 1, false, bits, 96, true);  // group 96, O = 65 (a second M tile of one row)
  }
  for (int P = 1; P <= 2; ++P) {
    test_fp_mma(P, 2, 3, 9, 7, 70, 3, 1, 1, false, true);   // K = 27: partial K tile, partial M and N tiles
    test_fp_mma(P, 1, 20, 8, 8, 16, 3, 2, 0, true, false);  // stride 2, diffusers pad
    test_fp_mma(P, 3, 10, 5, 7, 30, 3, 1, 1, false, true);  // odd model channels, odd H/W
    test_fp_mma(P, 5, 40, 1, 1, 33, 1, 1, 0, false, false); // linear layer
  }
  test_gn(2, 64, 64, 8, true);
  test_gn(3, 12, 5, 2, false);
  test_gn(2, 24, 100, 4, true);      // 600-value groups: two whole chunks and a partial one with a tail
  test_gn(1, 16, 17, 16, false);     // 17-value groups: one 16-group and a 1-value tail
  test_gn(1, 128, 1024, 32, true);
  // CIFAR-sized layers (ddpm-cifar10-32): K = 4608 and 6912, 32 groups over 8192-element groups
  test_fp(2, 512, 8, 8, 256, 3, 1, 1, false, true);
  test_fp(1, 768, 4, 4, 256, 3, 1, 1, false, false);
  test_fp(2, 128, 32, 32, 128, 3, 1, 1, false, true);
  test_fp(1, 256, 16, 16, 256, 3, 2, 0, true, false);
  test_gn(2, 256, 1024, 32, true);
  test_gn(2, 512, 64, 32, false);
  printf(fails ? "%d FAILED\n" : "all ok\n", fails);
  return fails != 0;
}

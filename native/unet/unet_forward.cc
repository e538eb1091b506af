// The forward pass on the CPU (docs/design/unet.md §4, §4.1): the CPU backend of the model's op
// graph (unet_graph.h), with the quantized modes of §7 (exact temporal-feature cache, per-step
// activation parameters, calibration hooks, debug taps).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "../core/error.h"
#include "../kernels/quant_ops.h"
#include "unet_calib.h"
#include "unet_cuda.h"
#include "unet_graph.h"
#include "unet_model.h"
#include "unet_ops.h"
#include "unet_profile.h"
#include "unet_quant.h"

namespace itk {
namespace unet {

Tensor time_proj(const Config& cfg, const std::vector<int64_t>& t) {
  const int c0 = cfg.boc[0];
  const int half = c0 / 2;
  Tensor e(static_cast<int>(t.size()), c0, 1, 1);
  // diffusers get_timestep_embedding: exponent = −ln(10000)·k in float32, divided by
  // (half − shift) in float32, f = exp(exponent), a = float32(t)·f.
  const float lnp = static_cast<float>(std::log(10000.0));
  std::vector<float> f(half);
  for (int k = 0; k < half; ++k) {
    const float ex = (-lnp * static_cast<float>(k)) / (static_cast<float>(half) - cfg.freq_shift);
    f[k] = std::exp(ex);
  }
  for (std::size_t b = 0; b < t.size(); ++b) {
    float* row = e.img(static_cast<int>(b));
    for (int k = 0; k < half; ++k) {
      const float a = static_cast<float>(t[b]) * f[k];
      const float s = std::sin(a), c = std::cos(a);
      row[cfg.flip ? half + k : k] = s;
      row[cfg.flip ? k : half + k] = c;
    }
  }
  return e;
}

namespace {


// The packed FP32 weights of c's FP math (PackCache), built on first use: an FP layer's w (or w16
// widened exactly, fp_weights 'f16'), an integer layer's dequantized codes.
std::shared_ptr<const std::vector<float>> packed_fp(const Conv& c) {
  std::lock_guard<std::mutex> l(c.pack.mu);
  if (!c.pack.fp) {
    const int K = c.I * c.KH * c.KW;
    if (!qint(c)) {
      c.pack.fp = std::make_shared<const std::vector<float>>(
          c.w16.empty() ? pack_weights(c.w.data(), c.O, K) : pack_weights(fp_weights_f32(c).data(), c.O, K));
    } else {
      c.pack.fp = std::make_shared<const std::vector<float>>(
          !c.q.deq.empty() ? pack_weights(c.q.deq.data(), c.O, K) : pack_weights(dequantized(c).data(), c.O, K));
    }
  }
  return c.pack.fp;
}

Tensor time_mlp(const Model& m, const std::vector<int64_t>& t) {
  require_tib_weights(m, t);
  Tensor e = time_proj(m.cfg, t);
  Tensor h = conv_fp_packed(m.lin1, e, packed_fp(m.lin1)->data());
  silu_inplace(&h);
  return conv_fp_packed(m.lin2, h, packed_fp(m.lin2)->data());
}

// X_{t,i} for every resnet, given emb: [B, tib_width].
Tensor tib_from_emb(const Model& m, const Tensor& emb) {
  Tensor se = emb;
  silu_inplace(&se);
  Tensor out(emb.B, m.tib_width, 1, 1);
  for (const Resnet* r : m.tib) {
    Tensor f = conv_fp_packed(r->temb, se, packed_fp(r->temb)->data());
    for (int b = 0; b < emb.B; ++b)
      std::copy(f.img(b), f.img(b) + r->temb.O, out.img(b) + r->tib_offset);
  }
  return out;
}

// The input of a (possibly) quantized layer, prepared once and shared (to_q/k/v share it).
struct QIn {
  const Tensor* x = nullptr;
  bool quantized = false, integer = false;
  Tensor fq;                   // fake-quantized input
  std::vector<uint8_t> codes;  // integer mode: NHWC u8
  float delta = 1, zero = 0;
};


QIn prep_input(const Conv& c, const Tensor& x, const ForwardOpts& o) {
  QIn in;
  in.x = &x;
  if (o.mode == Mode::Fp || !qint(c) || c.act < 0) return in;
  in.quantized = true;
  if (o.mode == Mode::Calibrate) {
    ActStat& st = (*o.calib->stats)[c.act];
    calib_update(&st, x.d.data(), x.size(), o.calib->ema);
    in.delta = st.delta;
    in.zero = st.zero;
  } else {
    in.delta = o.act_scale[c.act];
    in.zero = o.act_zero[c.act];
  }
  if (o.mode == Mode::Integer) {
    in.integer = true;
    const ProfScope prof([&] { return std::string("quantize_nhwc"); });
    in.codes = quantize_nhwc(x, in.delta, in.zero);
  } else {
    in.fq = x;
    for (float& v : in.fq.d) v = fake_quant(v, in.delta, in.zero, 255);
  }
  return in;
}

// Profile row of a conv (ITOKIT_UNET_PROFILE): kind and shape, with its FLOPs (2 per MAC).
std::string conv_key(const Conv& c, const Tensor& x, const char* kind) {
  return std::string("conv ") + kind + " " + std::to_string(c.KH) + "x" + std::to_string(c.KW) + (c.stride > 1 ? "/2 " : " ") +
         std::to_string(c.I) + "->" + std::to_string(c.O) + " @" + std::to_string(x.H) + "x" + std::to_string(x.W);
}
double conv_flops(const Conv& c, const Tensor& x) {
  const int pb = c.pad + (c.pad_br ? 1 : 0);
  const double Ho = (x.H + c.pad + pb - c.KH) / c.stride + 1, Wo = (x.W + c.pad + pb - c.KW) / c.stride + 1;
  return 2.0 * c.O * c.I * c.KH * c.KW * x.B * Ho * Wo;
}

Tensor apply(const Conv& c, const QIn& in, const ForwardOpts& o, const float* add = nullptr) {
  const ProfScope prof([&] { return conv_key(c, *in.x, !qint(c) ? "fp" : in.integer ? (c.q.bits == 4 ? "w4" : "w8") : "fpq"); },
                       conv_flops(c, *in.x));
  if (!qint(c)) return conv_fp_packed(c, *in.x, packed_fp(c)->data(), add);
  if (in.integer) return conv_int(c, in.codes, in.x->B, in.x->H, in.x->W, in.delta, in.zero, add);
  // FP math on integer weights: the layer's FP32 weights in Fp mode while it still has them (a
  // freshly quantized model: packed per call, a reference path); otherwise the dequantized
  // weights (FP-input layers, fake quant, and Fp mode of a loaded quantized model, i.e. W-only
  // quantization).
  if (o.mode == Mode::Fp && !c.w.empty()) return conv_fp(c, *in.x, c.w.data(), add);
  const Tensor& xin = in.quantized ? in.fq : *in.x;
  return conv_fp_packed(c, xin, packed_fp(c)->data(), add);
}

void residual_add(Tensor* a, const Tensor& b, float s) {
  const ProfScope prof([&] { return std::string("residual add"); });
  add_scale_inplace(a, b, s);
}
Tensor cat(const Tensor& a, const Tensor& b) {
  const ProfScope prof([&] { return std::string("concat"); });
  return concat(a, b);
}

Tensor gnorm(const GroupNorm& gn, const Tensor& x, bool silu) {
  const ProfScope prof([&] { return "group_norm C" + std::to_string(x.C) + " @" + std::to_string(x.H); });
  return group_norm(gn, x, silu);
}

Tensor layer(const Conv& c, const Tensor& x, const ForwardOpts& o, const float* add = nullptr) {
  const QIn in = prep_input(c, x, o);
  return apply(c, in, o, add);
}

// In integer mode a GroupNorm(+SiLU) feeding an 8-bit-input layer writes that layer's u8 codes
// directly (group_norm_quant_nhwc: the bits of group_norm then quantize_nhwc, without the FP32
// tensor between them). `in.x` then points at the pre-norm input, which has the same shape.

QIn prep_norm_input(const GroupNorm& gn, bool silu, const Conv& c, const Tensor& x, const ForwardOpts& o) {
  QIn in;
  in.x = &x;
  in.quantized = in.integer = true;
  in.delta = o.act_scale[c.act];
  in.zero = o.act_zero[c.act];
  const ProfScope prof([&] { return "group_norm_quant C" + std::to_string(x.C) + " @" + std::to_string(x.H); });
  in.codes = group_norm_quant_nhwc(gn, x, silu, in.delta, in.zero);
  return in;
}

// conv(SiLU?(GroupNorm(x))) (+ add).
Tensor norm_layer(const GroupNorm& gn, bool silu, const Conv& c, const Tensor& x, const ForwardOpts& o, const float* add = nullptr) {
  if (int_input(c, o)) return apply(c, prep_norm_input(gn, silu, c, x, o), o, add);
  const Tensor h = gnorm(gn, x, silu);
  return layer(c, h, o, add);
}

}  // namespace

Tensor temporal_features(const Model& m, const std::vector<int64_t>& t) {
  return tib_from_emb(m, time_mlp(m, t));
}

Tensor call_temporal(const Model& m, const std::vector<int64_t>& t, const ForwardOpts& o) {
  const bool quantized = o.mode != Mode::Fp;
  const int B = static_cast<int>(t.size());
  // Temporal features: cached FP32 vectors when quantized (docs/design/unet.md), else computed.
  Tensor tib;
  if (quantized && o.use_cache && !m.quant->cache_t.empty()) {
    tib = Tensor(B, m.tib_width, 1, 1);
    for (int b = 0; b < B; ++b) {
      const auto& ct = m.quant->cache_t;
      const auto it = std::find(ct.begin(), ct.end(), t[b]);
      if (it != ct.end()) {
        const float* src = m.quant->cache.data() + static_cast<std::size_t>(it - ct.begin()) * m.tib_width;
        std::copy(src, src + m.tib_width, tib.img(b));
      } else {
        m.quant->cache_misses.fetch_add(1);
        Tensor f = temporal_features(m, {t[b]});
        std::copy(f.img(0), f.img(0) + m.tib_width, tib.img(b));
      }
    }
  } else {
    Tensor emb = time_mlp(m, t);
    if (o.taps) {
      (*o.taps)["time_proj"] = time_proj(m.cfg, t);
      (*o.taps)["emb"] = emb;
    }
    tib = tib_from_emb(m, emb);
  }
  return tib;
}

namespace {

// Index of the first NaN or ±Inf in v[0, n), or n. Exponent bits all ones ⇔ not finite; the
// chunked OR keeps the common all-finite case one vectorised pass.
std::size_t first_nonfinite(const float* v, std::size_t n) {
  constexpr std::size_t kChunk = 256;
  for (std::size_t i0 = 0; i0 < n; i0 += kChunk) {
    const std::size_t i1 = std::min(n, i0 + kChunk);
    uint32_t bad = 0;
    for (std::size_t i = i0; i < i1; ++i) {
      uint32_t u;
      std::memcpy(&u, v + i, 4);
      bad |= static_cast<uint32_t>((u & 0x7f800000u) == 0x7f800000u);
    }
    if (bad)
      for (std::size_t i = i0; i < i1; ++i)
        if (!std::isfinite(v[i])) return i;
  }
  return n;
}

// The CPU backend of the op graph: values are Tensors, freed at their last use.
class CpuBackend {
 public:
  CpuBackend(const Model& m, const ForwardOpts& o, const Tensor& x0, const std::vector<int64_t>& t)
      : m_(m), o_(o), t_(t), v_(m.graph.values) {
    v_[m.graph.input] = x0;  // the walk may centre its input in place
  }
  Tensor take(int v) { return std::move(v_[v]); }
  void release(int v) { v_[v] = Tensor(); }

  // Per-resnet slices [B, C_i] of the temporal features (docs/design/unet.md §7.1).
  void temporal(const Op&) {
    const Tensor tib = call_temporal(m_, t_, o_);
    if (o_.taps) (*o_.taps)["temporal"] = tib;
    const int B = tib.B;
    tfs_.assign(m_.tib.size(), {});
    for (std::size_t i = 0; i < m_.tib.size(); ++i) {
      const int C = m_.tib[i]->temb.O, off = m_.tib[i]->tib_offset;
      tfs_[i].resize(static_cast<std::size_t>(B) * C);
      for (int b = 0; b < B; ++b) std::copy(tib.img(b) + off, tib.img(b) + off + C, tfs_[i].data() + static_cast<std::size_t>(b) * C);
    }
  }
  void center(const Op& op) {
    for (float& x : v_[op.in[0]].d) x = 2.0f * x - 1.0f;
  }
  void conv(const Op& op) { v_[op.out[0]] = layer(*op.conv[0], v_[op.in[0]], o_, feature(op)); }
  void norm_conv(const Op& op) { v_[op.out[0]] = norm_layer(*op.norm, op.silu, *op.conv[0], v_[op.in[0]], o_, feature(op)); }
  // One input quantizer for q, k, v (docs/design/unet.md §7.4).
  void norm_qkv(const Op& op) {
    const Tensor& x = v_[op.in[0]];
    const Conv& q = *op.conv[0];
    Tensor h;
    QIn in;
    if (int_input(q, o_)) {
      in = prep_norm_input(*op.norm, false, q, x, o_);
    } else {
      h = gnorm(*op.norm, x, false);
      in = prep_input(q, h, o_);
    }
    for (int i = 0; i < 3; ++i) v_[op.out[i]] = apply(*op.conv[i], in, o_);
  }
  void attention_core(const Op& op) {
    const Tensor &q = v_[op.in[0]], &k = v_[op.in[1]], &v = v_[op.in[2]];
    const ProfScope prof([&] { return "attention_core C" + std::to_string(q.C) + " @" + std::to_string(q.H); },
                         4.0 * q.B * q.C * static_cast<double>(q.plane()) * q.plane());
    v_[op.out[0]] = unet::attention_core(q, k, v, op.head_dim);
  }
  void residual(const Op& op) { residual_add(&v_[op.in[0]], v_[op.in[1]], op.scale); }
  void concat(const Op& op) { v_[op.out[0]] = cat(v_[op.in[0]], v_[op.in[1]]); }
  void upsample_conv(const Op& op) {
    const Tensor& h = v_[op.in[0]];
    const Conv& c = *op.conv[0];
    if (!int_input(c, o_)) {
      v_[op.out[0]] = layer(c, upsample2x(h), o_);
      return;
    }
    // Integer input: quantize the map, then repeat the codes (nearest ×2 commutes with the
    // elementwise quantizer: the codes of the upsampled map, from 1/4 of the values).
    Tensor shape;  // the upsampled shape; the codes carry the data
    shape.B = h.B;
    shape.C = h.C;
    shape.H = 2 * h.H;
    shape.W = 2 * h.W;
    QIn in;
    in.x = &shape;
    in.quantized = in.integer = true;
    in.delta = o_.act_scale[c.act];
    in.zero = o_.act_zero[c.act];
    in.codes = upsample2x_nhwc(quantize_nhwc(h, in.delta, in.zero), h.B, h.H, h.W, h.C);
    v_[op.out[0]] = apply(c, in, o_);
  }
  void tap(const Op& op) {
    if (o_.taps) (*o_.taps)[op.tap] = v_[op.in[0]];
  }
  void checkpoint(const Op&) { o_.ctl.check(); }

 private:
  const float* feature(const Op& op) const { return op.tf >= 0 ? tfs_[op.tf].data() : nullptr; }

  const Model& m_;
  const ForwardOpts& o_;
  const std::vector<int64_t>& t_;
  std::vector<Tensor> v_;
  std::vector<std::vector<float>> tfs_;
};

}  // namespace

Tensor forward(const Model& m, const Tensor& x0, const std::vector<int64_t>& t, const ForwardOpts& o) {
  Tensor y = forward_unchecked(m, x0, t, o);
  // Finite weights can still overflow float32 on the way (a hostile file with weights near 3e38,
  // or scales that pass every bound and still compound): a coded error instead of NaN or ±Inf
  // handed back as a prediction. Calibration passes discard their output and are not checked.
  if (o.mode != Mode::Calibrate) {
    const std::size_t i = first_nonfinite(y.d.data(), y.size());
    if (i < y.size()) {
      std::ostringstream msg;
      msg << "the model produced a non-finite value (" << y.d[i] << ") at output index " << i << " (t = " << t[0]
          << (t.size() > 1 ? ", ..." : "") << "): its weights overflow float32 on this input";
      throw Error(Code::Numerical, msg.str());
    }
  }
  return y;
}

Tensor forward_unchecked(const Model& m, const Tensor& x0, const std::vector<int64_t>& t, const ForwardOpts& o) {
  const Config& cfg = m.cfg;
  require(x0.C == cfg.in_ch, Code::Shape, "x has " + std::to_string(x0.C) + " channels, the model takes " + std::to_string(cfg.in_ch));
  require(static_cast<int>(t.size()) == x0.B, Code::Shape, "one timestep per sample is required");
  const int n = static_cast<int>(cfg.boc.size());
  const int div = 1 << (n - 1);
  require(x0.H % div == 0 && x0.W % div == 0, Code::Shape, "H and W must be divisible by " + std::to_string(div));
  {
    const std::size_t i = first_nonfinite(x0.d.data(), x0.size());
    require(i == x0.size(), Code::InvalidArg, "x holds a non-finite value at index " + std::to_string(i));
  }
  const bool quantized = o.mode != Mode::Fp;
  require(!quantized || m.quant, Code::InvalidArg, "the model is not quantized");

  if (o.cuda) return forward_cuda(m, x0, t, o);  // native/unet/cuda/unet_forward.cu: the same graph on the device
  CpuBackend be(m, o, x0, t);
  run_graph(m.graph, be);
  return be.take(m.graph.output);
}

}  // namespace unet
}  // namespace itk

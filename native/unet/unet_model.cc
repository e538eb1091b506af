// Model construction from named tensors, and the forward pass of docs/design/unet.md with
// the quantized modes of docs/design/unet.md (exact temporal-feature cache, per-step activation parameters).
#include "unet_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "../core/error.h"
#include "../kernels/quant_ops.h"
#include "unet_calib.h"
#include "unet_cuda.h"
#include "unet_ops.h"
#include "unet_profile.h"
#include "unet_quant.h"

namespace itk {
namespace unet {

std::vector<Conv*> Model::layers() {
  std::vector<Conv*> out{&conv_in, &lin1, &lin2};
  auto res = [&](Resnet& r) {
    out.push_back(&r.conv1);
    out.push_back(&r.temb);
    out.push_back(&r.conv2);
    if (r.has_shortcut) out.push_back(&r.shortcut);
  };
  auto att = [&](Attn& a) {
    out.push_back(&a.q);
    out.push_back(&a.k);
    out.push_back(&a.v);
    out.push_back(&a.out);
  };
  auto block = [&](Block& b) {
    for (std::size_t j = 0; j < b.resnets.size(); ++j) {
      res(b.resnets[j]);
      if (j < b.attns.size()) att(b.attns[j]);
    }
    if (b.has_resample) out.push_back(&b.resample);
  };
  for (Block& b : down) block(b);
  if (has_mid) block(mid);
  for (Block& b : up) block(b);
  out.push_back(&conv_out);
  return out;
}

std::vector<const Conv*> Model::layers() const {
  std::vector<Conv*> l = const_cast<Model*>(this)->layers();
  return std::vector<const Conv*>(l.begin(), l.end());
}

void Model::index_tib() {
  tib.clear();
  for (Block& b : down)
    for (Resnet& r : b.resnets) tib.push_back(&r);
  if (has_mid)
    for (Resnet& r : mid.resnets) tib.push_back(&r);
  for (Block& b : up)
    for (Resnet& r : b.resnets) tib.push_back(&r);
  tib_width = 0;
  for (Resnet* r : tib) {
    r->tib_offset = tib_width;
    tib_width += r->temb.O;
  }
}

namespace {

std::size_t count(const std::vector<int>& s) {
  std::size_t n = 1;
  for (int d : s) n *= static_cast<std::size_t>(d);
  return n;
}

std::string shape_str(const std::vector<int>& s) {
  std::ostringstream o;
  o << "[";
  for (std::size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

// Walks the architecture once per use: records every tensor the config implies and checks it
// against what the caller holds (full tensors, shapes only, or nothing for a dry count).
// Collects every missing or mis-shaped tensor so the error lists the offenders (docs/design/unet.md); nothing is
// allocated for them. Weights are copied only from full tensors.
class Builder {
 public:
  // Dry: records the specs only.
  Builder() = default;
  Builder(const std::map<std::string, Tensor>* t, const std::map<std::string, std::vector<int>>* s, bool allow_tib_absent)
      : t_(t), s_(s), allow_tib_absent_(allow_tib_absent) {}

  std::vector<float> get(const std::string& name, const std::vector<int>& shape, bool tib = false) {
    specs_.push_back({name, shape, tib});
    if (!t_ && !s_) return {};
    const std::vector<int>* have = nullptr;
    const std::vector<float>* data = nullptr;
    if (t_) {
      auto it = t_->find(name);
      if (it != t_->end()) {
        have = &it->second.shape;
        data = &it->second.d;
      }
    } else {
      auto it = s_->find(name);
      if (it != s_->end()) have = &it->second;
    }
    if (!have) {
      if (!(tib && allow_tib_absent_)) error("missing " + name + " " + shape_str(shape));
      return {};
    }
    if (*have != shape) {
      error(name + ": expected " + shape_str(shape) + ", got " + shape_str(*have));
      return {};
    }
    if (!data || data->empty()) return {};  // shapes only, or a placeholder (integer layer)
    if (data->size() != count(shape)) {
      error(name + ": holds " + std::to_string(data->size()) + " values, " + shape_str(shape) + " needs " + std::to_string(count(shape)));
      return {};
    }
    return *data;
  }

  Conv conv(const std::string& p, int O, int I, int k, int stride = 1, int pad = 0) {
    Conv c;
    c.name = p;
    c.O = O;
    c.I = I;
    c.KH = c.KW = k;
    c.stride = stride;
    c.pad = pad;
    c.w = get(p + ".weight", k == 1 && linear_ ? std::vector<int>{O, I} : std::vector<int>{O, I, k, k}, tib_);
    c.b = get(p + ".bias", {O}, tib_);
    return c;
  }
  Conv linear(const std::string& p, int O, int I, bool tib = false) {
    linear_ = true;
    tib_ = tib;
    Conv c = conv(p, O, I, 1);
    linear_ = tib_ = false;
    return c;
  }
  GroupNorm norm(const std::string& p, int C, int G, float eps) {
    GroupNorm g;
    g.name = p;
    g.C = C;
    g.G = G;
    g.eps = eps;
    if (C % G != 0) error(p + ": " + std::to_string(C) + " channels are not divisible by " + std::to_string(G) + " groups");
    g.gamma = get(p + ".weight", {C});
    g.beta = get(p + ".bias", {C});
    return g;
  }
  // "" or the offenders, at most kListed of them named.
  std::string mismatch() const {
    if (errors_ == 0) return "";
    std::string e = "model tensors do not match the config:" + listed_;
    if (errors_ > kListed) e += "\n  ... and " + std::to_string(errors_ - kListed) + " more";
    return e;
  }
  void finish() const {
    const std::string e = mismatch();
    if (!e.empty()) throw Error(Code::ModelFormat, e);
  }
  const std::vector<TensorSpec>& specs() const { return specs_; }
  double param_bytes() const {
    double b = 0;
    for (const TensorSpec& s : specs_) b += 4.0 * static_cast<double>(count(s.shape));
    return b;
  }

 private:
  static constexpr std::size_t kListed = 40;  // a hostile config can imply thousands of tensors
  void error(const std::string& line) {
    if (errors_++ < kListed) listed_ += "\n  " + line;
  }
  const std::map<std::string, Tensor>* t_ = nullptr;
  const std::map<std::string, std::vector<int>>* s_ = nullptr;
  bool allow_tib_absent_ = false;
  std::vector<TensorSpec> specs_;
  std::string listed_;
  std::size_t errors_ = 0;
  bool linear_ = false, tib_ = false;
};

Resnet make_resnet(Builder& B, const Config& cfg, const std::string& p, int cin, int cout, float osf) {
  Resnet r;
  r.prefix = p;
  r.norm1 = B.norm(p + ".norm1", cin, cfg.groups, cfg.eps);
  r.conv1 = B.conv(p + ".conv1", cout, cin, 3, 1, 1);
  r.temb = B.linear(p + ".time_emb_proj", cout, cfg.time_dim, true);
  r.norm2 = B.norm(p + ".norm2", cout, cfg.groups, cfg.eps);
  r.conv2 = B.conv(p + ".conv2", cout, cout, 3, 1, 1);
  r.has_shortcut = cin != cout;
  if (r.has_shortcut) r.shortcut = B.conv(p + ".conv_shortcut", cout, cin, 1);
  r.osf = osf;
  return r;
}

Attn make_attn(Builder& B, const Config& cfg, const std::string& p, int c, int groups, float rescale) {
  Attn a;
  a.prefix = p;
  a.norm = B.norm(p + ".group_norm", c, groups, cfg.eps);
  a.q = B.linear(p + ".to_q", c, c);
  a.k = B.linear(p + ".to_k", c, c);
  a.v = B.linear(p + ".to_v", c, c);
  a.out = B.linear(p + ".to_out.0", c, c);
  a.head_dim = cfg.head_dim > 0 ? cfg.head_dim : c;
  if (c % a.head_dim != 0) throw Error(Code::ModelFormat, "attention_head_dim " + std::to_string(cfg.head_dim) + " does not divide " + std::to_string(c) + " channels");
  a.rescale = rescale;
  return a;
}

// The architecture of docs/design/unet.md: fills m's layers through B (validate_config has bounded every count).
void walk(Model* m, Builder& B, const Config& cfg) {
  const int n = static_cast<int>(cfg.boc.size());
  m->cfg = cfg;
  const int c0 = cfg.boc[0];
  m->conv_in = B.conv("conv_in", c0, cfg.in_ch, 3, 1, 1);
  m->lin1 = B.linear("time_embedding.linear_1", cfg.time_dim, c0, true);
  m->lin2 = B.linear("time_embedding.linear_2", cfg.time_dim, cfg.time_dim, true);
  int out = c0;
  for (int i = 0; i < n; ++i) {
    const int in = out;
    out = cfg.boc[i];
    Block b;
    const std::string p = "down_blocks." + std::to_string(i);
    for (int j = 0; j < cfg.layers; ++j) {
      b.resnets.push_back(make_resnet(B, cfg, p + ".resnets." + std::to_string(j), j == 0 ? in : out, out, 1.f));
      if (cfg.down_attn[i]) b.attns.push_back(make_attn(B, cfg, p + ".attentions." + std::to_string(j), out, cfg.groups, 1.f));
    }
    if (i < n - 1) {
      b.has_resample = true;
      b.resample = B.conv(p + ".downsamplers.0.conv", out, out, 3, 2, cfg.down_pad);
      b.resample.pad_br = cfg.down_pad == 0;
    }
    m->down.push_back(std::move(b));
  }
  m->has_mid = cfg.mid;
  if (cfg.mid) {
    const int c = cfg.boc[n - 1];
    m->mid.resnets.push_back(make_resnet(B, cfg, "mid_block.resnets.0", c, c, cfg.mid_scale));
    if (cfg.mid_attn) m->mid.attns.push_back(make_attn(B, cfg, "mid_block.attentions.0", c, cfg.attn_groups, cfg.mid_scale));
    m->mid.resnets.push_back(make_resnet(B, cfg, "mid_block.resnets.1", c, c, cfg.mid_scale));
  }
  std::vector<int> rev(cfg.boc.rbegin(), cfg.boc.rend());
  out = rev[0];
  for (int i = 0; i < n; ++i) {
    const int prev = out;
    out = rev[i];
    const int in = rev[std::min(i + 1, n - 1)];
    Block b;
    const std::string p = "up_blocks." + std::to_string(i);
    for (int j = 0; j <= cfg.layers; ++j) {
      const int skip = j == cfg.layers ? in : out;
      const int rin = j == 0 ? prev : out;
      b.resnets.push_back(make_resnet(B, cfg, p + ".resnets." + std::to_string(j), rin + skip, out, 1.f));
      if (cfg.up_attn[i]) b.attns.push_back(make_attn(B, cfg, p + ".attentions." + std::to_string(j), out, cfg.groups, 1.f));
    }
    if (i < n - 1) {
      b.has_resample = true;
      b.resample = B.conv(p + ".upsamplers.0.conv", out, out, 3, 1, 1);
    }
    m->up.push_back(std::move(b));
  }
  m->norm_out = B.norm("conv_norm_out", c0, cfg.groups, cfg.eps);
  m->conv_out = B.conv("conv_out", cfg.out_ch, c0, 3, 1, 1);
  m->index_tib();
}

}  // namespace

void validate_config(const Config& c) {
  auto bad = [](const std::string& m) { throw Error(Code::ModelFormat, "config: " + m); };
  auto range = [&](const char* key, int v, int lo, int hi) {
    if (v < lo || v > hi) bad(std::string(key) + " " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  };
  const std::size_t n = c.boc.size();
  if (n < 1 || n > static_cast<std::size_t>(kMaxBlocks)) bad("block_out_channels must hold 1 to " + std::to_string(kMaxBlocks) + " entries");
  if (c.down_attn.size() != n || c.up_attn.size() != n) bad("block counts do not match block_out_channels");
  range("in_channels", c.in_ch, 1, kMaxChannels);
  range("out_channels", c.out_ch, 1, kMaxChannels);
  range("time_embedding_dim", c.time_dim, 1, kMaxTimeDim);
  range("layers_per_block", c.layers, 1, kMaxLayersPerBlock);
  range("norm_num_groups", c.groups, 1, kMaxChannels);
  range("attn_norm_num_groups", c.attn_groups, 1, kMaxChannels);
  range("attention_head_dim", c.head_dim, 0, kMaxChannels);
  range("downsample_padding", c.down_pad, 0, 1);
  for (std::size_t i = 0; i < n; ++i) {
    range("block_out_channels", c.boc[i], 1, kMaxChannels);
    if (c.boc[i] % c.groups != 0) bad("norm_num_groups " + std::to_string(c.groups) + " does not divide " + std::to_string(c.boc[i]) + " channels");
    const bool attn = c.down_attn[i] || c.up_attn[n - 1 - i] || (i == n - 1 && c.mid && c.mid_attn);
    if (attn && c.head_dim > 0 && c.boc[i] % c.head_dim != 0)
      bad("attention_head_dim " + std::to_string(c.head_dim) + " does not divide " + std::to_string(c.boc[i]) + " channels");
  }
  if (c.mid && c.mid_attn && c.boc[n - 1] % c.attn_groups != 0)
    bad("attn_norm_num_groups " + std::to_string(c.attn_groups) + " does not divide " + std::to_string(c.boc[n - 1]) + " channels");
  if (!(c.eps >= kMinNormEps && c.eps <= kMaxNormEps)) bad("norm_eps must be in [1e-12, 1]");
  if (!(c.mid_scale >= kMinScaleFactor && c.mid_scale <= kMaxScaleFactor)) bad("mid_block_scale_factor must be in [0.001, 1000]");
  // time_proj divides by (C0/2 − freq_shift) in float32: zero gives 0/0, a negative value
  // exponents above 0 and infinite frequencies (NaN sinusoids)
  if (!std::isfinite(c.freq_shift) || !(static_cast<float>(c.boc[0] / 2) - c.freq_shift > 0.0f))
    bad("freq_shift must be below block_out_channels[0] / 2");
}

std::unique_ptr<Model> build_model(const Config& cfg, const std::map<std::string, Tensor>& tensors, const BuildOptions& o) {
  validate_config(cfg);
  if (o.enforce_cap) {
    Model dry_model;
    Builder dry;
    walk(&dry_model, dry, cfg);
    if (dry.param_bytes() > kMaxParamBytes)
      throw Error(Code::ModelFormat, "config implies " + std::to_string(dry.param_bytes() / 1073741824.0) + " GiB of FP32 parameters, above the 4 GiB limit");
  }
  auto m = std::make_unique<Model>();
  Builder B(&tensors, nullptr, o.allow_tib_absent);
  walk(m.get(), B, cfg);
  B.finish();
  return m;
}

Plan plan_model(const Config& cfg, const std::map<std::string, std::vector<int>>& shapes, bool allow_tib_absent) {
  validate_config(cfg);
  Plan p;
  p.shell = std::make_unique<Model>();
  Builder B(nullptr, &shapes, allow_tib_absent);
  walk(p.shell.get(), B, cfg);
  p.tensors = B.specs();
  p.param_bytes = B.param_bytes();
  p.mismatch = B.mismatch();
  return p;
}

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

bool qint(const Conv& c) { return c.q.bits == 4 || c.q.bits == 8; }

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
// True when c reads u8 codes in this call (integer mode, integer weights, an 8-bit input).
bool int_input(const Conv& c, const ForwardOpts& o) { return o.mode == Mode::Integer && qint(c) && c.act >= 0; }

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

Tensor resnet(const Resnet& r, const Tensor& x, const float* tf, const ForwardOpts& o) {
  Tensor h = norm_layer(r.norm1, true, r.conv1, x, o, tf);  // conv1 + bias, then + temporal feature (docs/design/unet.md)
  h = norm_layer(r.norm2, true, r.conv2, h, o);
  if (r.has_shortcut) {
    Tensor s = layer(r.shortcut, x, o);
    residual_add(&s, h, r.osf);
    return s;
  }
  residual_add(&h, x, r.osf);  // (h + x)/s: the bits of (x + h)/s (addition commutes), no copy of x
  return h;
}

Tensor attn(const Attn& a, const Tensor& x, const ForwardOpts& o) {
  Tensor h;
  QIn in;  // one quantizer for q, k, v (docs/design/unet.md)
  if (int_input(a.q, o)) {
    in = prep_norm_input(a.norm, false, a.q, x, o);
  } else {
    h = gnorm(a.norm, x, false);
    in = prep_input(a.q, h, o);
  }
  Tensor q = apply(a.q, in, o), k = apply(a.k, in, o), v = apply(a.v, in, o);
  Tensor att;
  {
    const ProfScope prof([&] { return "attention_core C" + std::to_string(q.C) + " @" + std::to_string(q.H); },
                         4.0 * q.B * q.C * static_cast<double>(q.plane()) * q.plane());
    att = attention_core(q, k, v, a.head_dim);
  }
  Tensor out = layer(a.out, att, o);
  residual_add(&out, x, a.rescale);
  return out;
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

  if (o.cuda) return forward_cuda(m, x0, t, o);  // native/unet/cuda/unet_forward.cu (same walk on the device)
  Tensor tib = call_temporal(m, t, o);
  if (o.taps) (*o.taps)["temporal"] = tib;
  // Per-resnet slices [B, C_i] of the TIB vector.
  std::vector<std::vector<float>> tfs(m.tib.size());
  for (std::size_t i = 0; i < m.tib.size(); ++i) {
    const int C = m.tib[i]->temb.O, off = m.tib[i]->tib_offset;
    tfs[i].resize(static_cast<std::size_t>(x0.B) * C);
    for (int b = 0; b < x0.B; ++b) std::copy(tib.img(b) + off, tib.img(b) + off + C, tfs[i].data() + static_cast<std::size_t>(b) * C);
  }
  std::size_t ri = 0;

  Tensor x = x0;
  if (cfg.center)
    for (float& v : x.d) v = 2.0f * v - 1.0f;
  Tensor h = layer(m.conv_in, x, o);
  std::vector<Tensor> skips{h};
  for (int i = 0; i < n; ++i) {
    const Block& b = m.down[i];
    for (std::size_t j = 0; j < b.resnets.size(); ++j) {
      h = resnet(b.resnets[j], h, tfs[ri++].data(), o);
      if (j < b.attns.size()) h = attn(b.attns[j], h, o);
      skips.push_back(h);
    }
    if (b.has_resample) {
      h = layer(b.resample, h, o);
      skips.push_back(h);
    }
    o.ctl.check();
  }
  if (m.has_mid) {
    h = resnet(m.mid.resnets[0], h, tfs[ri++].data(), o);
    if (!m.mid.attns.empty()) h = attn(m.mid.attns[0], h, o);
    h = resnet(m.mid.resnets[1], h, tfs[ri++].data(), o);
    if (o.taps) (*o.taps)["mid_block"] = h;
  }
  for (int i = 0; i < n; ++i) {
    const Block& b = m.up[i];
    for (std::size_t j = 0; j < b.resnets.size(); ++j) {
      Tensor s = std::move(skips.back());
      skips.pop_back();
      h = resnet(b.resnets[j], cat(h, s), tfs[ri++].data(), o);
      if (j < b.attns.size()) h = attn(b.attns[j], h, o);
    }
    if (b.has_resample) {
      if (int_input(b.resample, o)) {
        // integer input: quantize the map, then repeat the codes (nearest ×2 commutes with the
        // elementwise quantizer: the same codes as quantizing the upsampled map, on 1/4 of the values)
        QIn in;
        Tensor shape;  // the upsampled shape; the codes carry the data
        shape.B = h.B;
        shape.C = h.C;
        shape.H = 2 * h.H;
        shape.W = 2 * h.W;
        in.x = &shape;
        in.quantized = in.integer = true;
        in.delta = o.act_scale[b.resample.act];
        in.zero = o.act_zero[b.resample.act];
        in.codes = upsample2x_nhwc(quantize_nhwc(h, in.delta, in.zero), h.B, h.H, h.W, h.C);
        h = apply(b.resample, in, o);
      } else {
        h = layer(b.resample, upsample2x(h), o);
      }
    }
    o.ctl.check();
  }
  h = gnorm(m.norm_out, h, true);
  return layer(m.conv_out, h, o);
}

}  // namespace unet
}  // namespace itk

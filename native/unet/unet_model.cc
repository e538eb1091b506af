// Model construction from named tensors (docs/design/unet.md §2, §4): the layer plan a config
// implies, checked against the file's tensors, and the structure's indexes (TIB order, op graph).
// The forward pass is unet_forward.cc (CPU) and cuda/unet_forward.cu (GPU).
#include "unet_model.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "../core/error.h"

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

void Model::index_structure() {
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
  graph = build_graph(*this);
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
  m->index_structure();
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

}  // namespace unet
}  // namespace itk

#include "unet_quant.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/half.h"
#include "../kernels/quant_ops.h"
#include "unet_calib.h"

namespace itk {
namespace unet {
namespace {

bool ends_with(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

int round_up(int v, int m) { return (v + m - 1) / m * m; }

// OHWI index k of (ci, ky, kx) (docs/design/unet.md §8): k = (ky·KW + kx)·I + ci.
inline int ohwi(const Conv& c, int ci, int ky, int kx) { return (ky * c.KW + kx) * c.I + ci; }

// Builds the kernel layout, Σw and the row counts from canonical-order codes [O][K].
void finish_codes(Conv* c, const std::vector<uint8_t>& codes) {
  c->pack.reset();
  QWeights& q = c->q;
  const int K = q.K, Kp = q.Kp;
  const int row_bytes = q.bits == 4 ? Kp / 2 : Kp;
  q.kern.assign(static_cast<std::size_t>(c->O) * row_bytes, 0);
  q.wsum.assign(static_cast<std::size_t>(c->O) * q.ng, 0);
  const int gsize = q.group > 0 ? q.group : K;
  for (int o = 0; o < c->O; ++o) {
    const uint8_t* src = codes.data() + static_cast<std::size_t>(o) * K;
    uint8_t* dst = q.kern.data() + static_cast<std::size_t>(o) * row_bytes;
    for (int k = 0; k < K; ++k) {
      q.wsum[static_cast<std::size_t>(o) * q.ng + k / gsize] += src[k];
      if (q.bits == 8) {
        dst[k] = src[k];
      } else {
        // 32-code blocks, byte i = code i | code (i+16) << 4 (qdot.h)
        const int blk = k / 32, j = k % 32;
        uint8_t& byte = dst[blk * 16 + (j & 15)];
        byte = static_cast<uint8_t>(byte | (j < 16 ? src[k] : src[k] << 4));
      }
    }
  }
}

std::vector<uint8_t> kernel_to_codes(const Conv& c) {
  const QWeights& q = c.q;
  const int row_bytes = q.bits == 4 ? q.Kp / 2 : q.Kp;
  std::vector<uint8_t> codes(static_cast<std::size_t>(c.O) * q.K);
  for (int o = 0; o < c.O; ++o) {
    const uint8_t* src = q.kern.data() + static_cast<std::size_t>(o) * row_bytes;
    for (int k = 0; k < q.K; ++k) {
      uint8_t v;
      if (q.bits == 8) {
        v = src[k];
      } else {
        const int blk = k / 32, j = k % 32;
        const uint8_t byte = src[blk * 16 + (j & 15)];
        v = j < 16 ? (byte & 0x0F) : (byte >> 4);
      }
      codes[static_cast<std::size_t>(o) * q.K + k] = v;
    }
  }
  return codes;
}

void init_layout(Conv* c, int bits, int group) {
  QWeights& q = c->q;
  q.bits = bits;
  q.K = c->I * c->KH * c->KW;
  q.Kp = round_up(q.K, 32);
  // Group-wise needs C_in % G == 0 so groups never straddle a tap (docs/design/unet.md §7.3); else per channel.
  q.group = (group > 0 && c->I % group == 0) ? group : 0;
  q.ng = q.group > 0 ? q.K / q.group : 1;
  require(bits == 4 || q.K <= 33000, Code::InvalidArg, c->name + ": K too large for 8-bit int32 accumulation");
}

}  // namespace

std::vector<std::string> plan_layers(Model* m) {
  std::vector<std::string> names;
  // docs/design/unet.md §7.5 (`exact` mode): FP weights and inputs for conv_in, conv_out, the time MLP, every
  // time_emb_proj (the TIB stays FP32), 1×1 shortcuts and downsamplers; integer weights with an
  // FP input for both convs of down_blocks.0.resnets.0; integer weights and 8-bit inputs elsewhere.
  // to_q, to_k and to_v share one activation quantizer. conv2's input is FP as well:
  // at t = 0 the noise ε̂ must recover is 1 % of x (√(1−ᾱ₀) = 0.01) and this block is where it
  // still sits at full resolution; its 8-bit input alone put the W8A8 per-step error at t = 0 at
  // 0.075 (bound 0.05, §10 "Error vs FP") on the built-in model, 0.042 with it FP (full-size calibration).
  int shared_qkv = -1;
  for (Conv* c : m->layers()) {
    const std::string& n = c->name;
    c->q = QWeights();
    c->act = -1;
    c->pack.reset();
    const bool fp = n == "conv_in" || n == "conv_out" || n.rfind("time_embedding.", 0) == 0 ||
                    ends_with(n, ".time_emb_proj") || ends_with(n, ".conv_shortcut") || n.find(".downsamplers.") != std::string::npos;
    if (fp) continue;
    c->q.bits = -1;  // marked: integer weights (set by quantize_weights / set_codes)
    if (n == "down_blocks.0.resnets.0.conv1" || n == "down_blocks.0.resnets.0.conv2") continue;
    if (ends_with(n, ".to_k") || ends_with(n, ".to_v")) {
      c->act = shared_qkv;
      continue;
    }
    c->act = static_cast<int>(names.size());
    if (ends_with(n, ".to_q")) {
      shared_qkv = c->act;
      names.push_back(n.substr(0, n.size() - 5) + ".to_qkv");
    } else {
      names.push_back(n);
    }
  }
  return names;
}

std::vector<float> dequantized(const Conv& c) {
  const std::vector<uint8_t> codes = kernel_to_codes(c);
  const QWeights& q = c.q;
  const int gsize = q.group > 0 ? q.group : q.K;
  std::vector<float> w(static_cast<std::size_t>(c.O) * q.K);
  for (int o = 0; o < c.O; ++o)
    for (int ci = 0; ci < c.I; ++ci)
      for (int ky = 0; ky < c.KH; ++ky)
        for (int kx = 0; kx < c.KW; ++kx) {
          const int k = ohwi(c, ci, ky, kx);
          const std::size_t qi = static_cast<std::size_t>(o) * q.ng + k / gsize;
          w[((static_cast<std::size_t>(o) * c.I + ci) * c.KH + ky) * c.KW + kx] =
              dequant(codes[static_cast<std::size_t>(o) * q.K + k], q.scale[qi], q.zero[qi]);
        }
  return w;
}

void quantize_weights(Model* m, int bits, int group, const Control& ctl) {
  require(bits == 4 || bits == 8, Code::InvalidArg, "weightBits must be 4 or 8");
  const int qmax = (1 << bits) - 1;
  for (Conv* c : m->layers()) {
    if (c->q.bits != -1) continue;
    init_layout(c, bits, group);
    QWeights& q = c->q;
    const int K = q.K;
    const int gsize = q.group > 0 ? q.group : K;
    std::vector<uint8_t> codes(static_cast<std::size_t>(c->O) * K);
    q.scale.assign(static_cast<std::size_t>(c->O) * q.ng, 0.f);
    q.zero.assign(static_cast<std::size_t>(c->O) * q.ng, 0.f);
    parallel_for(static_cast<std::size_t>(c->O), [&](std::size_t o) {
      std::vector<float> row(K);
      for (int ci = 0; ci < c->I; ++ci)
        for (int ky = 0; ky < c->KH; ++ky)
          for (int kx = 0; kx < c->KW; ++kx)
            row[ohwi(*c, ci, ky, kx)] = c->w[((o * c->I + ci) * c->KH + ky) * c->KW + kx];
      for (int g = 0; g < q.ng; ++g) {
        QParams p = lp_search(row.data() + g * gsize, gsize, 1, qmax, false);
        if (std::fabs(p.zero) > 1048576.f) {
          // (near-)constant group far from 0: Δ = 1e-8 would need |z| > 2^20, which files (§8)
          // cannot hold; Δ = max|w|/qmax represents the constant exactly instead.
          float amax = 0.f;
          for (int k = g * gsize; k < (g + 1) * gsize; ++k) amax = std::max(amax, std::fabs(row[k]));
          p.delta = std::max(amax / static_cast<float>(qmax), 1e-8f);
          p.zero = std::nearbyint(-row[g * gsize] / p.delta) + 0.0f;
        }
        q.scale[o * q.ng + g] = p.delta;
        q.zero[o * q.ng + g] = p.zero;
        for (int k = g * gsize; k < (g + 1) * gsize; ++k) codes[o * K + k] = static_cast<uint8_t>(quant_code(row[k], p.delta, p.zero, qmax));
      }
    });
    // q.deq stays empty: the FP uses of the layer (calibration, fake quant, FP-input layers)
    // dequantize the codes once when they pack the layer (packed_fp), and drop_fp_weights would
    // release a copy made here anyway.
    finish_codes(c, codes);
    ctl.check();
  }
}

void set_codes(Conv* c, int bits, int group, const uint8_t* canon, std::size_t canon_len, const float* scale,
               const float* zero, std::size_t nq) {
  require(bits == 4 || bits == 8, Code::ModelFormat, c->name + ": bits must be 4 or 8");
  init_layout(c, bits, group);
  require(c->q.group == group, Code::ModelFormat, c->name + ": group size does not divide the input channels");
  QWeights& q = c->q;
  const std::size_t row = bits == 4 ? static_cast<std::size_t>(q.K + 1) / 2 : static_cast<std::size_t>(q.K);
  require(canon_len == row * c->O, Code::ModelFormat, c->name + ".qweight has the wrong size");
  require(nq == static_cast<std::size_t>(c->O) * q.ng, Code::ModelFormat, c->name + ".wscale/.wzero have the wrong size");
  std::vector<uint8_t> codes(static_cast<std::size_t>(c->O) * q.K);
  for (int o = 0; o < c->O; ++o) {
    const uint8_t* r = canon + o * row;
    for (int k = 0; k < q.K; ++k) codes[static_cast<std::size_t>(o) * q.K + k] = bits == 8 ? r[k] : static_cast<uint8_t>(unpack_int4(r, k));
    if (bits == 4 && (q.K & 1)) require((r[row - 1] >> 4) == 0, Code::ModelFormat, c->name + ": padding nibble of an odd row is not 0");
  }
  for (std::size_t i = 0; i < nq; ++i) {
    require(std::isfinite(scale[i]) && scale[i] > 0, Code::ModelFormat, c->name + ".wscale must be finite and positive");
    require(std::nearbyint(zero[i]) == zero[i] && std::fabs(zero[i]) <= 1048576.f, Code::ModelFormat,
            c->name + ".wzero must hold integers with |z| <= 2^20");
  }
  q.scale.assign(scale, scale + nq);
  q.zero.assign(zero, zero + nq);
  finish_codes(c, codes);
  q.deq = dequantized(*c);
}

std::vector<uint8_t> canonical_codes(const Conv& c) {
  const std::vector<uint8_t> codes = kernel_to_codes(c);
  const int K = c.q.K;
  if (c.q.bits == 8) return codes;
  const std::size_t row = static_cast<std::size_t>(K + 1) / 2;
  std::vector<uint8_t> out(row * c.O, 0);
  for (int o = 0; o < c.O; ++o)
    for (int k = 0; k < K; ++k) {
      uint8_t& b = out[o * row + k / 2];
      b = static_cast<uint8_t>(b | (k & 1 ? codes[static_cast<std::size_t>(o) * K + k] << 4 : codes[static_cast<std::size_t>(o) * K + k]));
    }
  return out;
}

void fill_cache(Model* m, const std::vector<int64_t>& steps) {
  QuantState& q = *m->quant;
  q.cache_t.clear();
  for (int64_t t : steps)
    if (std::find(q.cache_t.begin(), q.cache_t.end(), t) == q.cache_t.end()) q.cache_t.push_back(t);
  const Tensor f = temporal_features(*m, q.cache_t);
  q.cache = f.d;
}

void calibrate(Model* m, const float* xs, int S, int n, int H, int W, const std::vector<int64_t>& steps,
               int init_samples, int batch, uint64_t seed, float act_search_p, const Control& ctl) {
  QuantState& q = *m->quant;
  const int C = m->cfg.in_ch;
  const std::size_t img = static_cast<std::size_t>(C) * H * W;
  q.steps = steps;
  q.act_scale.assign(static_cast<std::size_t>(S) * q.n_act, 1.f);
  q.act_zero.assign(static_cast<std::size_t>(S) * q.n_act, 0);
  std::mt19937_64 rng(seed);
  for (int s = 0; s < S; ++s) {
    std::vector<ActStat> stats(q.n_act);
    for (ActStat& st : stats) st.keep_sample = act_search_p > 0;
    CalibHooks hooks;
    hooks.stats = &stats;
    ForwardOpts o;
    o.mode = Mode::Calibrate;
    o.calib = &hooks;
    o.ctl = ctl;
    const float* xs_s = xs + static_cast<std::size_t>(s) * n * img;
    auto run = [&](const std::vector<int>& idx) {
      Tensor x(static_cast<int>(idx.size()), C, H, W);
      for (std::size_t i = 0; i < idx.size(); ++i) std::copy(xs_s + idx[i] * img, xs_s + (idx[i] + 1) * img, x.img(static_cast<int>(i)));
      (void)forward(*m, x, std::vector<int64_t>(idx.size(), steps[s]), o);
    };
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    hooks.ema = false;
    run(std::vector<int>(perm.begin(), perm.begin() + std::min(init_samples, n)));
    std::shuffle(perm.begin(), perm.end(), rng);
    hooks.ema = true;
    for (int b0 = 0; b0 < n; b0 += batch) run(std::vector<int>(perm.begin() + b0, perm.begin() + std::min(n, b0 + batch)));
    // each quantizer's search is serial over its own subsample: the result does not depend on
    // the thread count
    if (act_search_p > 0) parallel_for(stats.size(), [&](std::size_t a) { act_search(&stats[a], act_search_p); });
    for (int a = 0; a < q.n_act; ++a) {
      q.act_scale[static_cast<std::size_t>(s) * q.n_act + a] = stats[a].delta;
      q.act_zero[static_cast<std::size_t>(s) * q.n_act + a] = static_cast<uint8_t>(stats[a].zero);
    }
    ctl.progress(s + 1, S);
    ctl.check();
  }
}

ForwardOpts predict_options(const Model& m, int mode, int64_t t, std::vector<float>* zero) {
  ForwardOpts o;
  if (mode == 0) {
    o.mode = Mode::Fp;
    return o;
  }
  require(m.quant != nullptr, Code::InvalidArg, "the model is not quantized");
  o.mode = mode == 1 ? Mode::Integer : Mode::FakeQuant;
  bool nearest = false;
  const int row = step_row(*m.quant, t, &nearest);
  require(row >= 0, Code::ModelFormat, "the quantized model has no calibrated steps");
  if (nearest) m.quant->step_misses.fetch_add(1);
  const int A = m.quant->n_act;
  o.act_scale = m.quant->act_scale.data() + static_cast<std::size_t>(row) * A;
  zero->resize(A);
  for (int a = 0; a < A; ++a) (*zero)[a] = m.quant->act_zero[static_cast<std::size_t>(row) * A + a];
  o.act_zero = zero->data();
  return o;
}

int step_row(const QuantState& q, int64_t t, bool* nearest) {
  *nearest = false;
  for (std::size_t s = 0; s < q.steps.size(); ++s)
    if (q.steps[s] == t) return static_cast<int>(s);
  // nearest t, ties to the smaller t (docs/design/unet.md §7.4)
  int best = -1;
  for (std::size_t s = 0; s < q.steps.size(); ++s) {
    if (best < 0) {
      best = static_cast<int>(s);
      continue;
    }
    const int64_t d = std::llabs(q.steps[s] - t), db = std::llabs(q.steps[best] - t);
    if (d < db || (d == db && q.steps[s] < q.steps[best])) best = static_cast<int>(s);
  }
  *nearest = true;
  return best;
}

void drop_fp_weights(Model* m) {
  for (Conv* c : m->layers()) {
    if (c->q.bits != 4 && c->q.bits != 8) continue;
    std::vector<float>().swap(c->w);
    std::vector<float>().swap(c->q.deq);  // recomputed from the codes when used (apply(), CUDA upload)
  }
}

bool is_tib_layer(const Model& m, const Conv& c) {
  if (&c == &m.lin1 || &c == &m.lin2) return true;
  for (const Resnet* r : m.tib)
    if (&c == &r->temb) return true;
  return false;
}

void store_fp_f16(Model* m) {
  m->quant->fp_f16 = true;
  for (Conv* c : m->layers()) {
    if (c->q.bits != 0 || is_tib_layer(*m, *c) || c->w.empty()) continue;
    c->pack.reset();
    c->w16.resize(c->w.size());
    for (std::size_t i = 0; i < c->w.size(); ++i) c->w16[i] = f32_to_f16(c->w[i]);
    std::vector<float>().swap(c->w);
  }
}

std::vector<float> fp_weights_f32(const Conv& c) {
  if (c.w16.empty()) return c.w;
  std::vector<float> w(c.w16.size());
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = f16_to_f32(c.w16[i]);
  return w;
}

void drop_tib_weights(Model* m) {
  m->quant->tib_weights = false;
  for (Conv* c : m->layers()) {
    if (!is_tib_layer(*m, *c)) continue;
    c->pack.reset();
    std::vector<float>().swap(c->w);
    std::vector<float>().swap(c->b);
  }
}

MemoryUse memory_use(const Model& m) {
  MemoryUse u;
  auto gn = [&](const GroupNorm& g) { u.fp_bytes += 8 * g.C; u.fp32_equiv_bytes += 8 * g.C; };
  for (const Conv* c : m.layers()) {
    const std::size_t nw = static_cast<std::size_t>(c->O) * c->I * c->KH * c->KW;
    u.fp32_equiv_bytes += 4 * (nw + c->b.size());
    u.fp_bytes += 4 * (c->w.size() + c->b.size() + c->q.deq.size()) + 2 * c->w16.size();
    u.code_bytes += c->q.kern.size();
    u.pack_bytes += c->pack.bytes();
    if (!c->q.kern.empty()) u.int_fp32_bytes += 4 * nw;
    u.qparam_bytes += 4 * (c->q.scale.size() + c->q.zero.size() + c->q.wsum.size());
  }
  auto res = [&](const Resnet& r) { gn(r.norm1); gn(r.norm2); };
  for (const Block& b : m.down) { for (const Resnet& r : b.resnets) res(r); for (const Attn& a : b.attns) gn(a.norm); }
  for (const Block& b : m.up) { for (const Resnet& r : b.resnets) res(r); for (const Attn& a : b.attns) gn(a.norm); }
  if (m.has_mid) { for (const Resnet& r : m.mid.resnets) res(r); for (const Attn& a : m.mid.attns) gn(a.norm); }
  gn(m.norm_out);
  if (m.quant) u.cache_bytes = 4 * m.quant->cache.size() + 4 * m.quant->act_scale.size() + m.quant->act_zero.size();
  return u;
}

void require_tib_weights(const Model& m, const std::vector<int64_t>& t) {
  if (!m.lin1.w.empty()) return;
  std::string ts;
  for (std::size_t i = 0; i < t.size() && i < 8; ++i) ts += (i ? ", " : "") + std::to_string(t[i]);
  throw Error(Code::InvalidArg, "timestep " + ts + (t.size() > 8 ? ", ..." : "") +
                                    " is not in the temporal-feature cache of this cache-only model (tib_weights 'none'); "
                                    "sample on the calibrated timesteps or quantize with tibWeights 'f32'");
}

std::unique_ptr<Model> clone_model(const Model& m) {
  auto c = std::make_unique<Model>();
  c->cfg = m.cfg;
  c->conv_in = m.conv_in;
  c->lin1 = m.lin1;
  c->lin2 = m.lin2;
  c->conv_out = m.conv_out;
  c->norm_out = m.norm_out;
  c->down = m.down;
  c->up = m.up;
  c->mid = m.mid;
  c->has_mid = m.has_mid;
  c->index_structure();
  if (m.quant) {
    c->quant = std::make_unique<QuantState>();
    QuantState& d = *c->quant;
    const QuantState& s = *m.quant;
    d.weight_bits = s.weight_bits;
    d.tib_weights = s.tib_weights;
    d.fp_f16 = s.fp_f16;
    d.act_bits = s.act_bits;
    d.group = s.group;
    d.n_act = s.n_act;
    d.act_names = s.act_names;
    d.steps = s.steps;
    d.act_scale = s.act_scale;
    d.act_zero = s.act_zero;
    d.cache_t = s.cache_t;
    d.cache = s.cache;
  }
  return c;
}


bool is_linear_layer(const Conv& c) {
  const auto has = [&](const char* part) { return c.name.find(part) != std::string::npos; };
  return c.KH == 1 && c.KW == 1 && (has("to_") || has("time_emb") || has("linear_"));
}

std::vector<int> file_shape(const Conv& c) {
  return is_linear_layer(c) ? std::vector<int>{c.O, c.I} : std::vector<int>{c.O, c.I, c.KH, c.KW};
}

std::vector<float> cached_features(const Model& m, const std::vector<int64_t>& t) {
  if (!m.quant) throw Error(Code::InvalidArg, "the model is not quantized");
  const std::vector<int64_t>& ct = m.quant->cache_t;
  std::vector<float> out;
  out.reserve(t.size() * static_cast<std::size_t>(m.tib_width));
  for (int64_t s : t) {
    const auto it = std::find(ct.begin(), ct.end(), s);
    if (it == ct.end()) throw Error(Code::InvalidArg, "timestep " + std::to_string(s) + " is not cached");
    const float* src = m.quant->cache.data() + static_cast<std::size_t>(it - ct.begin()) * m.tib_width;
    out.insert(out.end(), src, src + m.tib_width);
  }
  return out;
}

std::unique_ptr<Model> quantize_model(const Model& src, const QuantizeOptions& o, const float* xs, int S, int n, int H, int W,
                                      const std::vector<int64_t>& steps, const Control& ctl) {
  std::unique_ptr<Model> m = clone_model(src);
  m->quant = std::make_unique<QuantState>();
  m->quant->weight_bits = o.bits;
  m->quant->group = o.group;
  m->quant->act_names = plan_layers(m.get());
  m->quant->n_act = static_cast<int>(m->quant->act_names.size());
  if (o.fp_f16) store_fp_f16(m.get());  // before calibration: it sees the FP layers as deployed
  quantize_weights(m.get(), o.bits, o.group, ctl);
  fill_cache(m.get(), steps);
  calibrate(m.get(), xs, S, n, H, W, steps, o.init_samples, o.batch, o.seed, o.act_search_p, ctl);
  drop_fp_weights(m.get());
  if (!o.keep_tib) drop_tib_weights(m.get());
  return m;
}

void check_loaded_layers(const Model& m, bool cache_only) {
  for (const Conv* c : m.layers()) {
    if (c->q.bits == -1) throw Error(Code::ModelFormat, "integer layer " + c->name + " has no codes in the file");
    // a placeholder that was not an integer layer would leave an FP layer without weights
    if (c->q.bits == 0 && c->w.empty() && !(cache_only && is_tib_layer(m, *c)))
      throw Error(Code::ModelFormat, "layer " + c->name + " has no weights");
  }
}

void set_act_params(QuantState* q, std::vector<int64_t> steps, const float* scale, std::size_t n_scale, const uint8_t* zero,
                    std::size_t n_zero) {
  if (n_scale != steps.size() * q->n_act || n_zero != n_scale) throw Error(Code::ModelFormat, "act.scale / act.zero must be [S, A]");
  for (std::size_t i = 0; i < n_scale; ++i)
    if (!(std::isfinite(scale[i]) && scale[i] > 0)) throw Error(Code::ModelFormat, "act.scale must hold finite positive values");
  q->steps = std::move(steps);
  q->act_scale.assign(scale, scale + n_scale);
  q->act_zero.assign(zero, zero + n_zero);
}

void set_cache(Model* m, std::vector<int64_t> t, const float* features, std::size_t n) {
  if (n != t.size() * static_cast<std::size_t>(m->tib_width))
    throw Error(Code::ModelFormat, "temporal.features must be [U, " + std::to_string(m->tib_width) + "]");
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(features[i])) throw Error(Code::ModelFormat, "temporal.features must hold finite values");
  m->quant->cache_t = std::move(t);
  m->quant->cache.assign(features, features + n);
}

}  // namespace unet
}  // namespace itk

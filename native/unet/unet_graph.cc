// The forward graph of a UNet2DModel (docs/design/unet.md §4 and §4.1): the diffusers walk, once.
#include "unet_graph.h"

#include <algorithm>

#include "../core/error.h"
#include "unet_model.h"

namespace itk {
namespace unet {

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::Temporal: return "temporal";
    case OpKind::Center: return "center";
    case OpKind::Conv: return "conv";
    case OpKind::NormConv: return "norm_conv";
    case OpKind::NormQkv: return "norm_qkv";
    case OpKind::AttentionCore: return "attention_core";
    case OpKind::Residual: return "residual";
    case OpKind::Concat: return "concat";
    case OpKind::UpsampleConv: return "upsample_conv";
    case OpKind::Tap: return "tap";
    case OpKind::Checkpoint: return "checkpoint";
  }
  return "?";
}

namespace {

// Appends ops and hands out value slots; finish() computes each value's last use.
class Builder {
 public:
  Builder() { g_.input = fresh(); }

  int graph_input() const { return g_.input; }
  void temporal() { push(OpKind::Temporal); }
  void center(int x) { push(OpKind::Center).in[0] = x; }
  void checkpoint() { push(OpKind::Checkpoint); }
  void tap(const char* name, int x) {
    Op& op = push(OpKind::Tap);
    op.in[0] = x;
    op.tap = name;
  }

  int conv(const Conv& c, int x, int tf = -1) {
    Op& op = push(OpKind::Conv);
    op.in[0] = x;
    op.conv[0] = &c;
    op.tf = tf;
    return op.out[0] = fresh();
  }
  int norm_conv(const GroupNorm& gn, bool silu, const Conv& c, int x, int tf = -1) {
    Op& op = push(OpKind::NormConv);
    op.in[0] = x;
    op.norm = &gn;
    op.silu = silu;
    op.conv[0] = &c;
    op.tf = tf;
    return op.out[0] = fresh();
  }
  int upsample_conv(const Conv& c, int x) {
    Op& op = push(OpKind::UpsampleConv);
    op.in[0] = x;
    op.conv[0] = &c;
    return op.out[0] = fresh();
  }
  int concat(int a, int b) {
    Op& op = push(OpKind::Concat);
    op.in[0] = a;
    op.in[1] = b;
    return op.out[0] = fresh();
  }
  int residual(int a, int b, float scale) {
    Op& op = push(OpKind::Residual);
    op.in[0] = a;
    op.in[1] = b;
    op.scale = scale;
    return op.out[0] = a;
  }

  // §4 ResnetBlock2D: conv1's epilogue adds X_{t,tf}; out = (shortcut(x) + h)/osf.
  int resnet(const Resnet& r, int x, int tf) {
    int h = norm_conv(r.norm1, true, r.conv1, x, tf);
    h = norm_conv(r.norm2, true, r.conv2, h);
    if (!r.has_shortcut) return residual(h, x, r.osf);  // (h + x)/s: the bits of (x + h)/s
    return residual(conv(r.shortcut, x), h, r.osf);
  }

  // §4 attention block: out = (to_out(attention(q, k, v)) + x)/rescale.
  int attention(const Attn& a, int x) {
    Op& qkv = push(OpKind::NormQkv);
    qkv.in[0] = x;
    qkv.norm = &a.norm;
    qkv.conv[0] = &a.q;
    qkv.conv[1] = &a.k;
    qkv.conv[2] = &a.v;
    for (int& o : qkv.out) o = fresh();
    const int q = qkv.out[0], k = qkv.out[1], v = qkv.out[2];  // qkv is invalid after the next push
    Op& core = push(OpKind::AttentionCore);
    core.in[0] = q;
    core.in[1] = k;
    core.in[2] = v;
    core.head_dim = a.head_dim;
    const int att = core.out[0] = fresh();
    return residual(conv(a.out, att), x, a.rescale);
  }

  Graph finish(int output) {
    g_.output = output;
    std::vector<int> last(static_cast<std::size_t>(g_.values), -1);
    for (std::size_t i = 0; i < g_.ops.size(); ++i)
      for (int s : slots(g_.ops[i])) last[s] = static_cast<int>(i);
    for (int s = 0; s < g_.values; ++s)
      if (s != output && last[s] >= 0) g_.ops[last[s]].release.push_back(s);
    const std::string bad = check_graph(g_);
    if (!bad.empty()) throw Error(Code::Internal, "unet graph: " + bad);
    return std::move(g_);
  }

  // Every value an op reads or writes.
  static std::vector<int> slots(const Op& op) {
    std::vector<int> s;
    for (int v : op.in)
      if (v >= 0) s.push_back(v);
    for (int v : op.out)
      if (v >= 0) s.push_back(v);
    return s;
  }

 private:
  Op& push(OpKind k) {
    g_.ops.emplace_back();
    g_.ops.back().kind = k;
    return g_.ops.back();
  }
  int fresh() { return g_.values++; }
  Graph g_;
};

}  // namespace

Graph build_graph(const Model& m) {
  const Config& cfg = m.cfg;
  Builder g;
  g.temporal();
  int h = g.graph_input();
  if (cfg.center) g.center(h);
  h = g.conv(m.conv_in, h);
  std::vector<int> skips{h};  // §4 "Blocks": conv_in's output is the first skip
  int tf = 0;                 // resnets in TIB order: down, mid, up (Model::index_structure)
  for (const Block& b : m.down) {
    for (std::size_t j = 0; j < b.resnets.size(); ++j) {
      h = g.resnet(b.resnets[j], h, tf++);
      if (j < b.attns.size()) h = g.attention(b.attns[j], h);
      skips.push_back(h);
    }
    if (b.has_resample) {
      h = g.conv(b.resample, h);
      skips.push_back(h);
    }
    g.checkpoint();
  }
  if (m.has_mid) {
    h = g.resnet(m.mid.resnets[0], h, tf++);
    if (!m.mid.attns.empty()) h = g.attention(m.mid.attns[0], h);
    h = g.resnet(m.mid.resnets[1], h, tf++);
    g.tap("mid_block", h);
  }
  for (const Block& b : m.up) {
    for (std::size_t j = 0; j < b.resnets.size(); ++j) {
      const int s = skips.back();
      skips.pop_back();
      h = g.resnet(b.resnets[j], g.concat(h, s), tf++);
      if (j < b.attns.size()) h = g.attention(b.attns[j], h);
    }
    if (b.has_resample) h = g.upsample_conv(b.resample, h);
    g.checkpoint();
  }
  h = g.norm_conv(m.norm_out, true, m.conv_out, h);
  return g.finish(h);
}

std::string check_graph(const Graph& g) {
  // state: 0 undefined, 1 live, 2 released
  std::vector<int> state(static_cast<std::size_t>(g.values), 0);
  if (g.input < 0 || g.input >= g.values || g.output < 0 || g.output >= g.values) return "input or output out of range";
  state[g.input] = 1;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const std::string at = std::string(op_name(op.kind)) + " op " + std::to_string(i);
    for (int v : op.in) {
      if (v < -1 || v >= g.values) return at + " reads value " + std::to_string(v) + " out of range";
      if (v >= 0 && state[v] != 1) return at + " reads value " + std::to_string(v) + (state[v] ? " after its release" : " before it is defined");
    }
    for (int v : op.out) {
      if (v < -1 || v >= g.values) return at + " writes value " + std::to_string(v) + " out of range";
      if (v < 0) continue;
      const bool in_place = op.kind == OpKind::Residual && v == op.in[0];
      if (op.kind == OpKind::Residual && !in_place) return at + " must write its first input";
      if (!in_place && state[v] != 0) return at + " redefines value " + std::to_string(v);
      state[v] = 1;
    }
    for (int v : op.release) {
      if (v < 0 || v >= g.values || state[v] != 1) return at + " releases value " + std::to_string(v) + " that is not live";
      if (v == g.output) return at + " releases the output";
      state[v] = 2;
    }
  }
  if (state[g.output] != 1) return "the output is not defined";
  for (int v = 0; v < g.values; ++v)
    if (v != g.output && state[v] == 1) return "value " + std::to_string(v) + " is never released";
  return "";
}

}  // namespace unet
}  // namespace itk

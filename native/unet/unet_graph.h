// The UNet forward as one list of ops (docs/design/unet.md §4.1), built once per model from its
// config and layers, and run by each backend: the CPU's in unet_forward.cc, the GPU's in
// cuda/unet_forward.cu. The walk of diffusers' UNet2DModel (block order, skips, resnet and
// attention wiring) is written here only; a backend says how it runs each kind of op. Adding an op
// or a fusion is an OpKind, a line of the builder, and one method per backend (run_graph's switch
// makes a missing method a compile error), as ggml's graph and backends do.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace itk {
namespace unet {

struct Conv;
struct GroupNorm;
struct Model;

enum class OpKind : uint8_t {
  Temporal,       // the per-resnet temporal features X_{t,i} (§4 "Time embedding"; §7.2 cache)
  Center,         // v[in0] = 2·v[in0] − 1 in place (center_input_sample)
  Conv,           // v[out0] = conv(conv0, v[in0]) (+ X_{t,tf} per channel when tf ≥ 0)
  NormConv,       // v[out0] = conv(conv0, SiLU?(GroupNorm(v[in0]))) (+ X_{t,tf}); GN may fuse into the quantizer
  NormQkv,        // v[out0..2] = to_q, to_k, to_v of GroupNorm(v[in0]), one input quantizer for all three (§7.4)
  AttentionCore,  // v[out0] = per head softmax(Q Kᵀ/√d) V of (v[in0], v[in1], v[in2])
  Residual,       // v[in0] = (v[in0] + v[in1]) / scale in place; out0 = in0
  Concat,         // v[out0] = [v[in0], v[in1]] along channels (up blocks: h, then the skip)
  UpsampleConv,   // v[out0] = conv(conv0, nearest ×2 (v[in0])); the quantizer may run before the upsampling
  Tap,            // debug tap of v[in0] under `tap` (CPU only)
  Checkpoint,     // between blocks: an abort takes effect here
};

// Name of a kind ("conv", "norm_conv", ...), for tests and profiles.
const char* op_name(OpKind k);

// One op: values are slots 0 .. Graph::values − 1; -1 marks an unused operand.
struct Op {
  OpKind kind = OpKind::Checkpoint;
  int in[3] = {-1, -1, -1};
  int out[3] = {-1, -1, -1};
  const Conv* conv[3] = {nullptr, nullptr, nullptr};  // conv0 (to_q, to_k, to_v for NormQkv)
  const GroupNorm* norm = nullptr;
  bool silu = false;
  int tf = -1;       // index of the resnet (TIB order) whose temporal feature conv0's epilogue adds
  float scale = 1.f;  // Residual: the divisor (output_scale_factor, rescale_output_factor)
  int head_dim = 0;   // AttentionCore
  const char* tap = nullptr;
  std::vector<int> release;  // values whose last use is this op: a backend frees them after it
};

struct Graph {
  std::vector<Op> ops;
  int values = 0;
  int input = 0;   // the backend sets this value to its copy of x before the first op
  int output = -1;
};

// The forward graph of m's structure. Ops point at m's layers, so the graph lives with m
// (Model::graph, rebuilt by Model::index_structure). Throws Internal if the result breaks an
// invariant of check_graph.
Graph build_graph(const Model& m);

// "" or the first broken invariant: every value defined once before its uses, never read after its
// release, released once unless it is the output; a Residual's output is its first input.
std::string check_graph(const Graph& g);

// Runs every op of g on backend `be` in order, then frees the values whose last use it was.
// Backend methods: temporal, center, conv, norm_conv, norm_qkv, attention_core, residual, concat,
// upsample_conv, tap, checkpoint (each taking the Op), and release(value).
template <class Backend>
void run_graph(const Graph& g, Backend& be) {
  for (const Op& op : g.ops) {
    switch (op.kind) {
      case OpKind::Temporal: be.temporal(op); break;
      case OpKind::Center: be.center(op); break;
      case OpKind::Conv: be.conv(op); break;
      case OpKind::NormConv: be.norm_conv(op); break;
      case OpKind::NormQkv: be.norm_qkv(op); break;
      case OpKind::AttentionCore: be.attention_core(op); break;
      case OpKind::Residual: be.residual(op); break;
      case OpKind::Concat: be.concat(op); break;
      case OpKind::UpsampleConv: be.upsample_conv(op); break;
      case OpKind::Tap: be.tap(op); break;
      case OpKind::Checkpoint: be.checkpoint(op); break;
    }
    for (int v : op.release) be.release(v);
  }
}

}  // namespace unet
}  // namespace itk

// A diffusers UNet2DModel held in memory: config, layers, optional quantization state, and the
// forward pass of docs/design/unet.md (FP32) and docs/design/unet.md (W8A8/W4A8, TFMQ-style).
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../core/control.h"
#include "unet_graph.h"
#include "unet_tensor.h"

namespace itk {
namespace unet {

// Resolved config (diffusers defaults already applied by lib/unet/config.ts).
struct Config {
  int in_ch = 3, out_ch = 3;
  bool center = false, flip = true;
  float freq_shift = 0.f;
  int time_dim = 0;  // E
  std::vector<int> boc;
  std::vector<bool> down_attn, up_attn;
  bool mid = true, mid_attn = true;
  int layers = 2;  // L
  float mid_scale = 1.f;
  int down_pad = 1;
  int head_dim = 0;  // 0: one head per block
  int groups = 32, attn_groups = 32;
  float eps = 1e-5f;
};

// Integer weights of one layer (docs/design/unet.md): codes in OHWI order, one (Δ, z) per (row, group).
struct QWeights {
  int bits = 0;         // 0: not quantized
  int group = 0;        // group size along K (0: per channel, one group of K)
  int K = 0, Kp = 0;    // K and K padded to a multiple of 32 (one kernel block)
  int ng = 1;           // groups per row
  std::vector<uint8_t> canon;  // canonical file layout: [O, ceil(K/2)] (4-bit) or [O, K] (8-bit)
  std::vector<uint8_t> kern;   // kernel layout: 8-bit codes [O, Kp]; 4-bit: 32-code blocks, j/j+16 nibble pairs
  std::vector<float> scale, zero;  // [O, ng]
  std::vector<int32_t> wsum;       // Σ codes per (row, group)
  std::vector<float> deq;          // dequantized weights, [O, I, KH, KW] (fake-quant and FP-input use)
};

// Kernel-layout weights of one layer, built once on its first CPU use and kept (docs/design/unet.md
// §9): `fp` the FP32 micro-kernel blocks (unet_ops.h pack_weights) of the weights the layer computes
// with in FP math (w, w16 widened, or its dequantized codes), `s8` the VNNI quads (qdot.h qpack_s8)
// of a per-channel integer layer. Packing per forward cost a pass over every weight per call. A
// copy starts empty and every change of a layer's weights calls reset(), so a cache never outlives
// the values it was built from. Guarded by a mutex: concurrent forwards of one model share it.
struct PackCache {
  std::mutex mu;
  std::shared_ptr<const std::vector<float>> fp;
  std::shared_ptr<const std::vector<int8_t>> s8;
  PackCache() = default;
  PackCache(const PackCache&) {}
  PackCache& operator=(const PackCache&) {
    reset();
    return *this;
  }
  void reset() {
    std::lock_guard<std::mutex> l(mu);
    fp.reset();
    s8.reset();
  }
  std::size_t bytes() {
    std::lock_guard<std::mutex> l(mu);
    return (fp ? fp->size() * sizeof(float) : 0) + (s8 ? s8->size() : 0);
  }
};

// A convolution (linear layers are 1×1 convolutions on NCHW tensors, H = W = 1 for vectors).
struct Conv {
  std::string name;
  int O = 0, I = 0, KH = 1, KW = 1, stride = 1;
  int pad = 0;        // symmetric padding
  bool pad_br = false;  // diffusers downsample_padding=0: zero-pad right/bottom by 1 first
  std::vector<float> w, b;  // w: [O, I, KH, KW]
  std::vector<uint16_t> w16;  // fp_weights 'f16' (docs/design/unet.md): an FP layer's w held as binary16 (w empty), widened per use
  QWeights q;
  int act = -1;  // activation quantizer column (docs/design/unet.md), -1: FP input
  mutable PackCache pack;  // kernel layouts built on first use (reset whenever w, w16, q change)
};

struct GroupNorm {
  std::string name;
  int C = 0, G = 1;
  float eps = 1e-5f;
  std::vector<float> gamma, beta;
};

struct Resnet {
  std::string prefix;
  GroupNorm norm1, norm2;
  Conv conv1, conv2, temb, shortcut;
  bool has_shortcut = false;
  float osf = 1.f;
  int tib_offset = 0;  // offset of this block's temporal feature in the TIB vector
};

struct Attn {
  std::string prefix;
  GroupNorm norm;
  Conv q, k, v, out;
  int head_dim = 0;
  float rescale = 1.f;
};

struct Block {
  std::vector<Resnet> resnets;
  std::vector<Attn> attns;
  bool has_resample = false;
  Conv resample;
};

// Per-step activation quantization parameters and the TFMQ temporal-feature cache (docs/design/unet.md).
struct QuantState {
  int weight_bits = 4, act_bits = 8, group = 0;
  bool tib_weights = true;  // false: tib_weights 'none' (docs/design/unet.md), cache-only, a miss is an error
  bool fp_f16 = false;      // fp_weights 'f16' (docs/design/unet.md): FP-kept layers' weights held in binary16
  int n_act = 0;                      // activation quantizer count A
  std::vector<std::string> act_names;  // column order
  std::vector<int64_t> steps;          // calibrated t per step ordinal
  std::vector<float> act_scale;        // [S, A]
  std::vector<uint8_t> act_zero;       // [S, A]
  std::vector<int64_t> cache_t;        // exact cache keys
  std::vector<float> cache;            // [U, tib_width]
  mutable std::atomic<uint64_t> cache_misses{0};
  mutable std::atomic<uint64_t> step_misses{0};
};

// How a forward call treats quantized layers.
enum class Mode {
  Fp,         // FP32 everywhere (also for a quantized model's reference)
  Integer,    // integer kernels with the step's activation parameters
  FakeQuant,  // quantize-dequantize then FP32 math (defines the expected integer output)
  Calibrate,  // FakeQuant while quantizers update their ranges (docs/design/unet.md)
};

// Running range of one activation quantizer during calibration.
struct ActStat {
  bool init = false;
  float m = 0, M = 0, delta = 1, zero = 0;
  // actRange 'search' (docs/design/unet.md): a bounded, strided subsample of every EMA-phase tensor, kept
  // for the end-of-step shrink search (unet_calib.h act_search). Empty under 'minmax'.
  bool keep_sample = false;
  std::vector<float> sample;
};

struct CudaModel;  // device-resident weights (native/unet/cuda/unet_forward.cu), created on the first CUDA call

struct Model {
  Config cfg;
  Conv conv_in, lin1, lin2, conv_out;
  GroupNorm norm_out;
  std::vector<Block> down, up;
  Block mid;  // resnets[0..1], attns[0..1]
  bool has_mid = true;
  int tib_width = 0;
  std::vector<Resnet*> tib;  // resnets in TIB order
  Graph graph;               // the forward as ops over this model's layers (unet_graph.h)
  std::unique_ptr<QuantState> quant;
  mutable std::shared_ptr<CudaModel> cuda;  // freed with the model (type-erased deleter)

  // Every conv/linear in a fixed order (for quantization, export, sizes).
  std::vector<Conv*> layers();
  std::vector<const Conv*> layers() const;
  // Indexes the structure once the layers are in place: the TIB order and offsets, and the forward
  // graph (whose ops point at the layers, so a copied model indexes its own).
  void index_structure();
};

// Plausibility limits of a config. lib/unet/config.ts (CONFIG_LIMITS) checks the same numbers
// first with messages naming the config key; these guard direct callers of the native layer. The
// limits keep every count and index of the walk and the kernels inside int32, and the parameter
// cap keeps a hostile config from allocating more than a real UNet2DModel (the largest diffusers
// ones hold well under 1 GiB of FP32 weights).
constexpr int kMaxBlocks = 8;
constexpr int kMaxLayersPerBlock = 32;
constexpr int kMaxChannels = 16384;
constexpr int kMaxTimeDim = 4 * kMaxChannels;
constexpr double kMaxParamBytes = 4294967296.0;  // FP32 bytes of all weights, biases and norms
constexpr float kMinNormEps = 1e-12f, kMaxNormEps = 1.0f;
constexpr float kMinScaleFactor = 1e-3f, kMaxScaleFactor = 1e3f;

// Throws ModelFormat unless cfg is within the limits above: block counts, channel and layer
// ranges, norm groups and head sizes dividing their channels, finite positive eps and
// mid_block_scale_factor, and a time-embedding denominator (C0/2 − freq_shift) above zero (the
// sinusoid frequencies then stay in (0, 1], finite for every timestep).
void validate_config(const Config& cfg);

// One tensor the config implies: canonical name and shape; `tib` marks the Temporal Information
// Block (time MLP, every time_emb_proj), which a cache-only quantized file does not hold.
struct TensorSpec {
  std::string name;
  std::vector<int> shape;
  bool tib = false;
};

// Options of build_model.
struct BuildOptions {
  // Tensors of the TIB may be absent (tib_weights 'none', docs/design/unet.md): their layers stay empty.
  bool allow_tib_absent = false;
  // Refuse configs above kMaxParamBytes before anything is allocated (off only for plan_model,
  // whose caller reports the cap with the config's numbers).
  bool enforce_cap = true;
};

// Builds a model from named FP32 tensors (canonical diffusers names). Throws ModelFormat on an
// implausible config (validate_config), a missing tensor or a wrong shape, listing the offenders;
// nothing is allocated for a missing or mis-shaped tensor. A tensor with a shape and no data is a
// placeholder: the layer is built empty (integer layers whose codes come from a quantized file).
std::unique_ptr<Model> build_model(const Config& cfg, const std::map<std::string, Tensor>& tensors,
                                   const BuildOptions& o = BuildOptions());

// What a config implies, checked against the shapes a file holds, without allocating weights.
struct Plan {
  std::vector<TensorSpec> tensors;  // every tensor the model reads, in build order
  double param_bytes = 0;           // FP32 bytes of all of them
  std::string mismatch;             // "" or the missing / mis-shaped tensors, as build_model reports them
  std::unique_ptr<Model> shell;     // the model's structure with empty weights (layer plan, TIB)
};

// Validates cfg and walks the model against `shapes` (tensors given by shape only); the parameter
// cap is left to the caller. Throws ModelFormat only for an implausible config.
Plan plan_model(const Config& cfg, const std::map<std::string, std::vector<int>>& shapes, bool allow_tib_absent);

// Calibration hooks the forward pass calls at every activation quantizer when mode is Calibrate.
struct CalibHooks {
  std::vector<ActStat>* stats = nullptr;
  bool ema = false;  // false: initialise from the first tensor seen (MSE search); true: EMA + Min-Max
};

// Options of one forward call.
// Arithmetic of the FP convolutions on the GPU (docs/unet.md "fpPrecision"): Fp32 sums products
// one by one in the CPU's order (bit-identical convs, whole model within 1e-5 of the CPU); Tf32 and
// Bf16 round both operands to TF32 / bfloat16 and multiply on tensor cores with FP32 accumulation.
// The CPU always computes in FP32 and ignores it.
enum class FpPrecision { Fp32 = 0, Tf32 = 1, Bf16 = 2 };

struct ForwardOpts {
  Mode mode = Mode::Fp;
  FpPrecision fp_precision = FpPrecision::Fp32;  // FP convs on CUDA only
  int step = -1;                  // activation-parameter row, resolved by the caller (quantized modes)
  const float* act_scale = nullptr;  // [A] Δ per activation quantizer (Integer/FakeQuant)
  const float* act_zero = nullptr;   // [A] z per activation quantizer (integer-valued floats)
  CalibHooks* calib = nullptr;
  bool use_cache = true;
  std::map<std::string, Tensor>* taps = nullptr;
  Control ctl;
  bool cuda = false;  // run on the CUDA device (unet_cuda.h); taps and Calibrate stay on the CPU
};

// True when c holds W4/W8 integer weights.
inline bool qint(const Conv& c) { return c.q.bits == 4 || c.q.bits == 8; }

// True when c reads u8 activation codes in a forward with options o: integer mode, integer weights
// and an 8-bit input quantizer. Both backends then fuse that quantizer into the op before c
// (GroupNorm, upsampling) instead of writing an FP32 tensor for it.
inline bool int_input(const Conv& c, const ForwardOpts& o) { return o.mode == Mode::Integer && qint(c) && c.act >= 0; }

// ε̂ = UNet(x, t): x [B, in_ch, H, W], t[B]. Returns [B, out_ch, H, W]. A non-finite value in x is
// InvalidArg (naming its index); a non-finite output (finite weights overflowing float32) is
// Numerical, except in Calibrate mode, whose outputs are discarded.
Tensor forward(const Model& m, const Tensor& x, const std::vector<int64_t>& t, const ForwardOpts& o);
// forward without the output check (x is still checked).
Tensor forward_unchecked(const Model& m, const Tensor& x, const std::vector<int64_t>& t, const ForwardOpts& o);

// The temporal features one forward call adds in conv1 (docs/design/unet.md): the exact cache of a
// quantized model in quantized modes (misses computed in FP32 and counted), else computed. [B, tib_width].
Tensor call_temporal(const Model& m, const std::vector<int64_t>& t, const ForwardOpts& o);

// Temporal features X_{t,i} (docs/design/unet.md) for each t, in TIB order: [B, tib_width], computed in FP32.
Tensor temporal_features(const Model& m, const std::vector<int64_t>& t);

// The time embedding e(t) of docs/design/unet.md: [B, C0].
Tensor time_proj(const Config& cfg, const std::vector<int64_t>& t);

}  // namespace unet
}  // namespace itk

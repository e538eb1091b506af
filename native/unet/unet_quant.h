// TFMQ-style post-training quantization of a Model (docs/design/unet.md §7): the layer plan
// (§7.5, `exact` temporal mode), weight quantization with the Lp search (§7.3), the exact
// temporal-feature cache (§7.2), per-step activation calibration (§7.4), and the conversions to
// and from the file layout of §8.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "unet_model.h"

namespace itk {
namespace unet {

// Plan: which layers get integer weights and which activation column each reads.
// Returns the activation quantizer names in column order.
std::vector<std::string> plan_layers(Model* m);

// Quantizes every planned layer's weights (§7.3): per output channel, or groups of `group`
// consecutive OHWI K elements when the layer's input channels allow it (else per channel).
void quantize_weights(Model* m, int bits, int group, const Control& ctl);

// Sets a layer's integer weights from canonical codes (§8 layout) and (Δ, z) [O, ng]; builds the
// kernel layout, Σw and (for FP-input layers) the dequantized weights. Validates ranges.
void set_codes(Conv* c, int bits, int group, const uint8_t* canon, std::size_t canon_len, const float* scale,
               const float* zero, std::size_t nq);

// Canonical codes of a quantized layer (§8): [O, ceil(K/2)] for 4-bit, [O, K] for 8-bit.
std::vector<uint8_t> canonical_codes(const Conv& c);

// Dequantized weights [O, I, KH, KW] of a quantized layer.
std::vector<float> dequantized(const Conv& c);

// Fills the exact temporal-feature cache for the given timesteps (duplicates collapsed).
void fill_cache(Model* m, const std::vector<int64_t>& steps);

// Per-step activation calibration (§7.4). xs holds S·n inputs of shape [C, H, W] in step order;
// steps[s] is the timestep of step s. init_samples/batch/momentum per §7.4; seed fixes the shuffles.
// act_search_p > 0: actRange 'search' (§7.4), each quantizer's final Min-Max (Δ, z) of a step
// is refined by the shrink search with that p on the values it saw in the step's EMA batches
// (unet_calib.h act_search); 0: plain Min-Max.
void calibrate(Model* m, const float* xs, int S, int n, int H, int W, const std::vector<int64_t>& steps,
               int init_samples, int batch, uint64_t seed, float act_search_p, const Control& ctl);

// Activation-parameter row for timestep t (§7.4 run-time lookup); sets *nearest when no step matches.
int step_row(const QuantState& q, int64_t t, bool* nearest);

// The options of one predict call in mode 0 (fp), 1 (integer) or 2 (fake-quant) at timestep t (a
// quantized call serves one timestep): the step's activation parameters from step_row (a miss is
// counted in step_misses), their zero points stored as floats in *zero (kept alive by the caller).
ForwardOpts predict_options(const Model& m, int mode, int64_t t, std::vector<float>* zero);

// Releases the FP32 copies of integer layers, keeping only their codes and (Δ, z, Σw); FP-input
// integer layers are dequantized per use (the held bytes are the codes, §8 accounting).
void drop_fp_weights(Model* m);

// True for the Temporal Information Block's layers (§7.1): the time MLP and every time_emb_proj.
bool is_tib_layer(const Model& m, const Conv& c);

// fp_weights 'f16' (§8): holds the weights of the FP-kept layers (§7.5: conv_in, conv_out,
// shortcuts, downsamplers; not the TIB, whose FP32 output the exact cache must reproduce) as
// binary16, rounded to nearest even; computation stays FP32 (widened per use). Idempotent on
// values that are already binary16.
void store_fp_f16(Model* m);

// The FP32 weights [O, I, KH, KW] of an FP layer: w, or w16 widened exactly.
std::vector<float> fp_weights_f32(const Conv& c);

// tib_weights 'none' (§7.2): releases the TIB weights and biases; the model then serves only the
// cached timesteps, and computing a temporal feature throws InvalidArg naming the timestep.
void drop_tib_weights(Model* m);

// Throws InvalidArg naming the timesteps t when the model holds no TIB weights (a cache miss of a
// cache-only model, or a forward that would compute the temporal features).
void require_tib_weights(const Model& m, const std::vector<int64_t>& t);

// Bytes of weights held: FP tensors (F32, or binary16 under fp_weights 'f16'), integer codes with
// their (Δ, z, Σw), and the cache with the per-step activation parameters.
struct MemoryUse {
  std::size_t fp_bytes = 0, code_bytes = 0, qparam_bytes = 0, cache_bytes = 0, fp32_equiv_bytes = 0;
  std::size_t int_fp32_bytes = 0;  // FP32 size of the weights that are stored as integer codes
  std::size_t pack_bytes = 0;      // kernel-layout copies built on first use (Conv::pack), a run-time cache
};
MemoryUse memory_use(const Model& m);

// A deep copy (weights, quantization state and cache).
std::unique_ptr<Model> clone_model(const Model& m);

// True for a 1×1 layer that the file layout (§8) holds as a Linear [O, I]: the attention
// projections (to_q/k/v/out), the time MLP (time_embedding.linear_*) and every time_emb_proj; the
// other layers are convs [O, I, KH, KW].
bool is_linear_layer(const Conv& c);

// A layer's weight shape in the file layout (§8): [O, I] when is_linear_layer, else [O, I, KH, KW].
std::vector<int> file_shape(const Conv& c);

// Temporal features of timesteps t read from a quantized model's exact cache (§7.2),
// [t.size(), tib_width]. InvalidArg when the model is not quantized or a timestep is not cached.
std::vector<float> cached_features(const Model& m, const std::vector<int64_t>& t);

// What unet.quantize asks for (docs/design/unet.md §7 and the options of §8).
struct QuantizeOptions {
  int bits = 4, group = 0, init_samples = 0, batch = 0;
  uint64_t seed = 0;
  bool keep_tib = true;      // false: tib_weights 'none', the model serves cached timesteps only
  bool fp_f16 = false;       // fp_weights 'f16': the FP-kept layers' weights as binary16
  float act_search_p = 0.0f; // actRange 'search': p of the per-step shrink search; 0 = Min-Max
};

// A quantized deep copy of FP model `src` (§7): weight quantization, the exact cache for `steps`,
// activation calibration on xs [S, n, C, H, W] (one timestep per step); `src` is left unchanged.
std::unique_ptr<Model> quantize_model(const Model& src, const QuantizeOptions& o, const float* xs, int S, int n, int H, int W,
                                      const std::vector<int64_t>& steps, const Control& ctl);

// Loading a quantized file (§8), after set_codes ran for its integer layers: ModelFormat when an
// integer layer got no codes, or an FP layer has no weights (a TIB layer of a cache-only file may).
void check_loaded_layers(const Model& m, bool cache_only);

// Loading: the per-step activation parameters, scale and zero [S, A] for S = steps.size(), A =
// q->n_act. ModelFormat unless the sizes match and every scale is finite and positive.
void set_act_params(QuantState* q, std::vector<int64_t> steps, const float* scale, std::size_t n_scale, const uint8_t* zero,
                    std::size_t n_zero);

// Loading: the exact temporal-feature cache, [t.size(), tib_width]. ModelFormat unless the size
// matches and every value is finite.
void set_cache(Model* m, std::vector<int64_t> t, const float* features, std::size_t n);

}  // namespace unet
}  // namespace itk

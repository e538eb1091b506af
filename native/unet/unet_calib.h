// Quantizer parameter searches of docs/design/unet.md §7.3–7.4: the Lp ("MSE") clipping
// search for weights and for the first calibration tensor of an activation quantizer, and the
// EMA + Min-Max update of activation ranges.
#pragma once
#include <cstddef>
#include <cstdint>

#include "unet_model.h"

namespace itk {
namespace unet {

struct QParams {
  float delta = 1e-8f, zero = 0.f;
};

// §7.3: for i = 0..79, r = 1 − 0.01·i, Δ = max(r·(M−m)/qmax, 1e-8), z = round(−r·m/Δ); score
// mean |x − x̂|^p (p = 2.4); keep the first strict minimum. m, M are the raw min/max of x.
// clamp_zero: activation quantizers keep z inside [0, qmax] (their zero points are stored as U8).
QParams lp_search(const float* x, std::size_t n, std::size_t stride, int qmax, bool clamp_zero, float p = 2.4f);

// The same search with the candidate range given: r·lo … r·hi (Δ = max(r·(hi−lo)/qmax, 1e-8),
// z = round(−r·lo/Δ)); lp_search is this with lo, hi = the raw min/max of x.
QParams lp_search_range(const float* x, std::size_t n, std::size_t stride, int qmax, float lo, float hi, bool clamp_zero,
                        float p);

// The same search scoring with scalar std::pow and one running double sum (the implementation
// before the vectorised power; kept as the oracle the tests compare chosen ranges with).
QParams lp_search_range_reference(const float* x, std::size_t n, std::size_t stride, int qmax, float lo, float hi,
                                  bool clamp_zero, float p);

// §7.4 Min-Max parameters of a range: lo = min(m, 0), hi = max(M, 0), Δ = max((hi−lo)/255, 1e-8),
// z = round(−lo/Δ) clamped to [0, 255].
QParams minmax_params(float m, float M);

// One calibration update of an activation quantizer with tensor x: the first tensor initialises
// (m, M and the Lp search); later ones (ema = true) apply m ← 0.95m + 0.05·min, M likewise, then
// Min-Max.
// Under st->keep_sample, EMA updates also append a strided subsample of x to st->sample (see
// kActSamplePerTensor).
void calib_update(ActStat* st, const float* x, std::size_t n, bool ema);

// actRange 'search' (§7.4): values kept per EMA-phase tensor. The stride is ⌈n/2048⌉ made
// odd, so that on power-of-two planes (H·W, C) it walks every position and channel instead of
// one fixed column; memory stays bounded (2,048 floats × batches per step per quantizer).
constexpr std::size_t kActSamplePerTensor = 2048;

// actRange 'search' (§7.4): refines the step's Min-Max (Δ, z) with the §7.3 shrink search
// on the kept subsample, anchored at the Min-Max range lo = min(m, 0), hi = max(M, 0): for
// i = 0..79, r = 1 − 0.01·i, candidates r·lo … r·hi (so lo ≤ 0 ≤ hi holds and z ∈ [0, 255]),
// score mean |x − x̂|^p, first strict minimum. r = 1 is exactly Min-Max. An empty subsample
// leaves (Δ, z) unchanged.
void act_search(ActStat* st, float p);

}  // namespace unet
}  // namespace itk

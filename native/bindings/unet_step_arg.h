// The sampler-step argument of unetStepDevice (unet.cc) and of the testing entry unetStepUpdate
// (testing.cc): reading only; unet::check_step_update checks what it read.
#pragma once
#include <napi.h>

#include "../unet/unet_step.h"
#include "napi_util.h"

namespace itk {
namespace napi {

// The sampler update of unetStepDevice: combs n (1 or 2); combTerms Int32Array [3n] = (K, input 0,
// input 1) per combination, inputs 0 x, 1 eps, 2 tmp; combNoise Uint8Array [n]; combClip
// Float64Array [n]; coef Float64Array, each combination's (K + 1)·B rows in turn; keyLo, keyHi,
// stream, step, sampleOffset: the noise (unet::StepUpdate; unet::check_step_update checks the structure).
inline unet::StepUpdate step_update_arg(const Args& in) {
  unet::StepUpdate u;
  u.n = static_cast<int>(in.u32("combs"));
  if (u.n < 1 || u.n > unet::StepUpdate::kMaxCombs) throw_arg(in.env(), "combs must be 1 or 2");
  const ArrayArg<int32_t> terms = in.array<int32_t>("combTerms");
  const ArrayArg<uint8_t> noise = in.array<uint8_t>("combNoise");
  const ArrayArg<double> clip = in.array<double>("combClip");
  const std::size_t n = static_cast<std::size_t>(u.n);
  if (terms.length != 3 * n || noise.length != n || clip.length != n) throw coded_error(in.env(), code_string(Code::Shape), "combTerms, combNoise and combClip must describe combs combinations");
  for (int i = 0; i < u.n; ++i) {
    unet::StepUpdate::Comb& c = u.comb[i];
    c.K = terms.data[3 * i];
    for (int k = 0; k < unet::StepUpdate::kMaxTerms; ++k) {
      const int32_t v = terms.data[3 * i + 1 + k];
      if (v < 0 || v > 2) throw_arg(in.env(), "combTerms inputs must be 0 (x), 1 (eps) or 2 (tmp)");
      c.in[k] = static_cast<unet::StepUpdate::Value>(v);
    }
    c.noise = noise.data[i] != 0;
    c.clip = clip.data[i];
  }
  const ArrayArg<double> coef = in.array<double>("coef");
  u.coef.assign(coef.data, coef.data + coef.length);
  u.key_lo = in.u32("keyLo");
  u.key_hi = in.u32("keyHi");
  u.stream = in.u32("stream");
  u.step = in.u32("step");
  u.sample_offset = in.u53("sampleOffset");
  return u;
}

}  // namespace napi
}  // namespace itk

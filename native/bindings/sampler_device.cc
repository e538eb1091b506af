// The diffusion samplers' building blocks on DeviceArrays (lib/samplers with output: 'device'):
// argument reading only; the kernels are native/sde/cuda/sampler_ops.cu.
#include <string>
#include <vector>

#include "../core/cuda_api.h"
#include "../sde/sde_cuda.h"
#include "areas.h"
#include "device_arg.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

// The float32 device memory of handle v (a DeviceArray's), holding at least n values.
float* device_f32(Napi::Env env, const Napi::Value& v, const std::string& key, uint64_t n) {
  DeviceMemory* m = device_value(env, v, key);
  if (m->buf.bytes() < n * sizeof(float))
    throw coded_error(env, code_string(Code::Shape), key + " holds fewer than the " + std::to_string(n) + " float32 values the call reads");
  return static_cast<float*>(m->buf.get());
}

float* device_in(const Args& in, const char* key, uint64_t n) { return device_f32(in.env(), in.value(key), key, n); }

std::vector<float*> device_list_in(const Args& in, const char* key, uint64_t n, std::size_t max) {
  const Napi::Value v = in.value(key);
  if (!v.IsArray()) throw_arg(in.env(), std::string(key) + " must be an array of device handles");
  const Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max) throw_arg(in.env(), std::string(key) + ": at most " + std::to_string(max) + " arrays");
  std::vector<float*> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(device_f32(in.env(), a.Get(i), std::string(key) + "[" + std::to_string(i) + "]", n));
  return out;
}

// samplerLincombDevice({ out, inputs, coef, noise, P, D, keyLo, keyHi, stream, step, sampleOffset, clip })
Napi::Value LincombDevice(const Napi::CallbackInfo& info) {
  const Args in(info);
  LincombTerms t{};
  t.P = in.u53("P");
  t.D = in.u53("D");
  if (t.P > 2147483647u || t.D > 2147483647u) throw_arg(in.env(), "P and D must stay below 2^31");
  const uint64_t n = t.P * t.D;
  float* out = device_in(in, "out", n);
  const std::vector<float*> inputs = device_list_in(in, "inputs", n, kMaxLincombTerms);
  for (std::size_t k = 0; k < inputs.size(); ++k) t.in[k] = inputs[k];
  t.K = static_cast<uint32_t>(inputs.size());
  const ArrayArg<double> coef = in.array<double>("coef");
  if (coef.length != (t.K + 1) * t.P) throw coded_error(in.env(), code_string(Code::Shape), "coef must hold (K+1)*P values");
  t.coef = coef.data;
  t.noise = in.flag("noise");
  t.key_lo = in.u32("keyLo");
  t.key_hi = in.u32("keyHi");
  t.stream = in.u32("stream");
  t.step = in.u32("step");
  t.sample_offset = in.u53("sampleOffset");
  t.clip = in.number("clip");
  if (t.stream > 0xFFFF) throw_arg(in.env(), "stream must be below 65536");
  if (t.sample_offset + t.P > (uint64_t{1} << 48)) throw_arg(in.env(), "sample ids must stay below 2^48");
  if (!(t.clip >= 0)) throw_arg(in.env(), "clip must be a non-negative number");
  cuda::sampler_lincomb_f32(t, out);
  return in.env().Undefined();
}

// samplerRowStatsDevice({ x, P, D, out }) with out a host Float64Array [3P]
Napi::Value RowStatsDevice(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint64_t P = in.u53("P"), D = in.u53("D");
  const float* x = device_in(in, "x", P * D);
  const ArrayArg<double> out = in.array<double>("out");
  if (out.length != 3 * P) throw coded_error(in.env(), code_string(Code::Shape), "out must hold 3P values");
  cuda::sampler_row_stats_f32(x, P, D, out.data);
  return in.env().Undefined();
}

// samplerRk45NormDevice({ y, ynew, k, e, n, h, atol, rtol }) -> number
Napi::Value Rk45NormDevice(const Napi::CallbackInfo& info) {
  const Args in(info);
  Rk45Terms t{};
  t.n = in.u53("n");
  t.y = device_in(in, "y", t.n);
  t.ynew = device_in(in, "ynew", t.n);
  const std::vector<float*> k = device_list_in(in, "k", t.n, kRk45Stages);
  const ArrayArg<double> e = in.array<double>("e");
  if (e.length != k.size()) throw coded_error(in.env(), code_string(Code::Shape), "e must hold one weight per stage");
  for (std::size_t j = 0; j < k.size(); ++j) {
    t.k[j] = k[j];
    t.e[j] = e.data[j];
  }
  t.stages = static_cast<int>(k.size());
  t.h = in.number("h");
  t.atol = in.number("atol");
  t.rtol = in.number("rtol");
  return Napi::Number::New(in.env(), cuda::sampler_rk45_norm_f32(t));
}

}  // namespace

void init_sampler_device(Napi::Env env, Napi::Object exports) {
  bind<LincombDevice>(env, exports, "samplerLincombDevice",
       {"P", "D", "coef", "noise", "keyLo", "keyHi", "stream", "step", "sampleOffset", "clip", "out", "inputs"});
  bind<RowStatsDevice>(env, exports, "samplerRowStatsDevice", {"P", "D", "out", "x"});
  bind<Rk45NormDevice>(env, exports, "samplerRk45NormDevice", {"n", "e", "h", "atol", "rtol", "y", "ynew", "k"});
}

}  // namespace napi
}  // namespace itk

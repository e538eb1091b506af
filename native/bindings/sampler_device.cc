// The diffusion samplers' building blocks on DeviceArrays (lib/samplers with output: 'device'):
// argument reading only; the kernels are native/sde/cuda/sampler_ops.cu. Each call takes one
// options object read by name.
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

Napi::Object options_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw_arg(info.Env(), "expected one options object");
  return info[0].As<Napi::Object>();
}

double number_of(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw_arg(o.Env(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

uint64_t count_of(const Napi::Object& o, const char* key, double max) {
  const double v = number_of(o, key);
  if (!(v >= 0 && v <= max) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(o.Env(), std::string(key) + " must be an integer in [0, " + std::to_string(max) + "]");
  return static_cast<uint64_t>(v);
}

// The float32 device array under `key` (a DeviceArray's handle) holding at least n elements.
float* device_f32(const Napi::Object& o, const Napi::Value& v, const std::string& key, uint64_t n) {
  if (!v.IsExternal()) throw_arg(o.Env(), key + " must be a device handle");
  DeviceMemory* m = v.As<DeviceHandle>().Data();
  if (m->freed) throw_arg(o.Env(), key + ": the DeviceArray was disposed");
  if (m->buf.bytes() < n * sizeof(float))
    throw coded_error(o.Env(), code_string(Code::Shape), key + " holds fewer than the " + std::to_string(n) + " float32 values the call reads");
  return static_cast<float*>(m->buf.get());
}

std::vector<float*> device_list(const Napi::Object& o, const char* key, uint64_t n, std::size_t max) {
  const Napi::Value v = o.Get(key);
  if (!v.IsArray()) throw_arg(o.Env(), std::string(key) + " must be an array of device handles");
  const Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max) throw_arg(o.Env(), std::string(key) + ": at most " + std::to_string(max) + " arrays");
  std::vector<float*> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(device_f32(o, a.Get(i), std::string(key) + "[" + std::to_string(i) + "]", n));
  return out;
}

template <typename T>
ArrayArg<T> host_array_of(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != typed_array_kind<T>())
    throw coded_error(o.Env(), code_string(Code::Dtype), std::string(key) + " has the wrong type");
  ArrayArg<T> a;
  a.object = v.As<Napi::Object>();
  a.length = v.As<Napi::TypedArray>().ElementLength();
  a.data = reinterpret_cast<T*>(typed_array_bytes(o.Env(), v.As<Napi::TypedArray>(), key));
  return a;
}

// samplerLincombDevice({ out, inputs, coef, noise, P, D, keyLo, keyHi, stream, step, sampleOffset, clip })
Napi::Value LincombDevice(const Napi::CallbackInfo& info) {
  const Napi::Object o = options_arg(info);
  LincombTerms t{};
  t.P = count_of(o, "P", 2147483647.0);
  t.D = count_of(o, "D", 2147483647.0);
  const uint64_t n = t.P * t.D;
  float* out = device_f32(o, o.Get("out"), "out", n);
  const std::vector<float*> in = device_list(o, "inputs", n, kMaxLincombTerms);
  for (std::size_t k = 0; k < in.size(); ++k) t.in[k] = in[k];
  t.K = static_cast<uint32_t>(in.size());
  const ArrayArg<double> coef = host_array_of<double>(o, "coef");
  if (coef.length != (t.K + 1) * t.P) throw coded_error(info.Env(), code_string(Code::Shape), "coef must hold (K+1)*P values");
  t.coef = coef.data;
  t.noise = o.Get("noise").ToBoolean();
  t.key_lo = static_cast<uint32_t>(count_of(o, "keyLo", 4294967295.0));
  t.key_hi = static_cast<uint32_t>(count_of(o, "keyHi", 4294967295.0));
  t.stream = static_cast<uint32_t>(count_of(o, "stream", 65535.0));
  t.step = static_cast<uint32_t>(count_of(o, "step", 4294967295.0));
  t.sample_offset = count_of(o, "sampleOffset", 281474976710656.0 - static_cast<double>(t.P));
  t.clip = number_of(o, "clip");
  if (!(t.clip >= 0)) throw_arg(info.Env(), "clip must be a non-negative number");
  cuda::sampler_lincomb_f32(t, out);
  return info.Env().Undefined();
}

// samplerRowStatsDevice({ x, P, D, out }) with out a host Float64Array [3P]
Napi::Value RowStatsDevice(const Napi::CallbackInfo& info) {
  const Napi::Object o = options_arg(info);
  const uint64_t P = count_of(o, "P", 2147483647.0), D = count_of(o, "D", 2147483647.0);
  const float* x = device_f32(o, o.Get("x"), "x", P * D);
  const ArrayArg<double> out = host_array_of<double>(o, "out");
  if (out.length != 3 * P) throw coded_error(info.Env(), code_string(Code::Shape), "out must hold 3P values");
  cuda::sampler_row_stats_f32(x, P, D, out.data);
  return info.Env().Undefined();
}

// samplerRk45NormDevice({ y, ynew, k, e, n, h, atol, rtol }) -> number
Napi::Value Rk45NormDevice(const Napi::CallbackInfo& info) {
  const Napi::Object o = options_arg(info);
  Rk45Terms t{};
  t.n = count_of(o, "n", 9007199254740991.0);
  t.y = device_f32(o, o.Get("y"), "y", t.n);
  t.ynew = device_f32(o, o.Get("ynew"), "ynew", t.n);
  const std::vector<float*> k = device_list(o, "k", t.n, kRk45Stages);
  const ArrayArg<double> e = host_array_of<double>(o, "e");
  if (e.length != k.size()) throw coded_error(info.Env(), code_string(Code::Shape), "e must hold one weight per stage");
  for (std::size_t j = 0; j < k.size(); ++j) {
    t.k[j] = k[j];
    t.e[j] = e.data[j];
  }
  t.stages = static_cast<int>(k.size());
  t.h = number_of(o, "h");
  t.atol = number_of(o, "atol");
  t.rtol = number_of(o, "rtol");
  return Napi::Number::New(info.Env(), cuda::sampler_rk45_norm_f32(t));
}

}  // namespace

void init_sampler_device(Napi::Env env, Napi::Object exports) {
  exports.Set("samplerLincombDevice", Napi::Function::New(env, guarded<LincombDevice>));
  exports.Set("samplerRowStatsDevice", Napi::Function::New(env, guarded<RowStatsDevice>));
  exports.Set("samplerRk45NormDevice", Napi::Function::New(env, guarded<Rk45NormDevice>));
}

}  // namespace napi
}  // namespace itk

// unet area bindings: model handles (a JS object wrapping a shared_ptr<Model>), forward, temporal
// features, quantization and export. Each call takes one options object read by name (napi_util.h
// Args; its interface is UnetAddon in lib/unet/native-unet.ts). Arguments were validated in
// lib/unet/*.ts; the checks here keep direct callers from reading or writing out of bounds. No math here.
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/quant_ops.h"
#include "../kernels/unet_elem.h"
#include "../unet/fgemm.h"
#include "../unet/qdot.h"
#include "../unet/unet_calib.h"
#include "../unet/unet_cuda.h"
#include "../unet/unet_ops.h"
#include "../unet/unet_model.h"
#include "../unet/unet_quant.h"
#include "areas.h"
#include "job_runner.h"
#include "device_arg.h"
#include "napi_util.h"
#include "unet_handle.h"
#include "unet_step_arg.h"

namespace itk {
namespace napi {
namespace {

using unet::Model;

[[noreturn]] void throw_code(Napi::Env env, Code c, const std::string& m) { throw coded_error(env, code_string(c), m); }

// The model handle under key "model", and its live model (a coded error once disposed).
ModelHandle* handle_arg(const Args& in) { return handle_value(in.env(), in.value("model")); }
ModelPtr model_arg(const Args& in) { return model_value(in.env(), in.value("model")); }

// unetDispose({model}): drops the handle's reference (jobs still running keep theirs, and the memory
// goes when the last one ends) and stops reporting its bytes. Disposing twice is a no-op.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelHandle* h = handle_arg(in);
  h->model.reset();
  report_bytes(info.Env(), h);
  return info.Env().Undefined();
}

// Readers of the JS objects lib/unet builds. A wrong type or an out-of-range number is a coded
// error, never a silent Int32Value wrap-around (2^31 would become a negative channel count).
int int_value(Napi::Env env, const Napi::Value& v, const std::string& what, double lo = -2147483648.0) {
  if (!v.IsNumber()) throw_arg(env, what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= 2147483647.0) || d != std::floor(d)) throw_arg(env, what + " must be an integer in [" + std::to_string(static_cast<int64_t>(lo)) + ", 2^31)");
  return static_cast<int>(d);
}
int int_prop(const Napi::Object& o, const char* k) { return int_value(o.Env(), o.Get(k), k); }
double num_prop(const Napi::Object& o, const char* k) {
  const Napi::Value v = o.Get(k);
  if (!v.IsNumber()) throw_arg(o.Env(), std::string(k) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}
bool bool_prop(const Napi::Object& o, const char* k) { return o.Get(k).ToBoolean(); }
std::string str_value(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) throw_arg(env, what + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}
Napi::Object obj_value(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsObject()) throw_arg(env, what + " must be an object");
  return v.As<Napi::Object>();
}
Napi::Array arr_value(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsArray()) throw_arg(env, what + " must be an array");
  return v.As<Napi::Array>();
}
template <typename T>
Napi::TypedArrayOf<T> typed_value(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != typed_array_kind<T>())
    throw coded_error(env, code_string(Code::Dtype), what + " has the wrong type");
  return v.As<Napi::TypedArrayOf<T>>();
}

// Config lists and tensor shapes hold a handful of entries; a longer list is not one of ours.
constexpr uint32_t kMaxList = 64;

std::vector<int> int_list(Napi::Env env, const Napi::Value& v, const std::string& what, double lo = -2147483648.0) {
  Napi::Array a = arr_value(env, v, what);
  if (a.Length() > kMaxList) throw_arg(env, what + " has " + std::to_string(a.Length()) + " entries");
  std::vector<int> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(int_value(env, a.Get(i), what, lo));
  return out;
}

// A tensor shape: non-negative int32 dimensions.
std::vector<int> shape_value(Napi::Env env, const Napi::Value& v, const std::string& what) { return int_list(env, v, what, 0); }

// Elements of a shape, or SIZE_MAX when the product overflows.
std::size_t numel(const std::vector<int>& s) {
  std::size_t n = 1;
  for (int d : s) {
    if (d != 0 && n > SIZE_MAX / static_cast<std::size_t>(d)) return SIZE_MAX;
    n *= static_cast<std::size_t>(d);
  }
  return n;
}

unet::Config config_arg(Napi::Env env, const Napi::Value& v) {
  const Napi::Object o = obj_value(env, v, "config");
  unet::Config c;
  c.in_ch = int_prop(o, "inChannels");
  c.out_ch = int_prop(o, "outChannels");
  c.center = bool_prop(o, "centerInputSample");
  c.flip = bool_prop(o, "flipSinToCos");
  c.freq_shift = static_cast<float>(num_prop(o, "freqShift"));
  c.time_dim = int_prop(o, "timeEmbeddingDim");
  c.boc = int_list(env, o.Get("blockOutChannels"), "blockOutChannels");
  for (int a : int_list(env, o.Get("downAttention"), "downAttention")) c.down_attn.push_back(a != 0);
  for (int a : int_list(env, o.Get("upAttention"), "upAttention")) c.up_attn.push_back(a != 0);
  c.mid = bool_prop(o, "midBlock");
  c.mid_attn = bool_prop(o, "addAttention");
  c.layers = int_prop(o, "layersPerBlock");
  c.mid_scale = static_cast<float>(num_prop(o, "midBlockScaleFactor"));
  c.down_pad = int_prop(o, "downsamplePadding");
  c.head_dim = int_prop(o, "attentionHeadDim");
  c.groups = int_prop(o, "normNumGroups");
  c.attn_groups = int_prop(o, "attnNormNumGroups");
  c.eps = static_cast<float>(num_prop(o, "normEps"));
  unet::validate_config(c);  // before anything is sized from it
  return c;
}

std::vector<int64_t> steps_arg(const Args& in, const char* key) {
  auto a = in.array<double>(key);
  return std::vector<int64_t>(a.data, a.data + a.length);
}

// Timesteps read from a quantized file (lib/unet checked them): integers in [0, 2^31].
std::vector<int64_t> file_steps(Napi::Env env, const Napi::Value& v, const std::string& what) {
  Napi::TypedArrayOf<double> a = typed_value<double>(env, v, what);
  std::vector<int64_t> out(a.ElementLength());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double t = a[i];
    if (!(t >= 0 && t <= 2147483648.0) || t != std::floor(t)) throw_code(env, Code::ModelFormat, what + " holds a timestep outside [0, 2^31]");
    out[i] = static_cast<int64_t>(t);
  }
  return out;
}

// unetPlan({config, names[], shapes[][], allowTibAbsent}) -> { paramBytes, tensors: [{name, shape,
// tib}], integerLayers, actNames, tibPrefixes, tibWidths, mismatch: string | null }: what the config
// implies, checked against the shapes a file holds, before any weight is read or allocated.
Napi::Value Plan(const Napi::CallbackInfo& info) {
  const Args in(info);
  Napi::Env env = info.Env();
  const unet::Config cfg = config_arg(env, in.value("config"));
  Napi::Array names = arr_value(env, in.value("names"), "names"), shapes = arr_value(env, in.value("shapes"), "shapes");
  if (shapes.Length() != names.Length()) throw_arg(env, "names and shapes differ in length");
  std::map<std::string, std::vector<int>> have;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = str_value(env, names.Get(i), "names[]");
    have[name] = shape_value(env, shapes.Get(i), name + " shape");
  }
  unet::Plan p = unet::plan_model(cfg, have, in.flag("allowTibAbsent"));
  const std::vector<std::string> act = unet::plan_layers(p.shell.get());
  Napi::Object r = Napi::Object::New(env);
  r.Set("paramBytes", p.param_bytes);
  Napi::Array ts = Napi::Array::New(env);
  for (std::size_t i = 0; i < p.tensors.size(); ++i) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("name", p.tensors[i].name);
    Napi::Array sh = Napi::Array::New(env);
    for (std::size_t k = 0; k < p.tensors[i].shape.size(); ++k) sh.Set(static_cast<uint32_t>(k), p.tensors[i].shape[k]);
    t.Set("shape", sh);
    t.Set("tib", p.tensors[i].tib);
    ts.Set(static_cast<uint32_t>(i), t);
  }
  r.Set("tensors", ts);
  Napi::Array il = Napi::Array::New(env), an = Napi::Array::New(env), tp = Napi::Array::New(env), tw = Napi::Array::New(env);
  uint32_t ni = 0;
  for (const unet::Conv* c : static_cast<const Model&>(*p.shell).layers())
    if (c->q.bits == -1) il.Set(ni++, c->name);
  for (std::size_t i = 0; i < act.size(); ++i) an.Set(static_cast<uint32_t>(i), act[i]);
  for (std::size_t i = 0; i < p.shell->tib.size(); ++i) {
    tp.Set(static_cast<uint32_t>(i), p.shell->tib[i]->prefix);
    tw.Set(static_cast<uint32_t>(i), p.shell->tib[i]->temb.O);
  }
  r.Set("integerLayers", il);
  r.Set("actNames", an);
  r.Set("tibPrefixes", tp);
  r.Set("tibWidths", tw);
  r.Set("mismatch", p.mismatch.empty() ? env.Null() : Napi::String::New(env, p.mismatch));
  return r;
}

// unetCreate({config, names[], arrays: Float32Array[], shapes: number[][], quant | null}) -> handle
Napi::Value Create(const Napi::CallbackInfo& info) {
  const Args in(info);
  Napi::Env env = info.Env();
  const unet::Config cfg = config_arg(env, in.value("config"));
  Napi::Array names = arr_value(env, in.value("names"), "names"), arrays = arr_value(env, in.value("arrays"), "arrays"),
              shapes = arr_value(env, in.value("shapes"), "shapes");
  if (arrays.Length() != names.Length() || shapes.Length() != names.Length()) throw_arg(env, "names, arrays and shapes differ in length");
  std::map<std::string, unet::Tensor> tensors;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = str_value(env, names.Get(i), "names[]");
    Napi::TypedArrayOf<float> a = typed_value<float>(env, arrays.Get(i), name);
    unet::Tensor t;
    t.shape = shape_value(env, shapes.Get(i), name + " shape");
    // every given tensor is whole: an empty one would pass for a placeholder (below)
    if (numel(t.shape) != a.ElementLength() || a.ElementLength() == 0)
      throw_code(env, Code::Shape, name + ": " + std::to_string(a.ElementLength()) + " values do not fill its shape");
    t.d.assign(a.Data(), a.Data() + a.ElementLength());
    tensors[name] = std::move(t);
  }
  const Napi::Value qv = in.value("quant");
  const bool quant = qv.IsObject();
  Napi::Array qlayers;
  unet::BuildOptions bo;
  if (quant) {
    Napi::Object q = qv.As<Napi::Object>();
    bo.allow_tib_absent = bool_prop(q, "cacheOnly");  // tib_weights 'none' (docs/design/unet.md): no TIB tensors
    // Integer layers carry no FP weight: a placeholder of the declared shape (nothing allocated),
    // checked against the config by build_model, the codes set below.
    qlayers = arr_value(env, q.Get("layers"), "quant.layers");
    for (uint32_t i = 0; i < qlayers.Length(); ++i) {
      Napi::Object l = obj_value(env, qlayers.Get(i), "quant.layers[]");
      const std::string name = str_value(env, l.Get("name"), "layer name") + ".weight";
      if (tensors.count(name)) throw_code(env, Code::ModelFormat, name + " is held both as FP weights and as integer codes");
      unet::Tensor t;
      t.shape = shape_value(env, l.Get("shape"), name + " shape");
      tensors[name] = std::move(t);
    }
  }
  std::shared_ptr<Model> m(unet::build_model(cfg, tensors, bo).release());
  tensors.clear();
  if (quant) {
    Napi::Object q = qv.As<Napi::Object>();
    m->quant = std::make_unique<unet::QuantState>();
    unet::QuantState& qs = *m->quant;
    qs.act_names = unet::plan_layers(m.get());
    qs.n_act = static_cast<int>(qs.act_names.size());
    qs.weight_bits = int_prop(q, "weightBits");
    qs.group = int_prop(q, "groupSize");
    Napi::Array an = arr_value(env, q.Get("actNames"), "actNames");
    if (an.Length() != qs.act_names.size()) throw_code(env, Code::ModelFormat, "act_quantizers does not match the model's quantizer plan");
    for (uint32_t i = 0; i < an.Length(); ++i) {
      const std::string a = str_value(env, an.Get(i), "act_quantizers[]");
      if (a != qs.act_names[i]) throw_code(env, Code::ModelFormat, "act_quantizers[" + std::to_string(i) + "] is " + a + ", expected " + qs.act_names[i]);
    }
    std::map<std::string, unet::Conv*> by_name;
    for (unet::Conv* c : m->layers()) by_name[c->name] = c;
    for (uint32_t i = 0; i < qlayers.Length(); ++i) {
      Napi::Object l = qlayers.Get(i).As<Napi::Object>();
      const std::string name = str_value(env, l.Get("name"), "layer name");
      auto it = by_name.find(name);
      if (it == by_name.end() || it->second->q.bits != -1) throw_code(env, Code::ModelFormat, "layer " + name + " is not an integer layer of this model");
      Napi::TypedArrayOf<uint8_t> codes = typed_value<uint8_t>(env, l.Get("codes"), name + ".qweight");
      Napi::TypedArrayOf<float> sc = typed_value<float>(env, l.Get("scale"), name + ".wscale"), ze = typed_value<float>(env, l.Get("zero"), name + ".wzero");
      if (sc.ElementLength() != ze.ElementLength()) throw_code(env, Code::ModelFormat, name + ": wscale and wzero differ in size");
      unet::set_codes(it->second, int_prop(l, "bits"), int_prop(l, "groupSize"), codes.Data(), codes.ElementLength(), sc.Data(), ze.Data(), sc.ElementLength());
    }
    unet::check_loaded_layers(*m, bo.allow_tib_absent);
    std::vector<int64_t> steps = file_steps(env, q.Get("steps"), "schedule.timesteps");
    Napi::TypedArrayOf<float> as = typed_value<float>(env, q.Get("actScale"), "act.scale");
    Napi::TypedArrayOf<uint8_t> az = typed_value<uint8_t>(env, q.Get("actZero"), "act.zero");
    unet::set_act_params(&qs, std::move(steps), as.Data(), as.ElementLength(), az.Data(), az.ElementLength());
    std::vector<int64_t> cache_t = file_steps(env, q.Get("cacheT"), "temporal.timesteps");
    Napi::TypedArrayOf<float> cf = typed_value<float>(env, q.Get("cache"), "temporal.features");
    unet::set_cache(m.get(), std::move(cache_t), cf.Data(), cf.ElementLength());
    unet::drop_fp_weights(m.get());
    if (bool_prop(q, "fpF16")) unet::store_fp_f16(m.get());
    if (bo.allow_tib_absent) unet::drop_tib_weights(m.get());
  }
  return wrap_model(env, std::move(m));
}

// The host input {x: Float32Array, B, H, W} as a [B, C, H, W] tensor.
unet::Tensor input_tensor(const Args& in, const Model& m, int* B, int* H, int* W) {
  auto x = in.array<float>("x");
  *B = static_cast<int>(in.u32("B"));
  *H = static_cast<int>(in.u32("H"));
  *W = static_cast<int>(in.u32("W"));
  if (x.length != static_cast<std::size_t>(*B) * m.cfg.in_ch * *H * *W) throw_code(in.env(), Code::Shape, "x must hold B*C*H*W values");
  unet::Tensor t(*B, m.cfg.in_ch, *H, *W);
  std::copy(x.data, x.data + x.length, t.d.begin());
  return t;
}

// The optional fpPrecision of unetPredict: 0 'fp32' (also when undefined), 1 'tf32', 2 'bf16' (CUDA FP
// convs; the CPU ignores it).
unet::FpPrecision fp_precision_arg(const Args& in) {
  if (in.value("fpPrecision").IsUndefined()) return unet::FpPrecision::Fp32;
  const uint32_t p = in.u32("fpPrecision");
  if (p > 2) throw_arg(in.env(), "fpPrecision must be 0 (fp32), 1 (tf32) or 2 (bf16)");
  return static_cast<unet::FpPrecision>(p);
}

// The optional device of unetPredict: true for 1 (cuda), false for 0 (cpu) or undefined.
bool cuda_arg(const Args& in) { return !in.value("device").IsUndefined() && in.u32("device") == 1; }

// mode 0 fp, 1 integer, 2 fake-quant.
uint32_t mode_arg(const Args& in) {
  const uint32_t mode = in.u32("mode");
  if (mode > 2) throw_arg(in.env(), "mode must be 0 (fp), 1 (integer) or 2 (fake-quant)");
  return mode;
}

// The forward options of one predict job (run on the job's thread: predict_options picks the
// step's activation parameters, which zero keeps alive for the call).
unet::ForwardOpts job_options(const unet::Model& m, uint32_t mode, int64_t t0, std::vector<float>* zero, const Control& ctl,
                              unet::FpPrecision fpp, bool use_cache, bool cuda) {
  unet::ForwardOpts o = unet::predict_options(m, static_cast<int>(mode), t0, zero);
  o.ctl = ctl;
  o.fp_precision = fpp;
  o.use_cache = use_cache;
  o.cuda = cuda;
  return o;
}

// unetPredict with x and out as device handles (DeviceArrays): the forward runs on the device with
// nothing but t and two finiteness scalars crossing the bus (unet::forward_device).
Napi::Value PredictDevice(const Args& in, ModelPtr m) {
  DeviceMemory* xm = device_arg(in, "x");
  const int B = static_cast<int>(in.u32("B")), H = static_cast<int>(in.u32("H")), W = static_cast<int>(in.u32("W"));
  std::vector<int64_t> t = steps_arg(in, "t");
  DeviceMemory* ym = device_arg(in, "out");
  const std::size_t nx = static_cast<std::size_t>(B) * m->cfg.in_ch * H * W, ny = static_cast<std::size_t>(B) * m->cfg.out_ch * H * W;
  if (xm->buf.bytes() < nx * sizeof(float)) throw_code(in.env(), Code::Shape, "x must hold B*C*H*W float32 values");
  if (ym->buf.bytes() < ny * sizeof(float)) throw_code(in.env(), Code::Shape, "out has the wrong size");
  const uint32_t mode = mode_arg(in);
  const bool use_cache = in.flag("useCache");
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(in.value("x").As<Napi::Object>());
  job.keep_alive.push_back(in.value("out").As<Napi::Object>());
  const float* x = static_cast<const float*>(xm->buf.get());
  float* y = static_cast<float*>(ym->buf.get());
  const unet::FpPrecision fpp = fp_precision_arg(in);
  job.work = [m, x, y, B, H, W, t, mode, use_cache, ctl, fpp] {
    std::vector<float> zero;
    const unet::ForwardOpts o = job_options(*m, mode, t[0], &zero, ctl, fpp, use_cache, true);
    unet::forward_device(*m, x, B, H, W, t, o, y);
  };
  return run_job(in.env(), async, std::move(job));
}

// unetPredict({model, x, B, H, W, t: Float64Array(B), out, mode, useCache, control, async,
//              device (0 cpu, 1 cuda; optional), fpPrecision (0 fp32, 1 tf32, 2 bf16; optional)})
// x and out are Float32Arrays, or both device handles (then device must be 1).
Napi::Value Predict(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_arg(in);
  const bool x_dev = is_device_handle(in, "x"), out_dev = is_device_handle(in, "out");
  if (x_dev || out_dev) {
    if (!x_dev || !out_dev) throw_arg(info.Env(), "x and out must both be DeviceArrays, or neither");
    if (!cuda_arg(in)) throw_arg(info.Env(), "DeviceArray input needs device 'cuda'");
    return PredictDevice(in, m);
  }
  int B, H, W;
  unet::Tensor x = input_tensor(in, *m, &B, &H, &W);
  std::vector<int64_t> t = steps_arg(in, "t");
  if (t.size() != static_cast<std::size_t>(B)) throw_code(info.Env(), Code::Shape, "t must hold one timestep per sample");
  auto out = in.array<float>("out");
  if (out.length != static_cast<std::size_t>(B) * m->cfg.out_ch * H * W) throw_code(info.Env(), Code::Shape, "out has the wrong size");
  const uint32_t mode = mode_arg(in);
  if (mode != 0 && !m->quant) throw_arg(info.Env(), "the model is not quantized");
  const bool use_cache = in.flag("useCache");
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  const bool cuda = cuda_arg(in);
  job.keep_alive.push_back(out.object);
  float* dst = out.data;
  auto xs = std::make_shared<unet::Tensor>(std::move(x));
  const unet::FpPrecision fpp = fp_precision_arg(in);
  job.work = [m, xs, t, dst, mode, use_cache, ctl, cuda, fpp] {
    std::vector<float> zero;
    const unet::ForwardOpts o = job_options(*m, mode, t[0], &zero, ctl, fpp, use_cache, cuda);
    const unet::Tensor y = unet::forward(*m, *xs, t, o);
    std::copy(y.d.begin(), y.d.end(), dst);
  };
  return run_job(info.Env(), async, std::move(job));
}

// unetStepDevice({model, x, B, H, W, t, mode, useCache, control, async, fpPrecision, + step_update_arg's})
// One whole sampler step on the device (unet::forward_step_device): x, a device handle, becomes x′.
Napi::Value StepDevice(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_arg(in);
  if (!is_device_handle(in, "x")) throw_arg(info.Env(), "x must be a DeviceArray");
  DeviceMemory* xm = device_arg(in, "x");
  const int B = static_cast<int>(in.u32("B")), H = static_cast<int>(in.u32("H")), W = static_cast<int>(in.u32("W"));
  if (xm->buf.bytes() < static_cast<std::size_t>(B) * m->cfg.in_ch * H * W * sizeof(float)) throw_code(in.env(), Code::Shape, "x must hold B*C*H*W float32 values");
  std::vector<int64_t> t = steps_arg(in, "t");
  const uint32_t mode = mode_arg(in);
  const bool use_cache = in.flag("useCache");
  const unet::FpPrecision fpp = fp_precision_arg(in);
  auto u = std::make_shared<const unet::StepUpdate>(step_update_arg(in));  // checked by forward_step_device
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(in.value("x").As<Napi::Object>());
  float* x = static_cast<float*>(xm->buf.get());
  job.work = [m, x, B, H, W, t, mode, use_cache, ctl, fpp, u] {
    std::vector<float> zero;
    const unet::ForwardOpts o = job_options(*m, mode, t[0], &zero, ctl, fpp, use_cache, true);
    unet::forward_step_device(*m, x, B, H, W, t, o, *u);
  };
  return run_job(in.env(), async, std::move(job));
}

// unetTaps({model, x, B, H, W, t}) -> { name: Float32Array } (FP forward debug taps, sync)
Napi::Value Taps(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_arg(in);
  int B, H, W;
  unet::Tensor x = input_tensor(in, *m, &B, &H, &W);
  std::vector<int64_t> t = steps_arg(in, "t");
  if (t.size() != static_cast<std::size_t>(B)) throw_code(info.Env(), Code::Shape, "t must hold one timestep per sample");
  std::map<std::string, unet::Tensor> taps;
  unet::ForwardOpts o;
  o.taps = &taps;
  taps["eps"] = unet::forward(*m, x, t, o);
  Napi::Object r = Napi::Object::New(info.Env());
  for (auto& kv : taps) r.Set(kv.first, to_js(info.Env(), kv.second.d));
  return r;
}

// unetTemporal({model, t: Float64Array, cached: boolean}) -> Float32Array [B, tibWidth]
Napi::Value Temporal(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_arg(in);
  std::vector<int64_t> t = steps_arg(in, "t");
  const bool cached = in.flag("cached");
  return to_js(info.Env(), cached ? unet::cached_features(*m, t) : unet::temporal_features(*m, t).d);
}

// unetInfo({model}) -> sizes, quantization summary, counters
Napi::Value Info(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_arg(in);
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  r.Set("tibWidth", m->tib_width);
  r.Set("quantized", m->quant != nullptr);
  r.Set("externalBytes", static_cast<double>(handle_arg(in)->reported));
  const unet::MemoryUse u = unet::memory_use(*m);
  r.Set("fpBytes", static_cast<double>(u.fp_bytes));
  r.Set("codeBytes", static_cast<double>(u.code_bytes));
  r.Set("qparamBytes", static_cast<double>(u.qparam_bytes));
  r.Set("cacheBytes", static_cast<double>(u.cache_bytes));
  r.Set("fp32Bytes", static_cast<double>(u.fp32_equiv_bytes));
  r.Set("intFp32Bytes", static_cast<double>(u.int_fp32_bytes));
  std::size_t params = 0;
  for (const unet::Conv* c : static_cast<const Model&>(*m).layers()) params += static_cast<std::size_t>(c->O) * c->I * c->KH * c->KW + c->b.size();
  r.Set("kernel", unet::qdot_kernels().name);
  if (m->quant) {
    r.Set("weightBits", m->quant->weight_bits);
    r.Set("groupSize", m->quant->group);
    r.Set("steps", static_cast<double>(m->quant->steps.size()));
    r.Set("cacheMisses", static_cast<double>(m->quant->cache_misses.load()));
    r.Set("stepMisses", static_cast<double>(m->quant->step_misses.load()));
    Napi::Array names = Napi::Array::New(env);
    for (std::size_t i = 0; i < m->quant->act_names.size(); ++i) names.Set(static_cast<uint32_t>(i), m->quant->act_names[i]);
    r.Set("actNames", names);
  }
  return r;
}

// unetQuantize({model, bits, group, initSamples, batch, seed, fpF16, cacheOnly, actSearchP, xs, S, n,
//               H, W, steps: Float64Array(S), control, async}) -> Promise<handle> | handle
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr src = model_arg(in);
  if (src->quant) throw_arg(info.Env(), "the model is already quantized");
  const auto int_in = [&](const char* key) { return int_value(info.Env(), in.value(key), key); };
  unet::QuantizeOptions qo;  // docs/design/unet.md options
  qo.bits = int_in("bits");
  qo.group = int_in("group");
  qo.init_samples = int_in("initSamples");
  qo.batch = int_in("batch");
  qo.seed = static_cast<uint64_t>(in.number("seed"));
  qo.keep_tib = !in.flag("cacheOnly");
  qo.fp_f16 = in.flag("fpF16");
  // actRange 'search': p of the per-step shrink search; 0 (or absent) = Min-Max
  qo.act_search_p = in.value("actSearchP").IsUndefined() ? 0.0f : static_cast<float>(in.number("actSearchP"));
  if (!(qo.act_search_p == 0.0f || (qo.act_search_p >= 1.0f && qo.act_search_p <= 4.0f))) throw_arg(info.Env(), "actSearchP must be 0 or in [1, 4]");
  auto xs = in.array<float>("xs");
  const int S = static_cast<int>(in.u32("S")), n = static_cast<int>(in.u32("n"));
  const int H = static_cast<int>(in.u32("H")), W = static_cast<int>(in.u32("W"));
  std::vector<int64_t> steps = steps_arg(in, "steps");
  if (steps.size() != static_cast<std::size_t>(S) || xs.length != static_cast<std::size_t>(S) * n * src->cfg.in_ch * H * W)
    throw_code(info.Env(), Code::Shape, "calibration data must be [S, n, C, H, W] with one timestep per step");
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(xs.object);
  const float* data = xs.data;
  auto result = std::make_shared<ModelPtr>();
  job.work = [src, qo, data, S, n, H, W, steps, ctl, result] {
    *result = ModelPtr(unet::quantize_model(*src, qo, data, S, n, H, W, steps, ctl).release());
  };
  job.finish = [result](Napi::Env env) -> Napi::Value { return wrap_model(env, *result); };
  return run_job(info.Env(), async, std::move(job));
}

// unetExport({model}) -> { tensors: [{name, dtype, shape, data}], layers: [{name, kind, shape, bits, groupSize, act}] }
Napi::Value Export(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_arg(in);
  Napi::Env env = info.Env();
  Napi::Array tensors = Napi::Array::New(env), layers = Napi::Array::New(env);
  uint32_t nt = 0, nl = 0;
  auto shape_js = [&](const std::vector<int>& s) {
    Napi::Array a = Napi::Array::New(env);
    for (std::size_t i = 0; i < s.size(); ++i) a.Set(static_cast<uint32_t>(i), s[i]);
    return a;
  };
  auto push = [&](const std::string& name, const char* dtype, const std::vector<int>& shape, Napi::Value data) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("name", name);
    t.Set("dtype", dtype);
    t.Set("shape", shape_js(shape));
    t.Set("data", data);
    tensors.Set(nt++, t);
  };
  auto gn = [&](const unet::GroupNorm& g) {
    push(g.name + ".weight", "F32", {g.C}, to_js(env, g.gamma));
    push(g.name + ".bias", "F32", {g.C}, to_js(env, g.beta));
  };
  for (const unet::Conv* c : static_cast<const Model&>(*m).layers()) {
    const bool lin = unet::is_linear_layer(*c);
    const std::vector<int> shape = unet::file_shape(*c);
    if (m->quant && !m->quant->tib_weights && unet::is_tib_layer(*m, *c)) continue;  // tib_weights 'none': not held
    push(c->name + ".bias", "F32", {c->O}, to_js(env, c->b));
    if (c->q.bits == 4 || c->q.bits == 8) {
      const std::vector<uint8_t> codes = unet::canonical_codes(*c);
      Napi::Uint8Array a = Napi::Uint8Array::New(env, codes.size());
      std::copy(codes.begin(), codes.end(), a.Data());
      const int row = c->q.bits == 4 ? (c->q.K + 1) / 2 : c->q.K;
      push(c->name + ".qweight", "U8", {c->O, row}, a);
      push(c->name + ".wscale", "F32", {c->O, c->q.ng}, to_js(env, c->q.scale));
      push(c->name + ".wzero", "F32", {c->O, c->q.ng}, to_js(env, c->q.zero));
      Napi::Object l = Napi::Object::New(env);
      l.Set("name", c->name);
      l.Set("kind", lin ? "linear" : "conv");
      l.Set("shape", shape_js(shape));
      l.Set("bits", c->q.bits);
      l.Set("groupSize", c->q.group);
      l.Set("act", c->act);
      layers.Set(nl++, l);
    } else if (!c->w16.empty()) {
      Napi::Uint16Array a = Napi::Uint16Array::New(env, c->w16.size());  // fp_weights 'f16'
      std::copy(c->w16.begin(), c->w16.end(), a.Data());
      push(c->name + ".weight", "F16", shape, a);
    } else {
      push(c->name + ".weight", "F32", shape, to_js(env, c->w));
    }
  }
  auto res = [&](const unet::Resnet& r) { gn(r.norm1); gn(r.norm2); };
  auto block = [&](const unet::Block& b) {
    for (const auto& r : b.resnets) res(r);
    for (const auto& a : b.attns) gn(a.norm);
  };
  for (const auto& b : m->down) block(b);
  if (m->has_mid) block(m->mid);
  for (const auto& b : m->up) block(b);
  gn(m->norm_out);
  Napi::Object r = Napi::Object::New(env);
  r.Set("tensors", tensors);
  r.Set("layers", layers);
  if (m->quant) {
    const unet::QuantState& q = *m->quant;
    auto f64 = [&](const std::vector<int64_t>& v) {
      Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
      for (std::size_t i = 0; i < v.size(); ++i) a[i] = static_cast<double>(v[i]);
      return a;
    };
    r.Set("steps", f64(q.steps));
    r.Set("actScale", to_js(env, q.act_scale));
    Napi::Uint8Array az = Napi::Uint8Array::New(env, q.act_zero.size());
    std::copy(q.act_zero.begin(), q.act_zero.end(), az.Data());
    r.Set("actZero", az);
    r.Set("cacheT", f64(q.cache_t));
    r.Set("cache", to_js(env, q.cache));
    Napi::Array names = Napi::Array::New(env);
    for (std::size_t i = 0; i < q.act_names.size(); ++i) names.Set(static_cast<uint32_t>(i), q.act_names[i]);
    r.Set("actNames", names);
    Napi::Array widths = Napi::Array::New(env), prefixes = Napi::Array::New(env);
    for (std::size_t i = 0; i < m->tib.size(); ++i) {
      widths.Set(static_cast<uint32_t>(i), m->tib[i]->temb.O);
      prefixes.Set(static_cast<uint32_t>(i), m->tib[i]->prefix);
    }
    r.Set("tibWidths", widths);
    r.Set("tibPrefixes", prefixes);
  }
  return r;
}

}  // namespace

void init_unet(Napi::Env env, Napi::Object exports) {
  bind<Create>(env, exports, "unetCreate", {"config", "names", "arrays", "shapes", "quant"});
  bind<Plan>(env, exports, "unetPlan", {"config", "names", "shapes", "allowTibAbsent"});
  bind<Predict>(env, exports, "unetPredict",
                {"model", "x", "B", "H", "W", "t", "out", "mode", "useCache", "control", "async", "device", "fpPrecision"});
  bind<StepDevice>(env, exports, "unetStepDevice",
                   {"model", "x", "B", "H", "W", "t", "mode", "useCache", "control", "async", "fpPrecision", "combs", "combTerms",
                    "combNoise", "combClip", "coef", "keyLo", "keyHi", "stream", "step", "sampleOffset"});
  bind<Taps>(env, exports, "unetTaps", {"model", "x", "B", "H", "W", "t"});
  bind<Temporal>(env, exports, "unetTemporal", {"model", "t", "cached"});
  bind<Info>(env, exports, "unetInfo", {"model"});
  bind<Dispose>(env, exports, "unetDispose", {"model"});
  bind<Quantize>(env, exports, "unetQuantize", {"model", "bits", "group", "initSamples", "batch", "seed", "fpF16", "cacheOnly",
                                                 "actSearchP", "xs", "S", "n", "H", "W", "steps", "control", "async"});
  bind<Export>(env, exports, "unetExport", {"model"});
}

}  // namespace napi
}  // namespace itk

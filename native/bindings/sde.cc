// sde area bindings: fused built-in trajectories, the callback path's Brownian increments and
// updates, and the samplers' elementwise ops. Each call takes one options object read by name
// (napi_util.h Args; interfaces in lib/sde/addon.ts). Arguments were validated in lib/sde and
// lib/samplers; the checks here only keep direct callers from reading or writing out of bounds.
#include <string>
#include <vector>

#include "../kernels/sde_fused.h"
#include "../kernels/sde_generic.h"
#include "../sde/sde_fused.h"
#include "../sde/sde_generic.h"
#include "../sde/sde_ops.h"
#include "areas.h"
#include "device_arg.h"
#include "job_runner.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

[[noreturn]] void throw_shape(Napi::Env env, const std::string& m) {
  throw coded_error(env, code_string(Code::Shape), m);
}

// Input `key` as an integer in [0, max].
uint64_t int_in(const Args& in, const char* key, double max) {
  const double v = in.number(key);
  if (!(v >= 0 && v <= max) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(in.env(), std::string(key) + " out of range");
  return static_cast<uint64_t>(v);
}

// Optional float array of the given dtype and length (null/undefined -> nullptr).
void* opt_array(const Args& in, const char* key, bool f64, std::size_t n) {
  const Napi::Value v = in.optional(key);
  if (v.IsEmpty()) return nullptr;
  AnyArray a = float_array_value(in.env(), v, key);
  if (a.is_f64 != f64) throw coded_error(in.env(), code_string(Code::Dtype), std::string(key) + " has the wrong dtype");
  if (a.length < n) throw_shape(in.env(), std::string(key) + " is too short");
  return a.data;
}

// sdeFused({x, out, par: F64, tcoef: F64, saveN0: U32, saveW: F64, kind, method, dim, m, mixture,
//           paths, pathOffset, stepBegin, stepEnd, keyLo, keyHi, refine, h, device, tcoefPerStep,
//           f64 (device handles only), control, async})
// x and out are both TypedArrays, or both device handles (then `f64` gives the dtype).
Napi::Value Fused(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  const bool device_io = is_device_handle(in, "x");
  AnyArray x = device_io ? AnyArray() : in.float_array("x");
  AnyArray out = device_io ? AnyArray() : in.float_array("out");
  auto par = in.array<double>("par");
  auto tc = in.array<double>("tcoef");
  auto n0 = in.array<uint32_t>("saveN0");
  auto sw = in.array<double>("saveW");
  FusedCall c;
  c.kind = static_cast<int>(int_in(in, "kind", sde::kGmm));
  c.method = static_cast<int>(int_in(in, "method", sde::kLogEulerFT));
  c.dim = static_cast<uint32_t>(int_in(in, "dim", 1 << 30));
  c.m = static_cast<uint32_t>(int_in(in, "m", 1 << 30));
  c.mixture = static_cast<uint32_t>(int_in(in, "mixture", sde::kMaxMixture));
  c.paths = int_in(in, "paths", 9007199254740991.0);
  c.path_offset = int_in(in, "pathOffset", 9007199254740991.0);
  c.step_begin = static_cast<uint32_t>(int_in(in, "stepBegin", 4294967295.0));
  c.step_end = static_cast<uint32_t>(int_in(in, "stepEnd", 4294967295.0));
  c.key_lo = static_cast<uint32_t>(int_in(in, "keyLo", 4294967295.0));
  c.key_hi = static_cast<uint32_t>(int_in(in, "keyHi", 4294967295.0));
  c.refine = static_cast<uint32_t>(int_in(in, "refine", 1 << 30));
  c.h = in.number("h");
  c.device = int_in(in, "device", 1) ? Device::Cuda : Device::Cpu;
  c.tcoef_per_step = in.flag("tcoefPerStep");
  if (device_io) {
    // Device handles carry no dtype: the call says it, and the byte sizes are checked here.
    const bool f64 = in.flag("f64");
    const std::size_t elem = f64 ? 8 : 4;
    DeviceMemory* dx = device_arg(in, "x");
    DeviceMemory* dout = device_arg(in, "out");
    x = AnyArray{dx->buf.get(), dx->buf.bytes() / elem, f64, in.value("x").As<Napi::Object>()};
    out = AnyArray{dout->buf.get(), dout->buf.bytes() / elem, f64, in.value("out").As<Napi::Object>()};
    c.device_io = true;
  }
  c.f64 = x.is_f64;
  if (out.is_f64 != x.is_f64) throw coded_error(env, code_string(Code::Dtype), "x and out must share a dtype");
  if (x.length != c.paths * c.dim) throw_shape(env, "x must hold paths*dim values");
  if (n0.length != sw.length) throw_shape(env, "saveN0 and saveW differ in length");
  c.n_saves = static_cast<uint32_t>(n0.length);
  if (out.length != static_cast<std::size_t>(c.n_saves) * c.paths * c.dim) throw_shape(env, "out must hold saves*paths*dim values");
  if (c.kind == sde::kGbm && par.length < 3 * c.dim + c.dim * c.dim) throw_shape(env, "GBM parameters too short");
  if (c.kind == sde::kLinearAdditive && par.length < 6 * c.dim) throw_shape(env, "linear model parameters too short");
  if (c.kind == sde::kCir && par.length < 3) throw_shape(env, "CIR parameters too short");
  if (c.kind == sde::kHeston && (par.length < 6 || c.dim != 2)) throw_shape(env, "Heston needs dim 2 and 6 parameters");
  if (c.kind == sde::kGmm && par.length < 1 + c.mixture * (1 + 2 * c.dim)) throw_shape(env, "mixture parameters too short");
  c.par = par.data;
  c.n_par = par.length;
  c.tcoef = tc.data;
  c.n_tcoef = tc.length;
  c.save_n0 = n0.data;
  c.save_w = sw.data;
  c.x = x.data;
  c.out = out.data;
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  for (auto* o : {&x.object, &out.object, &par.object, &tc.object, &n0.object, &sw.object}) job.keep_alive.push_back(*o);
  job.work = [c, ctl] { sde_fused(c, ctl); };
  return run_job(env, async, std::move(job));
}

// sdeBrownian({dW, J | null, paths, pathOffset, m, step, refine, stream, keyLo, keyHi, h, device})
Napi::Value Brownian(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  AnyArray dW = in.float_array("dW");
  BrownianCall c;
  c.f64 = dW.is_f64;
  c.paths = int_in(in, "paths", 9007199254740991.0);
  c.path_offset = int_in(in, "pathOffset", 9007199254740991.0);
  c.m = static_cast<uint32_t>(int_in(in, "m", 1 << 30));
  c.step = static_cast<uint32_t>(int_in(in, "step", 4294967295.0));
  c.refine = static_cast<uint32_t>(int_in(in, "refine", 1 << 30));
  c.stream = static_cast<uint32_t>(int_in(in, "stream", 0xFFFF));
  c.key_lo = static_cast<uint32_t>(int_in(in, "keyLo", 4294967295.0));
  c.key_hi = static_cast<uint32_t>(int_in(in, "keyHi", 4294967295.0));
  c.h = in.number("h");
  c.device = int_in(in, "device", 1) ? Device::Cuda : Device::Cpu;
  if (dW.length != c.paths * c.m) throw_shape(env, "dW must hold paths*m values");
  c.dW = dW.data;
  c.J = opt_array(in, "J", c.f64, dW.length);
  sde_brownian(c, Control());
  return env.Undefined();
}

// sdeUpdate({op, noise, paths, d, m, h, x, y, f1, f2, g1, g2, gdg, dW, J, device?})  (synchronous)
Napi::Value Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  GenericCall c;
  c.op = static_cast<int>(in.u32("op"));
  c.noise = static_cast<int>(in.u32("noise"));
  c.paths = in.u53("paths");
  c.d = in.u32("d");
  c.m = in.u32("m");
  c.h = in.number("h");
  AnyArray x = in.float_array("x");
  c.f64 = x.is_f64;
  const std::size_t pd = c.paths * c.d, pm = c.paths * c.m;
  if (x.length != pd) throw_shape(env, "x must hold paths*d values");
  std::size_t gsize = pd;
  if (c.noise == sde::kAdditive) gsize = static_cast<std::size_t>(c.d) * c.m;
  if (c.noise == sde::kGeneral) gsize = pd * c.m;
  if ((c.noise == sde::kDiagonal && c.m != c.d) || (c.noise == sde::kScalar && c.m != 1))
    throw_shape(env, "brownian dim does not fit the noise type");
  c.x = x.data;
  c.y = opt_array(in, "y", c.f64, pd);
  c.f1 = opt_array(in, "f1", c.f64, pd);
  c.f2 = opt_array(in, "f2", c.f64, pd);
  c.g1 = opt_array(in, "g1", c.f64, gsize);
  c.g2 = opt_array(in, "g2", c.f64, gsize);
  c.gdg = opt_array(in, "gdg", c.f64, pd);
  c.dW = opt_array(in, "dW", c.f64, pm);
  c.J = opt_array(in, "J", c.f64, pm);
  const bool need_f2 = c.op == sde::kOpHeun || c.op == sde::kOpSra1Final;
  const bool need_g2 = c.op == sde::kOpHeun || c.op == sde::kOpSra1Final || c.op == sde::kOpGdg;
  const bool need_dw = c.op <= sde::kOpSra1Final || c.op == sde::kOpMilsteinDx;
  const bool need_J = c.op == sde::kOpSra1Stage || c.op == sde::kOpSra1Final;
  const bool need_f1 = c.op != sde::kOpGdg && c.op != sde::kOpCalculus;
  if (!c.y || (need_f1 && !c.f1) || !c.g1 || (need_f2 && !c.f2) || (need_g2 && !c.g2) || (need_dw && !c.dW) ||
      (need_J && !c.J) || ((c.op == sde::kOpMilstein || c.op == sde::kOpMilsteinDx || c.op == sde::kOpCalculus) && !c.gdg))
    throw_arg(env, "missing buffer for this update");
  if ((c.op == sde::kOpMilstein || c.op >= sde::kOpProbe) && c.noise != sde::kDiagonal && c.noise != sde::kScalar)
    throw_arg(env, "Milstein needs diagonal or scalar noise");
  const Napi::Value dv = in.optional("device");
  if (!dv.IsEmpty()) c.device = u32_value(env, dv, "device") ? Device::Cuda : Device::Cpu;
  sde_generic_update(c);
  return env.Undefined();
}

std::vector<const float*> float_list(const Args& in, const char* name, std::size_t n, std::vector<Napi::Object>* keep) {
  const Napi::Value list = in.value(name);
  if (!list.IsArray()) throw_arg(in.env(), std::string(name) + " must be an array");
  Napi::Array a = list.As<Napi::Array>();
  std::vector<const float*> v;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a.Get(k);
    if (!e.IsTypedArray() || e.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw coded_error(in.env(), code_string(Code::Dtype), std::string(name) + " must hold Float32Arrays");
    Napi::TypedArray t = e.As<Napi::TypedArray>();
    if (t.ElementLength() != n) throw_shape(in.env(), std::string(name) + " entries have the wrong length");
    v.push_back(reinterpret_cast<const float*>(typed_array_bytes(in.env(), t, name)));
    if (keep) keep->push_back(t);
  }
  return v;
}

// sdeLincomb({out, inputs: F32[], coef: F64 [(K+1)*P], noise, P, D, keyLo, keyHi, stream, step, sampleOffset, clip?})
Napi::Value Lincomb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  auto out = in.array<float>("out");
  LincombCall c;
  c.P = in.u53("P");
  c.D = in.u53("D");
  if (out.length != c.P * c.D) throw_shape(env, "out must hold P*D values");
  c.inputs = float_list(in, "inputs", out.length, nullptr);
  auto coef = in.array<double>("coef");
  if (coef.length != (c.inputs.size() + 1) * c.P) throw_shape(env, "coef must hold (K+1)*P values");
  c.out = out.data;
  c.coef = coef.data;
  c.noise = in.flag("noise");
  c.key_lo = in.u32("keyLo");
  c.key_hi = in.u32("keyHi");
  c.stream = in.u32("stream");
  c.step = in.u32("step");
  c.sample_offset = in.u53("sampleOffset");
  const Napi::Value clip = in.optional("clip");
  if (!clip.IsEmpty()) c.clip = number_value(env, clip, "clip");
  if (!(c.clip >= 0)) throw_arg(env, "clip must be a non-negative number");
  if (c.stream > 0xFFFF) throw_arg(env, "stream must be below 65536");
  sde_lincomb(c);
  return env.Undefined();
}

// sdeRowStats({x, P, D, out: F64 [3P]})
Napi::Value RowStats(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto x = in.array<float>("x");
  const uint64_t P = in.u53("P"), D = in.u53("D");
  auto out = in.array<double>("out");
  if (x.length != P * D || out.length != 3 * P) throw_shape(info.Env(), "row stats: wrong sizes");
  sde_row_stats(x.data, P, D, out.data);
  return info.Env().Undefined();
}

// sdeGmmScore({x, P, D, logw, means, vars, scale, addvar, out})
Napi::Value GmmScore(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto x = in.array<float>("x");
  const uint64_t P = in.u53("P"), D = in.u53("D");
  auto lw = in.array<double>("logw");
  auto mn = in.array<double>("means");
  auto vr = in.array<double>("vars");
  auto sc = in.array<double>("scale");
  auto av = in.array<double>("addvar");
  auto out = in.array<float>("out");
  const std::size_t K = lw.length;
  if (x.length != P * D || out.length != P * D || mn.length != K * D || vr.length != K * D || sc.length != P ||
      av.length != P)
    throw_shape(info.Env(), "gmm score: wrong sizes");
  sde_gmm_score(x.data, P, D, static_cast<uint32_t>(K), lw.data, mn.data, vr.data, sc.data, av.data, out.data);
  return info.Env().Undefined();
}

// sdeRk45Norm({y, ynew, ks: F32[7], e: F64[7], h, atol, rtol}) -> number
Napi::Value Rk45Norm(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto y = in.array<float>("y");
  auto yn = in.array<float>("ynew");
  if (yn.length != y.length) throw_shape(info.Env(), "y and ynew differ in length");
  std::vector<const float*> ks = float_list(in, "ks", y.length, nullptr);
  auto e = in.array<double>("e");
  if (e.length != ks.size()) throw_shape(info.Env(), "e and ks differ in length");
  const double r = sde_rk45_norm(y.data, yn.data, ks, e.data, y.length, in.number("h"),
                                 in.number("atol"), in.number("rtol"));
  return Napi::Number::New(info.Env(), r);
}

}  // namespace

void init_sde(Napi::Env env, Napi::Object exports) {
  bind<Fused>(env, exports, "sdeFused",
       {"x", "out", "par", "tcoef", "saveN0", "saveW", "h", "tcoefPerStep", "f64", "async", "kind", "method", "dim",
        "m", "mixture", "paths", "pathOffset", "stepBegin", "stepEnd", "keyLo", "keyHi", "refine", "device",
        "control"});
  bind<Brownian>(env, exports, "sdeBrownian",
       {"dW", "h", "paths", "pathOffset", "m", "step", "refine", "stream", "keyLo", "keyHi", "device", "J"});
  bind<Update>(env, exports, "sdeUpdate",
       {"op", "noise", "paths", "d", "m", "h", "x", "device", "y", "f1", "f2", "g1", "g2", "gdg", "dW", "J"});
  bind<Lincomb>(env, exports, "sdeLincomb",
       {"out", "P", "D", "coef", "noise", "keyLo", "keyHi", "stream", "step", "sampleOffset", "clip", "inputs"});
  bind<RowStats>(env, exports, "sdeRowStats", {"x", "P", "D", "out"});
  bind<GmmScore>(env, exports, "sdeGmmScore", {"x", "P", "D", "logw", "means", "vars", "scale", "addvar", "out"});
  bind<Rk45Norm>(env, exports, "sdeRk45Norm", {"y", "ynew", "e", "h", "atol", "rtol", "ks"});
}

}  // namespace napi
}  // namespace itk

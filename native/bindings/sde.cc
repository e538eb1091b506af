// sde area bindings: fused built-in trajectories, the callback path's Brownian increments and
// updates, and the samplers' elementwise ops. Arguments were validated in lib/sde and
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

// Header slot i of a Float64Array as an integer in [0, max].
uint64_t hdr_int(Napi::Env env, const ArrayArg<double>& h, std::size_t i, double max, const char* name) {
  if (i >= h.length) throw_arg(env, "header too short");
  const double v = h.data[i];
  if (!(v >= 0 && v <= max) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(env, std::string(name) + " out of range");
  return static_cast<uint64_t>(v);
}

// Optional float array of the given dtype and length (null/undefined -> nullptr).
void* opt_array(const Napi::CallbackInfo& info, std::size_t i, const char* name, bool f64, std::size_t n) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  AnyArray a = float_array_arg(info, i, name);
  if (a.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " has the wrong dtype");
  if (a.length < n) throw_shape(info.Env(), std::string(name) + " is too short");
  return a.data;
}

// sdeFused(x, out, par: F64, tcoef: F64, saveN0: U32, saveW: F64, hdr: F64, control, async)
// hdr = [kind, method, dim, m, mixture, paths, pathOffset, stepBegin, stepEnd, keyLo, keyHi,
//        refine, h, device, tcoefPerStep, f64 (device handles only)]
// x and out are both TypedArrays, or both device handles (then hdr[15] gives the dtype: 1 = f64).
Napi::Value Fused(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool device_io = is_device_handle(info, 0);
  AnyArray x = device_io ? AnyArray() : float_array_arg(info, 0, "x");
  AnyArray out = device_io ? AnyArray() : float_array_arg(info, 1, "out");
  auto par = array_arg<double>(info, 2, "par");
  auto tc = array_arg<double>(info, 3, "tcoef");
  auto n0 = array_arg<uint32_t>(info, 4, "saveN0");
  auto sw = array_arg<double>(info, 5, "saveW");
  auto h = array_arg<double>(info, 6, "hdr");
  FusedCall c;
  c.kind = static_cast<int>(hdr_int(env, h, 0, sde::kGmm, "kind"));
  c.method = static_cast<int>(hdr_int(env, h, 1, sde::kLogEulerFT, "method"));
  c.dim = static_cast<uint32_t>(hdr_int(env, h, 2, 1 << 30, "dim"));
  c.m = static_cast<uint32_t>(hdr_int(env, h, 3, 1 << 30, "m"));
  c.mixture = static_cast<uint32_t>(hdr_int(env, h, 4, sde::kMaxMixture, "mixture"));
  c.paths = hdr_int(env, h, 5, 9007199254740991.0, "paths");
  c.path_offset = hdr_int(env, h, 6, 9007199254740991.0, "pathOffset");
  c.step_begin = static_cast<uint32_t>(hdr_int(env, h, 7, 4294967295.0, "stepBegin"));
  c.step_end = static_cast<uint32_t>(hdr_int(env, h, 8, 4294967295.0, "stepEnd"));
  c.key_lo = static_cast<uint32_t>(hdr_int(env, h, 9, 4294967295.0, "keyLo"));
  c.key_hi = static_cast<uint32_t>(hdr_int(env, h, 10, 4294967295.0, "keyHi"));
  c.refine = static_cast<uint32_t>(hdr_int(env, h, 11, 1 << 30, "refine"));
  if (h.length < 15) throw_arg(env, "header too short");
  c.h = h.data[12];
  c.device = hdr_int(env, h, 13, 1, "device") ? Device::Cuda : Device::Cpu;
  c.tcoef_per_step = hdr_int(env, h, 14, 1, "tcoefPerStep") != 0;
  if (device_io) {
    // Device handles carry no dtype: the header says it, and the byte sizes are checked here.
    const bool f64 = hdr_int(env, h, 15, 1, "f64") != 0;
    const std::size_t elem = f64 ? 8 : 4;
    DeviceMemory* dx = device_arg(info, 0, "x");
    DeviceMemory* dout = device_arg(info, 1, "out");
    x = AnyArray{dx->buf.get(), dx->buf.bytes() / elem, f64, info[0].As<Napi::Object>()};
    out = AnyArray{dout->buf.get(), dout->buf.bytes() / elem, f64, info[1].As<Napi::Object>()};
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
  const Control ctl = control_arg(info, 7, &job);
  const bool async = info[8].ToBoolean();
  for (auto* o : {&x.object, &out.object, &par.object, &tc.object, &n0.object, &sw.object}) job.keep_alive.push_back(*o);
  job.work = [c, ctl] { sde_fused(c, ctl); };
  return run_job(env, async, std::move(job));
}

// sdeBrownian(dW, J | null, hdr: F64 [paths, pathOffset, m, step, refine, stream, keyLo, keyHi, h, device])
Napi::Value Brownian(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AnyArray dW = float_array_arg(info, 0, "dW");
  auto h = array_arg<double>(info, 2, "hdr");
  BrownianCall c;
  c.f64 = dW.is_f64;
  c.paths = hdr_int(env, h, 0, 9007199254740991.0, "paths");
  c.path_offset = hdr_int(env, h, 1, 9007199254740991.0, "pathOffset");
  c.m = static_cast<uint32_t>(hdr_int(env, h, 2, 1 << 30, "m"));
  c.step = static_cast<uint32_t>(hdr_int(env, h, 3, 4294967295.0, "step"));
  c.refine = static_cast<uint32_t>(hdr_int(env, h, 4, 1 << 30, "refine"));
  c.stream = static_cast<uint32_t>(hdr_int(env, h, 5, 0xFFFF, "stream"));
  c.key_lo = static_cast<uint32_t>(hdr_int(env, h, 6, 4294967295.0, "keyLo"));
  c.key_hi = static_cast<uint32_t>(hdr_int(env, h, 7, 4294967295.0, "keyHi"));
  if (h.length < 10) throw_arg(env, "header too short");
  c.h = h.data[8];
  c.device = hdr_int(env, h, 9, 1, "device") ? Device::Cuda : Device::Cpu;
  if (dW.length != c.paths * c.m) throw_shape(env, "dW must hold paths*m values");
  c.dW = dW.data;
  c.J = opt_array(info, 1, "J", c.f64, dW.length);
  sde_brownian(c, Control());
  return env.Undefined();
}

// sdeUpdate(op, noise, paths, d, m, h, x, y, f1, f2, g1, g2, gdg, dW, J, device?)  (synchronous)
Napi::Value Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  GenericCall c;
  c.op = static_cast<int>(u32_arg(info, 0, "op"));
  c.noise = static_cast<int>(u32_arg(info, 1, "noise"));
  c.paths = u53_arg(info, 2, "paths");
  c.d = u32_arg(info, 3, "d");
  c.m = u32_arg(info, 4, "m");
  c.h = number_arg(info, 5, "h");
  AnyArray x = float_array_arg(info, 6, "x");
  c.f64 = x.is_f64;
  const std::size_t pd = c.paths * c.d, pm = c.paths * c.m;
  if (x.length != pd) throw_shape(env, "x must hold paths*d values");
  std::size_t gsize = pd;
  if (c.noise == sde::kAdditive) gsize = static_cast<std::size_t>(c.d) * c.m;
  if (c.noise == sde::kGeneral) gsize = pd * c.m;
  if ((c.noise == sde::kDiagonal && c.m != c.d) || (c.noise == sde::kScalar && c.m != 1))
    throw_shape(env, "brownian dim does not fit the noise type");
  c.x = x.data;
  c.y = opt_array(info, 7, "y", c.f64, pd);
  c.f1 = opt_array(info, 8, "f1", c.f64, pd);
  c.f2 = opt_array(info, 9, "f2", c.f64, pd);
  c.g1 = opt_array(info, 10, "g1", c.f64, gsize);
  c.g2 = opt_array(info, 11, "g2", c.f64, gsize);
  c.gdg = opt_array(info, 12, "gdg", c.f64, pd);
  c.dW = opt_array(info, 13, "dW", c.f64, pm);
  c.J = opt_array(info, 14, "J", c.f64, pm);
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
  if (info.Length() > 15 && !info[15].IsUndefined()) c.device = u32_arg(info, 15, "device") ? Device::Cuda : Device::Cpu;
  sde_generic_update(c);
  return env.Undefined();
}

std::vector<const float*> float_list(const Napi::CallbackInfo& info, std::size_t i, std::size_t n, const char* name,
                                     std::vector<Napi::Object>* keep) {
  if (i >= info.Length() || !info[i].IsArray()) throw_arg(info.Env(), std::string(name) + " must be an array");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<const float*> v;
  for (uint32_t k = 0; k < a.Length(); ++k) {
    Napi::Value e = a.Get(k);
    if (!e.IsTypedArray() || e.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " must hold Float32Arrays");
    Napi::TypedArray t = e.As<Napi::TypedArray>();
    if (t.ElementLength() != n) throw_shape(info.Env(), std::string(name) + " entries have the wrong length");
    v.push_back(reinterpret_cast<const float*>(typed_array_bytes(info.Env(), t, name)));
    if (keep) keep->push_back(t);
  }
  return v;
}

// sdeLincomb(out, inputs: F32[], coef: F64 [(K+1)*P], noise, P, D, keyLo, keyHi, stream, step, sampleOffset[, clip])
Napi::Value Lincomb(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = array_arg<float>(info, 0, "out");
  LincombCall c;
  c.P = u53_arg(info, 4, "P");
  c.D = u53_arg(info, 5, "D");
  if (out.length != c.P * c.D) throw_shape(env, "out must hold P*D values");
  c.inputs = float_list(info, 1, out.length, "inputs", nullptr);
  auto coef = array_arg<double>(info, 2, "coef");
  if (coef.length != (c.inputs.size() + 1) * c.P) throw_shape(env, "coef must hold (K+1)*P values");
  c.out = out.data;
  c.coef = coef.data;
  c.noise = info[3].ToBoolean();
  c.key_lo = u32_arg(info, 6, "keyLo");
  c.key_hi = u32_arg(info, 7, "keyHi");
  c.stream = u32_arg(info, 8, "stream");
  c.step = u32_arg(info, 9, "step");
  c.sample_offset = u53_arg(info, 10, "sampleOffset");
  if (info.Length() > 11 && info[11].IsNumber()) c.clip = info[11].As<Napi::Number>().DoubleValue();
  if (!(c.clip >= 0)) throw_arg(env, "clip must be a non-negative number");
  if (c.stream > 0xFFFF) throw_arg(env, "stream must be below 65536");
  sde_lincomb(c);
  return env.Undefined();
}

// sdeRowStats(x, P, D, out: F64 [3P])
Napi::Value RowStats(const Napi::CallbackInfo& info) {
  auto x = array_arg<float>(info, 0, "x");
  const uint64_t P = u53_arg(info, 1, "P"), D = u53_arg(info, 2, "D");
  auto out = array_arg<double>(info, 3, "out");
  if (x.length != P * D || out.length != 3 * P) throw_shape(info.Env(), "row stats: wrong sizes");
  sde_row_stats(x.data, P, D, out.data);
  return info.Env().Undefined();
}

// sdeGmmScore(x, P, D, logw, means, vars, scale, addvar, out)
Napi::Value GmmScore(const Napi::CallbackInfo& info) {
  auto x = array_arg<float>(info, 0, "x");
  const uint64_t P = u53_arg(info, 1, "P"), D = u53_arg(info, 2, "D");
  auto lw = array_arg<double>(info, 3, "logw");
  auto mn = array_arg<double>(info, 4, "means");
  auto vr = array_arg<double>(info, 5, "vars");
  auto sc = array_arg<double>(info, 6, "scale");
  auto av = array_arg<double>(info, 7, "addvar");
  auto out = array_arg<float>(info, 8, "out");
  const std::size_t K = lw.length;
  if (x.length != P * D || out.length != P * D || mn.length != K * D || vr.length != K * D || sc.length != P ||
      av.length != P)
    throw_shape(info.Env(), "gmm score: wrong sizes");
  sde_gmm_score(x.data, P, D, static_cast<uint32_t>(K), lw.data, mn.data, vr.data, sc.data, av.data, out.data);
  return info.Env().Undefined();
}

// sdeRk45Norm(y, ynew, ks: F32[7], e: F64[7], h, atol, rtol) -> number
Napi::Value Rk45Norm(const Napi::CallbackInfo& info) {
  auto y = array_arg<float>(info, 0, "y");
  auto yn = array_arg<float>(info, 1, "ynew");
  if (yn.length != y.length) throw_shape(info.Env(), "y and ynew differ in length");
  std::vector<const float*> ks = float_list(info, 2, y.length, "ks", nullptr);
  auto e = array_arg<double>(info, 3, "e");
  if (e.length != ks.size()) throw_shape(info.Env(), "e and ks differ in length");
  const double r = sde_rk45_norm(y.data, yn.data, ks, e.data, y.length, number_arg(info, 4, "h"),
                                 number_arg(info, 5, "atol"), number_arg(info, 6, "rtol"));
  return Napi::Number::New(info.Env(), r);
}

}  // namespace

void init_sde(Napi::Env env, Napi::Object exports) {
  exports.Set("sdeFused", Napi::Function::New(env, guarded<Fused>));
  exports.Set("sdeBrownian", Napi::Function::New(env, guarded<Brownian>));
  exports.Set("sdeUpdate", Napi::Function::New(env, guarded<Update>));
  exports.Set("sdeLincomb", Napi::Function::New(env, guarded<Lincomb>));
  exports.Set("sdeRowStats", Napi::Function::New(env, guarded<RowStats>));
  exports.Set("sdeGmmScore", Napi::Function::New(env, guarded<GmmScore>));
  exports.Set("sdeRk45Norm", Napi::Function::New(env, guarded<Rk45Norm>));
}

}  // namespace napi
}  // namespace itk

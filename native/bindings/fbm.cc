// fbm area bindings: converts arguments and calls native/fbm. Each call takes one options object
// read by name (napi_util.h Args; interfaces in lib/fbm/addon.ts). Arguments were validated in
// lib/fbm; the checks here only keep direct callers from reading or writing out of bounds.
#include "../fbm/fbm_analysis.h"
#include "../fbm/fbm_augment.h"
#include "../fbm/fbm_coeffs.h"
#include "../fbm/fbm_exact.h"
#include "../fbm/fbm_markov.h"
#include "../fbm/fbm_sde.h"
#include "../fbm/fbm_special.h"
#include "areas.h"
#include "device_arg.h"
#include "job_runner.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

using fbm::FbmType;

FbmType type_arg(const Args& in) {
  const uint32_t t = in.u32("type");
  if (t != 1 && t != 2) throw_arg(in.env(), "type must be 1 (I) or 2 (II)");
  return static_cast<FbmType>(t);
}

Napi::Float64Array to_js(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

// fbmGammas({kind: 0 = by gammaMax / 1 = by ratio, K, param, offset}) -> Float64Array
Napi::Value Gammas(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint32_t kind = in.u32("kind");
  const int K = static_cast<int>(in.u32("K"));
  const double param = in.number("param");
  const double offset = in.number("offset");
  return to_js(info.Env(), kind == 0 ? fbm::gamma_by_gamma_max(K, param, offset) : fbm::gamma_by_ratio(K, param, offset));
}

// fbmCoefficients({type, hurst, T, unit, gammas, derivative}) -> result object
Napi::Value Coefficients(const Napi::CallbackInfo& info) {
  const Args in(info);
  const FbmType type = type_arg(in);
  const double hurst = in.number("hurst");
  const double T = in.number("T");
  const bool unit = in.flag("unit");
  auto g = in.array<double>("gammas");
  const uint32_t derivative = in.u32("derivative");
  if (derivative > 2) throw_arg(info.Env(), "derivative must be 0, 1 or 2");
  const fbm::MarkovCoefficients r =
      fbm::markov_coefficients(type, hurst, T, unit, g.data, static_cast<int>(g.length), static_cast<int>(derivative));
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("omegas", to_js(env, r.omegas));
  if (derivative) o.Set("dOmegaDHurst", to_js(env, r.d_omega_d_hurst));
  o.Set("relativeError", r.relative_error);
  o.Set("quadraticError", r.quadratic_error);
  o.Set("ridge", r.ridge);
  o.Set("cond", r.cond);
  o.Set("illConditioned", r.ill_conditioned);
  return o;
}

// fbmMatrices({type, hurst, T, unit, gammas}) -> { A, b, c }
Napi::Value Matrices(const Napi::CallbackInfo& info) {
  const Args in(info);
  const FbmType type = type_arg(in);
  auto g = in.array<double>("gammas");
  std::vector<double> A, b;
  double c = 0;
  fbm::markov_matrices(type, in.number("hurst"), in.number("T"), in.flag("unit"), g.data,
                       static_cast<int>(g.length), &A, &b, &c);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("A", to_js(env, A));
  o.Set("b", to_js(env, b));
  o.Set("c", c);
  return o;
}

// fbmVariance({type, hurst}) -> V_I or V_II
Napi::Value Variance(const Napi::CallbackInfo& info) {
  const Args in(info);
  const FbmType type = type_arg(in);
  const double h = in.number("hurst");
  if (!(h > 0 && h < 1)) throw_arg(info.Env(), "hurst must be in (0, 1)");
  return Napi::Number::New(info.Env(), fbm::type_variance(type, h));
}

// fbmMarkovSample({out, brownian|null, paths, dims, n, T, type, exact, gammas, omegas, keyLo, keyHi,
//                  pathOffset, device, control, async, f64})
// out and brownian are TypedArrays, or device handles (then f64 says the dtype).
Napi::Value MarkovSample(const Napi::CallbackInfo& info) {
  const Args in(info);
  fbm::MarkovRequest r;
  r.device_io = is_device_handle(in, "out");
  // Device handles carry no dtype: `f64` gives it; lengths come from the handles' bytes.
  const bool handle_f64 = r.device_io && in.flag("f64");
  auto any_arg = [&](const char* key) {
    if (!r.device_io) return in.float_array(key);
    DeviceMemory* m = device_arg(in, key);
    return AnyArray{m->buf.get(), m->buf.bytes() / (handle_f64 ? 8 : 4), handle_f64, in.value(key).As<Napi::Object>()};
  };
  AnyArray out = any_arg("out");
  r.out = out.data;
  r.f64 = out.is_f64;
  Job job;
  job.keep_alive.push_back(out.object);
  if (in.has("brownian")) {
    AnyArray bro = any_arg("brownian");
    if (bro.is_f64 != out.is_f64 || bro.length != out.length)
      throw coded_error(info.Env(), code_string(Code::Shape), "brownian must match out");
    r.bro = bro.data;
    job.keep_alive.push_back(bro.object);
  }
  r.paths = in.u53("paths");
  r.dims = static_cast<int>(in.u32("dims"));
  r.n = in.u32("n");
  r.T = in.number("T");
  r.stationary = type_arg(in) == FbmType::I;
  r.exact = in.flag("exact");
  auto g = in.array<double>("gammas");
  auto w = in.array<double>("omegas");
  if (g.length != w.length || g.length == 0) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas must have the same length K >= 1");
  r.K = static_cast<int>(g.length);
  r.key_lo = in.u32("keyLo");
  r.key_hi = in.u32("keyHi");
  r.path_offset = in.u53("pathOffset");
  const uint32_t dev = in.u32("device");
  if (r.dims < 1 || static_cast<double>(r.paths) * (static_cast<double>(r.n) + 1) * r.dims != static_cast<double>(out.length))
    throw coded_error(info.Env(), code_string(Code::Shape), "out must hold paths*(n+1)*dims values");
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(g.object);
  job.keep_alive.push_back(w.object);
  const std::vector<double> gv(g.data, g.data + g.length), wv(w.data, w.data + w.length);
  const Device device = dev == 1 ? Device::Cuda : Device::Cpu;
  job.work = [r, gv, wv, device, ctl]() mutable {
    r.gammas = gv.data();
    r.omegas = wv.data();
    fbm::markov_sample(r, device, ctl);
  };
  return run_job(info.Env(), async, std::move(job));
}

// fbmExactSample({out, method, type, hurst, n, T, scale, paths, keyLo, keyHi, pathOffset, control,
//                 async}) -> boolean (Davies–Harte fell back to Hosking)
Napi::Value ExactSample(const Napi::CallbackInfo& info) {
  const Args in(info);
  AnyArray out = in.float_array("out");
  const uint32_t method = in.u32("method");
  if (method > 2) throw_arg(info.Env(), "unknown exact method");
  fbm::ExactRequest r;
  r.out = out.data;
  r.f64 = out.is_f64;
  r.type = type_arg(in);
  r.hurst = in.number("hurst");
  r.n = in.u32("n");
  r.T = in.number("T");
  r.scale = in.number("scale");
  r.paths = in.u53("paths");
  r.key_lo = in.u32("keyLo");
  r.key_hi = in.u32("keyHi");
  r.path_offset = in.u53("pathOffset");
  if (static_cast<double>(r.paths) * (static_cast<double>(r.n) + 1) != static_cast<double>(out.length))
    throw coded_error(info.Env(), code_string(Code::Shape), "out must hold paths*(n+1) values");
  Job job;
  job.keep_alive.push_back(out.object);
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  auto fell_back = std::make_shared<bool>(false);
  const auto m = static_cast<fbm::ExactMethod>(method);
  job.work = [r, m, ctl, fell_back] { *fell_back = fbm::exact_sample(r, m, ctl); };
  job.finish = [fell_back](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *fell_back); };
  return run_job(info.Env(), async, std::move(job));
}

// fbmCirculantEigenvalues({hurst, n}) -> Float64Array(2n′)
Napi::Value CirculantEigenvalues(const Napi::CallbackInfo& info) {
  const Args in(info);
  return to_js(info.Env(), fbm::circulant_eigenvalues(in.number("hurst"), in.u32("n")));
}

// fbmAutocov({hurst, k}) -> ρ(k)
Napi::Value Autocov(const Napi::CallbackInfo& info) {
  const Args in(info);
  return Napi::Number::New(info.Env(), fbm::fgn_autocov(in.number("hurst"), in.number("k")));
}

// fbmCovariance({markov, type, hurst, unit, times, gammas|null, omegas|null, out})
Napi::Value Covariance(const Napi::CallbackInfo& info) {
  const Args in(info);
  const bool markov = in.flag("markov");
  const FbmType type = type_arg(in);
  auto t = in.array<double>("times");
  auto out = in.array<double>("out");
  if (out.length != t.length * t.length) throw coded_error(info.Env(), code_string(Code::Shape), "out must hold times^2 values");
  const double* g = nullptr;
  const double* w = nullptr;
  int K = 0;
  if (markov) {
    auto ga = in.array<double>("gammas");
    auto wa = in.array<double>("omegas");
    if (ga.length != wa.length) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas differ in length");
    g = ga.data;
    w = wa.data;
    K = static_cast<int>(ga.length);
  }
  fbm::covariance(markov, type, in.number("hurst"), in.flag("unit"), t.data, t.length, g, w, K, out.data);
  return info.Env().Undefined();
}

// fbmHurst({data, paths, len, increments, lags: Int32Array, out: Float64Array, control, async})
Napi::Value Hurst(const Napi::CallbackInfo& info) {
  const Args in(info);
  AnyArray data = in.float_array("data");
  const uint64_t paths = in.u53("paths");
  const uint64_t len = in.u53("len");
  const bool increments = in.flag("increments");
  auto lags = in.array<int32_t>("lags");
  auto out = in.array<double>("out");
  if (paths * len != data.length || out.length != paths)
    throw coded_error(info.Env(), code_string(Code::Shape), "paths array must hold paths*len values");
  Job job;
  job.keep_alive = {data.object, lags.object, out.object};
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  const void* d = data.data;
  const bool f64 = data.is_f64;
  const int* lp = lags.data;
  const int nl = static_cast<int>(lags.length);
  double* o = out.data;
  job.work = [=] { fbm::estimate_hurst(d, f64, paths, len, increments, lp, nl, o, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// Model parameters: fOU packs [θ(D), μ(D), σ(D)]; rough volatility [κ, m, ν, μ, ρ].
FbmSdeParams sde_params(const Args& in, uint32_t model, const ArrayArg<double>& par, int D) {
  FbmSdeParams p;
  if (model == 0) {
    if (par.length != 3 * static_cast<std::size_t>(D)) throw coded_error(in.env(), code_string(Code::Shape), "fOU parameters must hold 3*D values");
    p.model = kFbmSdeFou;
    p.theta = par.data;
    p.mu = par.data + D;
    p.sigma = par.data + 2 * D;
  } else if (model == 1) {
    if (par.length != 5 || D != 1) throw coded_error(in.env(), code_string(Code::Shape), "rough-volatility parameters must hold 5 values, D = 1");
    p.model = kFbmSdeRoughVol;
    p.theta = par.data;
  } else {
    throw_arg(in.env(), "unknown fBM SDE model");
  }
  return p;
}

// fbmSdeSimulate({out, finalY|null, model, params, D, stateDim, paths, n, T, exact, type, gammas,
//                 omegas, keyLo, keyHi, pathOffset, x0, x0PerPath, saveEvery, control, async})
Napi::Value SdeSimulate(const Napi::CallbackInfo& info) {
  const Args in(info);
  AnyArray out = in.float_array("out");
  fbm::SdeRequest r;
  Job job;
  job.keep_alive.push_back(out.object);
  r.out = out.data;
  r.out_f64 = out.is_f64;
  const uint32_t model = in.u32("model");
  auto par = in.array<double>("params");
  r.D = static_cast<int>(in.u32("D"));
  r.state_dim = static_cast<int>(in.u32("stateDim"));
  r.params = sde_params(in, model, par, r.D);
  r.paths = in.u53("paths");
  r.n = in.u32("n");
  r.T = in.number("T");
  r.exact = in.flag("exact");
  r.stationary = type_arg(in) == FbmType::I;
  auto g = in.array<double>("gammas");
  auto w = in.array<double>("omegas");
  if (g.length != w.length || g.length == 0) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas must have the same length K >= 1");
  r.gammas = g.data;
  r.omegas = w.data;
  r.K = static_cast<int>(g.length);
  r.key_lo = in.u32("keyLo");
  r.key_hi = in.u32("keyHi");
  r.path_offset = in.u53("pathOffset");
  auto x0 = in.array<double>("x0");
  r.x0 = x0.data;
  r.x0_per_path = in.flag("x0PerPath");
  r.save_every = in.u32("saveEvery");
  if (r.state_dim != (model == 1 ? 2 : r.D)) throw coded_error(info.Env(), code_string(Code::Shape), "stateDim does not match the model");
  if (x0.length != (r.x0_per_path ? r.paths * r.state_dim : static_cast<std::size_t>(r.state_dim)))
    throw coded_error(info.Env(), code_string(Code::Shape), "x0 has the wrong length");
  if (out.length != fbm::sde_save_count(r.n, r.save_every) * r.paths * r.state_dim)
    throw coded_error(info.Env(), code_string(Code::Shape), "out has the wrong length");
  if (in.has("finalY")) {
    auto fy = in.array<double>("finalY");
    if (fy.length != r.paths * r.D * r.K) throw coded_error(info.Env(), code_string(Code::Shape), "finalY must hold paths*D*K values");
    r.final_y = fy.data;
    job.keep_alive.push_back(fy.object);
  }
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  for (auto& o : {par.object, g.object, w.object, x0.object}) job.keep_alive.push_back(o);
  job.work = [r, ctl] { fbm::sde_simulate(r, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// fbmControlledStep({x, y, u|null, kl|null, model, params, D, dt, gammas, omegas, keyLo, keyHi,
//                    pathOffset, step})
Napi::Value ControlledStepFn(const Napi::CallbackInfo& info) {
  const Args in(info);
  fbm::ControlledStep c;
  auto x = in.array<double>("x");
  auto y = in.array<double>("y");
  const uint32_t model = in.u32("model");
  auto par = in.array<double>("params");
  c.D = static_cast<int>(in.u32("D"));
  c.params = sde_params(in, model, par, c.D);
  c.dt = in.number("dt");
  auto g = in.array<double>("gammas");
  auto w = in.array<double>("omegas");
  if (g.length != w.length || g.length == 0) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas must have the same length K >= 1");
  c.K = static_cast<int>(g.length);
  c.gammas = g.data;
  c.omegas = w.data;
  c.key_lo = in.u32("keyLo");
  c.key_hi = in.u32("keyHi");
  c.path_offset = in.u53("pathOffset");
  c.step = in.u32("step");
  const int sd = model == 1 ? 2 : c.D;
  if (x.length % sd != 0) throw coded_error(info.Env(), code_string(Code::Shape), "x must hold paths*stateDim values");
  c.paths = x.length / sd;
  if (y.length != c.paths * c.D * c.K) throw coded_error(info.Env(), code_string(Code::Shape), "y must hold paths*D*K values");
  c.x = x.data;
  c.y = y.data;
  if (in.has("u")) {
    auto u = in.array<double>("u");
    if (u.length != c.paths * c.D) throw coded_error(info.Env(), code_string(Code::Shape), "u must hold paths*D values");
    c.u = u.data;
  }
  if (in.has("kl")) {
    auto kl = in.array<double>("kl");
    if (kl.length != c.paths) throw coded_error(info.Env(), code_string(Code::Shape), "kl must hold one value per path");
    c.kl = kl.data;
  }
  fbm::controlled_step(c, Control());
  return info.Env().Undefined();
}

// fbmInitialFactors({y, paths, D, gammas, type, keyLo, keyHi, pathOffset})
Napi::Value InitialFactors(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto y = in.array<double>("y");
  const uint64_t paths = in.u53("paths");
  const int D = static_cast<int>(in.u32("D"));
  auto g = in.array<double>("gammas");
  const bool stationary = type_arg(in) == FbmType::I;
  if (y.length != paths * D * g.length) throw coded_error(info.Env(), code_string(Code::Shape), "y must hold paths*D*K values");
  fbm::initial_factors(y.data, paths, D, g.data, static_cast<int>(g.length), stationary, in.u32("keyLo"),
                       in.u32("keyHi"), in.u53("pathOffset"));
  return info.Env().Undefined();
}

// Checks that every array has the float type of `ref` and returns its data pointer.
void* same_dtype(const Args& in, const char* name, const AnyArray& ref, std::size_t len, std::vector<Napi::Object>* keep) {
  AnyArray a = in.float_array(name);
  if (a.is_f64 != ref.is_f64) throw coded_error(in.env(), code_string(Code::Dtype), std::string(name) + " must match the state dtype");
  if (a.length != len) throw coded_error(in.env(), code_string(Code::Shape), std::string(name) + " has the wrong length");
  keep->push_back(a.object);
  return a.data;
}

// fbmAugment({op, z, P, D, gammas, omegas, x?, f?, sigma?, itoCorrection?, out?}): op 0 gather
// (x out of z), 1 drift (f, sigma, itoCorrection | null -> out), 2 diffusion (sigma -> out = g).
Napi::Value Augment(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint32_t op = in.u32("op");
  const uint64_t P = in.u53("P");
  const int D = static_cast<int>(in.u32("D"));
  auto g = in.array<double>("gammas");
  auto w = in.array<double>("omegas");
  if (g.length != w.length || g.length == 0 || D < 1) throw coded_error(info.Env(), code_string(Code::Shape), "bad gammas/omegas/D");
  const int K = static_cast<int>(g.length);
  const std::size_t PD = P * D, PZ = P * D * (K + 1);
  std::vector<Napi::Object> keep;
  if (op == 0) {
    AnyArray z = in.float_array("z");
    if (z.length != PZ) throw coded_error(info.Env(), code_string(Code::Shape), "z must hold P*D*(1+K) values");
    fbm::augment_gather(z.data, same_dtype(in, "x", z, PD, &keep), z.is_f64, P, D, K);
  } else if (op == 1) {
    AnyArray z = in.float_array("z");
    if (z.length != PZ) throw coded_error(info.Env(), code_string(Code::Shape), "z must hold P*D*(1+K) values");
    const void* f = same_dtype(in, "f", z, PD, &keep);
    const void* s = same_dtype(in, "sigma", z, PD, &keep);
    const void* ic = in.has("itoCorrection") ? same_dtype(in, "itoCorrection", z, PD, &keep) : nullptr;
    fbm::augment_drift(z.data, f, s, ic, same_dtype(in, "out", z, PZ, &keep), z.is_f64, P, D, g.data, w.data, K);
  } else if (op == 2) {
    AnyArray s = in.float_array("sigma");
    if (s.length != PD) throw coded_error(info.Env(), code_string(Code::Shape), "sigma must hold P*D values");
    fbm::augment_diffusion(s.data, same_dtype(in, "out", s, PZ * D, &keep), s.is_f64, P, D, w.data, K);
  } else {
    throw_arg(info.Env(), "unknown augment op");
  }
  return info.Env().Undefined();
}

}  // namespace

void init_fbm(Napi::Env env, Napi::Object exports) {
  bind<Gammas>(env, exports, "fbmGammas", {"kind", "K", "param", "offset"});
  bind<Coefficients>(env, exports, "fbmCoefficients", {"hurst", "T", "unit", "gammas", "derivative", "type"});
  bind<Matrices>(env, exports, "fbmMatrices", {"gammas", "hurst", "T", "unit", "type"});
  bind<Variance>(env, exports, "fbmVariance", {"hurst", "type"});
  bind<MarkovSample>(env, exports, "fbmMarkovSample",
       {"f64", "brownian", "paths", "dims", "n", "T", "exact", "gammas", "omegas", "keyLo", "keyHi", "pathOffset",
        "device", "async", "out", "control", "type"});
  bind<ExactSample>(env, exports, "fbmExactSample",
       {"out", "method", "hurst", "n", "T", "scale", "paths", "keyLo", "keyHi", "pathOffset", "async", "control",
        "type"});
  bind<CirculantEigenvalues>(env, exports, "fbmCirculantEigenvalues", {"hurst", "n"});
  bind<Autocov>(env, exports, "fbmAutocov", {"hurst", "k"});
  bind<Covariance>(env, exports, "fbmCovariance",
       {"markov", "times", "out", "gammas", "omegas", "hurst", "unit", "type"});
  bind<Hurst>(env, exports, "fbmHurst", {"data", "paths", "len", "increments", "lags", "out", "async", "control"});
  bind<SdeSimulate>(env, exports, "fbmSdeSimulate",
       {"out", "model", "params", "D", "stateDim", "paths", "n", "T", "exact", "gammas", "omegas", "keyLo", "keyHi",
        "pathOffset", "x0", "x0PerPath", "saveEvery", "finalY", "async", "control", "type"});
  bind<ControlledStepFn>(env, exports, "fbmControlledStep",
       {"x", "y", "model", "params", "D", "dt", "gammas", "omegas", "keyLo", "keyHi", "pathOffset", "step", "u", "kl"});
  bind<InitialFactors>(env, exports, "fbmInitialFactors",
       {"y", "paths", "D", "gammas", "keyLo", "keyHi", "pathOffset", "type"});
  bind<Augment>(env, exports, "fbmAugment",
       {"op", "P", "D", "gammas", "omegas", "z", "itoCorrection", "sigma", "x", "f", "out"});
}

}  // namespace napi
}  // namespace itk

// fbm area bindings: converts arguments and calls native/fbm. Arguments were validated in
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

FbmType type_arg(const Napi::CallbackInfo& info, std::size_t i) {
  const uint32_t t = u32_arg(info, i, "type");
  if (t != 1 && t != 2) throw_arg(info.Env(), "type must be 1 (I) or 2 (II)");
  return static_cast<FbmType>(t);
}

Napi::Float64Array to_js(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

// fbmGammas(kind 0 = by gammaMax / 1 = by ratio, K, param, offset) -> Float64Array
Napi::Value Gammas(const Napi::CallbackInfo& info) {
  const uint32_t kind = u32_arg(info, 0, "kind");
  const int K = static_cast<int>(u32_arg(info, 1, "K"));
  const double param = number_arg(info, 2, "param");
  const double offset = number_arg(info, 3, "offset");
  return to_js(info.Env(), kind == 0 ? fbm::gamma_by_gamma_max(K, param, offset) : fbm::gamma_by_ratio(K, param, offset));
}

// fbmCoefficients(type, hurst, T, unit, gammas, derivative) -> result object
Napi::Value Coefficients(const Napi::CallbackInfo& info) {
  const FbmType type = type_arg(info, 0);
  const double hurst = number_arg(info, 1, "hurst");
  const double T = number_arg(info, 2, "T");
  const bool unit = info[3].ToBoolean();
  auto g = array_arg<double>(info, 4, "gammas");
  const uint32_t derivative = u32_arg(info, 5, "derivative");
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

// fbmMatrices(type, hurst, T, unit, gammas) -> { A, b, c }
Napi::Value Matrices(const Napi::CallbackInfo& info) {
  const FbmType type = type_arg(info, 0);
  auto g = array_arg<double>(info, 4, "gammas");
  std::vector<double> A, b;
  double c = 0;
  fbm::markov_matrices(type, number_arg(info, 1, "hurst"), number_arg(info, 2, "T"), info[3].ToBoolean(), g.data,
                       static_cast<int>(g.length), &A, &b, &c);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("A", to_js(env, A));
  o.Set("b", to_js(env, b));
  o.Set("c", c);
  return o;
}

// fbmVariance(type, hurst) -> V_I or V_II
Napi::Value Variance(const Napi::CallbackInfo& info) {
  const FbmType type = type_arg(info, 0);
  const double h = number_arg(info, 1, "hurst");
  if (!(h > 0 && h < 1)) throw_arg(info.Env(), "hurst must be in (0, 1)");
  return Napi::Number::New(info.Env(), fbm::type_variance(type, h));
}

// out and bro are TypedArrays, or device handles (then f64 says the dtype).
// fbmMarkovSample(out, bro|null, paths, dims, n, T, type, exact, gammas, omegas, keyLo, keyHi,
//                 pathOffset, device, control, async, f64)
Napi::Value MarkovSample(const Napi::CallbackInfo& info) {
  fbm::MarkovRequest r;
  r.device_io = is_device_handle(info, 0);
  // Device handles carry no dtype: argument 16 gives it; lengths come from the handles' bytes.
  auto any_arg = [&](std::size_t i, const char* name) {
    if (!r.device_io) return float_array_arg(info, i, name);
    const bool f64 = info.Length() > 16 && info[16].ToBoolean();
    DeviceMemory* m = device_arg(info, i, name);
    return AnyArray{m->buf.get(), m->buf.bytes() / (f64 ? 8 : 4), f64, info[i].As<Napi::Object>()};
  };
  AnyArray out = any_arg(0, "out");
  r.out = out.data;
  r.f64 = out.is_f64;
  Job job;
  job.keep_alive.push_back(out.object);
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    AnyArray bro = any_arg(1, "brownian");
    if (bro.is_f64 != out.is_f64 || bro.length != out.length)
      throw coded_error(info.Env(), code_string(Code::Shape), "brownian must match out");
    r.bro = bro.data;
    job.keep_alive.push_back(bro.object);
  }
  r.paths = u53_arg(info, 2, "paths");
  r.dims = static_cast<int>(u32_arg(info, 3, "dims"));
  r.n = u32_arg(info, 4, "n");
  r.T = number_arg(info, 5, "T");
  r.stationary = type_arg(info, 6) == FbmType::I;
  r.exact = info[7].ToBoolean();
  auto g = array_arg<double>(info, 8, "gammas");
  auto w = array_arg<double>(info, 9, "omegas");
  if (g.length != w.length || g.length == 0) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas must have the same length K >= 1");
  r.K = static_cast<int>(g.length);
  r.key_lo = u32_arg(info, 10, "keyLo");
  r.key_hi = u32_arg(info, 11, "keyHi");
  r.path_offset = u53_arg(info, 12, "pathOffset");
  const uint32_t dev = u32_arg(info, 13, "device");
  if (r.dims < 1 || static_cast<double>(r.paths) * (static_cast<double>(r.n) + 1) * r.dims != static_cast<double>(out.length))
    throw coded_error(info.Env(), code_string(Code::Shape), "out must hold paths*(n+1)*dims values");
  const Control ctl = control_arg(info, 14, &job);
  const bool async = info[15].ToBoolean();
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

// fbmExactSample(out, method, type, hurst, n, T, scale, paths, keyLo, keyHi, pathOffset, control,
//                async) -> boolean (Davies–Harte fell back to Hosking)
Napi::Value ExactSample(const Napi::CallbackInfo& info) {
  AnyArray out = float_array_arg(info, 0, "out");
  const uint32_t method = u32_arg(info, 1, "method");
  if (method > 2) throw_arg(info.Env(), "unknown exact method");
  fbm::ExactRequest r;
  r.out = out.data;
  r.f64 = out.is_f64;
  r.type = type_arg(info, 2);
  r.hurst = number_arg(info, 3, "hurst");
  r.n = u32_arg(info, 4, "n");
  r.T = number_arg(info, 5, "T");
  r.scale = number_arg(info, 6, "scale");
  r.paths = u53_arg(info, 7, "paths");
  r.key_lo = u32_arg(info, 8, "keyLo");
  r.key_hi = u32_arg(info, 9, "keyHi");
  r.path_offset = u53_arg(info, 10, "pathOffset");
  if (static_cast<double>(r.paths) * (static_cast<double>(r.n) + 1) != static_cast<double>(out.length))
    throw coded_error(info.Env(), code_string(Code::Shape), "out must hold paths*(n+1) values");
  Job job;
  job.keep_alive.push_back(out.object);
  const Control ctl = control_arg(info, 11, &job);
  const bool async = info[12].ToBoolean();
  auto fell_back = std::make_shared<bool>(false);
  const auto m = static_cast<fbm::ExactMethod>(method);
  job.work = [r, m, ctl, fell_back] { *fell_back = fbm::exact_sample(r, m, ctl); };
  job.finish = [fell_back](Napi::Env env) -> Napi::Value { return Napi::Boolean::New(env, *fell_back); };
  return run_job(info.Env(), async, std::move(job));
}

// fbmCirculantEigenvalues(hurst, n) -> Float64Array(2n′)
Napi::Value CirculantEigenvalues(const Napi::CallbackInfo& info) {
  return to_js(info.Env(), fbm::circulant_eigenvalues(number_arg(info, 0, "hurst"), u32_arg(info, 1, "n")));
}

// fbmAutocov(hurst, k) -> ρ(k)
Napi::Value Autocov(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fbm::fgn_autocov(number_arg(info, 0, "hurst"), number_arg(info, 1, "k")));
}

// fbmCovariance(markov, type, hurst, unit, times, gammas|null, omegas|null, out)
Napi::Value Covariance(const Napi::CallbackInfo& info) {
  const bool markov = info[0].ToBoolean();
  const FbmType type = type_arg(info, 1);
  auto t = array_arg<double>(info, 4, "times");
  auto out = array_arg<double>(info, 7, "out");
  if (out.length != t.length * t.length) throw coded_error(info.Env(), code_string(Code::Shape), "out must hold times^2 values");
  const double* g = nullptr;
  const double* w = nullptr;
  int K = 0;
  if (markov) {
    auto ga = array_arg<double>(info, 5, "gammas");
    auto wa = array_arg<double>(info, 6, "omegas");
    if (ga.length != wa.length) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas differ in length");
    g = ga.data;
    w = wa.data;
    K = static_cast<int>(ga.length);
  }
  fbm::covariance(markov, type, number_arg(info, 2, "hurst"), info[3].ToBoolean(), t.data, t.length, g, w, K, out.data);
  return info.Env().Undefined();
}

// fbmHurst(data, paths, len, increments, lags: Int32Array, out: Float64Array, control, async)
Napi::Value Hurst(const Napi::CallbackInfo& info) {
  AnyArray data = float_array_arg(info, 0, "paths");
  const uint64_t paths = u53_arg(info, 1, "paths");
  const uint64_t len = u53_arg(info, 2, "len");
  const bool increments = info[3].ToBoolean();
  auto lags = array_arg<int32_t>(info, 4, "lags");
  auto out = array_arg<double>(info, 5, "out");
  if (paths * len != data.length || out.length != paths)
    throw coded_error(info.Env(), code_string(Code::Shape), "paths array must hold paths*len values");
  Job job;
  job.keep_alive = {data.object, lags.object, out.object};
  const Control ctl = control_arg(info, 6, &job);
  const bool async = info[7].ToBoolean();
  const void* d = data.data;
  const bool f64 = data.is_f64;
  const int* lp = lags.data;
  const int nl = static_cast<int>(lags.length);
  double* o = out.data;
  job.work = [=] { fbm::estimate_hurst(d, f64, paths, len, increments, lp, nl, o, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// Model parameters: fOU packs [θ(D), μ(D), σ(D)]; rough volatility [κ, m, ν, μ, ρ].
FbmSdeParams sde_params(const Napi::CallbackInfo& info, uint32_t model, const ArrayArg<double>& par, int D) {
  FbmSdeParams p;
  if (model == 0) {
    if (par.length != 3 * static_cast<std::size_t>(D)) throw coded_error(info.Env(), code_string(Code::Shape), "fOU parameters must hold 3*D values");
    p.model = kFbmSdeFou;
    p.theta = par.data;
    p.mu = par.data + D;
    p.sigma = par.data + 2 * D;
  } else if (model == 1) {
    if (par.length != 5 || D != 1) throw coded_error(info.Env(), code_string(Code::Shape), "rough-volatility parameters must hold 5 values, D = 1");
    p.model = kFbmSdeRoughVol;
    p.theta = par.data;
  } else {
    throw_arg(info.Env(), "unknown fBM SDE model");
  }
  return p;
}

// fbmSdeSimulate(out, finalY|null, model, params, D, stateDim, paths, n, T, exact, type, gammas,
//                omegas, keyLo, keyHi, pathOffset, x0, x0PerPath, saveEvery, control, async)
Napi::Value SdeSimulate(const Napi::CallbackInfo& info) {
  AnyArray out = float_array_arg(info, 0, "out");
  fbm::SdeRequest r;
  Job job;
  job.keep_alive.push_back(out.object);
  r.out = out.data;
  r.out_f64 = out.is_f64;
  const uint32_t model = u32_arg(info, 2, "model");
  auto par = array_arg<double>(info, 3, "params");
  r.D = static_cast<int>(u32_arg(info, 4, "D"));
  r.state_dim = static_cast<int>(u32_arg(info, 5, "stateDim"));
  r.params = sde_params(info, model, par, r.D);
  r.paths = u53_arg(info, 6, "paths");
  r.n = u32_arg(info, 7, "n");
  r.T = number_arg(info, 8, "T");
  r.exact = info[9].ToBoolean();
  r.stationary = type_arg(info, 10) == FbmType::I;
  auto g = array_arg<double>(info, 11, "gammas");
  auto w = array_arg<double>(info, 12, "omegas");
  if (g.length != w.length || g.length == 0) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas must have the same length K >= 1");
  r.gammas = g.data;
  r.omegas = w.data;
  r.K = static_cast<int>(g.length);
  r.key_lo = u32_arg(info, 13, "keyLo");
  r.key_hi = u32_arg(info, 14, "keyHi");
  r.path_offset = u53_arg(info, 15, "pathOffset");
  auto x0 = array_arg<double>(info, 16, "x0");
  r.x0 = x0.data;
  r.x0_per_path = info[17].ToBoolean();
  r.save_every = u32_arg(info, 18, "saveEvery");
  if (r.state_dim != (model == 1 ? 2 : r.D)) throw coded_error(info.Env(), code_string(Code::Shape), "stateDim does not match the model");
  if (x0.length != (r.x0_per_path ? r.paths * r.state_dim : static_cast<std::size_t>(r.state_dim)))
    throw coded_error(info.Env(), code_string(Code::Shape), "x0 has the wrong length");
  if (out.length != fbm::sde_save_count(r.n, r.save_every) * r.paths * r.state_dim)
    throw coded_error(info.Env(), code_string(Code::Shape), "out has the wrong length");
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    auto fy = array_arg<double>(info, 1, "finalY");
    if (fy.length != r.paths * r.D * r.K) throw coded_error(info.Env(), code_string(Code::Shape), "finalY must hold paths*D*K values");
    r.final_y = fy.data;
    job.keep_alive.push_back(fy.object);
  }
  const Control ctl = control_arg(info, 19, &job);
  const bool async = info[20].ToBoolean();
  for (auto& o : {par.object, g.object, w.object, x0.object}) job.keep_alive.push_back(o);
  job.work = [r, ctl] { fbm::sde_simulate(r, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// fbmControlledStep(x, y, u|null, kl|null, model, params, D, dt, gammas, omegas, keyLo, keyHi,
//                   pathOffset, step)
Napi::Value ControlledStepFn(const Napi::CallbackInfo& info) {
  fbm::ControlledStep c;
  auto x = array_arg<double>(info, 0, "x");
  auto y = array_arg<double>(info, 1, "y");
  const uint32_t model = u32_arg(info, 4, "model");
  auto par = array_arg<double>(info, 5, "params");
  c.D = static_cast<int>(u32_arg(info, 6, "D"));
  c.params = sde_params(info, model, par, c.D);
  c.dt = number_arg(info, 7, "dt");
  auto g = array_arg<double>(info, 8, "gammas");
  auto w = array_arg<double>(info, 9, "omegas");
  if (g.length != w.length || g.length == 0) throw coded_error(info.Env(), code_string(Code::Shape), "gammas and omegas must have the same length K >= 1");
  c.K = static_cast<int>(g.length);
  c.gammas = g.data;
  c.omegas = w.data;
  c.key_lo = u32_arg(info, 10, "keyLo");
  c.key_hi = u32_arg(info, 11, "keyHi");
  c.path_offset = u53_arg(info, 12, "pathOffset");
  c.step = u32_arg(info, 13, "step");
  const int sd = model == 1 ? 2 : c.D;
  if (x.length % sd != 0) throw coded_error(info.Env(), code_string(Code::Shape), "x must hold paths*stateDim values");
  c.paths = x.length / sd;
  if (y.length != c.paths * c.D * c.K) throw coded_error(info.Env(), code_string(Code::Shape), "y must hold paths*D*K values");
  c.x = x.data;
  c.y = y.data;
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    auto u = array_arg<double>(info, 2, "u");
    if (u.length != c.paths * c.D) throw coded_error(info.Env(), code_string(Code::Shape), "u must hold paths*D values");
    c.u = u.data;
  }
  if (!info[3].IsNull() && !info[3].IsUndefined()) {
    auto kl = array_arg<double>(info, 3, "kl");
    if (kl.length != c.paths) throw coded_error(info.Env(), code_string(Code::Shape), "kl must hold one value per path");
    c.kl = kl.data;
  }
  fbm::controlled_step(c, Control());
  return info.Env().Undefined();
}

// fbmInitialFactors(y, paths, D, gammas, type, keyLo, keyHi, pathOffset)
Napi::Value InitialFactors(const Napi::CallbackInfo& info) {
  auto y = array_arg<double>(info, 0, "y");
  const uint64_t paths = u53_arg(info, 1, "paths");
  const int D = static_cast<int>(u32_arg(info, 2, "D"));
  auto g = array_arg<double>(info, 3, "gammas");
  const bool stationary = type_arg(info, 4) == FbmType::I;
  if (y.length != paths * D * g.length) throw coded_error(info.Env(), code_string(Code::Shape), "y must hold paths*D*K values");
  fbm::initial_factors(y.data, paths, D, g.data, static_cast<int>(g.length), stationary, u32_arg(info, 5, "keyLo"),
                       u32_arg(info, 6, "keyHi"), u53_arg(info, 7, "pathOffset"));
  return info.Env().Undefined();
}

// Checks that every array has the float type of `ref` and returns its data pointer.
void* same_dtype(const Napi::CallbackInfo& info, std::size_t i, const char* name, const AnyArray& ref, std::size_t len,
                 std::vector<Napi::Object>* keep) {
  AnyArray a = float_array_arg(info, i, name);
  if (a.is_f64 != ref.is_f64) throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " must match the state dtype");
  if (a.length != len) throw coded_error(info.Env(), code_string(Code::Shape), std::string(name) + " has the wrong length");
  keep->push_back(a.object);
  return a.data;
}

// fbmAugment(op, z, P, D, gammas, omegas, a, b, c, out): op 0 gather (a = x out), 1 drift
// (a = f, b = σ, c = Itô correction | null, out), 2 diffusion (a = σ, out = g).
Napi::Value Augment(const Napi::CallbackInfo& info) {
  const uint32_t op = u32_arg(info, 0, "op");
  const uint64_t P = u53_arg(info, 2, "P");
  const int D = static_cast<int>(u32_arg(info, 3, "D"));
  auto g = array_arg<double>(info, 4, "gammas");
  auto w = array_arg<double>(info, 5, "omegas");
  if (g.length != w.length || g.length == 0 || D < 1) throw coded_error(info.Env(), code_string(Code::Shape), "bad gammas/omegas/D");
  const int K = static_cast<int>(g.length);
  const std::size_t PD = P * D, PZ = P * D * (K + 1);
  std::vector<Napi::Object> keep;
  if (op == 0) {
    AnyArray z = float_array_arg(info, 1, "z");
    if (z.length != PZ) throw coded_error(info.Env(), code_string(Code::Shape), "z must hold P*D*(1+K) values");
    fbm::augment_gather(z.data, same_dtype(info, 6, "x", z, PD, &keep), z.is_f64, P, D, K);
  } else if (op == 1) {
    AnyArray z = float_array_arg(info, 1, "z");
    if (z.length != PZ) throw coded_error(info.Env(), code_string(Code::Shape), "z must hold P*D*(1+K) values");
    const void* f = same_dtype(info, 6, "f", z, PD, &keep);
    const void* s = same_dtype(info, 7, "sigma", z, PD, &keep);
    const void* ic = info[8].IsNull() || info[8].IsUndefined() ? nullptr : same_dtype(info, 8, "itoCorrection", z, PD, &keep);
    fbm::augment_drift(z.data, f, s, ic, same_dtype(info, 9, "out", z, PZ, &keep), z.is_f64, P, D, g.data, w.data, K);
  } else if (op == 2) {
    AnyArray s = float_array_arg(info, 6, "sigma");
    if (s.length != PD) throw coded_error(info.Env(), code_string(Code::Shape), "sigma must hold P*D values");
    fbm::augment_diffusion(s.data, same_dtype(info, 9, "g", s, PZ * D, &keep), s.is_f64, P, D, w.data, K);
  } else {
    throw_arg(info.Env(), "unknown augment op");
  }
  return info.Env().Undefined();
}

}  // namespace

void init_fbm(Napi::Env env, Napi::Object exports) {
  exports.Set("fbmGammas", Napi::Function::New(env, guarded<Gammas>));
  exports.Set("fbmCoefficients", Napi::Function::New(env, guarded<Coefficients>));
  exports.Set("fbmMatrices", Napi::Function::New(env, guarded<Matrices>));
  exports.Set("fbmVariance", Napi::Function::New(env, guarded<Variance>));
  exports.Set("fbmMarkovSample", Napi::Function::New(env, guarded<MarkovSample>));
  exports.Set("fbmExactSample", Napi::Function::New(env, guarded<ExactSample>));
  exports.Set("fbmCirculantEigenvalues", Napi::Function::New(env, guarded<CirculantEigenvalues>));
  exports.Set("fbmAutocov", Napi::Function::New(env, guarded<Autocov>));
  exports.Set("fbmCovariance", Napi::Function::New(env, guarded<Covariance>));
  exports.Set("fbmHurst", Napi::Function::New(env, guarded<Hurst>));
  exports.Set("fbmSdeSimulate", Napi::Function::New(env, guarded<SdeSimulate>));
  exports.Set("fbmControlledStep", Napi::Function::New(env, guarded<ControlledStepFn>));
  exports.Set("fbmInitialFactors", Napi::Function::New(env, guarded<InitialFactors>));
  exports.Set("fbmAugment", Napi::Function::New(env, guarded<Augment>));
}

}  // namespace napi
}  // namespace itk

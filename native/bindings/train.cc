// train area bindings: the variational fBM-SDE trainer and the score-matching / flow-matching
// steps. Arguments were validated in lib/trainers; the checks here only keep direct callers from
// reading or writing out of bounds.
#include <string>

#include "../nn/mlp.h"
#include "../train/diffusion.h"
#include "../train/fsde.h"
#include "../train/fsde_coeffs.h"
#include "job_runner.h"
#include "napi_util.h"
#include "nn_area.h"

namespace itk {
namespace napi {
namespace {

void check_len(const Napi::CallbackInfo& info, std::size_t have, std::size_t want, const char* name) {
  if (have != want) throw coded_error(info.Env(), code_string(Code::Shape), std::string(name) + " has the wrong length");
}

std::vector<double> f64_vector(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  auto a = array_arg<double>(info, i, name);
  return std::vector<double>(a.data, a.data + a.length);
}

// trainFsdeCoefficients(type1, hurst, horizon, unit, gammas: F64) -> { omegas, dOmegaDHurst, cholC, relativeError }
Napi::Value FsdeCoefficientsFn(const Napi::CallbackInfo& info) {
  const bool type1 = info[0].ToBoolean();
  const double hurst = number_arg(info, 1, "hurst");
  const double horizon = number_arg(info, 2, "horizon");
  const bool unit = info[3].ToBoolean();
  const std::vector<double> gammas = f64_vector(info, 4, "gammas");
  const train::FsdeCoefficients c = train::fsde_coefficients(type1, hurst, horizon, unit, gammas);
  Napi::Env env = info.Env();
  auto arr = [&](const std::vector<double>& v) {
    Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
    for (std::size_t k = 0; k < v.size(); ++k) a[k] = v[k];
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("omegas", arr(c.omegas));
  o.Set("dOmegaDHurst", arr(c.d_omega_d_hurst));
  o.Set("cholC", arr(c.chol_c));
  o.Set("relativeError", Napi::Number::New(env, c.relative_error));
  return o;
}

// trainFsde(layout, params, cfg: F64[13], gammas, omegas, cholC | null, obsIdx: I32, obs, M, B,
//           backward, grad | null, dOmega: F64[K] | null, xPaths | null, uPaths | null,
//           pathLoss: F64[B] | null, result: F64[4] (loss, nll, kl, dTheta), control, async)
// cfg = [K, N, dt, sigma, theta, x0, type1, obsSigma, seqOffset, amortized, keyLo, keyHi, pathOffset]
Napi::Value Fsde(const Napi::CallbackInfo& info) {
  auto d = array_arg<int32_t>(info, 0, "layout");
  const nn::MlpLayout L = nn::make_layout(d.data, d.length);
  AnyArray p = float_array_arg(info, 1, "params");
  const bool f64 = p.is_f64;
  check_len(info, p.length, L.n_params, "params");
  auto cf = array_arg<double>(info, 2, "cfg");
  check_len(info, cf.length, 13, "cfg");
  train::FsdeConfig cfg;
  cfg.K = static_cast<int>(cf.data[0]);
  cfg.N = static_cast<int>(cf.data[1]);
  if (cfg.K < 1 || cfg.K > 32 || cfg.N < 1) throw_arg(info.Env(), "K must be in [1, 32] and N >= 1");
  cfg.dt = cf.data[2];
  cfg.sigma = cf.data[3];
  cfg.theta = cf.data[4];
  cfg.x0 = cf.data[5];
  cfg.type1 = cf.data[6] != 0;
  cfg.obs_sigma = cf.data[7];
  cfg.seq_offset = static_cast<uint64_t>(cf.data[8]);
  cfg.amortized = cf.data[9] != 0;
  cfg.key_lo = static_cast<uint32_t>(cf.data[10]);
  cfg.key_hi = static_cast<uint32_t>(cf.data[11]);
  cfg.path_offset = static_cast<uint64_t>(cf.data[12]);
  cfg.gammas = f64_vector(info, 3, "gammas");
  cfg.omegas = f64_vector(info, 4, "omegas");
  if (!(info[5].IsNull() || info[5].IsUndefined())) cfg.chol_c = f64_vector(info, 5, "cholC");
  auto oi = array_arg<int32_t>(info, 6, "obsIdx");
  cfg.obs_idx.assign(oi.data, oi.data + oi.length);
  AnyArray obs = float_array_arg(info, 7, "obs");
  if (obs.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), "obs must have the dtype of params");
  cfg.M = static_cast<std::size_t>(u53_arg(info, 8, "M"));
  check_len(info, obs.length, cfg.M * cfg.obs_idx.size(), "obs");
  cfg.obs = obs.data;
  const std::size_t B = u53_arg(info, 9, "B");
  const bool backward = info[10].ToBoolean();
  Job job;
  job.keep_alive = {p.object, obs.object};
  auto opt = [&](std::size_t i, std::size_t n, const char* name) -> void* {
    if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
    AnyArray a = float_array_arg(info, i, name);
    if (a.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " must have the dtype of params");
    check_len(info, a.length, n, name);
    job.keep_alive.push_back(a.object);
    return a.data;
  };
  void* grad = opt(11, L.n_params, "grad");
  if (backward && grad == nullptr) throw_arg(info.Env(), "grad is required for the backward pass");
  double* d_omega = nullptr;
  if (!(info[12].IsNull() || info[12].IsUndefined())) {
    auto a = array_arg<double>(info, 12, "dOmega");
    check_len(info, a.length, cfg.K, "dOmega");
    d_omega = a.data;
    job.keep_alive.push_back(a.object);
  }
  void* xp = opt(13, B * (cfg.N + 1), "xPaths");
  void* up = opt(14, B * cfg.N, "uPaths");
  double* pl = nullptr;
  if (!(info[15].IsNull() || info[15].IsUndefined())) {
    auto a = array_arg<double>(info, 15, "pathLoss");
    check_len(info, a.length, B, "pathLoss");
    pl = a.data;
    job.keep_alive.push_back(a.object);
  }
  auto result = array_arg<double>(info, 16, "result");
  check_len(info, result.length, 4, "result");
  job.keep_alive.push_back(result.object);
  const Control ctl = control_arg(info, 17, &job);
  const bool async = info[18].ToBoolean();
  double* res = result.data;
  job.work = [=] {
    auto run = [&](auto tag) {
      using T = decltype(tag);
      train::FsdeOutput<T> out;
      out.grad = static_cast<T*>(grad);
      out.x_paths = static_cast<T*>(xp);
      out.u_paths = static_cast<T*>(up);
      out.path_loss = pl;
      train::fsde_run<T>(L, static_cast<const T*>(p.data), cfg, B, backward, &out, ctl);
      res[0] = out.loss;
      res[1] = out.nll;
      res[2] = out.kl;
      res[3] = out.d_theta;
      if (d_omega && backward)
        for (int k = 0; k < cfg.K; ++k) d_omega[k] = out.d_omega[k];
    };
    if (f64)
      run(double{});
    else
      run(float{});
  };
  return run_job(info.Env(), async, std::move(job));
}

// trainDiffusionStep(layout, params, cfg: F64[11], freqs, data, x0 | null, pair: I32 | null, grad,
//                    result: F64[1], control, async); cfg = [mode, B, D, a, b, tEps, sigmaFm, keyLo, keyHi, step, M]
Napi::Value DiffusionStep(const Napi::CallbackInfo& info) {
  auto d = array_arg<int32_t>(info, 0, "layout");
  const nn::MlpLayout L = nn::make_layout(d.data, d.length);
  AnyArray p = float_array_arg(info, 1, "params");
  const bool f64 = p.is_f64;
  check_len(info, p.length, L.n_params, "params");
  auto cf = array_arg<double>(info, 2, "cfg");
  check_len(info, cf.length, 11, "cfg");
  train::DiffusionConfig cfg;
  const int mode = static_cast<int>(cf.data[0]);
  if (mode < 0 || mode > 2) throw_arg(info.Env(), "unknown mode");
  cfg.mode = static_cast<train::DiffusionMode>(mode);
  cfg.B = static_cast<std::size_t>(cf.data[1]);
  cfg.D = static_cast<int>(cf.data[2]);
  cfg.a = cf.data[3];
  cfg.b = cf.data[4];
  cfg.t_eps = cf.data[5];
  cfg.sigma_fm = cf.data[6];
  cfg.key_lo = static_cast<uint32_t>(cf.data[7]);
  cfg.key_hi = static_cast<uint32_t>(cf.data[8]);
  cfg.step = static_cast<uint32_t>(cf.data[9]);
  const std::size_t M = static_cast<std::size_t>(cf.data[10]);
  if (cfg.D < 1 || cfg.D > 64 || cfg.B < 1) throw_arg(info.Env(), "D must be in [1, 64] and B >= 1");
  cfg.freqs = f64_vector(info, 3, "freqs");
  AnyArray data = float_array_arg(info, 4, "data");
  if (data.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), "data must have the dtype of params");
  check_len(info, data.length, M * cfg.D, "data");
  Job job;
  job.keep_alive = {p.object, data.object};
  void* x0 = nullptr;
  const int32_t* pair = nullptr;
  if (cfg.mode == train::DiffusionMode::FlowMatching) {
    AnyArray a = float_array_arg(info, 5, "x0");
    if (a.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), "x0 must have the dtype of params");
    check_len(info, a.length, cfg.B * cfg.D, "x0");
    auto pr = array_arg<int32_t>(info, 6, "pair");
    check_len(info, pr.length, cfg.B, "pair");
    x0 = a.data;
    pair = pr.data;
    job.keep_alive.push_back(a.object);
    job.keep_alive.push_back(pr.object);
  }
  AnyArray grad = float_array_arg(info, 7, "grad");
  if (grad.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), "grad must have the dtype of params");
  check_len(info, grad.length, L.n_params, "grad");
  auto result = array_arg<double>(info, 8, "result");
  check_len(info, result.length, 1, "result");
  job.keep_alive.push_back(grad.object);
  job.keep_alive.push_back(result.object);
  const Control ctl = control_arg(info, 9, &job);
  const bool async = info[10].ToBoolean();
  double* res = result.data;
  job.work = [=] {
    if (f64)
      res[0] = train::diffusion_step(L, static_cast<const double*>(p.data), cfg, static_cast<const double*>(data.data), M,
                                     static_cast<const double*>(x0), pair, static_cast<double*>(grad.data), ctl);
    else
      res[0] = train::diffusion_step(L, static_cast<const float*>(p.data), cfg, static_cast<const float*>(data.data), M,
                                     static_cast<const float*>(x0), pair, static_cast<float*>(grad.data), ctl);
  };
  return run_job(info.Env(), async, std::move(job));
}

// trainModelEval(layout, params, freqs, D, x, t: F64, alpha, beta, out, control, async)
Napi::Value ModelEval(const Napi::CallbackInfo& info) {
  auto d = array_arg<int32_t>(info, 0, "layout");
  const nn::MlpLayout L = nn::make_layout(d.data, d.length);
  AnyArray p = float_array_arg(info, 1, "params");
  const bool f64 = p.is_f64;
  check_len(info, p.length, L.n_params, "params");
  const std::vector<double> freqs = f64_vector(info, 2, "freqs");
  const uint32_t D = u32_arg(info, 3, "D");
  if (D < 1) throw_arg(info.Env(), "D must be >= 1");
  AnyArray x = float_array_arg(info, 4, "x");
  if (x.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), "x must have the dtype of params");
  if (x.length % D != 0) throw coded_error(info.Env(), code_string(Code::Shape), "x length must be a multiple of D");
  const std::size_t n = x.length / D;
  auto t = array_arg<double>(info, 5, "t");
  const double alpha = number_arg(info, 6, "alpha");
  const double beta = number_arg(info, 7, "beta");
  const bool raw = alpha == 0 && beta == 1;
  AnyArray out = float_array_arg(info, 8, "out");
  if (out.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), "out must have the dtype of params");
  check_len(info, out.length, n * (raw ? L.out() : D), "out");
  Job job;
  job.keep_alive = {p.object, x.object, t.object, out.object};
  const Control ctl = control_arg(info, 9, &job);
  const bool async = info[10].ToBoolean();
  const double* tp = t.data;
  const std::size_t nt = t.length;
  job.work = [=] {
    if (f64)
      train::diffusion_eval(L, static_cast<const double*>(p.data), freqs, static_cast<int>(D), static_cast<const double*>(x.data), n,
                            tp, nt, alpha, beta, static_cast<double*>(out.data), ctl);
    else
      train::diffusion_eval(L, static_cast<const float*>(p.data), freqs, static_cast<int>(D), static_cast<const float*>(x.data), n,
                            tp, nt, alpha, beta, static_cast<float*>(out.data), ctl);
  };
  return run_job(info.Env(), async, std::move(job));
}

// trainDrawBatch(data, M, D, B, keyLo, keyHi, step, x0, x1, idx: I32)
Napi::Value DrawBatch(const Napi::CallbackInfo& info) {
  AnyArray data = float_array_arg(info, 0, "data");
  const std::size_t M = u53_arg(info, 1, "M");
  const uint32_t D = u32_arg(info, 2, "D");
  const std::size_t B = u53_arg(info, 3, "B");
  const uint32_t klo = u32_arg(info, 4, "keyLo"), khi = u32_arg(info, 5, "keyHi"), step = u32_arg(info, 6, "step");
  AnyArray x0 = float_array_arg(info, 7, "x0");
  AnyArray x1 = float_array_arg(info, 8, "x1");
  auto idx = array_arg<int32_t>(info, 9, "idx");
  if (x0.is_f64 != data.is_f64 || x1.is_f64 != data.is_f64) throw coded_error(info.Env(), code_string(Code::Dtype), "x0, x1 must have the dtype of data");
  check_len(info, data.length, M * D, "data");
  check_len(info, x0.length, B * D, "x0");
  check_len(info, x1.length, B * D, "x1");
  check_len(info, idx.length, B, "idx");
  Job job;
  job.work = [&] {
    if (data.is_f64)
      train::draw_batch(static_cast<const double*>(data.data), M, static_cast<int>(D), B, klo, khi, step, static_cast<double*>(x0.data),
                        static_cast<double*>(x1.data), idx.data);
    else
      train::draw_batch(static_cast<const float*>(data.data), M, static_cast<int>(D), B, klo, khi, step, static_cast<float*>(x0.data),
                        static_cast<float*>(x1.data), idx.data);
  };
  return run_job(info.Env(), false, std::move(job));
}

// trainPlanPairs(plan: F64[B*B], B, idx: I32, argmax, keyLo, keyHi, step, pair: I32)
Napi::Value PlanPairs(const Napi::CallbackInfo& info) {
  auto plan = array_arg<double>(info, 0, "plan");
  const std::size_t B = u53_arg(info, 1, "B");
  auto idx = array_arg<int32_t>(info, 2, "idx");
  const bool argmax = info[3].ToBoolean();
  const uint32_t klo = u32_arg(info, 4, "keyLo"), khi = u32_arg(info, 5, "keyHi"), step = u32_arg(info, 6, "step");
  auto pair = array_arg<int32_t>(info, 7, "pair");
  check_len(info, plan.length, B * B, "plan");
  check_len(info, idx.length, B, "idx");
  check_len(info, pair.length, B, "pair");
  Job job;
  job.work = [&] { train::plan_pairs(plan.data, B, idx.data, argmax, klo, khi, step, pair.data); };
  return run_job(info.Env(), false, std::move(job));
}

}  // namespace

void init_train(Napi::Env env, Napi::Object exports) {
  exports.Set("trainFsdeCoefficients", Napi::Function::New(env, guarded<FsdeCoefficientsFn>));
  exports.Set("trainFsde", Napi::Function::New(env, guarded<Fsde>));
  exports.Set("trainDiffusionStep", Napi::Function::New(env, guarded<DiffusionStep>));
  exports.Set("trainDrawBatch", Napi::Function::New(env, guarded<DrawBatch>));
  exports.Set("trainPlanPairs", Napi::Function::New(env, guarded<PlanPairs>));
  exports.Set("trainModelEval", Napi::Function::New(env, guarded<ModelEval>));
}

}  // namespace napi
}  // namespace itk

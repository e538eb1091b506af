// train area bindings: the variational fBM-SDE trainer and the score-matching / flow-matching
// steps. Each call takes one options object read by name (napi_util.h Args; interfaces in
// lib/trainers/addon.ts). Arguments were validated in lib/trainers; the checks here only keep direct callers from
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

void check_len(const Args& in, std::size_t have, std::size_t want, const char* name) {
  if (have != want) throw coded_error(in.env(), code_string(Code::Shape), std::string(name) + " has the wrong length");
}

std::vector<double> f64_vector(const Args& in, const char* key) {
  auto a = in.array<double>(key);
  return std::vector<double>(a.data, a.data + a.length);
}

// The network every trainer call runs: its layout and parameters (float32 or float64).
struct Net {
  nn::MlpLayout L;
  AnyArray p;
};

Net net_arg(const Args& in) {
  auto d = in.array<int32_t>("layout");
  Net n{nn::make_layout(d.data, d.length), in.float_array("params")};
  check_len(in, n.p.length, n.L.n_params, "params");
  return n;
}

// A float array input of the network's dtype.
AnyArray same_dtype(const Args& in, const char* key, bool f64) {
  AnyArray a = in.float_array(key);
  if (a.is_f64 != f64) throw coded_error(in.env(), code_string(Code::Dtype), std::string(key) + " must have the dtype of params");
  return a;
}

// trainFsdeCoefficients({type1, hurst, horizon, unit, gammas: F64}) -> { omegas, dOmegaDHurst, cholC, relativeError }
Napi::Value FsdeCoefficientsFn(const Napi::CallbackInfo& info) {
  const Args in(info);
  const bool type1 = in.flag("type1");
  const double hurst = in.number("hurst");
  const double horizon = in.number("horizon");
  const bool unit = in.flag("unit");
  const std::vector<double> gammas = f64_vector(in, "gammas");
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

// trainFsde({layout, params, K, N, dt, sigma, theta, x0, type1, obsSigma, seqOffset, amortized,
//             keyLo, keyHi, pathOffset, gammas, omegas, cholC | null, obsIdx: I32, obs, M, B,
//             backward, grad | null, dOmega: F64[K] | null, xPaths | null, uPaths | null,
//             pathLoss: F64[B] | null, result: F64[4] (loss, nll, kl, dTheta), control, async})
Napi::Value Fsde(const Napi::CallbackInfo& info) {
  const Args in(info);
  const Net net = net_arg(in);
  const nn::MlpLayout L = net.L;
  const AnyArray p = net.p;
  const bool f64 = p.is_f64;
  train::FsdeConfig cfg;
  cfg.K = static_cast<int>(in.u32("K"));
  cfg.N = static_cast<int>(in.u32("N"));
  if (cfg.K < 1 || cfg.K > 32 || cfg.N < 1) throw_arg(info.Env(), "K must be in [1, 32] and N >= 1");
  cfg.dt = in.number("dt");
  cfg.sigma = in.number("sigma");
  cfg.theta = in.number("theta");
  cfg.x0 = in.number("x0");
  cfg.type1 = in.flag("type1");
  cfg.obs_sigma = in.number("obsSigma");
  cfg.seq_offset = in.u53("seqOffset");
  cfg.amortized = in.flag("amortized");
  cfg.key_lo = in.u32("keyLo");
  cfg.key_hi = in.u32("keyHi");
  cfg.path_offset = in.u53("pathOffset");
  cfg.gammas = f64_vector(in, "gammas");
  cfg.omegas = f64_vector(in, "omegas");
  if (in.has("cholC")) cfg.chol_c = f64_vector(in, "cholC");
  auto oi = in.array<int32_t>("obsIdx");
  cfg.obs_idx.assign(oi.data, oi.data + oi.length);
  AnyArray obs = same_dtype(in, "obs", f64);
  cfg.M = static_cast<std::size_t>(in.u53("M"));
  check_len(in, obs.length, cfg.M * cfg.obs_idx.size(), "obs");
  cfg.obs = obs.data;
  const std::size_t B = in.u53("B");
  const bool backward = in.flag("backward");
  Job job;
  job.keep_alive = {p.object, obs.object};
  auto opt = [&](const char* key, std::size_t n) -> void* {
    if (!in.has(key)) return nullptr;
    AnyArray a = same_dtype(in, key, f64);
    check_len(in, a.length, n, key);
    job.keep_alive.push_back(a.object);
    return a.data;
  };
  auto opt_f64 = [&](const char* key, std::size_t n) -> double* {
    if (!in.has(key)) return nullptr;
    auto a = in.array<double>(key);
    check_len(in, a.length, n, key);
    job.keep_alive.push_back(a.object);
    return a.data;
  };
  void* grad = opt("grad", L.n_params);
  if (backward && grad == nullptr) throw_arg(info.Env(), "grad is required for the backward pass");
  double* d_omega = opt_f64("dOmega", cfg.K);
  void* xp = opt("xPaths", B * (cfg.N + 1));
  void* up = opt("uPaths", B * cfg.N);
  double* pl = opt_f64("pathLoss", B);
  auto result = in.array<double>("result");
  check_len(in, result.length, 4, "result");
  job.keep_alive.push_back(result.object);
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
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

// trainDiffusionStep({layout, params, mode, B, D, a, b, tEps, sigmaFm, keyLo, keyHi, step, M,
//                     freqs, data, x0 | null, pair: I32 | null, grad, result: F64[1], control, async})
Napi::Value DiffusionStep(const Napi::CallbackInfo& info) {
  const Args in(info);
  const Net net = net_arg(in);
  const nn::MlpLayout L = net.L;
  const AnyArray p = net.p;
  const bool f64 = p.is_f64;
  train::DiffusionConfig cfg;
  const uint32_t mode = in.u32("mode");
  if (mode > 2) throw_arg(info.Env(), "unknown mode");
  cfg.mode = static_cast<train::DiffusionMode>(mode);
  cfg.B = static_cast<std::size_t>(in.u53("B"));
  cfg.D = static_cast<int>(in.u32("D"));
  cfg.a = in.number("a");
  cfg.b = in.number("b");
  cfg.t_eps = in.number("tEps");
  cfg.sigma_fm = in.number("sigmaFm");
  cfg.key_lo = in.u32("keyLo");
  cfg.key_hi = in.u32("keyHi");
  cfg.step = in.u32("step");
  const std::size_t M = static_cast<std::size_t>(in.u53("M"));
  if (cfg.D < 1 || cfg.D > 64 || cfg.B < 1) throw_arg(info.Env(), "D must be in [1, 64] and B >= 1");
  cfg.freqs = f64_vector(in, "freqs");
  AnyArray data = same_dtype(in, "data", f64);
  check_len(in, data.length, M * cfg.D, "data");
  Job job;
  job.keep_alive = {p.object, data.object};
  void* x0 = nullptr;
  const int32_t* pair = nullptr;
  if (cfg.mode == train::DiffusionMode::FlowMatching) {
    AnyArray a = same_dtype(in, "x0", f64);
    check_len(in, a.length, cfg.B * cfg.D, "x0");
    auto pr = in.array<int32_t>("pair");
    check_len(in, pr.length, cfg.B, "pair");
    x0 = a.data;
    pair = pr.data;
    job.keep_alive.push_back(a.object);
    job.keep_alive.push_back(pr.object);
  }
  AnyArray grad = same_dtype(in, "grad", f64);
  check_len(in, grad.length, L.n_params, "grad");
  auto result = in.array<double>("result");
  check_len(in, result.length, 1, "result");
  job.keep_alive.push_back(grad.object);
  job.keep_alive.push_back(result.object);
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
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

// trainModelEval({layout, params, freqs, D, x, t: F64, alpha, beta, out, control, async})
Napi::Value ModelEval(const Napi::CallbackInfo& info) {
  const Args in(info);
  const Net net = net_arg(in);
  const nn::MlpLayout L = net.L;
  const AnyArray p = net.p;
  const bool f64 = p.is_f64;
  const std::vector<double> freqs = f64_vector(in, "freqs");
  const uint32_t D = in.u32("D");
  if (D < 1) throw_arg(info.Env(), "D must be >= 1");
  AnyArray x = same_dtype(in, "x", f64);
  if (x.length % D != 0) throw coded_error(info.Env(), code_string(Code::Shape), "x length must be a multiple of D");
  const std::size_t n = x.length / D;
  auto t = in.array<double>("t");
  const double alpha = in.number("alpha");
  const double beta = in.number("beta");
  const bool raw = alpha == 0 && beta == 1;
  AnyArray out = same_dtype(in, "out", f64);
  check_len(in, out.length, n * (raw ? L.out() : D), "out");
  Job job;
  job.keep_alive = {p.object, x.object, t.object, out.object};
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
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

// trainDrawBatch({data, M, D, B, keyLo, keyHi, step, x0, x1, idx: I32})
Napi::Value DrawBatch(const Napi::CallbackInfo& info) {
  const Args in(info);
  AnyArray data = in.float_array("data");
  const std::size_t M = in.u53("M");
  const uint32_t D = in.u32("D");
  const std::size_t B = in.u53("B");
  const uint32_t klo = in.u32("keyLo"), khi = in.u32("keyHi"), step = in.u32("step");
  AnyArray x0 = in.float_array("x0");
  AnyArray x1 = in.float_array("x1");
  auto idx = in.array<int32_t>("idx");
  if (x0.is_f64 != data.is_f64 || x1.is_f64 != data.is_f64) throw coded_error(info.Env(), code_string(Code::Dtype), "x0, x1 must have the dtype of data");
  check_len(in, data.length, M * D, "data");
  check_len(in, x0.length, B * D, "x0");
  check_len(in, x1.length, B * D, "x1");
  check_len(in, idx.length, B, "idx");
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

// trainPlanPairs({plan: F64[B*B], B, idx: I32, argmax, keyLo, keyHi, step, pair: I32})
Napi::Value PlanPairs(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto plan = in.array<double>("plan");
  const std::size_t B = in.u53("B");
  auto idx = in.array<int32_t>("idx");
  const bool argmax = in.flag("argmax");
  const uint32_t klo = in.u32("keyLo"), khi = in.u32("keyHi"), step = in.u32("step");
  auto pair = in.array<int32_t>("pair");
  check_len(in, plan.length, B * B, "plan");
  check_len(in, idx.length, B, "idx");
  check_len(in, pair.length, B, "pair");
  Job job;
  job.work = [&] { train::plan_pairs(plan.data, B, idx.data, argmax, klo, khi, step, pair.data); };
  return run_job(info.Env(), false, std::move(job));
}

}  // namespace

void init_train(Napi::Env env, Napi::Object exports) {
  bind<FsdeCoefficientsFn>(env, exports, "trainFsdeCoefficients", {"type1", "hurst", "horizon", "unit", "gammas"});
  bind<Fsde>(env, exports, "trainFsde",
       {"K", "N", "dt", "sigma", "theta", "x0", "type1", "obsSigma", "seqOffset", "amortized", "keyLo", "keyHi",
        "pathOffset", "cholC", "obsIdx", "M", "B", "backward", "result", "async", "gammas", "omegas", "obs",
        "control", "grad", "xPaths", "uPaths", "dOmega", "pathLoss", "layout", "params"});
  bind<DiffusionStep>(env, exports, "trainDiffusionStep",
       {"mode", "B", "D", "a", "b", "tEps", "sigmaFm", "keyLo", "keyHi", "step", "M", "pair", "result", "async",
        "freqs", "data", "x0", "grad", "control", "layout", "params"});
  bind<DrawBatch>(env, exports, "trainDrawBatch", {"data", "M", "D", "B", "keyLo", "keyHi", "step", "x0", "x1", "idx"});
  bind<PlanPairs>(env, exports, "trainPlanPairs", {"plan", "B", "idx", "argmax", "keyLo", "keyHi", "step", "pair"});
  bind<ModelEval>(env, exports, "trainModelEval",
       {"D", "t", "alpha", "beta", "async", "freqs", "x", "out", "control", "layout", "params"});
}

}  // namespace napi
}  // namespace itk

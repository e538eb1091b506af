// ot area bindings: entropic OT solvers, cost builders and reference problems. lib/ot validates
// every argument first; the checks here only keep direct callers from reading out of bounds.
// Each call takes one options object read by name (napi_util.h Args; interfaces in lib/ot/addon.ts).
#include <memory>

#include "../ot/cost.h"
#include "../ot/ot_kernels.h"
#include "../ot/select.h"
#include "../ot/solver.h"
#include "areas.h"
#include "job_runner.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

// The solver options every solve reads (OtSolverOptions in lib/ot/addon.ts), from the call's object.
ot::Options options_arg(const Args& in) {
  ot::Options r;
  r.reg = in.number("reg");
  const double mc = in.number("method");
  if (!(mc == 0 || mc == 1 || mc == 2 || mc == 3)) throw_arg(in.env(), "method code must be 0..3");
  r.method = static_cast<ot::Method>(static_cast<int>(mc));
  r.tol = in.number("tol");
  r.max_iter = static_cast<int64_t>(in.number("maxIter"));
  r.check_every = static_cast<int64_t>(in.number("checkEvery"));
  r.eps_scaling = in.flag("epsScaling");
  r.return_plan = in.flag("returnPlan");
  r.round_plan = in.flag("roundPlan");
  r.stall_window = static_cast<int64_t>(in.number("stallWindow"));
  r.sns.warmup_iters = static_cast<int64_t>(in.number("warmupIters"));
  r.sns.lambda0 = in.number("lambda0");
  r.sns.lambda_max = in.number("lambdaMax");
  r.sns.bad_ratio = in.number("badRatio");
  r.sns.max_newton = static_cast<int64_t>(in.number("maxNewton"));
  r.sns.cg_max_iter = static_cast<int64_t>(in.number("cgMaxIter"));
  r.sns.cg_rtol = in.number("cgRtol");
  r.sns.shift_max = in.number("shiftMax");
  r.sns.armijo_c1 = in.number("armijoC1");
  r.sns.max_backtracks = static_cast<int>(in.number("maxBacktracks"));
  r.sns.fallback_iters = static_cast<int64_t>(in.number("fallbackIters"));
  r.sns.fallback_ratio = in.number("fallbackRatio");
  const double relax = in.number("relax");
  r.relax = relax > 0 ? 1 : relax == 0 ? 0 : -1;
  return r;
}

Device device_code(const Args& in, const char* key) {
  const uint32_t d = in.u32(key);
  if (d > 1) throw_arg(in.env(), "device must be 0 (cpu) or 1 (cuda)");
  return static_cast<Device>(d);
}

Napi::Float64Array to_f64(Napi::Env env, const std::vector<double>& v) {
  Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
  for (std::size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

Napi::Object result_object(Napi::Env env, const ot::Result& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("f", to_f64(env, r.f));
  o.Set("g", to_f64(env, r.g));
  o.Set("cost", r.cost);
  o.Set("regularizedCost", r.reg_cost);
  o.Set("dualValue", r.dual_value);
  o.Set("marginalError", r.marginal_error);
  o.Set("status", static_cast<double>(r.status));
  o.Set("sinkhornIters", static_cast<double>(r.sinkhorn_iters));
  o.Set("newtonIters", static_cast<double>(r.newton_iters));
  o.Set("cgIters", static_cast<double>(r.cg_iters));
  o.Set("lineSearchEvals", static_cast<double>(r.line_search_evals));
  o.Set("densePasses", static_cast<double>(r.dense_passes));
  o.Set("lambdaFinal", r.lambda_final);
  o.Set("timeMs", r.time_ms);
  o.Set("method", static_cast<double>(r.method));
  o.Set("absorptions", static_cast<double>(r.absorptions));
  Napi::Float64Array h = Napi::Float64Array::New(env, 4 * r.history.size());
  for (std::size_t k = 0; k < r.history.size(); ++k) {
    h[4 * k] = r.history[k].iteration;
    h[4 * k + 1] = r.history[k].stage;
    h[4 * k + 2] = r.history[k].error;
    h[4 * k + 3] = r.history[k].ms;
  }
  o.Set("history", h);
  return o;
}

// The inputs every single-problem solve shares: initF|null, initG|null, plan|null, device,
// control, async. Arrays are kept alive by the job; the plan must be n×m of the problem's dtype.
struct SolveTail {
  double* init_f = nullptr;
  double* init_g = nullptr;
  void* plan = nullptr;
  Device device = Device::Cpu;
  Control ctl;
  bool async = false;
};

// An optional Float64Array input of length len (absent: nullptr).
double* optional_f64(const Args& in, const char* key, std::size_t len, Job* job) {
  if (!in.has(key)) return nullptr;
  auto x = in.array<double>(key);
  if (x.length != len) throw coded_error(in.env(), code_string(Code::Shape), std::string(key) + " has the wrong length");
  job->keep_alive.push_back(x.object);
  return x.data;
}

SolveTail solve_tail(const Args& in, uint64_t n, uint64_t m, bool f64, Job* job) {
  SolveTail t;
  t.init_f = optional_f64(in, "initF", n, job);
  t.init_g = optional_f64(in, "initG", m, job);
  if (in.has("plan")) {
    AnyArray p = in.float_array("plan");
    if (p.length != n * m || p.is_f64 != f64) throw coded_error(in.env(), code_string(Code::Shape), "plan must be n×m of the problem's dtype");
    job->keep_alive.push_back(p.object);
    t.plan = p.data;
  }
  t.device = device_code(in, "device");
  t.ctl = control_arg(in, "control", job);
  t.async = in.flag("async");
  return t;
}

// otSolve({C, n, m, a, b, ...solver options, initF|null, initG|null, plan|null, device, control, async})
Napi::Value Solve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  AnyArray C = in.float_array("C");
  const uint64_t n = in.u53("n"), m = in.u53("m");
  auto a = in.array<double>("a");
  auto b = in.array<double>("b");
  if (C.length != n * m || a.length != n || b.length != m)
    throw coded_error(env, code_string(Code::Shape), "C must be n×m, a of length n and b of length m");
  ot::Options opt = options_arg(in);
  Job job;
  job.keep_alive = {C.object, a.object, b.object};
  const SolveTail t = solve_tail(in, n, m, C.is_f64, &job);
  opt.init_f = t.init_f;
  opt.init_g = t.init_g;
  auto result = std::make_shared<ot::Result>();
  const void* Cd = C.data;
  const bool f32 = !C.is_f64;
  const double* ad = a.data;
  const double* bd = b.data;
  void* plan = t.plan;
  const Device device = t.device;
  const Control ctl = t.ctl;
  job.work = [=] { ot::solve(Cd, f32, n, m, ad, bd, opt, device, plan, result.get(), ctl); };
  job.finish = [result](Napi::Env e) -> Napi::Value { return result_object(e, *result); };
  return run_job(env, t.async, std::move(job));
}

// otSolvePoints({X, Y, n, m, d, a, b, ...solver options, initF|null, initG|null, plan|null, device, control, async}):
// squared Euclidean cost between the rows of X (n×d) and Y (m×d), formed inside the passes.
Napi::Value SolvePoints(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  AnyArray X = in.float_array("X"), Y = in.float_array("Y");
  const uint64_t n = in.u53("n"), m = in.u53("m"), d = in.u53("d");
  auto a = in.array<double>("a");
  auto b = in.array<double>("b");
  if (X.length != n * d || Y.length != m * d || X.is_f64 != Y.is_f64 || a.length != n || b.length != m)
    throw coded_error(env, code_string(Code::Shape), "X must be n×d and Y m×d of one dtype, a of length n and b of length m");
  ot::Options opt = options_arg(in);
  Job job;
  job.keep_alive = {X.object, Y.object, a.object, b.object};
  const SolveTail t = solve_tail(in, n, m, X.is_f64, &job);
  opt.init_f = t.init_f;
  opt.init_g = t.init_g;
  auto result = std::make_shared<ot::Result>();
  const void *xd = X.data, *yd = Y.data;
  const bool f32 = !X.is_f64;
  const double* ad = a.data;
  const double* bd = b.data;
  void* plan = t.plan;
  const Device device = t.device;
  const Control ctl = t.ctl;
  job.work = [=] { ot::solve_points(xd, yd, f32, n, m, d, ad, bd, opt, device, plan, result.get(), ctl); };
  job.finish = [result](Napi::Env e) -> Napi::Value { return result_object(e, *result); };
  return run_job(env, t.async, std::move(job));
}

// otKernelPaths() → names of the OT row-kernel tables this CPU runs, best first (tests).
Napi::Value KernelPaths(const Napi::CallbackInfo& info) {
  const std::vector<std::string> p = ot::ot_kernel_paths();
  Napi::Array arr = Napi::Array::New(info.Env(), p.size());
  for (std::size_t k = 0; k < p.size(); ++k) arr.Set(static_cast<uint32_t>(k), p[k]);
  return arr;
}

// otSetKernelPath({name}) → the previous table's name; throws for an unsupported name (tests only).
Napi::Value SetKernelPath(const Napi::CallbackInfo& info) {
  const Args in(info);
  const std::string name = in.string("name");
  const std::string prev = ot::ot_kernels().name;
  if (!ot::set_ot_kernel_path(name)) throw_arg(info.Env(), "unsupported kernel path");
  return Napi::String::New(info.Env(), prev);
}

// otExpCheck({z: Float64Array}) → e^z by the current table's exp (exp_sum), for tests.
Napi::Value ExpCheck(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto z = in.array<double>("z");
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), z.length);
  for (std::size_t k = 0; k < z.length; ++k) out[k] = z.data[k];
  ot::ot_kernels().exp_sum(out.Data(), z.length, nullptr);
  return out;
}

// otSolveBatch({C, shared, B, n, m, a, b, regs, ...solver options, plan|null, device, control, async})
// (the solver options' `reg` is unused here: each problem's is in `regs`)
Napi::Value SolveBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  AnyArray C = in.float_array("C");
  const bool shared = in.flag("shared");
  const uint64_t B = in.u53("B"), n = in.u53("n"), m = in.u53("m");
  auto a = in.array<double>("a");
  auto b = in.array<double>("b");
  auto reg = in.array<double>("regs");
  if (C.length != (shared ? 1 : B) * n * m || a.length != B * n || b.length != B * m || reg.length != B)
    throw coded_error(env, code_string(Code::Shape), "C must be [B or 1, n, m], a [B, n], b [B, m], reg [B]");
  const ot::Options opt = options_arg(in);
  Job job;
  job.keep_alive = {C.object, a.object, b.object, reg.object};
  void* plan = nullptr;
  if (in.has("plan")) {
    AnyArray p = in.float_array("plan");
    if (p.length != B * n * m || p.is_f64 != C.is_f64) throw coded_error(env, code_string(Code::Shape), "plan must be [B, n, m] of C's dtype");
    job.keep_alive.push_back(p.object);
    plan = p.data;
  }
  const Device device = device_code(in, "device");
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  auto results = std::make_shared<std::vector<ot::Result>>();
  const void* Cd = C.data;
  const bool f32 = !C.is_f64;
  const double *ad = a.data, *bd = b.data, *rd = reg.data;
  job.work = [=] { ot::solve_batch(Cd, f32, shared, B, n, m, ad, bd, rd, opt, device, plan, results.get(), ctl); };
  job.finish = [results](Napi::Env e) -> Napi::Value {
    Napi::Array arr = Napi::Array::New(e, results->size());
    for (std::size_t p = 0; p < results->size(); ++p) arr.Set(static_cast<uint32_t>(p), result_object(e, (*results)[p]));
    return arr;
  };
  return run_job(env, async, std::move(job));
}

// otPairwiseCost({X, Y, n, m, d, squared, C, async})
Napi::Value PairwiseCost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args in(info);
  AnyArray X = in.float_array("X"), Y = in.float_array("Y");
  const uint64_t n = in.u53("n"), m = in.u53("m"), d = in.u53("d");
  const bool squared = in.flag("squared");
  AnyArray C = in.float_array("C");
  if (X.length != n * d || Y.length != m * d || C.length != n * m || X.is_f64 != Y.is_f64 || C.is_f64 != X.is_f64)
    throw coded_error(env, code_string(Code::Shape), "X must be n×d, Y m×d and C n×m, all of one dtype");
  const bool async = in.flag("async");
  Job job;
  job.keep_alive = {X.object, Y.object, C.object};
  const void *xd = X.data, *yd = Y.data;
  void* cd = C.data;
  const bool f32 = !X.is_f64;
  job.work = [=] { ot::pairwise_cost(xd, yd, f32, n, m, d, squared, cd); };
  return run_job(env, async, std::move(job));
}

// otGridCost({h, w, p, C: Float64Array((hw)²)})
Napi::Value GridCost(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint64_t h = in.u53("h"), w = in.u53("w");
  const double p = in.number("p");
  auto C = in.array<double>("C");
  if (C.length != h * w * h * w) throw coded_error(info.Env(), code_string(Code::Shape), "C must hold (h·w)² values");
  ot::grid_cost(h, w, p, C.data);
  return info.Env().Undefined();
}

// otReference({kind: 1|2|3, n, m, p, keyLo, keyHi, problem}) → {n, m, C, a, b, X, Y}
Napi::Value Reference(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint32_t kind = in.u32("kind");
  const uint64_t n = in.u53("n"), m = in.u53("m");
  const uint32_t p = in.u32("p");
  const uint32_t lo = in.u32("keyLo"), hi = in.u32("keyHi"), problem = in.u32("problem");
  ot::ReferenceProblem r;
  if (kind == 1)
    ot::reference_r1(n, lo, hi, problem, &r);
  else if (kind == 2)
    ot::reference_r2(static_cast<int>(p), lo, hi, problem, &r);
  else if (kind == 3)
    ot::reference_r3(n, m, lo, hi, problem, &r);
  else
    throw_arg(info.Env(), "unknown reference problem");
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("n", static_cast<double>(r.n));
  o.Set("m", static_cast<double>(r.m));
  o.Set("C", to_f64(env, r.C));
  o.Set("a", to_f64(env, r.a));
  o.Set("b", to_f64(env, r.b));
  o.Set("X", to_f64(env, r.X));
  o.Set("Y", to_f64(env, r.Y));
  return o;
}

// otKthLargest({P: Float64Array, k, sampled?}) → the k-th largest entry by radix select, or by the
// sampled bracket when `sampled` is true (internal, for tests).
Napi::Value KthLargest(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto P = in.array<double>("P");
  const uint64_t k = in.u53("k");
  if (k < 1 || k > P.length) throw_arg(info.Env(), "k must be in [1, P.length]");
  for (std::size_t q = 0; q < P.length; ++q)
    if (!(P.data[q] >= 0)) throw_arg(info.Env(), "P must be non-negative");
  const bool sampled = in.flag("sampled");
  return Napi::Number::New(info.Env(), sampled ? ot::kth_largest_sampled(P.data, P.length, k) : ot::kth_largest(P.data, P.length, k));
}

// The test-only entry points of this file (kernel paths, the vector exp, the k-th largest), on addon.testing.
void init_ot_testing(Napi::Env env, Napi::Object exports) {
  bind<KernelPaths>(env, exports, "otKernelPaths", {});
  bind<SetKernelPath>(env, exports, "otSetKernelPath", {"name"});
  bind<ExpCheck>(env, exports, "otExpCheck", {"z"});
  bind<KthLargest>(env, exports, "otKthLargest", {"P", "k", "sampled"});
}

}  // namespace

void init_ot(Napi::Env env, Napi::Object exports) {
  bind<Solve>(env, exports, "otSolve",
       {"C", "n", "m", "a", "b", "reg", "method", "tol", "maxIter", "checkEvery", "epsScaling", "returnPlan",
        "roundPlan", "stallWindow", "warmupIters", "lambda0", "lambdaMax", "badRatio", "maxNewton", "cgMaxIter",
        "cgRtol", "shiftMax", "armijoC1", "maxBacktracks", "fallbackIters", "fallbackRatio", "relax", "plan", "async",
        "initF", "initG", "device", "control"});
  bind<SolvePoints>(env, exports, "otSolvePoints",
       {"X", "Y", "n", "m", "d", "a", "b", "reg", "method", "tol", "maxIter", "checkEvery", "epsScaling",
        "returnPlan", "roundPlan", "stallWindow", "warmupIters", "lambda0", "lambdaMax", "badRatio", "maxNewton",
        "cgMaxIter", "cgRtol", "shiftMax", "armijoC1", "maxBacktracks", "fallbackIters", "fallbackRatio", "relax",
        "plan", "async", "initF", "initG", "device", "control"});
  bind<SolveBatch>(env, exports, "otSolveBatch",
       {"C", "shared", "B", "n", "m", "a", "b", "regs", "plan", "async", "device", "control", "reg", "method", "tol",
        "maxIter", "checkEvery", "epsScaling", "returnPlan", "roundPlan", "stallWindow", "warmupIters", "lambda0",
        "lambdaMax", "badRatio", "maxNewton", "cgMaxIter", "cgRtol", "shiftMax", "armijoC1", "maxBacktracks",
        "fallbackIters", "fallbackRatio", "relax"});
  bind<PairwiseCost>(env, exports, "otPairwiseCost", {"X", "Y", "n", "m", "d", "squared", "C", "async"});
  bind<GridCost>(env, exports, "otGridCost", {"h", "w", "p", "C"});
  bind<Reference>(env, exports, "otReference", {"kind", "n", "m", "p", "keyLo", "keyHi", "problem"});
  init_ot_testing(env, testing_exports(env, exports));
}

}  // namespace napi
}  // namespace itk

// nn area: MLP forward/backward and the Adam step. Shapes and dtypes were validated in
// lib/nn; the checks here keep direct callers from reading or writing out of bounds.
#include "../nn/adam.h"
#include "../nn/mlp.h"
#include "../nn/nn_cuda.h"
#include "job_runner.h"
#include "napi_util.h"
#include "nn_area.h"

namespace itk {
namespace napi {
namespace {

nn::MlpLayout layout_arg(const Napi::CallbackInfo& info, std::size_t i) {
  auto d = array_arg<int32_t>(info, i, "layout");
  return nn::make_layout(d.data, d.length);
}

void require_len(const Napi::CallbackInfo& info, const AnyArray& a, std::size_t n, bool f64, const char* name) {
  if (a.is_f64 != f64) throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " has another dtype than params");
  if (a.length != n) throw coded_error(info.Env(), code_string(Code::Shape), std::string(name) + " has the wrong length");
}

// nnForward(layout, params, x, rows, tape, y, device, control, async)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  const nn::MlpLayout L = layout_arg(info, 0);
  AnyArray p = float_array_arg(info, 1, "params");
  AnyArray x = float_array_arg(info, 2, "x");
  const std::size_t rows = u53_arg(info, 3, "rows");
  AnyArray tape = float_array_arg(info, 4, "tape");
  AnyArray y = float_array_arg(info, 5, "y");
  const bool f64 = p.is_f64;
  require_len(info, p, L.n_params, f64, "params");
  require_len(info, x, rows * L.in(), f64, "x");
  require_len(info, tape, rows * L.tape_per_row, f64, "tape");
  require_len(info, y, rows * L.out(), f64, "y");
  const bool cuda = u32_arg(info, 6, "device") == 1;
  Job job;
  const Control ctl = control_arg(info, 7, &job);
  const bool async = info[8].ToBoolean();
  job.keep_alive.insert(job.keep_alive.end(), {p.object, x.object, tape.object, y.object});
  job.work = [=] {
    if (cuda && f64)
      nn::mlp_forward_cuda(L, static_cast<const double*>(p.data), static_cast<const double*>(x.data), rows,
                           static_cast<double*>(tape.data), static_cast<double*>(y.data));
    else if (cuda)
      nn::mlp_forward_cuda(L, static_cast<const float*>(p.data), static_cast<const float*>(x.data), rows,
                           static_cast<float*>(tape.data), static_cast<float*>(y.data));
    else if (f64)
      nn::mlp_forward(L, static_cast<const double*>(p.data), static_cast<const double*>(x.data), rows,
                      static_cast<double*>(tape.data), static_cast<double*>(y.data), ctl);
    else
      nn::mlp_forward(L, static_cast<const float*>(p.data), static_cast<const float*>(x.data), rows,
                      static_cast<float*>(tape.data), static_cast<float*>(y.data), ctl);
  };
  return run_job(info.Env(), async, std::move(job));
}

// nnBackward(layout, params, x, rows, tape, dy, dx | null, grad, device, control, async)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  const nn::MlpLayout L = layout_arg(info, 0);
  AnyArray p = float_array_arg(info, 1, "params");
  AnyArray x = float_array_arg(info, 2, "x");
  const std::size_t rows = u53_arg(info, 3, "rows");
  AnyArray tape = float_array_arg(info, 4, "tape");
  AnyArray dy = float_array_arg(info, 5, "dy");
  AnyArray dx;
  const bool has_dx = !(info[6].IsNull() || info[6].IsUndefined());
  if (has_dx) dx = float_array_arg(info, 6, "dx");
  AnyArray grad = float_array_arg(info, 7, "grad");
  const bool f64 = p.is_f64;
  require_len(info, p, L.n_params, f64, "params");
  require_len(info, x, rows * L.in(), f64, "x");
  require_len(info, tape, rows * L.tape_per_row, f64, "tape");
  require_len(info, dy, rows * L.out(), f64, "dy");
  if (has_dx) require_len(info, dx, rows * L.in(), f64, "dx");
  require_len(info, grad, L.n_params, f64, "grad");
  const bool cuda = u32_arg(info, 8, "device") == 1;
  Job job;
  const Control ctl = control_arg(info, 9, &job);
  const bool async = info[10].ToBoolean();
  job.keep_alive.insert(job.keep_alive.end(), {p.object, x.object, tape.object, dy.object, grad.object});
  if (has_dx) job.keep_alive.push_back(dx.object);
  job.work = [=] {
    if (cuda && f64)
      nn::mlp_backward_cuda(L, static_cast<const double*>(p.data), static_cast<const double*>(x.data), rows,
                            static_cast<const double*>(tape.data), static_cast<const double*>(dy.data),
                            has_dx ? static_cast<double*>(dx.data) : nullptr, static_cast<double*>(grad.data));
    else if (cuda)
      nn::mlp_backward_cuda(L, static_cast<const float*>(p.data), static_cast<const float*>(x.data), rows,
                            static_cast<const float*>(tape.data), static_cast<const float*>(dy.data),
                            has_dx ? static_cast<float*>(dx.data) : nullptr, static_cast<float*>(grad.data));
    else if (f64)
      nn::mlp_backward(L, static_cast<const double*>(p.data), static_cast<const double*>(x.data), rows,
                       static_cast<const double*>(tape.data), static_cast<const double*>(dy.data),
                       has_dx ? static_cast<double*>(dx.data) : nullptr, static_cast<double*>(grad.data), ctl);
    else
      nn::mlp_backward(L, static_cast<const float*>(p.data), static_cast<const float*>(x.data), rows,
                       static_cast<const float*>(tape.data), static_cast<const float*>(dy.data),
                       has_dx ? static_cast<float*>(dx.data) : nullptr, static_cast<float*>(grad.data), ctl);
  };
  return run_job(info.Env(), async, std::move(job));
}

nn::AdamConfig adam_config(const Napi::CallbackInfo& info, std::size_t i) {
  nn::AdamConfig c;
  c.lr = number_arg(info, i, "lr");
  c.beta1 = number_arg(info, i + 1, "beta1");
  c.beta2 = number_arg(info, i + 2, "beta2");
  c.eps = number_arg(info, i + 3, "eps");
  c.weight_decay = number_arg(info, i + 4, "weightDecay");
  c.decoupled = info[i + 5].ToBoolean();
  c.max_norm = number_arg(info, i + 6, "maxNorm");
  return c;
}

// nnAdam(params, grad, m, v, t, lr, beta1, beta2, eps, weightDecay, decoupled, maxNorm) -> ‖g‖
Napi::Value Adam(const Napi::CallbackInfo& info) {
  AnyArray p = float_array_arg(info, 0, "params");
  AnyArray g = float_array_arg(info, 1, "grad");
  AnyArray m = float_array_arg(info, 2, "m");
  AnyArray v = float_array_arg(info, 3, "v");
  const double t = static_cast<double>(u53_arg(info, 4, "t"));
  const nn::AdamConfig cfg = adam_config(info, 5);
  require_len(info, g, p.length, p.is_f64, "grad");
  require_len(info, m, p.length, p.is_f64, "m");
  require_len(info, v, p.length, p.is_f64, "v");
  Job job;
  double norm = 0;
  double* out = &norm;
  job.work = [=] {
    if (p.is_f64)
      *out = nn::adam_step(static_cast<double*>(p.data), static_cast<const double*>(g.data), static_cast<double*>(m.data),
                           static_cast<double*>(v.data), p.length, static_cast<long>(t), cfg);
    else
      *out = nn::adam_step(static_cast<float*>(p.data), static_cast<const float*>(g.data), static_cast<float*>(m.data),
                           static_cast<float*>(v.data), p.length, static_cast<long>(t), cfg);
  };
  run_job(info.Env(), false, std::move(job));
  return Napi::Number::New(info.Env(), norm);
}

Napi::Value GradNorm(const Napi::CallbackInfo& info) {
  AnyArray g = float_array_arg(info, 0, "grad");
  const double n = g.is_f64 ? nn::grad_norm(static_cast<const double*>(g.data), g.length)
                            : nn::grad_norm(static_cast<const float*>(g.data), g.length);
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void init_nn(Napi::Env env, Napi::Object exports) {
  exports.Set("nnForward", Napi::Function::New(env, guarded<Forward>));
  exports.Set("nnBackward", Napi::Function::New(env, guarded<Backward>));
  exports.Set("nnAdam", Napi::Function::New(env, guarded<Adam>));
  exports.Set("nnGradNorm", Napi::Function::New(env, guarded<GradNorm>));
}

}  // namespace napi
}  // namespace itk

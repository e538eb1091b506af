// nn area: MLP forward/backward and the Adam step. Shapes and dtypes were validated in
// lib/nn (one options object per call, read by name: napi_util.h Args, interfaces in
// lib/nn/addon.ts); the checks here keep direct callers from reading or writing out of bounds.
#include "../nn/adam.h"
#include "../nn/mlp.h"
#include "../nn/nn_cuda.h"
#include "job_runner.h"
#include "napi_util.h"
#include "nn_area.h"

namespace itk {
namespace napi {
namespace {

nn::MlpLayout layout_arg(const Args& in) {
  auto d = in.array<int32_t>("layout");
  return nn::make_layout(d.data, d.length);
}

void require_len(const Args& in, const AnyArray& a, std::size_t n, bool f64, const char* name) {
  if (a.is_f64 != f64) throw coded_error(in.env(), code_string(Code::Dtype), std::string(name) + " has another dtype than params");
  if (a.length != n) throw coded_error(in.env(), code_string(Code::Shape), std::string(name) + " has the wrong length");
}

// nnForward({layout, params, x, rows, tape, y, device, control, async})
Napi::Value Forward(const Napi::CallbackInfo& info) {
  const Args in(info);
  const nn::MlpLayout L = layout_arg(in);
  AnyArray p = in.float_array("params");
  AnyArray x = in.float_array("x");
  const std::size_t rows = in.u53("rows");
  AnyArray tape = in.float_array("tape");
  AnyArray y = in.float_array("y");
  const bool f64 = p.is_f64;
  require_len(in, p, L.n_params, f64, "params");
  require_len(in, x, rows * L.in(), f64, "x");
  require_len(in, tape, rows * L.tape_per_row, f64, "tape");
  require_len(in, y, rows * L.out(), f64, "y");
  const bool cuda = in.u32("device") == 1;
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
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

// nnBackward({layout, params, x, rows, tape, dy, dx | null, grad, device, control, async})
Napi::Value Backward(const Napi::CallbackInfo& info) {
  const Args in(info);
  const nn::MlpLayout L = layout_arg(in);
  AnyArray p = in.float_array("params");
  AnyArray x = in.float_array("x");
  const std::size_t rows = in.u53("rows");
  AnyArray tape = in.float_array("tape");
  AnyArray dy = in.float_array("dy");
  AnyArray dx;
  const Napi::Value dxv = in.optional("dx");
  const bool has_dx = !dxv.IsEmpty();
  if (has_dx) dx = float_array_value(in.env(), dxv, "dx");
  AnyArray grad = in.float_array("grad");
  const bool f64 = p.is_f64;
  require_len(in, p, L.n_params, f64, "params");
  require_len(in, x, rows * L.in(), f64, "x");
  require_len(in, tape, rows * L.tape_per_row, f64, "tape");
  require_len(in, dy, rows * L.out(), f64, "dy");
  if (has_dx) require_len(in, dx, rows * L.in(), f64, "dx");
  require_len(in, grad, L.n_params, f64, "grad");
  const bool cuda = in.u32("device") == 1;
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
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

nn::AdamConfig adam_config(const Args& in) {
  nn::AdamConfig c;
  c.lr = in.number("lr");
  c.beta1 = in.number("beta1");
  c.beta2 = in.number("beta2");
  c.eps = in.number("eps");
  c.weight_decay = in.number("weightDecay");
  c.decoupled = in.flag("decoupled");
  c.max_norm = in.number("maxNorm");
  return c;
}

// nnAdam({params, grad, m, v, t, lr, beta1, beta2, eps, weightDecay, decoupled, maxNorm}) -> ‖g‖
Napi::Value Adam(const Napi::CallbackInfo& info) {
  const Args in(info);
  AnyArray p = in.float_array("params");
  AnyArray g = in.float_array("grad");
  AnyArray m = in.float_array("m");
  AnyArray v = in.float_array("v");
  const double t = static_cast<double>(in.u53("t"));
  const nn::AdamConfig cfg = adam_config(in);
  require_len(in, g, p.length, p.is_f64, "grad");
  require_len(in, m, p.length, p.is_f64, "m");
  require_len(in, v, p.length, p.is_f64, "v");
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

// nnGradNorm({grad}) -> ‖g‖
Napi::Value GradNorm(const Napi::CallbackInfo& info) {
  const Args in(info);
  AnyArray g = in.float_array("grad");
  const double n = g.is_f64 ? nn::grad_norm(static_cast<const double*>(g.data), g.length)
                            : nn::grad_norm(static_cast<const float*>(g.data), g.length);
  return Napi::Number::New(info.Env(), n);
}

}  // namespace

void init_nn(Napi::Env env, Napi::Object exports) {
  bind<Forward>(env, exports, "nnForward",
       {"params", "x", "rows", "tape", "y", "device", "async", "control", "layout"});
  bind<Backward>(env, exports, "nnBackward",
       {"params", "x", "rows", "tape", "dy", "dx", "grad", "device", "async", "control", "layout"});
  bind<Adam>(env, exports, "nnAdam",
       {"params", "grad", "m", "v", "t", "lr", "beta1", "beta2", "eps", "weightDecay", "decoupled", "maxNorm"});
  bind<GradNorm>(env, exports, "nnGradNorm", {"grad"});
}

}  // namespace napi
}  // namespace itk

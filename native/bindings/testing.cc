// The one internal testing binding (docs/design/bindings.md): entry points that only tests call —
// single kernels and quantizer primitives checked against references — on `addon.testing`, not in
// a public namespace. lib/testing/ wraps them; lib/index.ts exports none of it. Each takes one
// options object (napi_util.h Args; the interfaces are in lib/testing/addon.ts).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../kernels/quant_ops.h"
#include "../kernels/unet_elem.h"
#include "../unet/fgemm.h"
#include "../unet/qdot.h"
#include "../unet/unet_calib.h"
#include "../unet/unet_cuda.h"
#include "../unet/unet_graph.h"
#include "../unet/unet_ops.h"
#include "../unet/unet_quant.h"
#include "areas.h"
#include "napi_util.h"
#include "unet_handle.h"
#include "unet_step_arg.h"

namespace itk {
namespace napi {
namespace {

// unetQdot({kernel, bits, w: Uint8Array, a: Uint8Array (4 rows of 32·nblk), nblk, rows4}) ->
// Int32Array(4) | null when the CPU lacks the path (tests compare SIMD with the scalar oracle).
Napi::Value Qdot(const Napi::CallbackInfo& info) {
  const Args in(info);
  const std::string name = in.string("kernel");
  const uint32_t bits = in.u32("bits");
  auto w = in.array<uint8_t>("w");
  auto a = in.array<uint8_t>("a");
  const int nblk = static_cast<int>(in.u32("nblk"));
  if ((bits != 4 && bits != 8) || w.length < static_cast<std::size_t>(nblk) * (bits == 4 ? 16 : 32) || a.length < static_cast<std::size_t>(nblk) * 128)
    throw_arg(info.Env(), "bad qdot arguments");
  unet::QDotKernels k;
  if (!unet::qdot_kernels_named(name, &k)) return info.Env().Null();
  const std::size_t row = static_cast<std::size_t>(nblk) * 32;
  // rows4: four weight rows of the given stride against the four activation rows (16 outputs)
  const bool rows4 = in.flag("rows4");
  if (rows4) {
    const std::size_t stride = static_cast<std::size_t>(nblk) * (bits == 4 ? 16 : 32);
    if (w.length < 4 * stride) throw_arg(info.Env(), "bad qdot arguments");
    unet::QDot16Fn f = bits == 4 ? k.w4x4 : k.w8x4;
    if (!f) f = bits == 4 ? unet::qdot16_w4_scalar : unet::qdot16_w8_scalar;
    Napi::Int32Array out = Napi::Int32Array::New(info.Env(), 16);
    f(w.data, static_cast<int>(stride), a.data, a.data + row, a.data + 2 * row, a.data + 3 * row, nblk, out.Data());
    return out;
  }
  Napi::Int32Array out = Napi::Int32Array::New(info.Env(), 4);
  (bits == 4 ? k.w4 : k.w8)(w.data, a.data, a.data + row, a.data + 2 * row, a.data + 3 * row, nblk, out.Data());
  return out;
}

// unetConvFp({kernel, x, shape: [B, I, H, W], w: [O, I, k, k], bias: [O], add: [B, O] | null,
//              geometry: [k, stride, pad, padBr]})
// -> Float32Array y | null when the CPU lacks the path: one FP32 convolution with a named
// micro-kernel ("scalar", "avx2", "avx512"), for tests against a naive fma reference.
Napi::Value ConvFp(const Napi::CallbackInfo& info) {
  const Args in(info);
  const std::string name = in.string("kernel");
  auto x = in.array<float>("x");
  auto shape = in.array<int32_t>("shape");
  auto w = in.array<float>("w");
  auto bias = in.array<float>("bias");
  const bool has_add = in.has("add");
  auto geo = in.array<int32_t>("geometry");
  if (shape.length != 4 || geo.length != 4) throw_arg(info.Env(), "bad conv arguments");
  const int B = shape.data[0], I = shape.data[1], H = shape.data[2], W = shape.data[3];
  const int k = geo.data[0], O = static_cast<int>(bias.length);
  if (B < 1 || I < 1 || H < 1 || W < 1 || k < 1 || O < 1 || geo.data[1] < 1 || geo.data[2] < 0 || B > 4096 || I > 4096 || H > 4096 ||
      W > 4096 || k > 7 || O > 4096 || x.length != static_cast<std::size_t>(B) * I * H * W ||
      w.length != static_cast<std::size_t>(O) * I * k * k)
    throw_arg(info.Env(), "bad conv arguments");
  unet::FGemmKernels kern;
  if (!unet::fgemm_kernels_named(name, &kern)) return info.Env().Null();
  unet::Conv c;
  c.name = "conv";
  c.O = O;
  c.I = I;
  c.KH = c.KW = k;
  c.stride = geo.data[1];
  c.pad = geo.data[2];
  c.pad_br = geo.data[3] != 0;
  c.b.assign(bias.data, bias.data + O);
  unet::Tensor t(B, I, H, W);
  std::copy(x.data, x.data + x.length, t.d.begin());
  std::vector<float> add;
  if (has_add) {
    auto a = in.array<float>("add");
    if (a.length != static_cast<std::size_t>(B) * O) throw_arg(info.Env(), "bad conv arguments");
    add.assign(a.data, a.data + a.length);
  }
  const unet::Tensor y = unet::conv_fp(c, t, w.data, has_add ? add.data() : nullptr, &kern);
  return to_js(info.Env(), y.d);
}

// unetLayerCheck({model, layer, x, B, H, W, delta, zero, cuda}) -> { integer, fakeQuant } outputs of one
// integer layer on the same quantized input (docs/design/unet.md §10: one layer, identical input); with cuda both
// convolutions (integer, and FP32 on the fake-quantized input) run on the device.
Napi::Value LayerCheck(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_value(info.Env(), in.value("model"));
  const std::string name = in.string("layer");
  const unet::Conv* c = nullptr;
  for (const unet::Conv* l : static_cast<const unet::Model&>(*m).layers())
    if (l->name == name) c = l;
  if (!c || (c->q.bits != 4 && c->q.bits != 8)) throw_arg(info.Env(), name + " is not an integer layer");
  auto x = in.array<float>("x");
  const int B = static_cast<int>(in.u32("B")), H = static_cast<int>(in.u32("H")), W = static_cast<int>(in.u32("W"));
  if (x.length != static_cast<std::size_t>(B) * c->I * H * W)
    throw coded_error(info.Env(), code_string(Code::Shape), "x must be [B, I, H, W]");
  const float delta = static_cast<float>(in.number("delta")), zero = static_cast<float>(in.number("zero"));
  unet::Tensor t(B, c->I, H, W);
  std::copy(x.data, x.data + x.length, t.d.begin());
  const bool cuda = in.flag("cuda");
  const std::vector<uint8_t> xq = unet::quantize_nhwc(t, delta, zero);
  const unet::Tensor yi = cuda ? unet::conv_int_cuda(*c, xq, B, H, W, delta, zero) : unet::conv_int(*c, xq, B, H, W, delta, zero);
  unet::Tensor fq = t;
  for (float& v : fq.d) v = fake_quant(v, delta, zero, 255);
  const std::vector<float> w = unet::dequantized(*c);
  const unet::Tensor yf = cuda ? unet::conv_fp_cuda(*c, fq, w.data()) : unet::conv_fp(*c, fq, w.data());
  Napi::Object r = Napi::Object::New(info.Env());
  r.Set("integer", to_js(info.Env(), yi.d));
  r.Set("fakeQuant", to_js(info.Env(), yf.d));
  return r;
}

// unetStepUpdate({x, eps, P, D, + unet_step_arg.h's}) -> Float32Array x′: the sampler update of a
// fused UNet step (unet::StepUpdate) on the host, for tests that check the flat form the TypeScript
// side builds (lib/samplers/ops.ts flatStep) against the samplers' own update (applyStep).
Napi::Value StepUpdateHost(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint64_t P = in.u53("P"), D = in.u53("D");
  const ArrayArg<float> x = in.array<float>("x"), eps = in.array<float>("eps");
  if (x.length != P * D || eps.length != P * D) throw_arg(info.Env(), "x and eps must hold P*D values");
  const unet::StepUpdate u = step_update_arg(in);
  std::vector<float> out(P * D);
  unet::step_update_host(u, x.data, eps.data, P, D, out.data());
  return to_js(info.Env(), out);
}

// unetGraph({model}) -> { values, input, output, ops: [{kind, in, out, layers, norm, silu, tf, release}] }:
// the model's forward graph (unet_graph.h), for tests that check it against the model's layers.
Napi::Value GraphOps(const Napi::CallbackInfo& info) {
  const Args in(info);
  ModelPtr m = model_value(info.Env(), in.value("model"));
  const unet::Graph& g = static_cast<const unet::Model&>(*m).graph;
  Napi::Env env = info.Env();
  const auto ints = [&](const int* v, std::size_t n) {
    Napi::Array a = Napi::Array::New(env);
    uint32_t k = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (v[i] >= 0) a.Set(k++, Napi::Number::New(env, v[i]));
    return a;
  };
  Napi::Array ops = Napi::Array::New(env, g.ops.size());
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const unet::Op& op = g.ops[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("kind", unet::op_name(op.kind));
    o.Set("in", ints(op.in, 3));
    o.Set("out", ints(op.out, 3));
    Napi::Array layers = Napi::Array::New(env);
    uint32_t k = 0;
    for (const unet::Conv* c : op.conv)
      if (c) layers.Set(k++, c->name);
    o.Set("layers", layers);
    o.Set("norm", op.norm ? Napi::Value(Napi::String::New(env, op.norm->name)) : env.Null());
    o.Set("silu", op.silu);
    o.Set("tf", op.tf);
    o.Set("release", ints(op.release.data(), op.release.size()));
    ops.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("values", g.values);
  r.Set("input", g.input);
  r.Set("output", g.output);
  r.Set("ops", ops);
  return r;
}

// unetQuantTest({op, data, a, b, c}) -> Float64Array: the quantizer primitives of docs/design/unet.md §7.3–7.4 for
// hand-computed test vectors. op "lp": Lp search of data with qmax = a, clamp zero = b != 0 ->
// [Δ, z]; "lpcompare": the same with p = c (0: 2.4) -> [Δ, z, Δ_ref, z_ref] of the search and its
// scalar-pow oracle; "minmax": [Δ, z] of range (a, b); "code": codes of data with (Δ, z, qmax) = (a, b, c);
// "calib": data split into tensors of a values, first initialises, the rest EMA -> [m, M, Δ, z];
// "actsearch": as "calib", keeping the EMA tensors' subsample, then the actRange 'search'
// refinement with p = b -> [m, M, Δ, z, subsample size].
Napi::Value QuantTest(const Napi::CallbackInfo& info) {
  const Args in(info);
  const std::string op = in.string("op");
  auto x = in.array<float>("data");
  const double a = in.number("a"), b = in.number("b"), c = in.number("c");
  std::vector<double> out;
  if (op == "lp") {
    if (x.length == 0 || !(a >= 1 && a <= 255)) throw_arg(info.Env(), "lp needs data and qmax in [1, 255]");
    const unet::QParams q = unet::lp_search(x.data, x.length, 1, static_cast<int>(a), b != 0);
    out = {q.delta, q.zero};
  } else if (op == "lpcompare") {
    // [Δ, z] of the search and of its scalar-pow oracle, p = c (0: 2.4)
    if (x.length == 0 || !(a >= 1 && a <= 255)) throw_arg(info.Env(), "lp needs data and qmax in [1, 255]");
    float lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < x.length; ++i) {
      lo = std::min(lo, x.data[i]);
      hi = std::max(hi, x.data[i]);
    }
    const float p = c > 0 ? static_cast<float>(c) : 2.4f;
    const unet::QParams q = unet::lp_search_range(x.data, x.length, 1, static_cast<int>(a), lo, hi, b != 0, p);
    const unet::QParams r = unet::lp_search_range_reference(x.data, x.length, 1, static_cast<int>(a), lo, hi, b != 0, p);
    out = {q.delta, q.zero, r.delta, r.zero};
  } else if (op == "minmax") {
    const unet::QParams q = unet::minmax_params(static_cast<float>(a), static_cast<float>(b));
    out = {q.delta, q.zero};
  } else if (op == "code") {
    for (std::size_t i = 0; i < x.length; ++i) out.push_back(quant_code(x.data[i], static_cast<float>(a), static_cast<float>(b), static_cast<int>(c)));
  } else if (op == "calib" || op == "actsearch") {
    const std::size_t n = static_cast<std::size_t>(a);
    if (n == 0 || x.length % n != 0) throw_arg(info.Env(), "calib needs whole tensors");
    unet::ActStat st;
    st.keep_sample = op == "actsearch";
    for (std::size_t i = 0; i < x.length; i += n) unet::calib_update(&st, x.data + i, n, i > 0);
    out = {st.m, st.M, st.delta, st.zero};
    if (st.keep_sample) {
      unet::act_search(&st, static_cast<float>(b));
      out = {st.m, st.M, st.delta, st.zero, static_cast<double>(st.sample.size())};
    }
  } else if (op == "exp") {
    for (std::size_t i = 0; i < x.length; ++i) out.push_back(exp_f32(x.data[i]));
  } else if (op == "gnquant") {
    // data: one image [C, P] with C = a, b groups, SiLU when c != 0; γ_ci = 1 + ci/8, β_ci = ci/16 − 1,
    // eps 1e-6, Δ = 0.03, z = 100: the fused codes, then those of group_norm → quantize_nhwc
    const int C = static_cast<int>(a), G = static_cast<int>(b);
    if (C < 1 || G < 1 || C % G != 0 || x.length % C != 0) throw_arg(info.Env(), "gnquant needs C divisible by G and whole planes");
    unet::GroupNorm gn;
    gn.C = C;
    gn.G = G;
    gn.eps = 1e-6f;
    for (int ci = 0; ci < C; ++ci) {
      gn.gamma.push_back(1.0f + ci / 8.0f);
      gn.beta.push_back(ci / 16.0f - 1.0f);
    }
    unet::Tensor t(1, C, 1, static_cast<int>(x.length / C));
    std::copy(x.data, x.data + x.length, t.d.begin());
    const std::vector<uint8_t> fused = unet::group_norm_quant_nhwc(gn, t, c != 0, 0.03f, 100.0f);
    const std::vector<uint8_t> plain = unet::quantize_nhwc(unet::group_norm(gn, t, c != 0), 0.03f, 100.0f);
    out.assign(fused.begin(), fused.end());
    out.insert(out.end(), plain.begin(), plain.end());
  } else {
    throw_arg(info.Env(), "unknown op");
  }
  Napi::Float64Array r = Napi::Float64Array::New(info.Env(), out.size());
  std::copy(out.begin(), out.end(), r.Data());
  return r;
}

}  // namespace

Napi::Object testing_exports(Napi::Env env, Napi::Object root) {
  Napi::Value t = root.Get("testing");
  if (t.IsObject()) return t.As<Napi::Object>();
  Napi::Object exports = Napi::Object::New(env);
  root.Set("testing", exports);
  return exports;
}

void init_testing(Napi::Env env, Napi::Object root) {
  Napi::Object exports = testing_exports(env, root);
  bind<Qdot>(env, exports, "unetQdot", {"kernel", "bits", "w", "a", "nblk", "rows4"});
  bind<ConvFp>(env, exports, "unetConvFp", {"kernel", "x", "shape", "w", "bias", "add", "geometry"});
  bind<LayerCheck>(env, exports, "unetLayerCheck", {"model", "layer", "x", "B", "H", "W", "delta", "zero", "cuda"});
  bind<QuantTest>(env, exports, "unetQuantTest", {"op", "data", "a", "b", "c"});
  bind<GraphOps>(env, exports, "unetGraph", {"model"});
  bind<StepUpdateHost>(env, exports, "unetStepUpdate", {"x", "eps", "P", "D", "combs", "combTerms", "combNoise", "combClip", "coef",
                                                         "keyLo", "keyHi", "stream", "step", "sampleOffset"});
}

}  // namespace napi
}  // namespace itk

// Block reductions of a final state (itokit/queue): argument reading only; the math is in
// native/stats/block_reduce.cc.
#include <cmath>
#include <string>

#include "../stats/block_reduce.h"
#include "areas.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

double spec_number(const Napi::Object& spec, const char* key) {
  const Napi::Value v = spec.Get(key);
  if (!v.IsNumber()) throw_arg(spec.Env(), std::string("reduce spec: ") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::size_t spec_count(const Napi::Object& spec, const char* key, double lo, double hi) {
  const double v = spec_number(spec, key);
  if (!(v >= lo && v <= hi) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(spec.Env(), std::string("reduce spec: ") + key + " must be an integer in [" + std::to_string(lo) + ", " +
                              std::to_string(hi) + "]");
  return static_cast<std::size_t>(v);
}

// statsBlockPartials(x: Float32Array | Float64Array, rows, d, block, spec) -> Float64Array of
// ceil(rows / block) partials (layout in block_reduce.h). spec: { kind: 0 moments | 1 payoff |
// 2 histogram, coord, sign, strike, min, max, bins } — the keys its kind reads.
Napi::Value BlockPartials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const AnyArray x = float_array_arg(info, 0, "x");
  const std::size_t rows = static_cast<std::size_t>(u53_arg(info, 1, "rows"));
  const std::size_t d = static_cast<std::size_t>(u53_arg(info, 2, "d"));
  const std::size_t block = static_cast<std::size_t>(u53_arg(info, 3, "block"));
  if (d == 0 || block == 0) throw_arg(env, "d and block must be at least 1");
  if (rows > x.length / d) throw_arg(env, "x holds fewer than rows · d values");
  if (info.Length() <= 4 || !info[4].IsObject()) throw_arg(env, "reduce spec must be an object");
  const Napi::Object so = info[4].As<Napi::Object>();
  stats::ReduceSpec spec;
  spec.kind = static_cast<stats::ReduceKind>(spec_count(so, "kind", 0, 2));
  if (spec.kind != stats::ReduceKind::Moments) {
    spec.coord = spec_count(so, "coord", 0, static_cast<double>(d - 1));
  }
  if (spec.kind == stats::ReduceKind::Payoff) {
    spec.sign = spec_number(so, "sign") < 0 ? -1.0 : 1.0;
    spec.strike = spec_number(so, "strike");
  } else if (spec.kind == stats::ReduceKind::Histogram) {
    spec.min = spec_number(so, "min");
    spec.max = spec_number(so, "max");
    spec.bins = spec_count(so, "bins", 1, 1 << 20);
    if (!(spec.max > spec.min) || !std::isfinite(spec.max - spec.min)) throw_arg(env, "reduce spec: need finite min < max");
  }
  const std::size_t blocks = (rows + block - 1) / block;
  Napi::Float64Array out = Napi::Float64Array::New(env, blocks * stats::partial_width(spec, d));
  if (x.is_f64)
    stats::block_partials(static_cast<const double*>(x.data), rows, d, spec, block, out.Data());
  else
    stats::block_partials(static_cast<const float*>(x.data), rows, d, spec, block, out.Data());
  return out;
}

}  // namespace

void init_stats(Napi::Env env, Napi::Object exports) {
  exports.Set("statsBlockPartials", Napi::Function::New(env, guarded<BlockPartials>));
}

}  // namespace napi
}  // namespace itk

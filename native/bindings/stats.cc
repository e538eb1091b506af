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

std::size_t count_in(const Args& in, const char* key, double lo, double hi) {
  const double v = in.number(key);
  if (!(v >= lo && v <= hi) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(in.env(), std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return static_cast<std::size_t>(v);
}

// statsBlockPartials({ x, rows, d, block, kind, coord, sign, strike, min, max, bins }) -> Float64Array
// of ceil(rows / block) partials (layout in block_reduce.h); kind 0 moments | 1 payoff | 2 histogram.
Napi::Value BlockPartials(const Napi::CallbackInfo& info) {
  const Args in(info);
  const AnyArray x = in.float_array("x");
  const std::size_t rows = static_cast<std::size_t>(in.u53("rows"));
  const std::size_t d = static_cast<std::size_t>(in.u53("d"));
  const std::size_t block = static_cast<std::size_t>(in.u53("block"));
  if (d == 0 || block == 0) throw_arg(in.env(), "d and block must be at least 1");
  if (rows > x.length / d) throw_arg(in.env(), "x holds fewer than rows · d values");
  stats::ReduceSpec spec;
  spec.kind = static_cast<stats::ReduceKind>(count_in(in, "kind", 0, 2));
  spec.coord = count_in(in, "coord", 0, static_cast<double>(d - 1));
  spec.sign = in.number("sign") < 0 ? -1.0 : 1.0;
  spec.strike = in.number("strike");
  spec.min = in.number("min");
  spec.max = in.number("max");
  spec.bins = count_in(in, "bins", 1, 1 << 20);
  if (spec.kind == stats::ReduceKind::Histogram && (!(spec.max > spec.min) || !std::isfinite(spec.max - spec.min)))
    throw_arg(in.env(), "histogram: need finite min < max");
  const std::size_t blocks = (rows + block - 1) / block;
  Napi::Float64Array out = Napi::Float64Array::New(in.env(), blocks * stats::partial_width(spec, d));
  if (x.is_f64)
    stats::block_partials(static_cast<const double*>(x.data), rows, d, spec, block, out.Data());
  else
    stats::block_partials(static_cast<const float*>(x.data), rows, d, spec, block, out.Data());
  return out;
}

}  // namespace

void init_stats(Napi::Env env, Napi::Object exports) {
  bind<BlockPartials>(env, exports, "statsBlockPartials",
       {"x", "rows", "d", "block", "sign", "strike", "min", "max", "kind", "coord", "bins"});
}

}  // namespace napi
}  // namespace itk

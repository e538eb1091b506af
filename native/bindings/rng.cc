// rng area: the raw Philox block and the fills. Each call takes one options object read by name
// (napi_util.h Args; its interface is in lib/native.ts). Arguments were validated in lib/rng.ts;
// the checks here only keep direct callers from reading or writing out of bounds.
#include "../kernels/philox.h"
#include "../rng/rng.h"
#include "areas.h"
#include "device_arg.h"
#include "job_runner.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

Device device_code(const Args& in, const char* key) {
  const uint32_t d = in.u32(key);
  if (d > 1) throw_arg(in.env(), "device must be 0 (cpu) or 1 (cuda)");
  return static_cast<Device>(d);
}

// philox4x32({counter: Uint32Array(4), key: Uint32Array(2), rounds, out: Uint32Array(4)})
Napi::Value Philox(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto c = in.array<uint32_t>("counter");
  auto k = in.array<uint32_t>("key");
  const uint32_t rounds = in.u32("rounds");
  auto out = in.array<uint32_t>("out");
  if (c.length != 4 || k.length != 2 || out.length != 4) throw_arg(info.Env(), "counter must hold 4 words and key 2");
  if (rounds > 16) throw_arg(info.Env(), "rounds must be at most 16");
  Philox4 in4{{c.data[0], c.data[1], c.data[2], c.data[3]}};
  const Philox4 r = philox4x32(in4, k.data[0], k.data[1], static_cast<int>(rounds));
  for (int i = 0; i < 4; ++i) out.data[i] = r.v[i];
  return info.Env().Undefined();
}

// The inputs common to both forms of rngFill: key, stream, path, step, first.
struct DrawArgs {
  RngKey key;
  uint32_t stream = 0, step = 0;
  uint64_t path = 0, first = 0;
};

DrawArgs draw_args(const Args& in) {
  DrawArgs d;
  d.key = RngKey{in.u32("keyLo"), in.u32("keyHi")};
  d.stream = in.u32("stream");
  if (d.stream > 0xFFFF) throw_arg(in.env(), "stream must be below 65536");
  d.path = in.u53("path");
  if (d.path >= (uint64_t{1} << 48)) throw_arg(in.env(), "path id must be below 2^48");
  d.step = in.u32("step");
  d.first = in.u53("first");
  return d;
}

RngKind kind_arg(const Args& in) {
  const uint32_t kind_raw = in.u32("kind");
  if (kind_raw > 4) throw_arg(in.env(), "unknown kind");
  return static_cast<RngKind>(kind_raw);
}

// rngFill with a device handle as `out`: n = the handle's bytes / element size.
Napi::Value FillDevice(const Args& in) {
  DeviceMemory* m = device_arg(in, "out");
  const RngKind kind = kind_arg(in);
  const DrawArgs d = draw_args(in);
  if (device_code(in, "device") != Device::Cuda) throw_arg(in.env(), "device output needs device 'cuda'");
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(in.value("out").As<Napi::Object>());
  void* data = m->buf.get();
  const std::size_t n = m->buf.bytes() / rng_element_size(kind);
  job.work = [=] { rng_fill_device(data, n, kind, d.key, d.stream, d.path, d.step, d.first, ctl); };
  return run_job(in.env(), async, std::move(job));
}

// rngFill({out, kind, keyLo, keyHi, stream, path, step, first, device, control, async})
// `out` is a TypedArray, or a device handle (then the draws stay on the GPU).
Napi::Value Fill(const Napi::CallbackInfo& info) {
  const Args in(info);
  const Napi::Value ov = in.value("out");
  if (ov.IsExternal()) return FillDevice(in);
  napi_typedarray_type type;
  std::size_t n = 0;
  void* data = nullptr;
  if (!typed_array_view(info.Env(), ov, "out", &type, &n, &data)) throw_arg(info.Env(), "out must be a TypedArray");
  const RngKind kind = kind_arg(in);
  // the element type fixes the element size, so n elements are n draws
  if ((kind == RngKind::Bits && type != napi_uint32_array) ||
      ((kind == RngKind::UniformF32 || kind == RngKind::NormalF32) && type != napi_float32_array) ||
      ((kind == RngKind::UniformF64 || kind == RngKind::NormalF64) && type != napi_float64_array))
    throw coded_error(info.Env(), code_string(Code::Dtype), "out does not match the requested kind");
  const DrawArgs d = draw_args(in);
  const Device device = device_code(in, "device");
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(ov.As<Napi::Object>());
  job.work = [=] { rng_fill(data, n, kind, d.key, d.stream, d.path, d.step, d.first, device, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// rngRandn({out: Float32Array(paths*dim) | device handle, paths, dim, keyLo, keyHi, stream,
//           pathOffset, step, device, control, async})
Napi::Value Randn(const Napi::CallbackInfo& info) {
  const Args in(info);
  const bool on_device = is_device_handle(in, "out");
  ArrayArg<float> out;
  if (on_device) {
    DeviceMemory* m = device_arg(in, "out");
    out.data = static_cast<float*>(m->buf.get());
    out.length = m->buf.bytes() / sizeof(float);
    out.object = in.value("out").As<Napi::Object>();
  } else {
    out = in.array<float>("out");
  }
  const uint64_t paths = in.u53("paths");
  const uint64_t dim = in.u53("dim");
  if (paths * dim != out.length) throw coded_error(info.Env(), code_string(Code::Shape), "out must hold paths*dim values");
  const RngKey key{in.u32("keyLo"), in.u32("keyHi")};
  const uint32_t stream = in.u32("stream");
  if (stream > 0xFFFF) throw_arg(info.Env(), "stream must be below 65536");
  const uint64_t offset = in.u53("pathOffset");
  if (offset + paths > (uint64_t{1} << 48)) throw_arg(info.Env(), "path ids must stay below 2^48");
  const uint32_t step = in.u32("step");
  const Device device = device_code(in, "device");
  Job job;
  const Control ctl = control_arg(in, "control", &job);
  const bool async = in.flag("async");
  job.keep_alive.push_back(out.object);
  float* data = out.data;
  if (on_device && device != Device::Cuda) throw_arg(info.Env(), "device output needs device 'cuda'");
  job.work = [=] {
    if (on_device)
      rng_randn_device(data, paths, dim, key, stream, offset, step, ctl);
    else
      rng_randn(data, paths, dim, key, stream, offset, step, device, ctl);
  };
  return run_job(info.Env(), async, std::move(job));
}

}  // namespace

void init_rng(Napi::Env env, Napi::Object exports) {
  bind<Philox>(env, exports, "philox4x32", {"counter", "key", "rounds", "out"});
  bind<Fill>(env, exports, "rngFill",
       {"out", "async", "device", "control", "keyLo", "keyHi", "stream", "path", "step", "first", "kind"});
  bind<Randn>(env, exports, "rngRandn",
       {"out", "paths", "dim", "keyLo", "keyHi", "stream", "pathOffset", "step", "async", "device", "control"});
}

}  // namespace napi
}  // namespace itk

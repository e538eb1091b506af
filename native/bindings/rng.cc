// rng area: the raw Philox block and the fills. Arguments were validated in lib/rng.ts; the
// checks here only keep direct callers from reading or writing out of bounds.
#include "../kernels/philox.h"
#include "../rng/rng.h"
#include "areas.h"
#include "device_arg.h"
#include "job_runner.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

Device device_arg_code(const Napi::CallbackInfo& info, std::size_t i) {
  const uint32_t d = u32_arg(info, i, "device");
  if (d > 1) throw_arg(info.Env(), "device must be 0 (cpu) or 1 (cuda)");
  return static_cast<Device>(d);
}

// philox4x32(counter: Uint32Array(4), key: Uint32Array(2), rounds, out: Uint32Array(4))
Napi::Value Philox(const Napi::CallbackInfo& info) {
  auto c = array_arg<uint32_t>(info, 0, "counter");
  auto k = array_arg<uint32_t>(info, 1, "key");
  const uint32_t rounds = u32_arg(info, 2, "rounds");
  auto out = array_arg<uint32_t>(info, 3, "out");
  if (c.length != 4 || k.length != 2 || out.length != 4) throw_arg(info.Env(), "counter must hold 4 words and key 2");
  if (rounds > 16) throw_arg(info.Env(), "rounds must be at most 16");
  Philox4 in{{c.data[0], c.data[1], c.data[2], c.data[3]}};
  const Philox4 r = philox4x32(in, k.data[0], k.data[1], static_cast<int>(rounds));
  for (int i = 0; i < 4; ++i) out.data[i] = r.v[i];
  return info.Env().Undefined();
}

// Reads the arguments common to both forms after `out` and `kind`: key, stream, path, step, first.
struct DrawArgs {
  RngKey key;
  uint32_t stream = 0, step = 0;
  uint64_t path = 0, first = 0;
};

DrawArgs draw_args(const Napi::CallbackInfo& info) {
  DrawArgs d;
  d.key = RngKey{u32_arg(info, 2, "keyLo"), u32_arg(info, 3, "keyHi")};
  d.stream = u32_arg(info, 4, "stream");
  if (d.stream > 0xFFFF) throw_arg(info.Env(), "stream must be below 65536");
  d.path = u53_arg(info, 5, "path");
  if (d.path >= (uint64_t{1} << 48)) throw_arg(info.Env(), "path id must be below 2^48");
  d.step = u32_arg(info, 6, "step");
  d.first = u53_arg(info, 7, "first");
  return d;
}

RngKind kind_arg(const Napi::CallbackInfo& info) {
  const uint32_t kind_raw = u32_arg(info, 1, "kind");
  if (kind_raw > 4) throw_arg(info.Env(), "unknown kind");
  return static_cast<RngKind>(kind_raw);
}

// rngFill with a device handle as `out`: n = the handle's bytes / element size.
Napi::Value FillDevice(const Napi::CallbackInfo& info) {
  DeviceMemory* m = device_arg(info, 0, "out");
  const RngKind kind = kind_arg(info);
  const DrawArgs d = draw_args(info);
  if (device_arg_code(info, 8) != Device::Cuda) throw_arg(info.Env(), "device output needs device 'cuda'");
  Job job;
  const Control ctl = control_arg(info, 9, &job);
  const bool async = info[10].ToBoolean();
  job.keep_alive.push_back(info[0].As<Napi::Object>());
  void* data = m->buf.get();
  const std::size_t n = m->buf.bytes() / rng_element_size(kind);
  job.work = [=] { rng_fill_device(data, n, kind, d.key, d.stream, d.path, d.step, d.first, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// rngFill(out, kind, keyLo, keyHi, stream, path, step, first, device, control, async)
// `out` is a TypedArray, or a device handle (then the draws stay on the GPU).
Napi::Value Fill(const Napi::CallbackInfo& info) {
  if (is_device_handle(info, 0)) return FillDevice(info);
  if (!info[0].IsTypedArray()) throw_arg(info.Env(), "out must be a TypedArray");
  Napi::TypedArray out = info[0].As<Napi::TypedArray>();
  const RngKind kind = kind_arg(info);
  if (out.ByteLength() % rng_element_size(kind) != 0 ||
      (kind == RngKind::Bits && out.TypedArrayType() != napi_uint32_array) ||
      ((kind == RngKind::UniformF32 || kind == RngKind::NormalF32) && out.TypedArrayType() != napi_float32_array) ||
      ((kind == RngKind::UniformF64 || kind == RngKind::NormalF64) && out.TypedArrayType() != napi_float64_array))
    throw coded_error(info.Env(), code_string(Code::Dtype), "out does not match the requested kind");
  const DrawArgs d = draw_args(info);
  const Device device = device_arg_code(info, 8);
  Job job;
  const Control ctl = control_arg(info, 9, &job);
  const bool async = info[10].ToBoolean();
  job.keep_alive.push_back(out);
  void* data = typed_array_bytes(info.Env(), out, "out");
  const std::size_t n = out.ByteLength() / rng_element_size(kind);
  job.work = [=] { rng_fill(data, n, kind, d.key, d.stream, d.path, d.step, d.first, device, ctl); };
  return run_job(info.Env(), async, std::move(job));
}

// rngRandn(out: Float32Array(paths*dim) | device handle, paths, dim, keyLo, keyHi, stream,
//          pathOffset, step, device, control, async)
Napi::Value Randn(const Napi::CallbackInfo& info) {
  const bool on_device = is_device_handle(info, 0);
  ArrayArg<float> out;
  if (on_device) {
    DeviceMemory* m = device_arg(info, 0, "out");
    out.data = static_cast<float*>(m->buf.get());
    out.length = m->buf.bytes() / sizeof(float);
    out.object = info[0].As<Napi::Object>();
  } else {
    out = array_arg<float>(info, 0, "out");
  }
  const uint64_t paths = u53_arg(info, 1, "paths");
  const uint64_t dim = u53_arg(info, 2, "dim");
  if (paths * dim != out.length) throw coded_error(info.Env(), code_string(Code::Shape), "out must hold paths*dim values");
  const RngKey key{u32_arg(info, 3, "keyLo"), u32_arg(info, 4, "keyHi")};
  const uint32_t stream = u32_arg(info, 5, "stream");
  if (stream > 0xFFFF) throw_arg(info.Env(), "stream must be below 65536");
  const uint64_t offset = u53_arg(info, 6, "pathOffset");
  if (offset + paths > (uint64_t{1} << 48)) throw_arg(info.Env(), "path ids must stay below 2^48");
  const uint32_t step = u32_arg(info, 7, "step");
  const Device device = device_arg_code(info, 8);
  Job job;
  const Control ctl = control_arg(info, 9, &job);
  const bool async = info[10].ToBoolean();
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
  exports.Set("philox4x32", Napi::Function::New(env, guarded<Philox>));
  exports.Set("rngFill", Napi::Function::New(env, guarded<Fill>));
  exports.Set("rngRandn", Napi::Function::New(env, guarded<Randn>));
}

}  // namespace napi
}  // namespace itk

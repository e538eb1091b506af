// Device-resident memory handles: an External owning a DeviceMemory, freed by dispose() or by
// the garbage collector, whichever comes first.
#include "../core/device_buffer.h"
#include "areas.h"
#include "device_arg.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

// deviceAlloc({bytes}) -> handle. Zero bytes gives a valid empty handle.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint64_t bytes = in.u53("bytes");
  auto* m = new DeviceMemory();
  try {
    m->buf = DeviceBuffer(static_cast<std::size_t>(bytes));
  } catch (...) {
    delete m;
    throw;
  }
  m->reported = static_cast<int64_t>(bytes);
  if (m->reported) Napi::MemoryManagement::AdjustExternalMemory(info.Env(), m->reported);
  return DeviceHandle::New(info.Env(), m, [](Napi::Env env, DeviceMemory* d) {
    d->release(env);
    delete d;
  });
}

// deviceFree({handle}): releases the memory now (a freed handle stays valid to free again).
Napi::Value Free(const Napi::CallbackInfo& info) {
  const Args in(info);
  if (!is_device_handle(in, "handle")) throw_arg(info.Env(), "expected a device handle");
  in.value("handle").As<DeviceHandle>().Data()->release(info.Env());
  return info.Env().Undefined();
}

// Byte range [offset, offset + len) of a handle's memory, checked.
uint8_t* device_range(const Napi::CallbackInfo& info, DeviceMemory* m, uint64_t offset, uint64_t len) {
  if (offset + len > m->buf.bytes()) throw coded_error(info.Env(), code_string(Code::Shape), "range exceeds the device buffer");
  return static_cast<uint8_t*>(m->buf.get()) + offset;
}

uint8_t* host_bytes(const Napi::CallbackInfo& info, Napi::TypedArray t, const char* name) { return typed_array_bytes(info.Env(), t, name); }

// deviceUpload({handle, src: TypedArray}): copies src into the start of the buffer.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  const Args in(info);
  DeviceMemory* m = device_arg(in, "handle");
  const Napi::Value sv = in.value("src");
  if (!sv.IsTypedArray()) throw_arg(info.Env(), "src must be a TypedArray");
  Napi::TypedArray src = sv.As<Napi::TypedArray>();
  cuda::copy_to_device(device_range(info, m, 0, src.ByteLength()), host_bytes(info, src, "src"), src.ByteLength());
  return info.Env().Undefined();
}

// deviceDownload({handle, dst: TypedArray}): copies the start of the buffer into dst.
Napi::Value Download(const Napi::CallbackInfo& info) {
  const Args in(info);
  DeviceMemory* m = device_arg(in, "handle");
  const Napi::Value dv = in.value("dst");
  if (!dv.IsTypedArray()) throw_arg(info.Env(), "dst must be a TypedArray");
  Napi::TypedArray dst = dv.As<Napi::TypedArray>();
  cuda::copy_to_host(host_bytes(info, dst, "dst"), device_range(info, m, 0, dst.ByteLength()), dst.ByteLength());
  return info.Env().Undefined();
}

// deviceCopy({dst: handle, src: handle, bytes}): device to device, both from their start.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  const Args in(info);
  DeviceMemory* d = device_arg(in, "dst");
  DeviceMemory* s = device_arg(in, "src");
  const uint64_t bytes = in.u53("bytes");
  cuda::copy_device_to_device(device_range(info, d, 0, bytes), device_range(info, s, 0, bytes), bytes);
  return info.Env().Undefined();
}

// deviceBroadcastRows({handle, row: Float32Array|Float64Array, rows}): handle = rows copies of row.
Napi::Value BroadcastRows(const Napi::CallbackInfo& info) {
  const Args in(info);
  DeviceMemory* m = device_arg(in, "handle");
  AnyArray row = in.float_array("row");
  const uint64_t rows = in.u53("rows");
  const std::size_t elem = row.is_f64 ? 8 : 4;
  device_range(info, m, 0, rows * row.length * elem);
  cuda::broadcast_rows(m->buf.get(), row.data, row.length, rows, row.is_f64);
  return info.Env().Undefined();
}

// devicePinnedCopySeconds({bytes}): the link's device-to-host rate into page-locked memory (benchmarks).
Napi::Value PinnedCopySeconds(const Napi::CallbackInfo& info) {
  const Args in(info);
  return Napi::Number::New(info.Env(), cuda::pinned_copy_seconds(in.u53("bytes")));
}

}  // namespace

void init_device(Napi::Env env, Napi::Object exports) {
  bind<Alloc>(env, exports, "deviceAlloc", {"bytes"});
  bind<Free>(env, exports, "deviceFree", {"handle"});
  bind<Upload>(env, exports, "deviceUpload", {"src", "handle"});
  bind<Download>(env, exports, "deviceDownload", {"dst", "handle"});
  bind<Copy>(env, exports, "deviceCopy", {"bytes", "dst", "src"});
  bind<BroadcastRows>(env, exports, "deviceBroadcastRows", {"row", "rows", "handle"});
  bind<PinnedCopySeconds>(env, exports, "devicePinnedCopySeconds", {"bytes"});
}

}  // namespace napi
}  // namespace itk

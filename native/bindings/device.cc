// Device-resident memory handles: an External owning a DeviceBuffer, freed by dispose() or by
// the garbage collector, whichever comes first.
#include "../core/device_buffer.h"
#include "areas.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

using Handle = Napi::External<DeviceBuffer>;

DeviceBuffer* handle_arg(const Napi::CallbackInfo& info, std::size_t i) {
  if (i >= info.Length() || !info[i].IsExternal()) throw_arg(info.Env(), "expected a device handle");
  return info[i].As<Handle>().Data();
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  const uint64_t bytes = u53_arg(info, 0, "bytes");
  auto* buf = new DeviceBuffer(static_cast<std::size_t>(bytes));  // throws before `new` completes
  return Handle::New(info.Env(), buf, [](Napi::Env, DeviceBuffer* b) { delete b; });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  handle_arg(info, 0)->reset();
  return info.Env().Undefined();
}

// upload(handle, src TypedArray): copies src into the start of the buffer.
Napi::Value Upload(const Napi::CallbackInfo& info) {
  DeviceBuffer* buf = handle_arg(info, 0);
  if (!info[1].IsTypedArray()) throw_arg(info.Env(), "src must be a TypedArray");
  Napi::TypedArray src = info[1].As<Napi::TypedArray>();
  if (src.ByteLength() > buf->bytes()) throw coded_error(info.Env(), code_string(Code::Shape), "src is larger than the device buffer");
  if (buf->get() == nullptr && src.ByteLength() > 0) throw_arg(info.Env(), "the device buffer was disposed");
  cuda::copy_to_device(buf->get(), static_cast<uint8_t*>(src.ArrayBuffer().Data()) + src.ByteOffset(), src.ByteLength());
  return info.Env().Undefined();
}

// download(handle, dst TypedArray): copies the start of the buffer into dst.
Napi::Value Download(const Napi::CallbackInfo& info) {
  DeviceBuffer* buf = handle_arg(info, 0);
  if (!info[1].IsTypedArray()) throw_arg(info.Env(), "dst must be a TypedArray");
  Napi::TypedArray dst = info[1].As<Napi::TypedArray>();
  if (dst.ByteLength() > buf->bytes()) throw coded_error(info.Env(), code_string(Code::Shape), "dst is larger than the device buffer");
  if (buf->get() == nullptr && dst.ByteLength() > 0) throw_arg(info.Env(), "the device buffer was disposed");
  cuda::copy_to_host(static_cast<uint8_t*>(dst.ArrayBuffer().Data()) + dst.ByteOffset(), buf->get(), dst.ByteLength());
  return info.Env().Undefined();
}

}  // namespace

void init_device(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceAlloc", Napi::Function::New(env, guarded<Alloc>));
  exports.Set("deviceFree", Napi::Function::New(env, guarded<Free>));
  exports.Set("deviceUpload", Napi::Function::New(env, guarded<Upload>));
  exports.Set("deviceDownload", Napi::Function::New(env, guarded<Download>));
}

}  // namespace napi
}  // namespace itk

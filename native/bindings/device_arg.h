// Device-array handles as binding arguments: a JS DeviceArray passes its handle (an External that
// owns a DeviceMemory), and the bindings read the pointer and its size here, one way for all.
#pragma once
#include <napi.h>

#include <string>

#include "../core/device_buffer.h"
#include "napi_util.h"

namespace itk {
namespace napi {

// Device memory owned by a JS handle. The bytes are reported to V8 as external memory while they
// are held, so the garbage collector sees GPU allocations and collects dropped arrays promptly.
struct DeviceMemory {
  DeviceBuffer buf;
  int64_t reported = 0;
  bool freed = false;
  void release(Napi::Env env) {
    if (reported) Napi::MemoryManagement::AdjustExternalMemory(env, -reported);
    reported = 0;
    buf.reset();
    freed = true;
  }
};

using DeviceHandle = Napi::External<DeviceMemory>;

inline bool is_device_handle(const Napi::CallbackInfo& info, std::size_t i) {
  return i < info.Length() && info[i].IsExternal();
}

// The live device memory of handle value v (named `name` in errors); coded errors for anything
// else or a freed one.
inline DeviceMemory* device_value(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsExternal()) throw_arg(env, name + " must be a device handle");
  DeviceMemory* m = v.As<DeviceHandle>().Data();
  if (m->freed) throw_arg(env, name + ": the DeviceArray was disposed");
  return m;
}

// The same for handle argument i.
inline DeviceMemory* device_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  if (!is_device_handle(info, i)) throw_arg(info.Env(), std::string(name) + " must be a device handle");
  return device_value(info.Env(), info[i], name);
}

// The same for the value under `key` of a call's options object.
inline bool is_device_handle(const Args& in, const char* key) { return in.value(key).IsExternal(); }

inline DeviceMemory* device_arg(const Args& in, const char* key) { return device_value(in.env(), in.value(key), key); }

}  // namespace napi
}  // namespace itk

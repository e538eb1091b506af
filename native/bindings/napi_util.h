// Shared helpers for the Node-API layer: argument views, coded errors, and one job runner that
// serves both the Promise (AsyncWorker) and the *Sync form of every heavy call. No math here.
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "../core/control.h"
#include "../core/error.h"
#include "../core/threadpool.h"

namespace itk {
namespace napi {

// A JS Error carrying the stable `code` string; lib/errors.ts maps it to an ItokitError subclass.
inline Napi::Error coded_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

[[noreturn]] inline void throw_arg(Napi::Env env, const std::string& message) {
  throw coded_error(env, code_string(Code::InvalidArg), message);
}

// Address of a typed array's first element. Shared memory is refused with a coded dtype error:
// jobs read and write arrays off the JS thread while JavaScript runs, and another thread could
// change a SharedArrayBuffer meanwhile. (lib/validate.ts refuses such arrays first; this guards the
// native surface, where node-addon-api's ArrayBuffer() would throw an uncoded "Invalid argument".)
inline uint8_t* typed_array_bytes(Napi::Env env, const Napi::TypedArray& ta, const std::string& name) {
  napi_typedarray_type type;
  std::size_t length = 0, offset = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  bool plain = false;
  if (napi_get_typedarray_info(env, ta, &type, &length, &data, &buffer, &offset) != napi_ok ||
      napi_is_arraybuffer(env, buffer, &plain) != napi_ok)
    throw coded_error(env, code_string(Code::Internal), name + ": could not read the typed array");
  if (!plain)
    throw coded_error(env, code_string(Code::Dtype),
                      name + " is backed by a SharedArrayBuffer, which itokit does not accept; pass an unshared copy");
  return static_cast<uint8_t*>(data);  // already advanced by the byte offset
}

// Raw view of a TypedArray argument. Throws a coded JS error when the argument has another type.
template <typename T>
struct ArrayArg {
  T* data = nullptr;
  std::size_t length = 0;
  Napi::Object object;
};

template <typename T>
napi_typedarray_type typed_array_kind();
template <> inline napi_typedarray_type typed_array_kind<float>() { return napi_float32_array; }
template <> inline napi_typedarray_type typed_array_kind<double>() { return napi_float64_array; }
template <> inline napi_typedarray_type typed_array_kind<uint32_t>() { return napi_uint32_array; }
template <> inline napi_typedarray_type typed_array_kind<int32_t>() { return napi_int32_array; }
template <> inline napi_typedarray_type typed_array_kind<uint8_t>() { return napi_uint8_array; }
template <> inline napi_typedarray_type typed_array_kind<int8_t>() { return napi_int8_array; }

template <typename T>
ArrayArg<T> array_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray())
    throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " must be a TypedArray");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != typed_array_kind<T>())
    throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " has the wrong element type");
  ArrayArg<T> a;
  a.object = ta;
  a.length = ta.ElementLength();
  a.data = reinterpret_cast<T*>(typed_array_bytes(info.Env(), ta, name));
  return a;
}

// Untyped view (float32 or float64 chosen at run time).
struct AnyArray {
  void* data = nullptr;
  std::size_t length = 0;
  bool is_f64 = false;
  Napi::Object object;
};

inline AnyArray float_array_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsTypedArray())
    throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " must be a Float32Array or Float64Array");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  const napi_typedarray_type t = ta.TypedArrayType();
  if (t != napi_float32_array && t != napi_float64_array)
    throw coded_error(info.Env(), code_string(Code::Dtype), std::string(name) + " must be a Float32Array or Float64Array");
  AnyArray a;
  a.object = ta;
  a.length = ta.ElementLength();
  a.is_f64 = t == napi_float64_array;
  a.data = typed_array_bytes(info.Env(), ta, name);
  return a;
}

inline double number_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  if (i >= info.Length() || !info[i].IsNumber()) throw_arg(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

inline uint32_t u32_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  const double v = number_arg(info, i, name);
  if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(info.Env(), std::string(name) + " must be an integer in [0, 2^32)");
  return static_cast<uint32_t>(v);
}

inline uint64_t u53_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  const double v = number_arg(info, i, name);
  if (!(v >= 0 && v <= 9007199254740991.0) || v != static_cast<double>(static_cast<uint64_t>(v)))
    throw_arg(info.Env(), std::string(name) + " must be a non-negative safe integer");
  return static_cast<uint64_t>(v);
}

// Wraps a binding so that every C++ exception leaving it becomes a coded JS error. node-addon-api
// turns only Napi::Error into a JS exception; anything else escaping a callback reaches
// std::terminate and kills the process (a std::bad_alloc from a hostile model's sizes did).
// Every binding runs on a JS thread: mark it, so a busy CPU pool runs its parallel regions inline
// rather than make the event loop wait behind an async call (native/core/threadpool.h).
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  ScopedSyncCaller js_thread;
  try {
    return F(info);
  } catch (const Error& e) {
    throw coded_error(info.Env(), code_string(e.code()), e.what());
  } catch (const Napi::Error& e) {
    // A JS error already (a failed napi call while reading an argument of the wrong type, or an
    // exception thrown by JS code the binding called): keep it, adding a code when it has none.
    // Napi::Error derives from std::exception, so this comes before the std::exception handler.
    Napi::Value v = e.Value();
    if (v.IsObject() && !v.As<Napi::Object>().Has("code")) v.As<Napi::Object>().Set("code", code_string(Code::InvalidArg));
    throw;
  } catch (const std::bad_alloc&) {
    throw coded_error(info.Env(), code_string(Code::OutOfMemory), "out of memory");
  } catch (const std::length_error& e) {
    // a container asked for more than it can ever hold: an allocation that cannot succeed
    throw coded_error(info.Env(), code_string(Code::OutOfMemory), std::string("allocation too large (") + e.what() + ")");
  } catch (const std::exception& e) {
    throw coded_error(info.Env(), code_string(Code::Internal), e.what());
  } catch (...) {
    throw coded_error(info.Env(), code_string(Code::Internal), "unknown native exception");
  }
}

}  // namespace napi
}  // namespace itk

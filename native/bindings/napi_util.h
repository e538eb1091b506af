// Shared helpers for the Node-API layer: argument views, coded errors, and one job runner that
// serves both the Promise (AsyncWorker) and the *Sync form of every heavy call. No math here.
#pragma once
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
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

// Every reader below takes the value and the name it is reported under; the positional forms
// (argument i of the call) and the named ones (Args, below) both come down to them.
inline Napi::Value arg_at(const Napi::CallbackInfo& info, std::size_t i) {
  return i < info.Length() ? info[i] : info.Env().Undefined();
}

// Type, length and address of typed array `v` in one napi_get_typedarray_info (plus the shared-
// memory check); false when `v` is not a typed array.
inline bool typed_array_view(Napi::Env env, Napi::Value v, const char* name, napi_typedarray_type* type, std::size_t* length,
                             void** data) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  std::size_t offset = 0;
  napi_value buffer = nullptr;
  bool plain = false;
  if (napi_get_typedarray_info(env, v, type, length, data, &buffer, &offset) != napi_ok ||
      napi_is_arraybuffer(env, buffer, &plain) != napi_ok)
    throw coded_error(env, code_string(Code::Internal), std::string(name) + ": could not read the typed array");
  if (!plain)
    throw coded_error(env, code_string(Code::Dtype),
                      std::string(name) + " is backed by a SharedArrayBuffer, which itokit does not accept; pass an unshared copy");
  return true;
}

template <typename T>
ArrayArg<T> array_value(Napi::Env env, Napi::Value v, const char* name) {
  napi_typedarray_type type;
  ArrayArg<T> a;
  void* data = nullptr;
  if (!typed_array_view(env, v, name, &type, &a.length, &data))
    throw coded_error(env, code_string(Code::Dtype), std::string(name) + " must be a TypedArray");
  if (type != typed_array_kind<T>()) throw coded_error(env, code_string(Code::Dtype), std::string(name) + " has the wrong element type");
  a.object = v.As<Napi::Object>();
  a.data = static_cast<T*>(data);
  return a;
}

template <typename T>
ArrayArg<T> array_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  return array_value<T>(info.Env(), arg_at(info, i), name);
}

// Untyped view (float32 or float64 chosen at run time).
struct AnyArray {
  void* data = nullptr;
  std::size_t length = 0;
  bool is_f64 = false;
  Napi::Object object;
};

inline AnyArray float_array_value(Napi::Env env, Napi::Value v, const char* name) {
  napi_typedarray_type t;
  AnyArray a;
  if (!typed_array_view(env, v, name, &t, &a.length, &a.data) || (t != napi_float32_array && t != napi_float64_array))
    throw coded_error(env, code_string(Code::Dtype), std::string(name) + " must be a Float32Array or Float64Array");
  a.object = v.As<Napi::Object>();
  a.is_f64 = t == napi_float64_array;
  return a;
}

inline AnyArray float_array_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  return float_array_value(info.Env(), arg_at(info, i), name);
}

// One napi call: napi_get_value_double fails (napi_number_expected) on anything but a number.
inline double number_value(Napi::Env env, Napi::Value v, const char* name) {
  double x = 0;
  if (napi_get_value_double(env, v, &x) != napi_ok) throw_arg(env, std::string(name) + " must be a number");
  return x;
}

inline uint32_t u32_value(Napi::Env env, Napi::Value v, const char* name) {
  const double x = number_value(env, v, name);
  if (!(x >= 0 && x <= 4294967295.0) || x != static_cast<double>(static_cast<uint64_t>(x)))
    throw_arg(env, std::string(name) + " must be an integer in [0, 2^32)");
  return static_cast<uint32_t>(x);
}

inline uint64_t u53_value(Napi::Env env, Napi::Value v, const char* name) {
  const double x = number_value(env, v, name);
  if (!(x >= 0 && x <= 9007199254740991.0) || x != static_cast<double>(static_cast<uint64_t>(x)))
    throw_arg(env, std::string(name) + " must be a non-negative safe integer");
  return static_cast<uint64_t>(x);
}

inline double number_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  return number_value(info.Env(), arg_at(info, i), name);
}
inline uint32_t u32_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  return u32_value(info.Env(), arg_at(info, i), name);
}
inline uint64_t u53_arg(const Napi::CallbackInfo& info, std::size_t i, const char* name) {
  return u53_value(info.Env(), arg_at(info, i), name);
}

// The one calling convention of the bindings (docs/design/bindings.md): a native entry point takes
// one plain object and reads its inputs by name, as sharp reads its pipeline options. The object's
// TypeScript interface sits next to the entry point's declaration in lib/<area>/addon.ts (or
// lib/native.ts), and test/binding-keys.test.ts checks that the keys read here (every
// `in.<getter>("key")` of an entry point and the helpers it calls) are exactly the interface's
// fields and the entry point's key table (bind<F>, below). A missing or mistyped input gets a coded
// error naming its key.
//
// On the wire the values travel positionally, in the order of the key table registered with the
// function: lib/native.ts reads the table (the function's `keys` property) once at load and puts a
// generated forwarder `(o) => f(o.k0, o.k1, …)` in front of it, so JavaScript's inline caches do the
// property reads (~1 ns each) instead of one napi_get_named_property per key (70-90 ns: a string
// internalization, a lookup and the Node-API preamble; docs/design/bindings.md has the figures).
// Nobody writes the slot order by hand: it is the registration's key list on both sides.
struct KeyTable {
  std::vector<const char*> keys;
  // Slot of `key`; a key missing from the table is a binding bug (the key test catches it first).
  // The reads and the table sit in one file, whose equal literals the compiler merges, so the
  // address comparison finds the slot; the string comparison is the fallback where it did not.
  std::size_t index(Napi::Env env, const char* key) const {
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (keys[i] == key) return i;
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (std::strcmp(keys[i], key) == 0) return i;
    throw coded_error(env, code_string(Code::Internal), std::string("binding reads ") + key + ", which its key table lacks");
  }
};

class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info)
      : env_(info.Env()), info_(&info), table_(static_cast<const KeyTable*>(info.Data())) {
    if (table_ == nullptr) throw coded_error(env_, code_string(Code::Internal), "binding registered without its key table");
    // The forwarder passes exactly one value per key; anything else is a raw call of the addon.
    if (info.Length() != table_->keys.size()) throw_arg(env_, "a native call takes one options object");
  }
  Napi::Env env() const { return env_; }
  // The raw value of `key` (undefined when absent): the argument in the key's slot.
  Napi::Value value(const char* key) const { return (*info_)[table_->index(env_, key)]; }
  // True when `key` holds something other than undefined or null (the optional inputs).
  bool has(const char* key) const {
    napi_valuetype t = napi_undefined;
    napi_typeof(env_, value(key), &t);
    return t != napi_undefined && t != napi_null;
  }
  // An optional input's value, or an empty Value (IsEmpty()) when it is absent, undefined or null.
  Napi::Value optional(const char* key) const {
    const Napi::Value v = value(key);
    napi_valuetype t = napi_undefined;
    napi_typeof(env_, v, &t);
    return t == napi_undefined || t == napi_null ? Napi::Value() : v;
  }
  // A boolean input: its truthiness, false when absent (one call when it is a boolean).
  bool flag(const char* key) const {
    const Napi::Value v = value(key);
    bool b = false;
    if (napi_get_value_bool(env_, v, &b) == napi_ok) return b;
    return v.ToBoolean();
  }
  double number(const char* key) const { return number_value(env_, value(key), key); }
  uint32_t u32(const char* key) const { return u32_value(env_, value(key), key); }
  uint64_t u53(const char* key) const { return u53_value(env_, value(key), key); }
  std::string string(const char* key) const {
    const Napi::Value v = value(key);
    if (!v.IsString()) throw_arg(env_, std::string(key) + " must be a string");
    return v.As<Napi::String>().Utf8Value();
  }
  template <typename T>
  ArrayArg<T> array(const char* key) const { return array_value<T>(env_, value(key), key); }
  AnyArray float_array(const char* key) const { return float_array_value(env_, value(key), key); }

 private:
  Napi::Env env_;
  const Napi::CallbackInfo* info_;
  const KeyTable* table_;
};

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

// Registers entry point F as exports[name] taking the options object with these keys (the wire
// order of its slots, see Args). The table is one static per entry point, shared by every
// environment (worker threads register again and get the same one); the function's `keys`
// property hands the order to lib/native.ts.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void bind(Napi::Env env, Napi::Object exports, const char* name, std::initializer_list<const char*> keys) {
  static const KeyTable table{std::vector<const char*>(keys)};
  Napi::Function f = Napi::Function::New(env, guarded<F>, name, const_cast<KeyTable*>(&table));
  Napi::Array list = Napi::Array::New(env, table.keys.size());
  for (uint32_t i = 0; i < table.keys.size(); ++i) list.Set(i, Napi::String::New(env, table.keys[i]));
  f.Set("keys", list);
  exports.Set(name, f);
}

}  // namespace napi
}  // namespace itk

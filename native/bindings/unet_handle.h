// UNet model handles as binding values: a JS object wrapping a shared_ptr<Model> (unet.cc creates
// them, unet.cc and testing.cc read them), and the bytes they report to V8.
#pragma once
#include <napi.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "../unet/unet_cuda.h"
#include "../unet/unet_model.h"
#include "../unet/unet_quant.h"
#include "napi_util.h"

namespace itk {
namespace napi {

using ModelPtr = std::shared_ptr<unet::Model>;

// What a JS model handle owns: the model (shared with running jobs, which keep it alive after a
// dispose) and the bytes reported to V8 for it, so the garbage collector sees native and device
// weights (napi_adjust_external_memory) and a loop that loads models is collected in time.
struct ModelHandle {
  ModelPtr model;
  int64_t reported = 0;
};

inline int64_t model_bytes(const unet::Model& m) {
  const unet::MemoryUse u = unet::memory_use(m);
  return static_cast<int64_t>(u.fp_bytes + u.code_bytes + u.qparam_bytes + u.cache_bytes + unet::device_bytes(m));
}

// Brings the reported bytes in line with the model (device weights arrive with its first CUDA call,
// so every entry point calls this; a disposed handle reports 0). Runs on the JS thread only.
inline void report_bytes(napi_env env, ModelHandle* h) {
  const int64_t now = h->model ? model_bytes(*h->model) : 0;
  if (now == h->reported) return;
  int64_t total = 0;
  napi_adjust_external_memory(env, now - h->reported, &total);
  h->reported = now;
}

inline Napi::Object wrap_model(Napi::Env env, ModelPtr m) {
  Napi::Object obj = Napi::Object::New(env);
  auto* holder = new ModelHandle{std::move(m), 0};
  napi_status st = napi_wrap(
      env, obj, holder,
      [](napi_env e, void* data, void*) {
        auto* h = static_cast<ModelHandle*>(data);
        int64_t total = 0;
        if (h->reported) napi_adjust_external_memory(e, -h->reported, &total);
        delete h;
      },
      nullptr, nullptr);
  if (st != napi_ok) {
    delete holder;
    throw coded_error(env, code_string(Code::Internal), "could not wrap the model");
  }
  report_bytes(env, holder);
  return obj;
}

// The model handle in value v (a wrapped JS object), or a coded error.
inline ModelHandle* handle_value(Napi::Env env, const Napi::Value& v) {
  void* p = nullptr;
  if (!v.IsObject() || napi_unwrap(env, v, &p) != napi_ok || !p) throw_arg(env, "expected a UNet model handle");
  return static_cast<ModelHandle*>(p);
}

// Its live model (a coded error once disposed), with the reported bytes brought up to date.
inline ModelPtr model_value(Napi::Env env, const Napi::Value& v) {
  ModelHandle* h = handle_value(env, v);
  if (!h->model) throw_arg(env, "the UNet model was disposed");
  report_bytes(env, h);
  return h->model;
}

// A Float32Array copy of v.
inline Napi::Float32Array to_js(Napi::Env env, const std::vector<float>& v) {
  Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

}  // namespace napi
}  // namespace itk

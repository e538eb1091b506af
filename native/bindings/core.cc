// Backends, threads and the internal math probes used by the tests.
#include <cstdlib>
#include <string>

#include "../core/cpu_features.h"
#include "../core/cuda_api.h"
#include "../core/isa.h"
#include "../core/jobs.h"
#include "../core/threadpool.h"
#include "../kernels/ikmath.h"
#include "../ot/ot_kernels.h"
#include "../rng/rng_batch.h"
#include "../unet/elem_span.h"
#include "../unet/fgemm.h"
#include "../unet/qdot.h"
#include "areas.h"
#include "napi_util.h"

namespace itk {
namespace napi {
namespace {

Napi::Value Backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);

  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("threads", get_threads());
  cpu.Set("arch", cpu_arch());
  const auto names = cpu_feature_names();
  Napi::Array feats = Napi::Array::New(env, names.size());
  for (std::size_t i = 0; i < names.size(); ++i) feats.Set(static_cast<uint32_t>(i), names[i]);
  cpu.Set("features", feats);
  // The one ISA choice (native/core/isa.h) and the table each kernel family took from it.
  static const char* const kLevel[] = {"scalar", "avx2", "avx512", "neon"};  // Isa and SimdPath values
  cpu.Set("isa", kLevel[static_cast<int>(cpu_isa())]);
  Napi::Object kernels = Napi::Object::New(env);
  kernels.Set("rng", kLevel[static_cast<int>(rng_simd_path())]);
  kernels.Set("ot", ot::ot_kernels().name);
  kernels.Set("qdot", unet::qdot_kernels().name);
  kernels.Set("fgemm", unet::fgemm_kernels().name);
  kernels.Set("unetElem", unet::elem_span_kernels().name);
  cpu.Set("kernels", kernels);
  out.Set("cpu", cpu);

  Napi::Object gpu = Napi::Object::New(env);
  std::string reason;
  const bool ok = cuda::available(&reason);
  gpu.Set("compiled", cuda::compiled());
  gpu.Set("available", ok);
  if (!ok) gpu.Set("reason", reason);
  gpu.Set("runtimeVersion", cuda::runtime_version());
  gpu.Set("driverVersion", cuda::driver_version());
  Napi::Array devs = Napi::Array::New(env);
  if (ok) {
    const auto list = cuda::devices();
    for (std::size_t i = 0; i < list.size(); ++i) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("index", list[i].index);
      d.Set("name", list[i].name);
      d.Set("totalMemory", static_cast<double>(list[i].total_memory));
      d.Set("computeCapability", std::to_string(list[i].major) + "." + std::to_string(list[i].minor));
      d.Set("multiprocessors", list[i].multiprocessors);
      devs.Set(static_cast<uint32_t>(i), d);
    }
  }
  gpu.Set("devices", devs);
  out.Set("cuda", gpu);
  return out;
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), get_threads());
}

// setThreads({threads})
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const Args in(info);
  const double n = in.number("threads");
  if (!(n >= 1 && n <= 1024) || n != static_cast<double>(static_cast<int>(n)))
    throw_arg(info.Env(), "threads must be an integer in [1, 1024]");
  set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// mathf({op, x, out}): evaluates the project-owned float32 functions elementwise (tests only).
// op 0 = log, 1 = sin of turn24 (x holds integers n), 2 = cos of turn24, 3 = exp.
Napi::Value MathF(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint32_t op = in.u32("op");
  auto x = in.array<float>("x");
  auto y = in.array<float>("out");
  if (x.length != y.length) throw_arg(info.Env(), "x and out differ in length");
  if (op > 3) throw_arg(info.Env(), "unknown op");
  for (std::size_t i = 0; i < x.length; ++i) {
    float s, c;
    switch (op) {
      case 0: y.data[i] = ik_logf(x.data[i]); break;
      case 1: ik_sincos_turn24(static_cast<uint32_t>(x.data[i]), &s, &c); y.data[i] = s; break;
      case 2: ik_sincos_turn24(static_cast<uint32_t>(x.data[i]), &s, &c); y.data[i] = c; break;
      default: y.data[i] = ik_expf(x.data[i]); break;
    }
  }
  return info.Env().Undefined();
}

// testingSetEnv({name, value | null}): sets or removes a variable of the process environment that
// native code reads (e.g. ITOKIT_SDE_KERNEL). Jest gives each test file a copy of process.env
// whose writes never reach the C environment, so the tests that compare kernels need this.
Napi::Value TestingSetEnv(const Napi::CallbackInfo& info) {
  const Args in(info);
  const std::string name = in.string("name");
  if (!in.has("value")) {
#if defined(_WIN32)
    _putenv_s(name.c_str(), "");
#else
    unsetenv(name.c_str());
#endif
  } else {
    const std::string value = in.value("value").ToString();
#if defined(_WIN32)
    _putenv_s(name.c_str(), value.c_str());
#else
    setenv(name.c_str(), value.c_str(), 1);
#endif
  }
  return info.Env().Undefined();
}

// jobCancel({control}): drops the queued async call that owns this control block, so an aborted
// call rejects at once instead of when a job thread reaches it; false when it already started.
Napi::Value JobCancel(const Napi::CallbackInfo& info) {
  const Args in(info);
  auto c = in.array<double>("control");
  return Napi::Boolean::New(info.Env(), cancel_queued_job(c.data));
}

// The test-only entry points of this file, on addon.testing.
void init_core_testing(Napi::Env env, Napi::Object exports) {
  bind<MathF>(env, exports, "mathf", {"op", "x", "out"});
  bind<TestingSetEnv>(env, exports, "testingSetEnv", {"name", "value"});
}

}  // namespace

void init_core(Napi::Env env, Napi::Object exports) {
  exports.Set("backends", Napi::Function::New(env, Backends));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  bind<SetThreads>(env, exports, "setThreads", {"threads"});
  bind<JobCancel>(env, exports, "jobCancel", {"control"});
  init_core_testing(env, testing_exports(env, exports));
}

}  // namespace napi
}  // namespace itk

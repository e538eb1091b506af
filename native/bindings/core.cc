// Backends, threads and the internal math probes used by the tests.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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

// poolStress({regions, chunks, threads, throwEvery, spinNs, callers}) -> Float64Array
// [ns per region on this thread, regions run, exceptions caught, violations]: drives the CPU pool
// (native/core/threadpool.h) for the tests and the region-latency measurement. This thread (a sync
// caller, so it runs inline while the pool is busy) and `callers` extra native threads (blocking
// callers, each with its own thread budget: all, 1, 2, ...) each run `regions` parallel regions of
// `chunks` chunks that busy-wait spinNs each. Every throwEvery-th region of a caller throws from
// one chunk. A violation: a chunk run twice, a chunk skipped without an exception, a started chunk
// still running when parallel_for returned, a wrong exception, or a nested region not run inline.
Napi::Value PoolStress(const Napi::CallbackInfo& info) {
  const Args in(info);
  const uint32_t regions = in.u32("regions"), chunks = in.u32("chunks"), threads = in.u32("threads");
  const uint32_t throw_every = in.u32("throwEvery"), spin_ns = in.u32("spinNs"), callers = in.u32("callers");
  if (chunks < 1 || chunks > 65536 || callers > 16 || spin_ns > 10000000)
    throw_arg(info.Env(), "poolStress: chunks in [1, 65536], callers <= 16, spinNs <= 1e7");
  struct Tally {
    std::atomic<long> caught{0}, violations{0};
  } tally;
  const auto spin = [](uint32_t ns) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  const auto drive = [&](uint32_t caller, int budget) {
    ScopedThreadBudget limit(budget);
    std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[chunks]);
    for (uint32_t r = 0; r < regions; ++r) {
      for (uint32_t c = 0; c < chunks; ++c) runs[c].store(0);
      std::atomic<int> started{0}, finished{0}, nested{0};
      const bool throws = throw_every > 0 && r % throw_every == throw_every - 1;
      const uint32_t bad = (r * 7 + caller) % chunks;
      const std::string tag = std::to_string(caller) + ":" + std::to_string(r);
      try {
        parallel_for(chunks, [&](std::size_t c) {
          started.fetch_add(1);
          runs[c].fetch_add(1);
          if (c == 0) parallel_for(3, [&](std::size_t) { nested.fetch_add(1); });
          spin(spin_ns);
          finished.fetch_add(1);
          if (throws && c == bad) throw std::runtime_error(tag);
        });
        if (throws) tally.violations.fetch_add(1);  // the exception was lost
      } catch (const std::runtime_error& e) {
        if (!throws || tag != e.what()) tally.violations.fetch_add(1);
        tally.caught.fetch_add(1);
      }
      if (started.load() != finished.load()) tally.violations.fetch_add(1);
      for (uint32_t c = 0; c < chunks; ++c) {
        const int k = runs[c].load();
        if (k > 1 || (k == 0 && !throws) || (c == bad && throws && k != 1)) tally.violations.fetch_add(1);
      }
      if (runs[0].load() == 1 && nested.load() != 3) tally.violations.fetch_add(1);
    }
  };
  std::vector<std::thread> extra;
  for (uint32_t k = 0; k < callers; ++k) extra.emplace_back([&, k] { drive(k + 1, static_cast<int>(k)); });
  const auto t0 = std::chrono::steady_clock::now();
  drive(0, static_cast<int>(threads));
  const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  for (auto& t : extra) t.join();
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), 4);
  out[0] = regions ? ns / regions : 0;
  out[1] = static_cast<double>(regions) * (1 + callers);
  out[2] = static_cast<double>(tally.caught.load());
  out[3] = static_cast<double>(tally.violations.load());
  return out;
}

// The test-only entry points of this file, on addon.testing.
void init_core_testing(Napi::Env env, Napi::Object exports) {
  bind<MathF>(env, exports, "mathf", {"op", "x", "out"});
  bind<TestingSetEnv>(env, exports, "testingSetEnv", {"name", "value"});
  bind<PoolStress>(env, exports, "poolStress", {"regions", "chunks", "threads", "throwEvery", "spinNs", "callers"});
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

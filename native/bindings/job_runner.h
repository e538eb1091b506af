// The one job runner of every heavy binding. A Job runs inline for the *Sync form, or, for the
// Promise form, on itokit's own job threads (native/core/jobs.h) — not on libuv's pool, so async
// calls never delay fs, dns or zlib work — and settles its Promise on the JS thread through a
// thread-safe function. Around that it keeps services alive and responsive:
// - every job has a control block (the caller's, or its own), so it can always be aborted, and a
//   queued job aborted from JS is removed at once (jobCancel) instead of waiting for a thread;
// - a cleanup hook per environment (a worker thread's, or the main one) drops its queued jobs,
//   aborts its running ones and waits until their work has returned, so no job writes into JS
//   memory after the environment frees it (worker.terminate(), process.exit() in a worker);
// - nothing touches JS once the environment is going away (settling a Promise there threw
//   Napi::Error out of a noexcept callback: SIGABRT);
// - slot 3 of the control block is the job's thread budget: a call's `threads` option limits that
//   call only, never the process-wide pool.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "../core/control.h"
#include "../core/error.h"
#include "../core/jobs.h"
#include "../core/threadpool.h"
#include "napi_util.h"

namespace itk {
namespace napi {

// The work of one call: `work` runs off the JS thread (or inline for *Sync) and must touch only
// raw memory; `finish` runs on the JS thread afterwards and builds the return value.
struct Job {
  std::function<void()> work;
  std::function<Napi::Value(Napi::Env)> finish;  // optional; undefined when empty
  std::vector<Napi::Object> keep_alive;          // inputs and outputs referenced by `work`
  double* control = nullptr;                     // slots of the control block (see core/control.h)
  std::shared_ptr<double> own_control;           // the job's own slots when the caller gave none
  Napi::Object control_object;                   // the caller's control block, kept alive
};

// The Float64Array control block `v` (argument i, or an options key), or the job's own when it is
// null/undefined; the job is abortable either way (the environment's cleanup hook needs that).
inline Control control_value(Napi::Env env, Napi::Value v, Job* job) {
  if (v.IsNull() || v.IsUndefined()) {
    job->own_control = std::shared_ptr<double>(new double[Control::kSlots](), std::default_delete<double[]>());
    job->control = job->own_control.get();
    return Control(job->control);
  }
  ArrayArg<double> c = array_value<double>(env, v, "control");
  if (c.length < Control::kSlots) throw_arg(env, "control block too short");
  job->control_object = c.object;
  job->control = c.data;
  return Control(c.data);
}

inline Control control_arg(const Napi::CallbackInfo& info, std::size_t i, Job* job) {
  return control_value(info.Env(), arg_at(info, i), job);
}

// The control block under `key` of a call's options object.
inline Control control_arg(const Args& in, const char* key, Job* job) { return control_value(in.env(), in.value(key), job); }

// Runs work under the job's thread budget and turns every exception into (code, message).
inline bool run_work(const Job& job, std::string* code, std::string* message) {
  ScopedThreadBudget budget(Control(job.control).threads());
  try {
    job.work();
    return true;
  } catch (const Error& e) {
    *code = code_string(e.code());
    *message = e.what();
  } catch (const std::bad_alloc&) {
    *code = code_string(Code::OutOfMemory);
    *message = "out of memory";
  } catch (const std::exception& e) {
    *code = code_string(Code::Internal);
    *message = e.what();
  } catch (...) {
    *code = code_string(Code::Internal);
    *message = "unknown native exception";
  }
  return false;
}

// One async call from submission to settlement.
struct AsyncCall {
  Job job;
  napi_env env = nullptr;
  napi_deferred deferred = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  std::vector<napi_ref> refs;
  std::mutex mu;             // guards tsfn_alive against the finalizer on the JS thread
  bool tsfn_alive = true;
  bool ok = false;
  std::string code, message;

  // JS thread: resolves or rejects, then lets go of the inputs. Errors from N-API here mean the
  // environment is going away; there is nobody left to tell.
  void settle(Napi::Env e) {
    try {
      if (ok) {
        Napi::Value v = job.finish ? job.finish(e) : e.Undefined();
        napi_resolve_deferred(env, deferred, v);
      } else {
        napi_reject_deferred(env, deferred, coded_error(e, code.c_str(), message).Value());
      }
    } catch (const Napi::Error& err) {
      napi_reject_deferred(env, deferred, err.Value());
    } catch (...) {
    }
    drop_refs();
  }
  void drop_refs() {
    for (napi_ref r : refs) napi_delete_reference(env, r);
    refs.clear();
  }
};

using AsyncCallPtr = std::shared_ptr<AsyncCall>;

// Thread-safe-function callbacks; context is a heap AsyncCallPtr owned by the TSFN.
inline void tsfn_call_js(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;  // the environment is being torn down
  (*static_cast<AsyncCallPtr*>(context))->settle(Napi::Env(env));
}
inline void tsfn_finalize(napi_env, void* data, void*) {
  auto* holder = static_cast<AsyncCallPtr*>(data);
  {
    std::lock_guard<std::mutex> lock((*holder)->mu);
    (*holder)->tsfn_alive = false;
  }
  delete holder;
}

// Job thread: delivers the outcome to the JS thread unless the TSFN is already finalized.
inline void deliver(const AsyncCallPtr& call) {
  std::lock_guard<std::mutex> lock(call->mu);
  if (!call->tsfn_alive) return;
  // Non-blocking with an unbounded queue: never waits for the JS thread, so the finalizer, which
  // takes `mu` on the JS thread, cannot deadlock with this call.
  // napi_closing: the environment is closing and the TSFN must not be used again (not even to
  // release it); its own teardown finalizes it.
  if (napi_call_threadsafe_function(call->tsfn, nullptr, napi_tsfn_nonblocking) == napi_ok)
    napi_release_threadsafe_function(call->tsfn, napi_tsfn_release);
}

// The async jobs of one environment (the main thread's, or a worker thread's).
class EnvJobs {
 public:
  std::shared_ptr<JobGroup> group = std::make_shared<JobGroup>();

  static std::shared_ptr<EnvJobs> of(Napi::Env env) { return env.GetInstanceData<Holder>()->jobs; }
  struct Holder {
    std::shared_ptr<EnvJobs> jobs;
  };
};

// Called once per environment from the addon's Init.
inline void init_jobs(Napi::Env env) {
  auto jobs = std::make_shared<EnvJobs>();
  env.SetInstanceData<EnvJobs::Holder>(new EnvJobs::Holder{jobs});  // deleted by node-addon-api at teardown
  env.AddCleanupHook([jobs] { jobs->group->close(); });
}

inline Napi::Value queue_async(Napi::Env env, Job job) {
  auto call = std::make_shared<AsyncCall>();
  call->env = env;
  napi_value promise;
  NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &call->deferred, &promise), Napi::Value());
  auto ref = [&](Napi::Object o) {
    napi_ref r;
    if (napi_create_reference(env, o, 1, &r) == napi_ok) call->refs.push_back(r);
  };
  for (auto& o : job.keep_alive) ref(o);
  if (!job.control_object.IsEmpty()) ref(job.control_object);
  job.keep_alive.clear();
  job.control_object = Napi::Object();
  call->job = std::move(job);
  auto* holder = new AsyncCallPtr(call);
  napi_value name = Napi::String::New(env, "itokit");
  const napi_status st = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, holder, tsfn_finalize,
                                                         holder, tsfn_call_js, &call->tsfn);
  if (st != napi_ok) {
    delete holder;
    call->drop_refs();
    throw coded_error(env, code_string(Code::Internal), "could not create the completion callback");
  }
  const std::shared_ptr<EnvJobs> jobs = EnvJobs::of(env);
  double* control = call->job.control;
  submit_job(jobs->group, control, [call] {
    call->ok = run_work(call->job, &call->code, &call->message);
    deliver(call);
  }, [call] {
    // Dropped before it ran (its environment closed, or jobCancel): report an abort.
    call->ok = false;
    call->code = code_string(Code::Aborted);
    call->message = "the operation was aborted";
    deliver(call);
  });
  return Napi::Value(env, promise);
}

// Runs `job` synchronously (returns finish() or undefined) or queues it and returns a Promise.
inline Napi::Value run_job(Napi::Env env, bool async, Job job) {
  if (async) return queue_async(env, std::move(job));
  std::string code, message;  // (guarded<> marked this JS thread as a sync caller)
  if (!run_work(job, &code, &message)) throw coded_error(env, code.c_str(), message);
  return job.finish ? job.finish(env) : env.Undefined();
}

}  // namespace napi
}  // namespace itk

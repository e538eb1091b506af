// The one job runner of every heavy binding: a Job runs inline for the *Sync form, or on a worker
// of libuv's pool for the Promise form. It also keeps the process alive when the environment that
// started a job goes away (worker.terminate(), process.exit() in a worker, process exit):
// - every job has a control block (the caller's, or its own), so it can always be aborted;
// - a cleanup hook per environment aborts that environment's running jobs and waits until their
//   work has returned, so no job writes into JS memory after the environment frees it;
// - completions that arrive while or after the environment closes touch no JS at all (building a
//   Promise result or an Error there threw Napi::Error out of a noexcept callback: SIGABRT).
#pragma once
#include <napi.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

#include "../core/control.h"
#include "../core/error.h"
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

// The Float64Array control block of argument i, or the job's own when it is null/undefined; the
// job is abortable either way (the environment's cleanup hook needs that).
inline Control control_arg(const Napi::CallbackInfo& info, std::size_t i, Job* job) {
  if (i >= info.Length() || info[i].IsNull() || info[i].IsUndefined()) {
    job->own_control = std::shared_ptr<double>(new double[Control::kSlots](), std::default_delete<double[]>());
    job->control = job->own_control.get();
    return Control(job->control);
  }
  ArrayArg<double> c = array_arg<double>(info, i, "control");
  if (c.length < Control::kSlots) throw_arg(info.Env(), "control block too short");
  job->control_object = c.object;
  job->control = c.data;
  return Control(c.data);
}

// The async jobs of one environment (the main thread's, or a worker thread's).
class EnvJobs {
 public:
  // Registers a job about to run; false when the environment is closing (then it must not run).
  bool begin(double* control) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closing_) return false;
    running_.insert(control);
    return true;
  }
  void end(double* control) {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(control);
    if (running_.empty()) idle_.notify_all();
  }
  bool closing() {
    std::lock_guard<std::mutex> lock(mu_);
    return closing_;
  }
  // The cleanup hook: abort every running job through its control block and wait for its work to
  // return. Jobs check their control between chunks, so this takes one chunk's time.
  void close() {
    std::unique_lock<std::mutex> lock(mu_);
    closing_ = true;
    for (double* c : running_) static_cast<volatile double*>(c)[0] = 1.0;
    idle_.wait(lock, [&] { return running_.empty(); });
  }

  // The instance of env, created with its cleanup hook by init_jobs(). Shared, so a completion
  // arriving after the environment's instance data is gone still finds it.
  static std::shared_ptr<EnvJobs> of(Napi::Env env) { return env.GetInstanceData<Holder>()->jobs; }

  struct Holder {
    std::shared_ptr<EnvJobs> jobs;
  };

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  std::set<double*> running_;
  bool closing_ = false;
};

// Called once per environment from the addon's Init.
inline void init_jobs(Napi::Env env) {
  auto jobs = std::make_shared<EnvJobs>();
  env.SetInstanceData<EnvJobs::Holder>(new EnvJobs::Holder{jobs});  // deleted by node-addon-api at teardown
  env.AddCleanupHook([jobs] { jobs->close(); });
}

class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, Job job)
      : Napi::AsyncWorker(env, "itokit"),
        deferred_(Napi::Promise::Deferred::New(env)),
        job_(std::move(job)),
        jobs_(EnvJobs::of(env)) {
    for (auto& o : job_.keep_alive) refs_.push_back(Napi::Persistent(o));
    if (!job_.control_object.IsEmpty()) refs_.push_back(Napi::Persistent(job_.control_object));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    if (!jobs_->begin(job_.control)) {
      code_ = code_string(Code::Aborted);
      SetError("the environment is closing");
      return;
    }
    try {
      job_.work();
    } catch (const Error& e) {
      code_ = code_string(e.code());
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = code_string(Code::OutOfMemory);
      SetError("out of memory");
    } catch (const std::exception& e) {
      code_ = code_string(Code::Internal);
      SetError(e.what());
    } catch (...) {
      code_ = code_string(Code::Internal);
      SetError("unknown native exception");
    }
    jobs_->end(job_.control);
  }

  // Skips every JS operation once the environment is closing or the work was cancelled. A
  // terminating worker drains finished work before its cleanup hooks run, with JS execution
  // already forbidden: settling the Promise then fails and node-addon-api throws from a place
  // nothing catches. Catching it here is the one place that can tell, so the failure is dropped:
  // there is nobody left to receive the result.
  void OnWorkComplete(Napi::Env env, napi_status status) override {
    if (status == napi_cancelled || jobs_->closing()) {
      Destroy();
      return;
    }
    try {
      Napi::AsyncWorker::OnWorkComplete(env, status);
    } catch (...) {
      Destroy();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(job_.finish ? job_.finish(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const Error& e) {
      deferred_.Reject(coded_error(env, code_string(e.code()), e.what()).Value());
    } catch (const std::exception& e) {
      deferred_.Reject(coded_error(env, code_string(Code::Internal), e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(coded_error(Env(), code_.c_str(), e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  std::shared_ptr<EnvJobs> jobs_;
  std::vector<Napi::ObjectReference> refs_;
  std::string code_ = code_string(Code::Internal);
};

// Runs `job` synchronously (returns finish() or undefined) or queues it and returns a Promise.
inline Napi::Value run_job(Napi::Env env, bool async, Job job) {
  if (async) {
    auto* w = new JobWorker(env, std::move(job));
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  }
  try {
    job.work();
  } catch (const Error& e) {
    throw coded_error(env, code_string(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    throw coded_error(env, code_string(Code::OutOfMemory), "out of memory");
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw coded_error(env, code_string(Code::Internal), e.what());
  }
  return job.finish ? job.finish(env) : env.Undefined();
}

}  // namespace napi
}  // namespace itk

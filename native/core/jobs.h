// itokit's own threads for async calls. The Promise form of every heavy call runs here instead of
// on libuv's pool (4 threads shared with fs, dns and zlib): with 20 calls in flight a 5 ms
// fs.readFile took 925 ms behind them. Jobs are grouped by the JS environment that submitted them,
// so closing an environment (a terminated worker) can drop and abort exactly its jobs.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <set>

namespace itk {

// The jobs of one JS environment.
class JobGroup {
 public:
  // Drops this group's queued jobs (their on_drop runs), aborts the running ones through their
  // control blocks and returns when none runs any more. Later submissions are dropped.
  void close();

  // Used by the job threads.
  bool begin(double* control);  // false when the group is closing (the job must not run)
  void end(double* control);

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  std::multiset<double*> running_;
  bool closing_ = false;
};

// Queues run() on a job thread. If the job is dropped before it starts (its group closed, or
// cancel_queued_job), on_drop() runs instead, on the thread that dropped it.
// The job holds the group, so a job taken off the queue just as its environment closes can still
// ask the group whether it may run.
void submit_job(std::shared_ptr<JobGroup> group, double* control, std::function<void()> run,
                std::function<void()> on_drop);

// Drops the queued job whose control block is `control`; false when it already started or ended.
bool cancel_queued_job(double* control);

// Number of job threads (how many async calls run at once; the rest wait in FIFO order).
int job_threads();

}  // namespace itk

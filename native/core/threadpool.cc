#include "threadpool.h"

#include "thread_priority.h"

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace itk {
namespace {

thread_local bool t_inside_region = false;
thread_local int t_budget = 0;          // ScopedThreadBudget: 0 = the whole pool
thread_local bool t_sync_caller = false;  // ScopedSyncCaller

class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return threads_; }

  void resize(int threads) {
    std::lock_guard<std::mutex> region(region_mutex_);
    stop();
    start(threads);
  }

  void run(std::size_t n_chunks, const std::function<void(std::size_t)>& fn) {
    if (n_chunks == 0) return;
    const int want = t_budget > 0 ? std::min(t_budget, threads_) : threads_;
    if (t_inside_region || want <= 1 || n_chunks == 1) {
      run_inline(n_chunks, fn);
      return;
    }
    std::unique_lock<std::mutex> region(region_mutex_, std::defer_lock);
    if (t_sync_caller) {
      if (!region.try_lock()) {  // busy with another call: do not make the event loop wait
        run_inline(n_chunks, fn);
        return;
      }
    } else {
      region.lock();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      n_chunks_ = n_chunks;
      next_.store(0);
      error_ = nullptr;
      participants_ = want - 1;  // workers 0 .. want-2 join the caller
      active_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    work_on_current_job();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return active_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  static void run_inline(std::size_t n_chunks, const std::function<void(std::size_t)>& fn) {
    const bool was_inside = t_inside_region;
    t_inside_region = true;
    try {
      for (std::size_t i = 0; i < n_chunks; ++i) fn(i);
    } catch (...) {
      t_inside_region = was_inside;
      throw;
    }
    t_inside_region = was_inside;
  }

  void work_on_current_job() {
    t_inside_region = true;
    for (;;) {
      const std::size_t i = next_.fetch_add(1);
      if (i >= n_chunks_) break;
      try {
        (*job_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_chunks_);  // skip chunks not yet started
      }
    }
    t_inside_region = false;
  }

  void worker_loop(int index, std::uint64_t seen) {
    lower_this_thread_priority();
    for (;;) {
      bool join;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        join = index < participants_;
      }
      if (join) work_on_current_job();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_one();
    }
  }

  void start(int threads) {
    threads_ = std::max(1, threads);
    std::uint64_t current;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = false;
      current = generation_;  // new workers wait for the next job, not the last one
    }
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i, current] { worker_loop(i - 1, current); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex region_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t n_chunks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::exception_ptr error_;
  int active_ = 0;
  int participants_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
};

int default_threads() {
  if (const char* env = std::getenv("ITOKIT_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    // An invalid value is reported by the TypeScript loader (lib/native.ts); here it is ignored.
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
  }
  return usable_cpus();
}

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock.
  static Pool* p = new Pool(default_threads());
  return *p;
}

}  // namespace

int usable_cpus() {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ScopedThreadBudget::ScopedThreadBudget(int n) : previous_(t_budget) { t_budget = n > 0 ? n : 0; }
ScopedThreadBudget::~ScopedThreadBudget() { t_budget = previous_; }
ScopedSyncCaller::ScopedSyncCaller() : previous_(t_sync_caller) { t_sync_caller = true; }
ScopedSyncCaller::~ScopedSyncCaller() { t_sync_caller = previous_; }

int get_threads() { return pool().threads(); }

void set_threads(int n) { pool().resize(n); }

void parallel_for(std::size_t n_chunks, const std::function<void(std::size_t)>& fn) {
  pool().run(n_chunks, fn);
}

void parallel_range(std::size_t n, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t)>& fn) {
  if (n == 0) return;
  if (grain == 0) grain = 1;
  const std::size_t chunks = (n + grain - 1) / grain;
  parallel_for(chunks, [&](std::size_t c) {
    const std::size_t begin = c * grain;
    fn(begin, std::min(n, begin + grain));
  });
}

}  // namespace itk

// The CPU backend's own thread pool (not libuv's). Work is cut into chunks by the caller, so the
// chunk boundaries, and hence every result, are independent of how many threads run them.
#pragma once
#include <cstddef>
#include <functional>

namespace itk {

// Threads used by parallel_for. Default: ITOKIT_THREADS when it is an integer in [1, 1024], else
// the CPUs this process may run on (its affinity mask), else the hardware concurrency.
int get_threads();
// CPUs this process may run on (sched_getaffinity on Linux; the hardware concurrency elsewhere).
int usable_cpus();
// Resizes the pool (n >= 1). Safe to call between operations.
void set_threads(int n);

// Calls fn(chunk) for every chunk in [0, n_chunks), spread over the pool. The calling thread
// joins in. Parallel regions are serialized: a second concurrent caller waits for the first.
// Nested calls from inside fn run inline. The first exception thrown by any chunk is rethrown
// after all started chunks finish; chunks not yet started are skipped. Between regions the
// workers spin for up to 100 µs before they sleep, so back-to-back regions cost ~0.5 µs, not a
// futex wake (docs/design/runtime.md, "Parallel regions").
void parallel_for(std::size_t n_chunks, const std::function<void(std::size_t)>& fn);

// Limits the parallel regions this thread starts to n threads (0 or >= pool size: all) while in
// scope: how one call's `threads` option applies to that call only.
class ScopedThreadBudget {
 public:
  explicit ScopedThreadBudget(int n);
  ~ScopedThreadBudget();
  ScopedThreadBudget(const ScopedThreadBudget&) = delete;
  ScopedThreadBudget& operator=(const ScopedThreadBudget&) = delete;

 private:
  int previous_;
};

// Marks this thread as a JS thread inside a *Sync call while in scope: when the pool is busy with
// another call, its parallel regions run inline on this thread rather than make the event loop
// wait (chunking, hence the result, is the same either way).
class ScopedSyncCaller {
 public:
  ScopedSyncCaller();
  ~ScopedSyncCaller();
  ScopedSyncCaller(const ScopedSyncCaller&) = delete;
  ScopedSyncCaller& operator=(const ScopedSyncCaller&) = delete;

 private:
  bool previous_;
};

// Convenience: splits [0, n) into fixed-size chunks of `grain` items and calls
// fn(begin, end) per chunk. The split depends only on n and grain.
void parallel_range(std::size_t n, std::size_t grain,
                    const std::function<void(std::size_t, std::size_t)>& fn);

}  // namespace itk

#include "threadpool.h"

#include "thread_priority.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#endif

namespace itk {
namespace {

thread_local bool t_inside_region = false;
thread_local int t_budget = 0;          // ScopedThreadBudget: 0 = the whole pool
thread_local bool t_sync_caller = false;  // ScopedSyncCaller

// How long a thread spins on the region word before it sleeps on a condition variable
// (docs/design/runtime.md, "Parallel regions"). A futex wake on this project's VMs costs tens of
// µs; a UNet forward runs ~hundreds of regions a few µs to a few hundred µs apart, so a worker
// that spins this long after a region is still awake for the next one. Idle cost: one core for
// at most this long after the last region, then nothing.
constexpr auto kSpin = std::chrono::microseconds(100);

// One spin-wait step: tells the core (and an SMT sibling) that this is a busy-wait.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#else
  std::this_thread::yield();
#endif
}

// Spins until done() or the spin budget ends; true when done() held. The first 64 checks pause
// (a region usually follows the last within a few µs); later checks yield the CPU instead, so
// that on a machine with more runnable threads than cores the thread we wait for (a worker with
// a chunk, or the caller with its serial work) gets this core rather than waiting behind a spin.
// Under such load a pure pause-spin ran a digits16 forward at 2 threads 20–40 % slower than the
// futex pool; a yielding spin ran it 5–15 % faster. The clock is read every 32 checks.
template <typename Done>
bool spin_until(Done done, std::chrono::nanoseconds budget) {
  if (budget.count() <= 0) return done();
  const auto until = std::chrono::steady_clock::now() + budget;
  for (int round = 0;; ++round) {
    for (int i = 0; i < 32; ++i) {
      if (done()) return true;
      if (round < 2) cpu_relax();
      else std::this_thread::yield();
    }
    if (std::chrono::steady_clock::now() >= until) return done();
  }
}

// The region word: everything a worker needs to decide whether to join, in one atomic, so that
// joining is a compare-and-swap that fails once the region is closed or replaced.
//   bits  0–11  workers that joined the current region and have not left it
//   bit   12    closed: the caller ran out of chunks; nobody may join any more
//   bits 13–23  participants: workers 0 .. participants-1 may join (the caller's thread budget)
//   bits 24–63  generation: +1 per region
struct Word {
  static constexpr std::uint64_t kCount = 0xFFF;
  static constexpr std::uint64_t kClosed = std::uint64_t{1} << 12;
  static constexpr int kPartShift = 13;
  static constexpr std::uint64_t kPartMask = 0x7FF;
  static constexpr int kGenShift = 24;

  static std::uint64_t open(std::uint64_t gen, int participants) {
    return (gen << kGenShift) | (static_cast<std::uint64_t>(participants) << kPartShift);
  }
  static std::uint64_t gen(std::uint64_t w) { return w >> kGenShift; }
  static int participants(std::uint64_t w) { return static_cast<int>((w >> kPartShift) & kPartMask); }
  static bool closed(std::uint64_t w) { return (w & kClosed) != 0; }
  static int joined(std::uint64_t w) { return static_cast<int>(w & kCount); }
};

// A parallel region: the caller publishes the job and a new generation in the region word, wakes
// sleeping workers only if there are any, runs chunks itself, closes the region and waits only
// for the workers that joined. Workers spin on the word after each region (kSpin) and then
// sleep, so back-to-back regions cost a few atomics instead of a futex wake and a futex wait.
class Pool {
 public:
  explicit Pool(int threads) { start(threads); }
  ~Pool() { stop(); }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int threads) {
    std::lock_guard<std::mutex> region(region_mutex_);
    stop();
    start(threads);
  }

  void run(std::size_t n_chunks, const std::function<void(std::size_t)>& fn) {
    if (n_chunks == 0) return;
    if (t_inside_region || t_budget == 1 || threads() <= 1 || n_chunks == 1) {
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
    // Under the region lock threads_ cannot change (resize takes the same lock).
    const int pool = threads_.load(std::memory_order_relaxed);
    const int want = t_budget > 0 ? std::min(t_budget, pool) : pool;
    if (want <= 1) {
      region.unlock();
      run_inline(n_chunks, fn);
      return;
    }
    job_ = &fn;
    n_chunks_ = n_chunks;
    next_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    ++generation_;
    // seq_cst: pairs with a worker's sleepers_ increment (see sleep_until_region).
    word_.store(Word::open(generation_, want - 1));
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      wake_.notify_all();
    }
    work_on_current_job();
    // No chunk is left to claim: close the region, then wait for the workers that joined.
    std::uint64_t w = word_.fetch_or(Word::kClosed);
    if (Word::joined(w) != 0) wait_for_joined();
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
      const std::size_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_chunks_) break;
      try {
        (*job_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(n_chunks_, std::memory_order_relaxed);  // skip chunks not yet started
      }
    }
    t_inside_region = false;
  }

  // Caller: until every worker that joined has left (their chunks, and error_, are then visible).
  void wait_for_joined() {
    const auto none_left = [this] { return Word::joined(word_.load(std::memory_order_acquire)) == 0; };
    if (spin_until(none_left, spin_)) return;
    std::unique_lock<std::mutex> lock(mutex_);
    caller_waiting_.store(true);  // seq_cst: pairs with the leaving worker's fetch_sub
    done_.wait(lock, [this] { return Word::joined(word_.load()) == 0; });
    caller_waiting_.store(false, std::memory_order_relaxed);
  }

  // Worker: joins region `w` (the word as last read) unless it is closed or already replaced.
  bool try_join(std::uint64_t w, std::uint64_t gen) {
    while (Word::gen(w) == gen && !Word::closed(w)) {
      if (word_.compare_exchange_weak(w, w + 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  void leave() {
    // seq_cst: pairs with the caller's caller_waiting_ store. The caller may return (and start
    // another region) right after this; only pool-wide members are touched below.
    const std::uint64_t w = word_.fetch_sub(1);
    if (Word::joined(w) == 1 && Word::closed(w) && caller_waiting_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_all();
    }
  }

  // Worker: the region word once its generation differs from `seen`, or stopping_.
  std::uint64_t next_region(std::uint64_t seen) {
    const auto changed = [&] { return stopping_.load(std::memory_order_relaxed) || Word::gen(word_.load(std::memory_order_acquire)) != seen; };
    if (!spin_until(changed, spin_)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);  // seq_cst: pairs with the caller's word_ store
      wake_.wait(lock, [&] { return stopping_.load() || Word::gen(word_.load()) != seen; });
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    return word_.load(std::memory_order_acquire);
  }

  void worker_loop(int index, std::uint64_t seen) {
    lower_this_thread_priority();
    for (;;) {
      const std::uint64_t w = next_region(seen);
      if (stopping_.load(std::memory_order_relaxed)) return;
      seen = Word::gen(w);
      // Non-participants (a budget-limited caller) go back to waiting; nobody waits for them.
      if (index < Word::participants(w) && try_join(w, seen)) {
        work_on_current_job();
        leave();
      }
    }
  }

  void start(int threads) {
    const int n = std::max(1, threads);
    threads_.store(n, std::memory_order_relaxed);
    // Spinning only helps when every pool thread has a CPU; with more threads than CPUs a
    // spinning worker would take the time slice of one that has chunks to run.
    spin_ = n <= usable_cpus() ? std::chrono::nanoseconds(kSpin) : std::chrono::nanoseconds(0);
    stopping_.store(false);
    const std::uint64_t current = generation_ & ((std::uint64_t{1} << (64 - Word::kGenShift)) - 1);  // new workers wait for the next region, not the last one
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, current] { worker_loop(i - 1, current); });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::atomic<int> threads_{1};
  std::chrono::nanoseconds spin_{0};  // written by start() before the workers exist
  std::vector<std::thread> workers_;
  std::mutex region_mutex_;  // one region at a time; resize takes it too
  // Region word (see Word); generation_ is the caller's copy of its generation (region_mutex_).
  std::atomic<std::uint64_t> word_{0};
  std::uint64_t generation_ = 0;
  // The job of the current region: written by the caller before it opens the region, read by
  // the caller and the workers that joined it (the join's acquire orders the reads).
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t n_chunks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::exception_ptr error_;  // first exception of the region, under mutex_
  // Sleeping: workers on wake_ (counted in sleepers_), the caller on done_ (caller_waiting_).
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> caller_waiting_{false};
  std::atomic<bool> stopping_{false};
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

// Scheduling priority of itokit's compute threads (job threads and pool workers).
//
// A service's event-loop thread must get a core as soon as it wakes, even while every core runs
// simulation chunks; otherwise each response waits out a scheduler time slice behind our threads
// (docs/design/runtime.md, "Event-loop latency"). So compute threads run at a lower priority
// (a higher nice value) than the thread that loaded the addon: on Linux, setpriority() on the
// thread id changes that thread only. The offset is ITOKIT_WORKER_NICE (0–19, default 5; 0 keeps
// the caller's priority); lib/native.ts rejects invalid values, this side ignores them.
#pragma once

#include <cstdlib>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace itk {

// The nice offset compute threads apply to themselves (parsed once).
inline int worker_nice() {
  static const int nice = [] {
    const char* env = std::getenv("ITOKIT_WORKER_NICE");
    if (!env) return 5;
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    return end != env && *end == '\0' && n >= 0 && n <= 19 ? static_cast<int>(n) : 5;
  }();
  return nice;
}

// Called first thing by every compute thread: lowers its own priority by worker_nice().
// Best effort: a failure (e.g. a seccomp sandbox) leaves the priority unchanged.
inline void lower_this_thread_priority() {
#if defined(__linux__)
  const int offset = worker_nice();
  if (offset == 0) return;
  const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
  // A new thread starts at its creator's nice value; the offset goes on top (capped at 19).
  const int base = getpriority(PRIO_PROCESS, tid);
  setpriority(PRIO_PROCESS, tid, base + offset > 19 ? 19 : base + offset);
#endif
}

}  // namespace itk

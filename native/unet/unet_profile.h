// Per-op timing of the CPU forward, off unless ITOKIT_UNET_PROFILE is set (read once). Each
// scope adds its wall and process-CPU time (and the FLOPs or integer ops it was given) to a
// named row; the rows are printed to stderr, largest CPU time first, when the process exits.
// A development aid (docs/design/unet.md §10 per-layer table): nothing else reads it, and when
// the variable is unset a scope costs one predictable branch.
#pragma once
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace itk {
namespace unet {

struct ProfRow {
  double wall = 0, cpu = 0, ops = 0;
  long calls = 0;
};

class Profile {
 public:
  static Profile& get() {
    static Profile p;
    return p;
  }
  bool on() const { return on_; }
  void add(const std::string& name, double wall, double cpu, double ops) {
    std::lock_guard<std::mutex> l(mu_);
    ProfRow& r = rows_[name];
    r.wall += wall;
    r.cpu += cpu;
    r.ops += ops;
    ++r.calls;
  }
  ~Profile() {
    if (!on_ || rows_.empty()) return;
    std::vector<std::pair<std::string, ProfRow>> v(rows_.begin(), rows_.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second.cpu > b.second.cpu; });
    double tot = 0;
    for (const auto& e : v) tot += e.second.cpu;
    std::fprintf(stderr, "%-48s %8s %10s %10s %6s %10s\n", "op", "calls", "wall ms", "cpu ms", "cpu %", "G(FL)OP/s");
    for (const auto& e : v) {
      const ProfRow& r = e.second;
      std::fprintf(stderr, "%-48s %8ld %10.2f %10.2f %6.1f %10.1f\n", e.first.c_str(), r.calls, 1e3 * r.wall, 1e3 * r.cpu,
                   100 * r.cpu / tot, r.cpu > 0 ? r.ops / r.cpu * 1e-9 : 0.0);
    }
    std::fprintf(stderr, "%-48s %8s %10s %10.2f\n", "total", "", "", 1e3 * tot);
  }

 private:
  Profile() : on_(std::getenv("ITOKIT_UNET_PROFILE") != nullptr) {}
  bool on_;
  std::mutex mu_;
  std::map<std::string, ProfRow> rows_;
};

inline double process_cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One timed scope: `name` (built only when profiling is on), `ops` FLOPs or integer MACs·2.
class ProfScope {
 public:
  template <class NameFn>
  ProfScope(NameFn name, double ops = 0) : on_(Profile::get().on()) {
    if (!on_) return;
    name_ = name();
    ops_ = ops;
    w0_ = std::chrono::steady_clock::now();
    c0_ = process_cpu_seconds();
  }
  ~ProfScope() {
    if (!on_) return;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0_).count();
    Profile::get().add(name_, wall, process_cpu_seconds() - c0_, ops_);
  }

 private:
  bool on_;
  std::string name_;
  double ops_ = 0;
  std::chrono::steady_clock::time_point w0_;
  double c0_ = 0;
};

}  // namespace unet
}  // namespace itk

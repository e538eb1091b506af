#include "jobs.h"

#include <algorithm>
#include <deque>
#include <thread>
#include <vector>

#include "thread_priority.h"
#include "threadpool.h"

namespace itk {
namespace {

struct Entry {
  std::shared_ptr<JobGroup> group;
  double* control;
  std::function<void()> run;
  std::function<void()> on_drop;
};

// FIFO queue served by a few threads. Each job mostly waits on the CPU pool or the GPU, so a
// handful of threads lets GPU calls and small CPU calls overlap without oversubscribing cores.
class Executor {
 public:
  Executor() {
    const int n = std::max(2, std::min(4, usable_cpus()));
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
    for (auto& t : threads_) t.detach();  // leaked with the executor: joining at exit can deadlock
  }
  int threads() const { return static_cast<int>(threads_.size()); }

  void push(Entry e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(e));
    }
    cv_.notify_one();
  }

  // Removes and returns the queued entries matching pred.
  template <typename Pred>
  std::vector<Entry> take(Pred pred) {
    std::vector<Entry> out;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (pred(*it)) {
        out.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

 private:
  void loop() {
    lower_this_thread_priority();
    for (;;) {
      Entry e;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty(); });
        e = std::move(queue_.front());
        queue_.pop_front();
      }
      if (!e.group->begin(e.control)) {
        e.on_drop();
        continue;
      }
      e.run();
      e.group->end(e.control);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  std::vector<std::thread> threads_;
};

Executor& executor() {
  static Executor* ex = new Executor();  // leaked on purpose, like the CPU pool
  return *ex;
}

}  // namespace

bool JobGroup::begin(double* control) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_) return false;
  running_.insert(control);
  return true;
}

void JobGroup::end(double* control) {
  std::lock_guard<std::mutex> lock(mu_);
  running_.erase(running_.find(control));
  if (running_.empty()) idle_.notify_all();
}

void JobGroup::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  for (Entry& e : executor().take([this](const Entry& x) { return x.group.get() == this; })) e.on_drop();
  std::unique_lock<std::mutex> lock(mu_);
  // Slot 0 of a control block is its abort flag (core/control.h); jobs poll it between chunks.
  for (double* c : running_) static_cast<volatile double*>(c)[0] = 1.0;
  idle_.wait(lock, [&] { return running_.empty(); });
}

void submit_job(std::shared_ptr<JobGroup> group, double* control, std::function<void()> run,
                std::function<void()> on_drop) {
  executor().push(Entry{group, control, std::move(run), std::move(on_drop)});
}

bool cancel_queued_job(double* control) {
  std::vector<Entry> taken = executor().take([control](const Entry& e) { return e.control == control; });
  for (Entry& e : taken) e.on_drop();
  return !taken.empty();
}

int job_threads() { return executor().threads(); }

}  // namespace itk

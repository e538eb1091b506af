// Run control shared with JavaScript: a Float64Array the caller keeps alive for the call.
// Slot 0 is set to 1 by JS when its AbortSignal fires; slots 1 and 2 receive progress
// (done, total), which JS polls on a timer; slot 3 is the call's thread budget. Plain volatile loads and stores suffice: each slot has
// one writer, and a stale read only delays an abort or a progress update by one check.
#pragma once
#include <cstddef>

#include "error.h"

namespace itk {

class Control {
 public:
  Control() = default;
  explicit Control(double* slots) : slots_(slots) {}

  bool aborted() const { return slots_ != nullptr && static_cast<volatile double*>(slots_)[0] != 0.0; }
  void check() const {
    if (aborted()) throw Error(Code::Aborted, "the operation was aborted");
  }
  void progress(double done, double total) const {
    if (slots_ == nullptr) return;
    volatile double* s = slots_;
    s[2] = total;
    s[1] = done;
  }

  // Slot 3: the call's thread budget (0 = the whole pool), set by JS from a `threads` option.
  int threads() const {
    if (slots_ == nullptr) return 0;
    const double t = static_cast<volatile double*>(slots_)[3];
    return t >= 1 && t <= 1024 ? static_cast<int>(t) : 0;
  }

  static constexpr std::size_t kSlots = 4;

 private:
  double* slots_ = nullptr;
};

}  // namespace itk

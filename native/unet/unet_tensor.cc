// The per-thread buffer pool behind Tensor::uninit (unet_tensor.h): a tensor's storage without
// the zero fill std::vector<float>(n) would do, by reusing the buffers of tensors that died.
#include "unet_tensor.h"

#include <cstdlib>
#include <limits>

namespace itk {
namespace unet {
namespace {

struct Pool {
  std::vector<std::vector<float>> bufs;
  std::size_t bytes = 0;
  ~Pool();
};

// Set when this thread's pool is destroyed (thread exit): tensors that die later (statics,
// destroyed after the thread-locals) then free their buffers instead. Trivially destructible,
// so it stays readable until the thread ends.
thread_local bool t_pool_dead = false;
thread_local Pool t_pool;

Pool::~Pool() { t_pool_dead = true; }

// ITOKIT_UNET_POISON=1: every uninit tensor starts as NaN, so an op that leaves an element
// unwritten makes the forward's non-finite check fail (tests run the UNet suite this way).
bool poison() {
  static const bool on = [] {
    const char* e = std::getenv("ITOKIT_UNET_POISON");
    return e != nullptr && e[0] != '\0' && e[0] != '0';
  }();
  return on;
}

}  // namespace

std::vector<float> tensor_pool_take(std::size_t n) {
  std::vector<float> v;
  if (n >= kTensorPoolMinFloats && !t_pool_dead) {
    Pool& p = t_pool;
    // Best fit by size, not capacity: a buffer whose size is ≥ n is shrunk to n without a write,
    // while growing a shorter one (even within its capacity) value-initialises the new tail. So
    // the smallest buffer of size ≥ n, else the smallest of capacity ≥ n (a partial fill).
    const std::size_t none = p.bufs.size();
    std::size_t best = none, fit = none;
    for (std::size_t i = 0; i < p.bufs.size(); ++i) {
      const std::vector<float>& b = p.bufs[i];
      if (b.size() >= n && (best == none || b.size() < p.bufs[best].size())) best = i;
      if (b.capacity() >= n && (fit == none || b.capacity() < p.bufs[fit].capacity())) fit = i;
    }
    if (best == none) best = fit;
    if (best < p.bufs.size()) {
      v = std::move(p.bufs[best]);
      p.bufs[best] = std::move(p.bufs.back());
      p.bufs.pop_back();
      p.bytes -= v.capacity() * sizeof(float);
    }
  }
  // Shrinking writes nothing (float is trivially destructible); growing within the capacity, or
  // a fresh buffer on a miss, value-initialises the new elements.
  v.resize(n);
  if (poison()) v.assign(n, std::numeric_limits<float>::quiet_NaN());
  return v;
}

void tensor_pool_give(std::vector<float>&& v) {
  std::vector<float> mine(std::move(v));  // freed on return unless kept
  if (t_pool_dead) return;
  Pool& p = t_pool;
  const std::size_t b = mine.capacity() * sizeof(float);
  if (p.bufs.size() >= kTensorPoolBuffers || p.bytes + b > kTensorPoolBytes) return;
  p.bytes += b;
  p.bufs.push_back(std::move(mine));
}

}  // namespace unet
}  // namespace itk

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
    // Only a buffer of exactly n floats (no write, and its size stays what it was): a forward asks
    // for the same sizes step after step, so once warm every take is one of these. Handing out a
    // larger buffer shrunk to n would stick at n (the vector's size is all it remembers), and the
    // next take of the larger size would then refill the tail it lost: measured on the digits16
    // forward, a best-fit pool missed or refilled the two largest concat outputs on every step.
    std::size_t pick = p.bufs.size();
    for (std::size_t i = p.bufs.size(); i-- > 0;)  // newest first: the warmest in cache
      if (p.bufs[i].size() == n) {
        pick = i;
        break;
      }
    if (pick < p.bufs.size()) {
      v = std::move(p.bufs[pick]);
      p.bufs.erase(p.bufs.begin() + static_cast<std::ptrdiff_t>(pick));  // keeps the give order (eviction below)
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
  if (b > kTensorPoolBytes) return;
  // Full: the buffers given back longest ago go (they are the sizes a forward has stopped asking
  // for, e.g. after a batch size change), not the new one, so the pool follows the current shapes.
  while (!p.bufs.empty() && (p.bufs.size() >= kTensorPoolBuffers || p.bytes + b > kTensorPoolBytes)) {
    p.bytes -= p.bufs.front().capacity() * sizeof(float);
    p.bufs.erase(p.bufs.begin());
  }
  p.bytes += b;
  p.bufs.push_back(std::move(mine));
}

}  // namespace unet
}  // namespace itk

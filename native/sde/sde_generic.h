// Callback-path building blocks: Brownian increments of one step for a whole batch, and the
// elementwise update once JavaScript has filled drift and diffusion buffers (docs/design/sde.md §6).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/control.h"
#include "../core/device.h"

namespace itk {

struct BrownianCall {
  bool f64 = false;
  void* dW = nullptr;  // [paths, m]
  void* J = nullptr;   // [paths, m] or null: I_(k,0)/h (space-time area term, SRA1)
  uint64_t paths = 0, path_offset = 0;
  uint32_t m = 1, step = 0, refine = 1, stream = 0;
  uint32_t key_lo = 0, key_hi = 0;
  double h = 0;
  Device device = Device::Cpu;
};
void sde_brownian(const BrownianCall& c, const Control& ctl);

struct GenericCall {
  bool f64 = false;
  int op = 0, noise = 0;
  uint64_t paths = 0;
  uint32_t d = 1, m = 1;
  double h = 0;
  void* x = nullptr;
  const void *y = nullptr, *f1 = nullptr, *f2 = nullptr, *g1 = nullptr, *g2 = nullptr, *gdg = nullptr;
  const void *dW = nullptr, *J = nullptr;
  Device device = Device::Cpu;  // CUDA: buffers are copied in and x copied back (float32)
};
void sde_generic_update(const GenericCall& c);

}  // namespace itk

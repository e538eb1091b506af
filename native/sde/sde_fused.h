// Dispatcher of the fused built-in model trajectories (kernels in native/kernels/sde_fused.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/control.h"
#include "../core/device.h"

namespace itk {

// One fused simulation call. Parameters and coefficient tables arrive as float64 and are cast to
// the state type once, here on the host, so CPU and CUDA see identical constants (docs/design/sde.md).
struct FusedCall {
  bool f64 = false;
  int kind = 0, method = 0;
  uint32_t dim = 1, m = 1, mixture = 0;
  uint64_t paths = 0, path_offset = 0;
  uint32_t step_begin = 0, step_end = 0;
  uint32_t key_lo = 0, key_hi = 0, refine = 1;
  double h = 0;
  const double* par = nullptr;
  std::size_t n_par = 0;
  const double* tcoef = nullptr;  // rows of 7; one row (stride 0) or one per global step
  std::size_t n_tcoef = 0;
  bool tcoef_per_step = false;
  const uint32_t* save_n0 = nullptr;
  const double* save_w = nullptr;
  uint32_t n_saves = 0;
  void* x = nullptr;    // [paths, dim] of the state type, updated in place
  void* out = nullptr;  // [n_saves, paths, dim]
  Device device = Device::Cpu;
  bool device_io = false;  // x and out are device memory (CUDA only): no copies to or from the host
};

void sde_fused(const FusedCall& call, const Control& ctl);

}  // namespace itk

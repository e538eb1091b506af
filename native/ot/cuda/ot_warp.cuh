// Warp reductions of the OT CUDA passes (ot_dense.cu, ot_batch.cu): a fixed shuffle tree, so a
// warp's sum is the same bits on every run; every lane gets lane 0's result.
#pragma once
#include <cuda_runtime.h>

namespace itk {
namespace ot {

__device__ __forceinline__ double warp_sum(double x) {
  for (int o = 16; o > 0; o >>= 1) x += __shfl_down_sync(0xffffffffu, x, o);
  return __shfl_sync(0xffffffffu, x, 0);
}
__device__ __forceinline__ double warp_max(double x) {
  for (int o = 16; o > 0; o >>= 1) x = fmax(x, __shfl_down_sync(0xffffffffu, x, o));
  return __shfl_sync(0xffffffffu, x, 0);
}

}  // namespace ot
}  // namespace itk

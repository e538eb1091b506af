// Host-side helpers shared by the CUDA UNet entry points (native/unet/cuda/unet_forward.cu, the whole walk;
// native/unet/cuda/unet_qconv.cu, the single-layer checks): weight/input uploads and a layer's geometry.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>

#include "../../core/device_buffer.h"
#include "../unet_model.h"
#include "unet_dev.cuh"

namespace itk {
namespace unet {
namespace dev {

// Uploads n values on stream s, in stream order. A blocking cudaMemcpy from pageable memory
// returns once the data are staged, before the DMA lands, and a non-blocking stream does not wait
// for the legacy one: a kernel there could read a buffer still being written (seen on the H200 on
// the first call of the CIFAR-shaped model). Pageable sources may be freed on return.
template <typename T>
DeviceBuffer upload(const T* src, std::size_t n, cudaStream_t s) {
  DeviceBuffer d(n * sizeof(T));
  if (n) cuda::check(cudaMemcpyAsync(d.get(), src, n * sizeof(T), cudaMemcpyHostToDevice, s), "upload to the GPU");
  return d;
}

// The geometry of conv layer c on a [B, c.I, H, W] input: top/left padding pt, bottom/right
// pt + 1 for diffusers' downsample_padding = 0 (docs/design/unet.md §4 "Resamplers").
inline ConvGeo conv_geometry(const Conv& c, int B, int H, int W) {
  const int pt = c.pad, pb = c.pad + (c.pad_br ? 1 : 0);
  const ConvGeo g{B, c.I, H, W, c.O, c.KH, c.KW, c.stride, pt, (H + pt + pb - c.KH) / c.stride + 1,
                  (W + pt + pb - c.KW) / c.stride + 1};
  require(g.Ho > 0 && g.Wo > 0, Code::Shape, c.name + ": input too small for the kernel");
  return g;
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

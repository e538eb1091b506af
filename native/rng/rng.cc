#include "rng.h"

#include "../core/device_buffer.h"

namespace itk {

std::size_t rng_element_size(RngKind kind) {
  switch (kind) {
    case RngKind::UniformF32:
    case RngKind::NormalF32:
    case RngKind::Bits:
      return 4;
    case RngKind::UniformF64:
    case RngKind::NormalF64:
      return 8;
  }
  return 4;
}

void rng_fill(void* out_host, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
              uint32_t step, uint64_t first, Device device, const Control& ctl) {
  if (device == Device::Cpu) {
    rng_fill_cpu(out_host, n, kind, key, stream, path, step, first, ctl);
    return;
  }
  cuda::require_available();
  const std::size_t bytes = n * rng_element_size(kind);
  DeviceBuffer buf(bytes);
  cuda::rng_fill(buf.get(), n, static_cast<int>(kind), key.lo, key.hi, stream, path, step, first);
  cuda::copy_to_host(out_host, buf.get(), bytes);
}

void rng_randn(float* out_host, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
               uint64_t path_offset, uint32_t step, Device device, const Control& ctl) {
  if (device == Device::Cpu) {
    rng_randn_cpu(out_host, paths, dim, key, stream, path_offset, step, ctl);
    return;
  }
  cuda::require_available();
  DeviceBuffer buf(paths * dim * sizeof(float));
  cuda::rng_randn(static_cast<float*>(buf.get()), paths, dim, key.lo, key.hi, stream, path_offset, step);
  cuda::copy_to_host(out_host, buf.get(), buf.bytes());
}

void rng_fill_device(void* out_device, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
                     uint32_t step, uint64_t first, const Control& ctl) {
  cuda::require_available();
  ctl.check();
  cuda::rng_fill(out_device, n, static_cast<int>(kind), key.lo, key.hi, stream, path, step, first);
  ctl.progress(1, 1);
}

void rng_randn_device(float* out_device, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
                      uint64_t path_offset, uint32_t step, const Control& ctl) {
  cuda::require_available();
  ctl.check();
  cuda::rng_randn(out_device, paths, dim, key.lo, key.hi, stream, path_offset, step);
  ctl.progress(1, 1);
}

}  // namespace itk

// Dispatcher for counter-based random numbers: one entry per operation, CPU or CUDA per call.
#pragma once
#include "../core/device.h"
#include "rng_fill.h"

namespace itk {

std::size_t rng_element_size(RngKind kind);

// Host output in both cases; the CUDA path generates on the device and copies back.
void rng_fill(void* out_host, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
              uint32_t step, uint64_t first, Device device, const Control& ctl);
void rng_randn(float* out_host, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
               uint64_t path_offset, uint32_t step, Device device, const Control& ctl);

// The same draws written straight into device memory (CUDA only): nothing crosses to the host.
void rng_fill_device(void* out_device, std::size_t n, RngKind kind, RngKey key, uint32_t stream, uint64_t path,
                     uint32_t step, uint64_t first, const Control& ctl);
void rng_randn_device(float* out_device, std::size_t paths, std::size_t dim, RngKey key, uint32_t stream,
                      uint64_t path_offset, uint32_t step, const Control& ctl);

}  // namespace itk

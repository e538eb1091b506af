#include "sde_generic.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/device_buffer.h"
#include "../core/threadpool.h"
#include "../kernels/sde_generic.h"
#include "../kernels/sde_noise.h"
#include "sde_cuda.h"

namespace itk {
namespace {

constexpr std::size_t kRowsPerChunk = 1024;

template <typename T>
sde::NoiseSpec<T> spec_of(const BrownianCall& c) {
  sde::NoiseSpec<T> ns;
  ns.key_lo = c.key_lo;
  ns.key_hi = c.key_hi;
  ns.stream = c.stream;
  ns.m = c.m;
  ns.refine = c.refine;
  const double hf = c.h / c.refine;
  ns.h = static_cast<T>(c.h);
  ns.hf = static_cast<T>(hf);
  ns.sqrt_hf = static_cast<T>(std::sqrt(std::fabs(hf)));
  ns.sqrt_hf12 = static_cast<T>(std::sqrt(std::fabs(hf) / 12.0));
  return ns;
}

template <typename T>
void brownian_cpu(const BrownianCall& c, const Control& ctl) {
  const sde::NoiseSpec<T> ns = spec_of<T>(c);
  T* dW = static_cast<T*>(c.dW);
  T* J = static_cast<T*>(c.J);
  parallel_range(c.paths, kRowsPerChunk, [&](std::size_t p0, std::size_t p1) {
    ctl.check();
    for (std::size_t p = p0; p < p1; ++p)
      for (uint32_t k0 = 0; k0 < c.m; k0 += sde::kMaxLocal) {
        const int cnt = static_cast<int>(std::min<uint32_t>(sde::kMaxLocal, c.m - k0));
        sde::BrownianCache nc;  // one step per call: nothing to share across steps
        sde::brownian(ns, c.path_offset + p, c.step, k0, cnt, dW + p * c.m + k0, J ? J + p * c.m + k0 : nullptr, &nc);
      }
  });
}

template <typename T>
void update_cpu(const GenericCall& c) {
  sde::GenericArgs<T> a;
  a.op = c.op;
  a.noise = c.noise;
  a.paths = c.paths;
  a.d = c.d;
  a.m = c.m;
  a.h = static_cast<T>(c.h);
  a.sqrt_h = static_cast<T>(std::sqrt(std::fabs(c.h)));
  a.x = static_cast<T*>(c.x);
  a.y = static_cast<const T*>(c.y);
  a.f1 = static_cast<const T*>(c.f1);
  a.f2 = static_cast<const T*>(c.f2);
  a.g1 = static_cast<const T*>(c.g1);
  a.g2 = static_cast<const T*>(c.g2);
  a.gdg = static_cast<const T*>(c.gdg);
  a.dW = static_cast<const T*>(c.dW);
  a.J = static_cast<const T*>(c.J);
  parallel_range(c.paths, kRowsPerChunk, [&](std::size_t p0, std::size_t p1) {
    for (std::size_t p = p0; p < p1; ++p)
      for (uint32_t i = 0; i < c.d; ++i) sde::generic_update(a, p, i);
  });
}

}  // namespace

void sde_brownian(const BrownianCall& c, const Control& ctl) {
  require(c.m >= 1 && c.refine >= 1, Code::InvalidArg, "brownian dim and refinement must be positive");
  require((static_cast<uint64_t>(c.step) + 1) * c.refine <= 0x100000000ull, Code::InvalidArg,
          "step x noiseRefinement must stay below 2^32");
  require(c.path_offset + c.paths <= (uint64_t{1} << 48), Code::InvalidArg, "path ids must stay below 2^48");
  if (c.paths == 0) return;
  if (c.device == Device::Cuda) {
    require(!c.f64, Code::InvalidArg, "CUDA Brownian increments are float32");
    cuda::require_available();
    const std::size_t bytes = c.paths * c.m * sizeof(float);
    DeviceBuffer dW(bytes), J(c.J ? bytes : 0);
    cuda::sde_brownian_f32(spec_of<float>(c), c.paths, c.path_offset, c.step, static_cast<float*>(dW.get()),
                           c.J ? static_cast<float*>(J.get()) : nullptr);
    cuda::copy_to_host(c.dW, dW.get(), bytes);
    if (c.J) cuda::copy_to_host(c.J, J.get(), bytes);
    return;
  }
  if (c.f64)
    brownian_cpu<double>(c, ctl);
  else
    brownian_cpu<float>(c, ctl);
}

// The update on CUDA: every buffer the op reads is copied to the device, x comes back.
static void generic_cuda(const GenericCall& c) {
  require(!c.f64, Code::InvalidArg, "CUDA callback-path updates are float32");
  cuda::require_available();
  const std::size_t pd = c.paths * c.d * sizeof(float), pm = c.paths * c.m * sizeof(float);
  std::size_t gs = pd;
  if (c.noise == sde::kAdditive) gs = static_cast<std::size_t>(c.d) * c.m * sizeof(float);
  if (c.noise == sde::kGeneral) gs = pd * c.m;
  std::vector<DeviceBuffer> keep;
  auto up = [&](const void* src, std::size_t bytes) -> const float* {
    if (!src) return nullptr;
    keep.emplace_back(bytes);
    cuda::copy_to_device(keep.back().get(), src, bytes);
    return static_cast<const float*>(keep.back().get());
  };
  keep.reserve(10);
  sde::GenericArgs<float> a;
  a.op = c.op;
  a.noise = c.noise;
  a.paths = c.paths;
  a.d = c.d;
  a.m = c.m;
  a.h = static_cast<float>(c.h);
  a.sqrt_h = static_cast<float>(std::sqrt(std::fabs(c.h)));
  a.y = up(c.y, pd);
  a.f1 = up(c.f1, pd);
  a.f2 = up(c.f2, pd);
  a.g1 = up(c.g1, gs);
  a.g2 = up(c.g2, gs);
  a.gdg = up(c.gdg, pd);
  a.dW = up(c.dW, pm);
  a.J = up(c.J, pm);
  keep.emplace_back(pd);
  a.x = static_cast<float*>(keep.back().get());
  cuda::sde_generic_f32(a);
  cuda::copy_to_host(c.x, a.x, pd);
}

void sde_generic_update(const GenericCall& c) {
  require(c.op >= 0 && c.op <= sde::kOpCalculus && c.noise >= 0 && c.noise <= sde::kGeneral, Code::InvalidArg,
          "unknown update or noise type");
  if (c.device == Device::Cuda) {
    generic_cuda(c);
    return;
  }
  if (c.f64)
    update_cpu<double>(c);
  else
    update_cpu<float>(c);
}

}  // namespace itk

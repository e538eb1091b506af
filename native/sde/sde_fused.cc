#include "sde_fused.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/device_buffer.h"
#include "../core/huge_pages.h"
#include "../core/threadpool.h"
#include "../kernels/sde_fused.h"
#include "../rng/rng_batch.h"
#include "sde_cuda.h"
#include "sde_lanes.h"

namespace itk {
namespace {

// Work units per CPU chunk: 1024 paths (docs/design/sde.md), so chunks, and bits, never depend on threads.
constexpr std::size_t kPathsPerChunk = 1024;

template <typename T>
sde::NoiseSpec<T> noise_spec(uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint32_t m, uint32_t refine,
                             double h) {
  sde::NoiseSpec<T> ns;
  ns.key_lo = key_lo;
  ns.key_hi = key_hi;
  ns.stream = stream;
  ns.m = m;
  ns.refine = refine;
  const double hf = h / refine;
  ns.h = static_cast<T>(h);
  ns.hf = static_cast<T>(hf);
  ns.sqrt_hf = static_cast<T>(std::sqrt(std::fabs(hf)));
  ns.sqrt_hf12 = static_cast<T>(std::sqrt(std::fabs(hf) / 12.0));
  return ns;
}

// True for the coupled models with at most two draws per step and no refinement: then a group of
// kRngLanes paths can draw its noise in vectorized batches, one per draw and four steps.
template <typename T>
bool lanes_eligible(const sde::FusedArgs<T>& a) {
  const bool coupled = a.kind == sde::kGbm || a.kind == sde::kCir || a.kind == sde::kHeston;
  return coupled && a.noise.refine == 1 && sde::coupled_noise_count(a) <= 2;
}

// Whole trajectories of rows row0 .. row0+lanes-1. float32 on an AVX-512/AVX2 CPU: the vector
// kernel of sde_lanes.h keeps the group's state, noise and update in registers for all steps
// (every model it has a kernel for). Otherwise (coupled models with at most two draws per step,
// lanes_eligible) steps outer and paths inner: each draw's block of a four-step group and both
// its Box–Muller pairs come from rng_batch (SIMD across paths), the update is the same
// coupled_update the per-path kernel runs. Either way the bits equal run_unit's.
template <typename T>
void run_lanes(const sde::FusedArgs<T>& a, uint64_t row0, int lanes) {
  if constexpr (std::is_same<T, float>::value) {
    if (const SdeLanesFn k = sde_lanes_kernel(a)) return k(a, row0, lanes);
  }
  const uint32_t d = a.dim;
  const int cnt = sde::coupled_noise_count(a);
  T y[kRngLanes][2];
  uint32_t sp[kRngLanes];
  for (int l = 0; l < lanes; ++l) {
    for (uint32_t i = 0; i < d; ++i) y[l][i] = a.x[(row0 + l) * d + i];
    sp[l] = 0;
    sde::emit_saves(a, a.step_begin, row0 + l, 0, static_cast<int>(d), y[l], &sp[l]);
  }
  RngBatch b[2];  // b[c].z[s][l]: draw c of step 4g + s
  for (uint32_t n = a.step_begin; n < a.step_end; ++n) {
    if (n == a.step_begin || (n & 3u) == 0)
      for (int c = 0; c < cnt; ++c)
        rng_batch_step_normals(&b[c], a.noise.key_lo, a.noise.key_hi, a.noise.stream, a.path_offset + row0, n >> 2,
                               static_cast<uint32_t>(c));
    for (int l = 0; l < lanes; ++l) {
      T dW[2];
      for (int c = 0; c < cnt; ++c) dW[c] = sde::increment(a.noise, b[c].z[n & 3u][l]);
      sde::coupled_update(a, y[l], dW);
      if (a.n_saves) sde::emit_saves(a, n + 1, row0 + l, 0, static_cast<int>(d), y[l], &sp[l]);
    }
  }
  for (int l = 0; l < lanes; ++l)
    for (uint32_t i = 0; i < d; ++i) a.x[(row0 + l) * d + i] = y[l][i];
}

// Which CPU loop runs a call: 16-path SIMD lanes, the per-path loop with a compile-time model
// shape (the code the CUDA kernel runs), or the per-path loop reading the model at run time. All
// three give the same bits; ITOKIT_SDE_KERNEL=fixed|runtime forces one (the tests compare them).
enum class Kernel { Lanes, Fixed, Runtime };

template <typename T>
Kernel cpu_kernel(const sde::FusedArgs<T>& a) {
  const char* env = std::getenv("ITOKIT_SDE_KERNEL");
  const std::string force = env ? env : "";
  const bool fixed = sde::with_fixed_model(a, [](auto) {});
  if (force == "runtime") return Kernel::Runtime;
  if (force == "fixed") return fixed ? Kernel::Fixed : Kernel::Runtime;
  if constexpr (std::is_same<T, float>::value) {
    if (sde_lanes_kernel(a)) return Kernel::Lanes;  // every model with a vector kernel on this CPU
  }
  if (lanes_eligible(a)) return Kernel::Lanes;
  return fixed ? Kernel::Fixed : Kernel::Runtime;
}

template <typename T>
std::vector<T> cast(const double* p, std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>(p[i]);
  return v;
}

DeviceBuffer upload(const void* src, std::size_t bytes) {
  DeviceBuffer b(bytes);
  if (bytes) cuda::copy_to_device(b.get(), src, bytes);
  return b;
}

void launch(const sde::FusedArgs<float>& a) { cuda::sde_fused_f32(a); }
void launch(const sde::FusedArgs<double>& a) { cuda::sde_fused_f64(a); }

template <typename T>
void run(const FusedCall& c, const Control& ctl) {
  const std::vector<T> par = cast<T>(c.par, c.n_par);
  const std::vector<T> tcoef = cast<T>(c.tcoef, c.n_tcoef);
  const std::vector<T> save_w = cast<T>(c.save_w, c.n_saves);
  sde::FusedArgs<T> a;
  a.kind = c.kind;
  a.method = c.method;
  a.dim = c.dim;
  a.m = c.m;
  a.mixture = c.mixture;
  a.paths = c.paths;
  a.path_offset = c.path_offset;
  a.step_begin = c.step_begin;
  a.step_end = c.step_end;
  a.noise = noise_spec<T>(c.key_lo, c.key_hi, kStreamBrownian, c.m, c.refine, c.h);
  a.h = static_cast<T>(c.h);
  a.tcoef_stride = c.tcoef_per_step ? sde::kTcoef : 0;
  a.n_saves = c.n_saves;
  const std::size_t state_bytes = c.paths * c.dim * sizeof(T);
  const std::size_t out_bytes = static_cast<std::size_t>(c.n_saves) * state_bytes;
  if (c.device == Device::Cpu) {
    a.par = par.data();
    a.tcoef = tcoef.data();
    a.save_n0 = c.save_n0;
    a.save_w = save_w.data();
    a.x = static_cast<T*>(c.x);
    a.out = static_cast<T*>(c.out);
    advise_huge_pages(c.out, out_bytes);
    const uint64_t per_path = sde::unit_count(a) / std::max<uint64_t>(1, c.paths);
    const std::size_t units = static_cast<std::size_t>(sde::unit_count(a));
    const std::size_t grain = kPathsPerChunk * static_cast<std::size_t>(per_path);
    const double chunks = static_cast<double>((units + grain - 1) / grain);
    std::atomic<std::size_t> done{0};
    const Kernel kernel = cpu_kernel(a);
    parallel_range(units, grain, [&](std::size_t u0, std::size_t u1) {
      ctl.check();
      if (kernel == Kernel::Lanes) {  // whole paths: chunks hold whole paths' units
        const std::size_t r0 = u0 / per_path, r1 = u1 / per_path;
        for (std::size_t r = r0; r < r1; r += kRngLanes)
          run_lanes(a, r, static_cast<int>(std::min<std::size_t>(kRngLanes, r1 - r)));
      } else if (kernel == Kernel::Fixed) {
        sde::with_fixed_model(a, [&](auto md) {
          for (std::size_t u = u0; u < u1; ++u) sde::run_unit(a, md, u);
        });
      } else {
        for (std::size_t u = u0; u < u1; ++u) sde::run_unit(a, u);
      }
      ctl.progress(static_cast<double>(done.fetch_add(1) + 1), chunks);
    });
    return;
  }
  cuda::require_available();
  DeviceBuffer dpar = upload(par.data(), par.size() * sizeof(T));
  DeviceBuffer dtc = upload(tcoef.data(), tcoef.size() * sizeof(T));
  DeviceBuffer dn0 = upload(c.save_n0, c.n_saves * sizeof(uint32_t));
  DeviceBuffer dw = upload(save_w.data(), save_w.size() * sizeof(T));
  // Host state and saves travel through temporaries; device-resident ones are used in place.
  DeviceBuffer dx = c.device_io ? DeviceBuffer() : upload(c.x, state_bytes);
  DeviceBuffer dout(c.device_io ? 0 : out_bytes);
  a.par = static_cast<const T*>(dpar.get());
  a.tcoef = static_cast<const T*>(dtc.get());
  a.save_n0 = static_cast<const uint32_t*>(dn0.get());
  a.save_w = static_cast<const T*>(dw.get());
  a.x = static_cast<T*>(c.device_io ? c.x : dx.get());
  a.out = static_cast<T*>(c.device_io ? c.out : dout.get());
  ctl.check();
  launch(a);
  if (!c.device_io) {
    cuda::copy_to_host(c.x, dx.get(), state_bytes);
    if (out_bytes) cuda::copy_to_host(c.out, dout.get(), out_bytes);
  }
  ctl.progress(1, 1);
}

}  // namespace

void sde_fused(const FusedCall& c, const Control& ctl) {
  require(c.dim >= 1 && c.m >= 1, Code::Shape, "dim and brownian dim must be positive");
  require(c.kind == sde::kLinearAdditive || c.dim <= static_cast<uint32_t>(sde::kMaxLocal), Code::InvalidArg,
          "coupled built-in models hold at most 32 dimensions per path");
  require(c.mixture <= static_cast<uint32_t>(sde::kMaxMixture), Code::InvalidArg, "at most 64 mixture components");
  require(c.refine >= 1 && c.step_end >= c.step_begin, Code::InvalidArg, "bad step range or refinement");
  require(!c.device_io || c.device == Device::Cuda, Code::InvalidArg, "device-resident state needs device 'cuda'");
  require(static_cast<uint64_t>(c.step_end) * c.refine <= 0xFFFFFFFFull, Code::InvalidArg,
          "steps x noiseRefinement must stay below 2^32");
  require(c.path_offset + c.paths <= (uint64_t{1} << 48), Code::InvalidArg, "path ids must stay below 2^48");
  if (c.tcoef_per_step)
    require(c.n_tcoef >= static_cast<std::size_t>(c.step_end) * sde::kTcoef, Code::Shape, "coefficient table too short");
  else
    require(c.n_tcoef >= static_cast<std::size_t>(sde::kTcoef), Code::Shape, "coefficient row too short");
  for (uint32_t s = 0; s < c.n_saves; ++s) {
    require(c.save_n0[s] >= c.step_begin && c.save_n0[s] <= c.step_end, Code::InvalidArg, "save point outside the step range");
    require(s == 0 || c.save_n0[s] >= c.save_n0[s - 1], Code::InvalidArg, "save points must be sorted");
    require(c.save_w[s] == 0 || c.save_n0[s] < c.step_end, Code::InvalidArg, "interpolated save point past the range");
  }
  if (c.paths == 0) return;
  if (c.f64)
    run<double>(c, ctl);
  else
    run<float>(c, ctl);
}

}  // namespace itk

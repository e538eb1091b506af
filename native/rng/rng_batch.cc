#include "rng_batch.h"

#include <cstdlib>
#include <cstring>

#include "../core/isa.h"
#include "../kernels/normal.h"
#include "rng_fill.h"
#include "rng_kernels.h"

namespace itk {

namespace {

// --- Portable kernels: the scalar ITK_HD functions lane by lane (what non-x86 builds run; the
// loops over lanes leave the compiler free to vectorize for the baseline ISA). ---

// Ten rounds, round-major over the lanes (philox.h philox_round on each lane).
void philox_portable(const uint32_t (*c)[kRngLanes], uint32_t key_lo, uint32_t key_hi, uint32_t (*w)[kRngLanes]) {
  uint32_t v[4][kRngLanes];
  std::memcpy(v, c, sizeof v);
  uint32_t k0 = key_lo, k1 = key_hi;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) philox_bump_key(&k0, &k1);
    for (int l = 0; l < kRngLanes; ++l) {
      const Philox4 r = philox_round(Philox4{{v[0][l], v[1][l], v[2][l], v[3][l]}}, k0, k1);
      for (int i = 0; i < 4; ++i) v[i][l] = r.v[i];
    }
  }
  std::memcpy(w, v, sizeof v);
}

void box_muller_portable(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
  for (int l = 0; l < kRngLanes; ++l) box_muller(a[l], b[l], &z0[l], &z1[l]);
}

// kRngLanes blocks from block0 in draw order at out, in the element type of kind K.
template <int K>
void fill_batch_portable(void* out, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                         uint32_t block0) {
  RngBatch b;
  uint32_t c[4][kRngLanes];
  for (int l = 0; l < kRngLanes; ++l) {
    const Philox4 ctr = philox_counter(stream, path, step, block0 + static_cast<uint32_t>(l));
    for (int i = 0; i < 4; ++i) c[i][l] = ctr.v[i];
  }
  philox_portable(c, key_lo, key_hi, b.w);
  if (K == static_cast<int>(RngKind::NormalF32) || K == static_cast<int>(RngKind::NormalF64)) {
    box_muller_portable(b.w[0], b.w[1], b.z[0], b.z[1]);
    box_muller_portable(b.w[2], b.w[3], b.z[2], b.z[3]);
  }
  for (int l = 0; l < kRngLanes; ++l)
    for (int i = 0; i < 4; ++i) {
      const std::size_t o = 4 * static_cast<std::size_t>(l) + i;
      switch (static_cast<RngKind>(K)) {  // K is a constant: no switch remains
        case RngKind::UniformF32: static_cast<float*>(out)[o] = u24(b.w[i][l]); break;
        case RngKind::UniformF64: static_cast<double*>(out)[o] = u32d(b.w[i][l]); break;
        case RngKind::NormalF32: static_cast<float*>(out)[o] = b.z[i][l]; break;
        case RngKind::NormalF64: static_cast<double*>(out)[o] = static_cast<double>(b.z[i][l]); break;
        case RngKind::Bits: static_cast<uint32_t*>(out)[o] = b.w[i][l]; break;
      }
    }
}

template <int K>
void fill_portable_kind(void* out, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
                        uint32_t block0, std::size_t nblocks) {
  constexpr std::size_t esize = (K == static_cast<int>(RngKind::NormalF64) || K == static_cast<int>(RngKind::UniformF64)) ? 8 : 4;
  fill_batches<kRngLanes, esize>(out, nblocks, [&](void* dst, std::size_t i) {
    fill_batch_portable<K>(dst, key_lo, key_hi, stream, path, step, block0 + static_cast<uint32_t>(i));
  });
}

void fill_portable(void* out, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                   uint32_t step, uint32_t block0, std::size_t nblocks) {
  switch (static_cast<RngKind>(kind)) {
    case RngKind::UniformF32: return fill_portable_kind<0>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::UniformF64: return fill_portable_kind<1>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::NormalF32: return fill_portable_kind<2>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::NormalF64: return fill_portable_kind<3>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::Bits: return fill_portable_kind<4>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
  }
}

const RngKernels kPortable{"scalar", philox_portable, box_muller_portable, fill_portable};

// The level native/core/isa.h chose (CPU features under the ITOKIT_CPU cap).
SimdPath choose_path() {
#if defined(ITK_RNG_X86_SIMD)
  if (cpu_isa() == Isa::Avx512) return SimdPath::Avx512;
  if (cpu_isa() == Isa::Avx2) return SimdPath::Avx2;
#elif defined(ITK_RNG_NEON_SIMD)
  if (cpu_isa() == Isa::Neon) return SimdPath::Neon;
#endif
  return SimdPath::Scalar;
}

const RngKernels& kernels() {
  static const RngKernels& k = []() -> const RngKernels& {
    switch (rng_simd_path()) {
#if defined(ITK_RNG_X86_SIMD)
      case SimdPath::Avx512: return rng_kernels_avx512();
      case SimdPath::Avx2: return rng_kernels_avx2();
#endif
#if defined(ITK_RNG_NEON_SIMD)
      case SimdPath::Neon: return rng_kernels_neon();
#endif
      default: return kPortable;
    }
  }();
  return k;
}

}  // namespace

SimdPath rng_simd_path() {
  static const SimdPath p = choose_path();
  return p;
}

void rng_batch_words(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                     uint32_t step, uint32_t block0) {
  uint32_t c[4][kRngLanes];
  for (int l = 0; l < kRngLanes; ++l) {
    const Philox4 ctr = philox_counter(stream, path, step, block0 + static_cast<uint32_t>(l));
    for (int i = 0; i < 4; ++i) c[i][l] = ctr.v[i];
  }
  kernels().philox(c, key_lo, key_hi, b->w);
}

void rng_batch_words_paths(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path0,
                           uint32_t step, uint32_t block) {
  uint32_t c[4][kRngLanes];
  for (int l = 0; l < kRngLanes; ++l) {
    const Philox4 ctr = philox_counter(stream, path0 + static_cast<uint64_t>(l), step, block);
    for (int i = 0; i < 4; ++i) c[i][l] = ctr.v[i];
  }
  kernels().philox(c, key_lo, key_hi, b->w);
}

void rng_batch_normals(RngBatch* b) {
  const RngKernels& k = kernels();
  k.box_muller(b->w[0], b->w[1], b->z[0], b->z[1]);
  k.box_muller(b->w[2], b->w[3], b->z[2], b->z[3]);
}

void rng_batch_step_normals(RngBatch* b, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path0,
                            uint32_t group, uint32_t j) {
  rng_batch_words_paths(b, key_lo, key_hi, stream, path0, group, j);  // counter (j, group, path)
  rng_batch_normals(b);
}

void rng_batch_normals01(RngBatch* b) { kernels().box_muller(b->w[0], b->w[1], b->z[0], b->z[1]); }

void rng_philox_lanes(const uint32_t (*c)[kRngLanes], uint32_t k0, uint32_t k1, uint32_t (*w)[kRngLanes]) {
  kernels().philox(c, k0, k1, w);
}

void rng_box_muller_lanes(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
  kernels().box_muller(a, b, z0, z1);
}

void rng_fill_blocks(void* out, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                     uint32_t step, uint32_t block0, std::size_t nblocks) {
  kernels().fill(out, kind, key_lo, key_hi, stream, path, step, block0, nblocks);
}

}  // namespace itk

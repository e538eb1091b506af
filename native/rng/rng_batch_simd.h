// The RngKernels table (rng_kernels.h) for one operation set S, from the generic generators of
// rng_simd.h. Included once by each ISA translation unit (rng_batch_avx512.cc, rng_batch_avx2.cc)
// after its operation-set header.
#pragma once
#include "rng_fill.h"
#include "rng_kernels.h"
#include "rng_simd.h"
#include "simd_dual.h"

namespace itk {
namespace simd {
namespace {

template <class S>
ITK_SIMD_TARGET void philox_k(const uint32_t (*c)[kRngLanes], uint32_t key_lo, uint32_t key_hi,
                              uint32_t (*w)[kRngLanes]) {
  const PhiloxKeys<S> keys(key_lo, key_hi);
  for (int l = 0; l < kRngLanes; l += S::kLanes) {
    Words4<S> v{S::load(&c[0][l]), S::load(&c[1][l]), S::load(&c[2][l]), S::load(&c[3][l])};
    v = philox10<S>(keys, v);
    S::store(&w[0][l], v.v0);
    S::store(&w[1][l], v.v1);
    S::store(&w[2][l], v.v2);
    S::store(&w[3][l], v.v3);
  }
}

template <class S>
ITK_SIMD_TARGET void box_muller_k(const uint32_t* a, const uint32_t* b, float* z0, float* z1) {
  for (int l = 0; l < kRngLanes; l += S::kLanes) {
    typename S::F x, y;
    box_muller<S>(S::load(a + l), S::load(b + l), &x, &y);
    S::fstore(z0 + l, x);
    S::fstore(z1 + l, y);
  }
}

// S::kLanes consecutive blocks, converted per kind K and stored in draw order at out (elements
// 0 .. 4 S::kLanes - 1). The four word vectors are transposed by S::interleave4 so that every
// store is a full vector: the kind is a template argument, not a switch per element.
template <class S, int K>
ITK_SIMD_FN void fill_vector(void* out, const PhiloxKeys<S>& keys, const Words4<S>& ctr) {
  using U = typename S::U;
  const Words4<S> w = philox10<S>(keys, ctr);
  U a = w.v0, b = w.v1, c = w.v2, d = w.v3;
  if (K == static_cast<int>(RngKind::NormalF32) || K == static_cast<int>(RngKind::NormalF64)) {
    typename S::F z0, z1, z2, z3;
    box_muller<S>(w.v0, w.v1, &z0, &z1);
    box_muller<S>(w.v2, w.v3, &z2, &z3);
    a = S::bits(z0), b = S::bits(z1), c = S::bits(z2), d = S::bits(z3);
  } else if (K == static_cast<int>(RngKind::UniformF32)) {
    a = S::bits(u24<S>(a)), b = S::bits(u24<S>(b)), c = S::bits(u24<S>(c)), d = S::bits(u24<S>(d));
  }
  S::interleave4(&a, &b, &c, &d);
  const U v[4] = {a, b, c, d};
  constexpr int L = S::kLanes;
  for (int i = 0; i < 4; ++i) {
    if (K == static_cast<int>(RngKind::NormalF64))
      S::store_widened(static_cast<double*>(out) + i * L, S::from_bits(v[i]));
    else if (K == static_cast<int>(RngKind::UniformF64))
      S::store_u32d(static_cast<double*>(out) + i * L, v[i]);
    else
      S::store(static_cast<uint32_t*>(out) + i * L, v[i]);
  }
}

// flatten: the batch lambda, with this unit's target, is inlined through fill_batches().
template <class S, int K>
ITK_SIMD_TARGET __attribute__((flatten)) void fill_kind(void* out, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path,
                               uint32_t step, uint32_t block0, std::size_t nblocks) {
  constexpr std::size_t esize = (K == static_cast<int>(RngKind::NormalF64) || K == static_cast<int>(RngKind::UniformF64)) ? 8 : 4;
  constexpr int L = S::kLanes;
  const PhiloxKeys<S> keys(key_lo, key_hi);
  Words4<S> ctr;  // philox_counter(stream, path, step, block0 + i + lane)
  ctr.v1 = S::set1(step);
  ctr.v2 = S::set1(static_cast<uint32_t>(path));
  ctr.v3 = S::set1(static_cast<uint32_t>((path >> 32) & 0xFFFFu) | (stream << 16));
  fill_batches<L, esize>(out, nblocks, [&](void* dst, std::size_t i) ITK_SIMD_TARGET {
    ctr.v0 = S::add(S::set1(block0 + static_cast<uint32_t>(i)), S::iota());
    fill_vector<S, K>(dst, keys, ctr);
  });
}

template <class S>
void fill_k(void* out, int kind, uint32_t key_lo, uint32_t key_hi, uint32_t stream, uint64_t path, uint32_t step,
            uint32_t block0, std::size_t nblocks) {
  switch (static_cast<RngKind>(kind)) {
    case RngKind::UniformF32: return fill_kind<S, 0>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::UniformF64: return fill_kind<S, 1>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::NormalF32: return fill_kind<S, 2>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::NormalF64: return fill_kind<S, 3>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
    case RngKind::Bits: return fill_kind<S, 4>(out, key_lo, key_hi, stream, path, step, block0, nblocks);
  }
}

// SB serves the kRngLanes-wide batch functions, SF the fills (Dual<S> there: two independent
// register chains per iteration, see simd_dual.h).
template <class SB, class SF>
const RngKernels& kernels() {
  static const RngKernels k{SB::kName, philox_k<SB>, box_muller_k<SB>, fill_k<SF>};
  return k;
}

}  // namespace
}  // namespace simd
}  // namespace itk

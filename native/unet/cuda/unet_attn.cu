// Attention core on the GPU (docs/design/unet.md §4, attention steps 4–6): for every head,
// softmax(Q_h·K_hᵀ/√d)·V_h in FP32 with max subtraction, on NCHW projections (token n = y·W + x).
// One warp per (image, head, query token), in the CPU's order throughout (unet_ops.cc attn_rows), so
// the output is bit-identical: lane ℓ computes the scores of keys m ≡ ℓ (mod 32) with c ascending,
// separately rounded; the row max is exact in any order; e^(s−max) is exp_f32 (unet_elem.h); the
// row sum is taken in double in key order by one lane; each output channel is 16 float lanes (lane j:
// p[m]·v[m] for m ≡ j (mod 16) over the whole 16-groups, in order), added in lane order from +0, then
// the tail — a half-warp per channel, two channels at a time. The score row lives in shared memory.
#include "../../kernels/itk_hd.h"
#include "../../kernels/unet_elem.h"
#include "unet_dev.cuh"

namespace itk {
namespace unet {
namespace dev {
namespace {

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

__global__ void attn_kernel(const float* __restrict q, const float* __restrict k, const float* __restrict v, int B,
                            int C, int N, int d, int warps, float* __restrict out) {
  extern __shared__ float srow[];  // [warps][N]
  const int lane = threadIdx.x & 31, wib = threadIdx.x >> 5;
  const int nh = C / d;
  const long long item = static_cast<long long>(blockIdx.x) * warps + wib;  // (b, h, n)
  if (item >= static_cast<long long>(B) * nh * N) return;  // whole warp leaves together
  const int n = static_cast<int>(item % N);
  const int h = static_cast<int>((item / N) % nh);
  const int b = static_cast<int>(item / (static_cast<long long>(N) * nh));
  const std::size_t off = (static_cast<std::size_t>(b) * C + static_cast<std::size_t>(h) * d) * N;
  const float* qb = q + off;
  const float* kb = k + off;
  const float* vb = v + off;
  float* s = srow + static_cast<std::size_t>(wib) * N;
  const float scale = fdiv(1.0f, fsqrt(static_cast<float>(d)));

  float mx = -INFINITY;
  for (int m = lane; m < N; m += 32) {
    float a = 0.0f;
    for (int c = 0; c < d; ++c) a = fadd(a, fmul(qb[static_cast<std::size_t>(c) * N + n], kb[static_cast<std::size_t>(c) * N + m]));
    a = fmul(a, scale);
    s[m] = a;
    mx = fmaxf(mx, a);
  }
  mx = warp_max(mx);
  for (int m = lane; m < N; m += 32) s[m] = softmax_exp(s[m], mx);
  __syncwarp();
  double sum = 0.0;
  if (lane == 0)
    for (int m = 0; m < N; ++m) sum = dadd(sum, static_cast<double>(s[m]));  // key order, as the CPU
  const float inv = softmax_inv(__shfl_sync(0xffffffffu, sum, 0));
  for (int m = lane; m < N; m += 32) s[m] = fmul(s[m], inv);
  __syncwarp();
  float* ob = out + off;
  const int half = lane >> 4, j = lane & 15, n16 = N / 16 * 16;
  for (int c0 = 0; c0 < d; c0 += 2) {
    const int c = c0 + half;  // this half-warp's channel
    const float* vc = vb + static_cast<std::size_t>(c < d ? c : c0) * N;
    float acc = 0.0f;
    for (int m = j; m < n16; m += 16) acc = fadd(acc, fmul(s[m], vc[m]));
    float r = 0.0f;
    for (int l = 0; l < 16; ++l) r = fadd(r, __shfl_sync(0xffffffffu, acc, (half << 4) + l));  // lanes in order
    if (j == 0 && c < d) {
      for (int m = n16; m < N; ++m) r = fadd(r, fmul(s[m], vc[m]));
      ob[static_cast<std::size_t>(c) * N + n] = r;
    }
  }
}

}  // namespace

void attention(const float* q, const float* k, const float* v, int B, int C, int N, int head_dim, float* out,
               cudaStream_t s) {
  const int d = head_dim > 0 ? head_dim : C;
  require(C % d == 0, Code::Shape, "attention: head dim must divide the channels");
  // Four warps per block while their score rows fit the default 48 KiB; else one warp with as
  // much shared memory as the device grants.
  int warps = 4;
  std::size_t shmem = static_cast<std::size_t>(warps) * N * sizeof(float);
  if (shmem > 48 * 1024) {
    warps = 1;
    shmem = static_cast<std::size_t>(N) * sizeof(float);
    int dev = 0, optin = 0;
    cuda::check(cudaGetDevice(&dev), "cudaGetDevice");
    cuda::check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev), "cudaDeviceGetAttribute");
    require(shmem <= static_cast<std::size_t>(optin), Code::Shape,
            "attention over " + std::to_string(N) + " tokens needs more shared memory than this GPU has; run it on the CPU");
    cuda::check(cudaFuncSetAttribute(attn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shmem)),
                "cudaFuncSetAttribute");
  }
  const long long items = static_cast<long long>(B) * (C / d) * N;
  const unsigned blocks = static_cast<unsigned>((items + warps - 1) / warps);
  attn_kernel<<<blocks, 32 * warps, shmem, s>>>(q, k, v, B, C, N, d, warps, out);
  launched("unet attention");
}

}  // namespace dev
}  // namespace unet
}  // namespace itk

// Attention core on the GPU (docs/design/unet.md §4, attention steps 4–6): for every head,
// softmax(Q_h·K_hᵀ/√d)·V_h in FP32 with max subtraction, on NCHW projections (token n = y·W + x).
// One warp per (image, head, query token): lane ℓ computes the scores of keys m ≡ ℓ (mod 32) with
// c ascending, separately rounded, as the CPU (so scores are bit-identical); the row max is exact
// in any order; e^(s−max) is exp_f32 (unet_elem.h, the CPU's bits) and the row sum is a double
// warp-tree reduction (the CPU sums sequentially), so probabilities agree to a few ulp. Each output channel is a lane-
// strided dot over the keys reduced by a fixed shuffle tree. The score row lives in shared memory.
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
__device__ __forceinline__ double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v = dadd(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sumf(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fadd(v, __shfl_xor_sync(0xffffffffu, v, o));
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
  double sum = 0.0;
  for (int m = lane; m < N; m += 32) {
    const float e = softmax_exp(s[m], mx);
    s[m] = e;
    sum = dadd(sum, static_cast<double>(e));
  }
  sum = warp_sum(sum);
  const float inv = softmax_inv(sum);
  for (int m = lane; m < N; m += 32) s[m] = fmul(s[m], inv);
  __syncwarp();
  float* ob = out + off;
  for (int c = 0; c < d; ++c) {
    const float* vc = vb + static_cast<std::size_t>(c) * N;
    float a = 0.0f;
    for (int m = lane; m < N; m += 32) a = fadd(a, fmul(s[m], vc[m]));
    a = warp_sumf(a);
    if (lane == 0) ob[static_cast<std::size_t>(c) * N + n] = a;
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

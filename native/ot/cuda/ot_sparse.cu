// SNS on CUDA: top-k threshold by radix select and the Jacobi-PCG on the sparsified Hessian
// (docs/design/ot.md §3.3, §3.4, §6.3). See native/ot/ot_cuda.h.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../core/device_buffer.h"
#include "../ot_cuda.h"
#include "../select.h"
#include "../../core/cuda/common.cuh"

namespace itk {
namespace ot {
namespace {

constexpr int kBins = static_cast<int>(kRadixBins);

__global__ void radix_hist(const double* P, std::size_t nm, unsigned long long prefix, unsigned long long mask, int shift,
                           unsigned long long bin_mask, unsigned long long* hist) {
  __shared__ unsigned int h[kBins];
  for (int t = threadIdx.x; t < kBins; t += blockDim.x) h[t] = 0;
  __syncthreads();
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < nm;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const unsigned long long b = static_cast<unsigned long long>(__double_as_longlong(P[q]));
    if ((b & mask) == prefix) atomicAdd(&h[(b >> shift) & bin_mask], 1u);
  }
  __syncthreads();
  for (int t = threadIdx.x; t < kBins; t += blockDim.x)
    if (h[t] != 0) atomicAdd(&hist[t], static_cast<unsigned long long>(h[t]));
}

// y = (M + σI)x, masked at the fixed index N−1 (docs/design/ot.md §3.4, §6.2).
__global__ void spmv_rows(std::size_t n, std::size_t m, const int64_t* row_ptr, const int32_t* col, const double* val,
                          const double* R, double sigma, const double* x, double* y) {
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const std::size_t fixed = n + m - 1;
  double s = (R[i] + sigma) * x[i];
  for (int64_t q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
    const std::size_t j = static_cast<std::size_t>(col[q]);
    if (n + j != fixed) s += val[q] * x[n + j];
  }
  y[i] = s;
}

__global__ void spmv_cols(std::size_t n, std::size_t m, const int64_t* col_ptr, const int32_t* row, const double* cval,
                          const double* K, double sigma, const double* x, double* y) {
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (j >= m) return;
  if (j == m - 1) {
    y[n + j] = 0;
    return;
  }
  double s = (K[j] + sigma) * x[n + j];
  for (int64_t q = col_ptr[j]; q < col_ptr[j + 1]; ++q) s += cval[q] * x[row[q]];
  y[n + j] = s;
}

constexpr int kDotBlocks = 128;

__global__ void dot_kernel(const double* x, const double* y, std::size_t N, double* partial) {
  __shared__ double sh[cuda::kBlock];
  double s = 0;
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < N;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    s += x[q] * y[q];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int o = blockDim.x / 2; o > 0; o >>= 1) {
    if (threadIdx.x < o) sh[threadIdx.x] += sh[threadIdx.x + o];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

// d += α p; res −= α Ap; z = res ⊙ inv
__global__ void cg_update(std::size_t N, double alpha, const double* p, const double* Ap, const double* inv, double* d,
                          double* res, double* z) {
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q >= N) return;
  d[q] += alpha * p[q];
  res[q] -= alpha * Ap[q];
  z[q] = res[q] * inv[q];
}

__global__ void cg_direction(std::size_t N, double beta, const double* z, double* p) {
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q < N) p[q] = z[q] + beta * p[q];
}

template <typename T>
void upload(DeviceBuffer* b, const std::vector<T>& v) {
  *b = DeviceBuffer(v.size() * sizeof(T) + sizeof(T));
  if (!v.empty()) cuda::copy_to_device(b->get(), v.data(), v.size() * sizeof(T));
}

double dot(const double* x, const double* y, std::size_t N, DeviceBuffer& partial) {
  dot_kernel<<<kDotBlocks, cuda::kBlock>>>(x, y, N, static_cast<double*>(partial.get()));
  cuda::check_launch("ot CG dot");
  double h[kDotBlocks];
  cuda::copy_to_host(h, partial.get(), sizeof h);
  double s = 0;
  for (double v : h) s += v;
  return s;
}

}  // namespace

double cuda_kth_largest(const double* P_dev, std::size_t nm, std::size_t k) {
  DeviceBuffer hist(kBins * sizeof(unsigned long long));
  unsigned long long prefix = 0, mask = 0;
  std::size_t remaining = k;
  for (int pass = 0; pass < kRadixPasses; ++pass) {
    const unsigned long long bin_mask = (1ull << kRadixWidth[pass]) - 1;
    const int shift = kRadixShift[pass];
    cuda::check(cudaMemset(hist.get(), 0, hist.bytes()), "ot top-k memset");
    radix_hist<<<cuda::grid_for(nm), cuda::kBlock>>>(P_dev, nm, prefix, mask, shift, bin_mask,
                                                     static_cast<unsigned long long*>(hist.get()));
    cuda::check_launch("ot top-k histogram");
    std::vector<uint64_t> h(kBins);
    cuda::copy_to_host(h.data(), hist.get(), hist.bytes());
    const uint64_t bin = radix_pick(h.data(), bin_mask, &remaining);
    prefix |= static_cast<unsigned long long>(bin) << shift;
    mask |= bin_mask << shift;
  }
  double rho;
  static_assert(sizeof rho == sizeof prefix, "double is 64-bit");
  std::memcpy(&rho, &prefix, sizeof rho);
  return rho;
}

CgResult cuda_pcg(const SparsePlan& sp, const double* R, const double* K, double sigma, const double* r, double rtol,
                  int64_t max_iter, double* d_out) {
  const std::size_t n = sp.n, m = sp.m, N = n + m, fixed = N - 1;
  std::vector<double> inv(N), res(r, r + N), z(N);
  res[fixed] = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const double diag = (i < n ? R[i] : K[i - n]) + sigma;
    inv[i] = i == fixed ? 1.0 : 1.0 / diag;
    z[i] = res[i] * inv[i];
  }
  DeviceBuffer row_ptr, col, val, col_ptr, row, cval, dR, dK, dinv, dres, dz, dp, dAp, dd;
  upload(&row_ptr, sp.row_ptr);
  upload(&col, sp.col);
  upload(&val, sp.val);
  upload(&col_ptr, sp.col_ptr);
  upload(&row, sp.row);
  upload(&cval, sp.cval);
  upload(&dR, std::vector<double>(R, R + n));
  upload(&dK, std::vector<double>(K, K + m));
  upload(&dinv, inv);
  upload(&dres, res);
  upload(&dz, z);
  upload(&dp, z);
  upload(&dAp, std::vector<double>(N, 0.0));
  upload(&dd, std::vector<double>(N, 0.0));
  DeviceBuffer partial(kDotBlocks * sizeof(double));
  auto D = [](DeviceBuffer& b) { return static_cast<double*>(b.get()); };
  CgResult out;
  const double target = rtol * std::sqrt(dot(D(dres), D(dres), N, partial));
  double rz = dot(D(dres), D(dz), N, partial);
  const unsigned gN = cuda::grid_for(N), gn = cuda::grid_for(n), gm = cuda::grid_for(m);
  for (int64_t it = 0; it < max_iter; ++it) {
    if (std::sqrt(dot(D(dres), D(dres), N, partial)) <= target) break;
    spmv_rows<<<gn, cuda::kBlock>>>(n, m, static_cast<const int64_t*>(row_ptr.get()), static_cast<const int32_t*>(col.get()),
                                    D(val), D(dR), sigma, D(dp), D(dAp));
    spmv_cols<<<gm, cuda::kBlock>>>(n, m, static_cast<const int64_t*>(col_ptr.get()), static_cast<const int32_t*>(row.get()),
                                    D(cval), D(dK), sigma, D(dp), D(dAp));
    cuda::check_launch("ot CG matvec");
    const double pAp = dot(D(dp), D(dAp), N, partial);
    if (!(pAp > 0) || !std::isfinite(pAp)) {
      out.breakdown = true;
      break;
    }
    const double alpha = rz / pAp;
    cg_update<<<gN, cuda::kBlock>>>(N, alpha, D(dp), D(dAp), D(dinv), D(dd), D(dres), D(dz));
    cuda::check_launch("ot CG update");
    const double rz_new = dot(D(dres), D(dz), N, partial);
    const double beta = rz_new / rz;
    rz = rz_new;
    cg_direction<<<gN, cuda::kBlock>>>(N, beta, D(dz), D(dp));
    cuda::check_launch("ot CG direction");
    ++out.iterations;
    if (!std::isfinite(rz)) {
      out.breakdown = true;
      break;
    }
  }
  cuda::copy_to_host(d_out, dd.get(), N * sizeof(double));
  d_out[fixed] = 0;
  return out;
}

}  // namespace ot
}  // namespace itk

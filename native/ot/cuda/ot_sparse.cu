// SNS on CUDA: the Newton system of one step kept on the device — top-k threshold by radix select,
// CSR/CSC by count, scan and fill, and the Jacobi-PCG (docs/design/ot.md §3.3, §3.4, §6.3). See
// native/ot/ot_cuda.h for the plan; the per-element rules are native/kernels/ot_newton.h, shared
// with the CPU (native/ot/sparse.cc).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "../../core/cuda/common.cuh"
#include "../../core/device_buffer.h"
#include "../../kernels/ot_newton.h"
#include "../ot_cuda.h"
#include "../select.h"
#include "ot_warp.cuh"

namespace itk {
namespace ot {
namespace {

constexpr int kBins = static_cast<int>(kRadixBins);
constexpr int kScanThreads = 1024;
constexpr int kRedBlocks = 128;  // fixed grid of every reduction: deterministic sums

// Radix-select state (device): the digits chosen so far and the rank still to find.
struct SelState {
  uint64_t prefix, mask, remaining;
  double rho;
};

// Scalars of one PCG solve (device): the host reads this struct every kCheckEvery iterations.
struct CgState {
  double rr, rz, pAp, alpha, beta, target;
  long long iters, max_iter;
  int done, breakdown;
  long long nnz;
  double kept;
};

// ---- 1. threshold ----------------------------------------------------------------------------

__global__ void radix_hist(const double* P, std::size_t nm, const SelState* st, int shift, uint64_t bin_mask,
                           unsigned long long* hist) {
  __shared__ unsigned int h[kBins];
  for (int t = threadIdx.x; t < kBins; t += blockDim.x) h[t] = 0;
  __syncthreads();
  const uint64_t prefix = st->prefix, mask = st->mask;
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < nm;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    uint64_t b = static_cast<uint64_t>(__double_as_longlong(P[q]));
    b &= ~(uint64_t{1} << 63);  // −0 counts as +0 (select.cc)
    if ((b & mask) == prefix) atomicAdd(&h[(b >> shift) & bin_mask], 1u);
  }
  __syncthreads();
  for (int t = threadIdx.x; t < kBins; t += blockDim.x)
    if (h[t] != 0) atomicAdd(&hist[t], static_cast<unsigned long long>(h[t]));
}

// The bin walk of select.h on the device (one thread): no histogram crosses to the host.
__global__ void radix_step(const unsigned long long* hist, uint64_t bin_mask, int shift, bool last, SelState* st) {
  const uint64_t bin = radix_pick(reinterpret_cast<const uint64_t*>(hist), bin_mask, &st->remaining);
  st->prefix |= bin << shift;
  st->mask |= bin_mask << shift;
  if (last) st->rho = __longlong_as_double(static_cast<long long>(st->prefix));
}

// ---- 2. CSR ----------------------------------------------------------------------------------

// Per row: entries > ρ and = ρ (warp per row, coalesced along the row).
__global__ void row_counts(const double* P, std::size_t n, std::size_t m, const SelState* st, long long* gt,
                           long long* eq) {
  const std::size_t i = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (i >= n) return;
  const double rho = st->rho;
  long long g = 0, e = 0;
  for (std::size_t j = lane; j < m; j += 32) {
    const double p = P[i * m + j];
    g += p > rho;
    e += p == rho;
  }
  for (int o = 16; o > 0; o >>= 1) {
    g += __shfl_down_sync(0xffffffffu, g, o);
    e += __shfl_down_sync(0xffffffffu, e, o);
  }
  if (lane == 0) {
    gt[i] = g;
    eq[i] = e;
  }
}

// Exclusive prefix of one value per thread over a single block, in thread order; *total gets the
// sum. `sh` holds blockDim.x + 1 entries.
__device__ long long block_exclusive(long long mine, long long* sh, long long* total) {
  __syncthreads();
  sh[threadIdx.x] = mine;
  __syncthreads();
  if (threadIdx.x == 0) {
    long long run = 0;
    for (unsigned t = 0; t < blockDim.x; ++t) {
      const long long x = sh[t];
      sh[t] = run;
      run += x;
    }
    sh[blockDim.x] = run;
  }
  __syncthreads();
  const long long out = sh[threadIdx.x];
  *total = sh[blockDim.x];
  __syncthreads();
  return out;
}

// One block: totals, the tie budget, each row's tie quota (ot_newton.h) and the row pointers.
__global__ void row_plan(const long long* gt, const long long* eq, std::size_t n, long long k, long long* quota,
                         long long* row_ptr, CgState* cs) {
  __shared__ long long sh[kScanThreads + 1];
  const std::size_t chunk = (n + blockDim.x - 1) / blockDim.x;
  const std::size_t b = threadIdx.x * chunk, e = b + chunk < n ? b + chunk : n;
  long long g = 0, q = 0;
  for (std::size_t i = b; i < e; ++i) {
    g += gt[i];
    q += eq[i];
  }
  long long gt_total, eq_total, kept_total;
  block_exclusive(g, sh, &gt_total);
  long long eb = block_exclusive(q, sh, &eq_total);
  const bool budgeted = ties_budgeted(gt_total + eq_total, k);
  const long long budget = tie_budget(gt_total, k);
  long long kept = 0;
  for (std::size_t i = b; i < e; ++i) {
    const long long qi = tie_quota(eq[i], eb, budgeted, budget);
    quota[i] = qi;
    eb += eq[i];
    kept += gt[i] + qi;
  }
  long long kb = block_exclusive(kept, sh, &kept_total);
  for (std::size_t i = b; i < e; ++i) {
    row_ptr[i] = kb;
    kb += gt[i] + quota[i];
  }
  if (threadIdx.x == 0) {
    row_ptr[n] = kept_total;
    cs->nnz = kept_total;
  }
}

// CSR fill, warp per row: kept entries in column order by ballot + popc; records the cut column.
__global__ void csr_fill(const double* P, std::size_t n, std::size_t m, const SelState* st, const long long* quota,
                         const long long* row_ptr, std::size_t cap, int32_t* col, double* val, long long* cut) {
  const std::size_t i = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (i >= n) return;
  const double rho = st->rho;
  const unsigned below = (1u << lane) - 1u;
  const long long qi = quota[i];
  long long pos = row_ptr[i], ties = 0, c = -1;
  for (std::size_t j0 = 0; j0 < m; j0 += 32) {
    const std::size_t j = j0 + lane;
    const double p = j < m ? P[i * m + j] : -1.0;
    const bool tie = j < m && p == rho;
    const unsigned tmask = __ballot_sync(0xffffffffu, tie);
    const bool tie_kept = tie && ties + __popc(tmask & below) < qi;
    const unsigned kmask_t = __ballot_sync(0xffffffffu, tie_kept);
    if (kmask_t != 0) c = static_cast<long long>(j0) + 31 - __clz(kmask_t);
    ties += __popc(tmask);
    const bool keep = j < m && keep_entry(p, rho, static_cast<int64_t>(j), tie_kept ? static_cast<int64_t>(j) : -1);
    const unsigned km = __ballot_sync(0xffffffffu, keep);
    const long long dst = pos + __popc(km & below);
    if (keep && dst < static_cast<long long>(cap)) {
      col[dst] = static_cast<int32_t>(j);
      val[dst] = p;
    }
    pos += __popc(km);
  }
  if (lane == 0) cut[i] = c;
}

// ---- 3. CSC ----------------------------------------------------------------------------------

inline int col_chunks(std::size_t n) { return static_cast<int>(n < 128 ? 1 : (n / 128 < 64 ? n / 128 : 64)); }

// cnt[j·chunks + r] = kept entries of column j in row chunk r (coalesced across j).
__global__ void col_counts(const double* P, std::size_t n, std::size_t m, const SelState* st, const long long* cut,
                           int chunks, long long* cnt) {
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const int r = blockIdx.y;
  if (j >= m) return;
  const double rho = st->rho;
  const std::size_t i0 = n * r / chunks, i1 = n * (r + 1) / chunks;
  long long c = 0;
  for (std::size_t i = i0; i < i1; ++i) c += keep_entry(P[i * m + j], rho, static_cast<int64_t>(j), cut[i]);
  cnt[j * chunks + r] = c;
}

// Exclusive scan of L values (one block, contiguous chunks per thread); out[L] = total.
__global__ void scan_block(const long long* in, std::size_t L, long long* out) {
  __shared__ long long sh[kScanThreads + 1];
  const std::size_t chunk = (L + blockDim.x - 1) / blockDim.x;
  const std::size_t b = threadIdx.x * chunk, e = b + chunk < L ? b + chunk : L;
  long long s = 0, total;
  for (std::size_t q = b; q < e; ++q) s += in[q];
  long long run = block_exclusive(s, sh, &total);
  for (std::size_t q = b; q < e; ++q) {
    const long long x = in[q];
    out[q] = run;
    run += x;
  }
  if (threadIdx.x == 0) out[L] = total;
}

__global__ void csc_fill(const double* P, std::size_t n, std::size_t m, const SelState* st, const long long* cut,
                         int chunks, const long long* start, std::size_t cap, int32_t* row, double* cval) {
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const int r = blockIdx.y;
  if (j >= m) return;
  const double rho = st->rho;
  const std::size_t i0 = n * r / chunks, i1 = n * (r + 1) / chunks;
  long long pos = start[j * chunks + r];
  for (std::size_t i = i0; i < i1; ++i) {
    const double p = P[i * m + j];
    if (keep_entry(p, rho, static_cast<int64_t>(j), cut[i])) {
      if (pos < static_cast<long long>(cap)) {
        row[pos] = static_cast<int32_t>(i);
        cval[pos] = p;
      }
      ++pos;
    }
  }
}

// ---- 4. PCG ----------------------------------------------------------------------------------

// Fixed-grid partial sums: part[b] = Σ x·y over the grid-stride slice of block b (y = null: Σ x).
__device__ double block_sum(double s) {
  __shared__ double sh[cuda::kBlock];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int o = blockDim.x / 2; o > 0; o >>= 1) {
    if (threadIdx.x < o) sh[threadIdx.x] += sh[threadIdx.x + o];
    __syncthreads();
  }
  const double out = sh[0];
  __syncthreads();
  return out;
}

__global__ void dot_partial(const CgState* cs, const double* x, const double* y, const long long* len, std::size_t N,
                            double* part) {
  if (cs->done) return;
  // len (device): a length known only on the device, capped at N (the buffer size).
  const std::size_t L = len != nullptr && static_cast<std::size_t>(*len) < N ? static_cast<std::size_t>(*len) : N;
  double s = 0;
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < L;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    s = dadd(s, y != nullptr ? dmul(x[q], y[q]) : x[q]);
  const double b = block_sum(s);
  if (threadIdx.x == 0) part[blockIdx.x] = b;
}

// Merges kRedBlocks partials in a fixed tree (one block of kRedBlocks threads).
__device__ double merge_partials(const double* part) {
  __shared__ double sh[kRedBlocks];
  sh[threadIdx.x] = part[threadIdx.x];
  __syncthreads();
  for (int o = kRedBlocks / 2; o > 0; o >>= 1) {
    if (threadIdx.x < o) sh[threadIdx.x] += sh[threadIdx.x + o];
    __syncthreads();
  }
  const double out = sh[0];
  __syncthreads();
  return out;
}

__global__ void kept_finish(const double* part, CgState* cs) {
  const double s = merge_partials(part);
  if (threadIdx.x == 0) cs->kept = s;
}

// res = r (0 at the fixed index), inv = Jacobi, z = p = res ⊙ inv, d = 0.
__global__ void cg_init(std::size_t n, std::size_t N, const double* R, const double* K, const double* r, double sigma,
                        double* inv, double* res, double* z, double* p, double* d) {
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q >= N) return;
  const bool fixed = q == N - 1;
  inv[q] = cg_inverse_diag(q < n ? R[q] : K[q - n], sigma, fixed);
  res[q] = fixed ? 0.0 : r[q];
  z[q] = dmul(res[q], inv[q]);
  p[q] = z[q];
  d[q] = 0;
}

// Partials of res·res and res·z (the dots after an update, and the initial ones).
__global__ void dots2_partial(const CgState* cs, std::size_t N, const double* res, const double* z, double* part_rr,
                              double* part_rz) {
  if (cs->done) return;
  double a = 0, b = 0;
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < N;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    a = dadd(a, dmul(res[q], res[q]));
    b = dadd(b, dmul(res[q], z[q]));
  }
  const double sa = block_sum(a), sb = block_sum(b);
  if (threadIdx.x == 0) {
    part_rr[blockIdx.x] = sa;
    part_rz[blockIdx.x] = sb;
  }
}

// The stop test at the top of the CPU loop (sparse.cc pcg): ‖res‖ ≤ target or max_iter reached.
__device__ void cg_stop_test(CgState* cs) {
  if (!cs->done && (dsqrt(cs->rr) <= cs->target || cs->iters >= cs->max_iter)) cs->done = 1;
}

__global__ void cg_start(const double* part_rr, const double* part_rz, double rtol, long long max_iter, CgState* cs) {
  const double rr = merge_partials(part_rr), rz = merge_partials(part_rz);
  if (threadIdx.x == 0) {
    cs->rr = rr;
    cs->rz = rz;
    cs->target = dmul(rtol, dsqrt(rr));
    cs->iters = 0;
    cs->max_iter = max_iter;
    cs->done = 0;
    cs->breakdown = 0;
    cg_stop_test(cs);
  }
}

__global__ void spmv_rows(const CgState* cs, std::size_t n, std::size_t m, const long long* row_ptr, const int32_t* col,
                          const double* val, const double* R, double sigma, const double* x, double* y) {
  if (cs->done) return;
  const std::size_t i = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (i >= n) return;
  double s = spmv_accumulate(0.0, row_ptr[i] + lane, row_ptr[i + 1], 32, col, val, x + n, static_cast<int64_t>(m - 1));
  s = warp_sum(s);
  if (lane == 0) y[i] = dadd(spmv_diag(R[i], sigma, x[i]), s);
}

__global__ void spmv_cols(const CgState* cs, std::size_t n, std::size_t m, const long long* start, int chunks,
                          const int32_t* row, const double* cval, const double* K, double sigma, const double* x,
                          double* y) {
  if (cs->done) return;
  const std::size_t j = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (j >= m) return;
  if (j == m - 1) {  // the fixed potential
    if (lane == 0) y[n + j] = 0;
    return;
  }
  const long long q0 = start[j * chunks], q1 = start[(j + 1) * chunks];
  double s = spmv_accumulate(0.0, q0 + lane, q1, 32, row, cval, x, -1);
  s = warp_sum(s);
  if (lane == 0) y[n + j] = dadd(spmv_diag(K[j], sigma, x[n + j]), s);
}

__global__ void cg_alpha(const double* part, CgState* cs) {
  if (cs->done) return;
  const double pAp = merge_partials(part);
  if (threadIdx.x == 0) {
    cs->pAp = pAp;
    if (!(pAp > 0) || !isfinite(pAp)) {
      cs->breakdown = 1;
      cs->done = 1;
    } else {
      cs->alpha = ddiv(cs->rz, pAp);
    }
  }
}

__global__ void cg_update_kernel(const CgState* cs, std::size_t N, const double* p, const double* Ap, const double* inv,
                                 double* d, double* res, double* z) {
  if (cs->done) return;
  const double alpha = cs->alpha;
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < N;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const CgElem e = cg_update(alpha, p[q], Ap[q], inv[q], d[q], res[q]);
    d[q] = e.d;
    res[q] = e.res;
    z[q] = e.z;
  }
}

// β = (res·z)_new/(res·z)_old, the iteration count and the breakdown test.
__global__ void cg_beta(const double* part_rr, const double* part_rz, CgState* cs) {
  if (cs->done) return;
  const double rr = merge_partials(part_rr), rz_new = merge_partials(part_rz);
  if (threadIdx.x == 0) {
    const double beta = ddiv(rz_new, cs->rz);
    cs->beta = beta;
    cs->rz = rz_new;
    cs->rr = rr;
    ++cs->iters;
    if (!isfinite(rz_new)) {
      cs->breakdown = 1;
      cs->done = 1;
    }
  }
}

// p = z + β p; the stop test for the next iteration runs after it (cg_next), once every block has
// read cs->done.
__global__ void cg_direction_kernel(const CgState* cs, std::size_t N, const double* z, double* p) {
  if (cs->done) return;
  const double beta = cs->beta;
  for (std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; q < N;
       q += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    p[q] = cg_direction(z[q], beta, p[q]);
}

__global__ void cg_next(CgState* cs) { cg_stop_test(cs); }

__global__ void zero_fixed(double* d, std::size_t N) { d[N - 1] = 0; }

template <typename T>
T* as(const DeviceBuffer& b) {
  return static_cast<T*>(b.get());
}
unsigned warps_grid(std::size_t rows) { return static_cast<unsigned>((rows * 32 + cuda::kBlock - 1) / cuda::kBlock); }
unsigned flat_grid(std::size_t n) { return static_cast<unsigned>((n + cuda::kBlock - 1) / cuda::kBlock); }

}  // namespace

CudaNewton::CudaNewton(std::size_t n, std::size_t m)
    : n_(n),
      m_(m),
      chunks_(col_chunks(n)),
      sel_(sizeof(SelState)),
      hist_(kBins * sizeof(unsigned long long)),
      gt_(n * sizeof(long long)),
      eq_(n * sizeof(long long)),
      quota_(n * sizeof(long long)),
      cut_(n * sizeof(long long)),
      row_ptr_((n + 1) * sizeof(long long)),
      cnt_(static_cast<std::size_t>(chunks_) * m * sizeof(long long)),
      start_((static_cast<std::size_t>(chunks_) * m + 1) * sizeof(long long)),
      inv_((n + m) * sizeof(double)),
      res_((n + m) * sizeof(double)),
      z_((n + m) * sizeof(double)),
      p_((n + m) * sizeof(double)),
      Ap_((n + m) * sizeof(double)),
      part_a_(kRedBlocks * sizeof(double)),
      part_b_(kRedBlocks * sizeof(double)),
      state_(sizeof(CgState)) {}

void CudaNewton::solve(const double* P_dev, std::size_t k, const double* R_dev, const double* K_dev, double sigma,
                       const double* r_dev, double rtol, int64_t max_iter, double* d_dev, CgResult* cg, double* kept) {
  const std::size_t n = n_, m = m_, N = n + m, nm = n * m;
  const cudaStream_t s = cudaStreamPerThread;
  // nnz ≤ 1.5k: without a tie budget all ≥ ρ entries are kept and there are at most k + k/2 of
  // them; with one, > ρ (fewer than k) plus ties up to k in all.
  const std::size_t cap = k + k / 2 + 1;
  if (cap > cap_) {
    cap_ = cap;
    col_ = DeviceBuffer(cap * sizeof(int32_t));
    val_ = DeviceBuffer(cap * sizeof(double));
    row_ = DeviceBuffer(cap * sizeof(int32_t));
    cval_ = DeviceBuffer(cap * sizeof(double));
  }

  // 1. ρ.
  SelState sel0{0, 0, static_cast<uint64_t>(k), 0.0};
  cuda::check(cudaMemcpyAsync(sel_.get(), &sel0, sizeof sel0, cudaMemcpyHostToDevice, s), "ot top-k state");
  SelState* sel = as<SelState>(sel_);
  for (int pass = 0; pass < kRadixPasses; ++pass) {
    const uint64_t bin_mask = (uint64_t{1} << kRadixWidth[pass]) - 1;
    cuda::check(cudaMemsetAsync(hist_.get(), 0, hist_.bytes(), s), "ot top-k memset");
    radix_hist<<<cuda::grid_for(nm), cuda::kBlock, 0, s>>>(P_dev, nm, sel, kRadixShift[pass], bin_mask,
                                                          as<unsigned long long>(hist_));
    radix_step<<<1, 1, 0, s>>>(as<unsigned long long>(hist_), bin_mask, kRadixShift[pass], pass == kRadixPasses - 1, sel);
  }
  // 2. CSR.
  CgState* cs = as<CgState>(state_);
  row_counts<<<warps_grid(n), cuda::kBlock, 0, s>>>(P_dev, n, m, sel, as<long long>(gt_), as<long long>(eq_));
  row_plan<<<1, kScanThreads, 0, s>>>(as<long long>(gt_), as<long long>(eq_), n, static_cast<long long>(k),
                                     as<long long>(quota_), as<long long>(row_ptr_), cs);
  csr_fill<<<warps_grid(n), cuda::kBlock, 0, s>>>(P_dev, n, m, sel, as<long long>(quota_), as<long long>(row_ptr_), cap,
                                                 as<int32_t>(col_), as<double>(val_), as<long long>(cut_));
  // 3. CSC.
  const dim3 cgrid(flat_grid(m), static_cast<unsigned>(chunks_));
  col_counts<<<cgrid, cuda::kBlock, 0, s>>>(P_dev, n, m, sel, as<long long>(cut_), chunks_, as<long long>(cnt_));
  scan_block<<<1, kScanThreads, 0, s>>>(as<long long>(cnt_), static_cast<std::size_t>(chunks_) * m, as<long long>(start_));
  csc_fill<<<cgrid, cuda::kBlock, 0, s>>>(P_dev, n, m, sel, as<long long>(cut_), chunks_, as<long long>(start_), cap,
                                         as<int32_t>(row_), as<double>(cval_));
  cuda::check_launch("ot Newton sparsify");
  // ΣP̃ (dot_partial is gated on cs->done, left set by the previous solve: clear it first).
  cuda::check(cudaMemsetAsync(&cs->done, 0, sizeof(int), s), "ot CG state");
  dot_partial<<<kRedBlocks, cuda::kBlock, 0, s>>>(cs, as<double>(val_), nullptr, &cs->nnz, cap, as<double>(part_a_));
  kept_finish<<<1, kRedBlocks, 0, s>>>(as<double>(part_a_), cs);

  // 4. PCG.
  cg_init<<<flat_grid(N), cuda::kBlock, 0, s>>>(n, N, R_dev, K_dev, r_dev, sigma, as<double>(inv_),
                                               as<double>(res_), as<double>(z_), as<double>(p_), d_dev);
  dots2_partial<<<kRedBlocks, cuda::kBlock, 0, s>>>(cs, N, as<double>(res_), as<double>(z_), as<double>(part_a_),
                                                   as<double>(part_b_));
  cg_start<<<1, kRedBlocks, 0, s>>>(as<double>(part_a_), as<double>(part_b_), rtol, static_cast<long long>(max_iter), cs);
  CgState h{};
  for (;;) {
    for (int t = 0; t < CudaNewton::kCheckEvery; ++t) {
      spmv_rows<<<warps_grid(n), cuda::kBlock, 0, s>>>(cs, n, m, as<long long>(row_ptr_), as<int32_t>(col_), as<double>(val_),
                                                      R_dev, sigma, as<double>(p_), as<double>(Ap_));
      spmv_cols<<<warps_grid(m), cuda::kBlock, 0, s>>>(cs, n, m, as<long long>(start_), chunks_, as<int32_t>(row_),
                                                      as<double>(cval_), K_dev, sigma, as<double>(p_),
                                                      as<double>(Ap_));
      dot_partial<<<kRedBlocks, cuda::kBlock, 0, s>>>(cs, as<double>(p_), as<double>(Ap_), nullptr, N, as<double>(part_a_));
      cg_alpha<<<1, kRedBlocks, 0, s>>>(as<double>(part_a_), cs);
      cg_update_kernel<<<kRedBlocks, cuda::kBlock, 0, s>>>(cs, N, as<double>(p_), as<double>(Ap_), as<double>(inv_),
                                                          d_dev, as<double>(res_), as<double>(z_));
      dots2_partial<<<kRedBlocks, cuda::kBlock, 0, s>>>(cs, N, as<double>(res_), as<double>(z_), as<double>(part_a_),
                                                       as<double>(part_b_));
      cg_beta<<<1, kRedBlocks, 0, s>>>(as<double>(part_a_), as<double>(part_b_), cs);
      cg_direction_kernel<<<kRedBlocks, cuda::kBlock, 0, s>>>(cs, N, as<double>(z_), as<double>(p_));
      cg_next<<<1, 1, 0, s>>>(cs);
    }
    cuda::check(cudaGetLastError(), "ot CG");
    cuda::check(cudaMemcpyAsync(&h, cs, sizeof h, cudaMemcpyDeviceToHost, s), "ot CG state");
    cuda::check(cudaStreamSynchronize(s), "ot CG");
    if (h.done) break;
  }
  if (h.nnz > static_cast<long long>(cap))
    throw Error(Code::Internal, "SNS sparsification kept more entries than its bound (please report)");
  zero_fixed<<<1, 1, 0, s>>>(d_dev, N);
  cuda::check(cudaGetLastError(), "ot Newton direction");
  cg->iterations = h.iters;
  cg->breakdown = h.breakdown != 0;
  *kept = h.kept;
}

}  // namespace ot
}  // namespace itk

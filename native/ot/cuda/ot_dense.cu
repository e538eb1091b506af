// CUDA implementation of the dense OT passes (native/ot/dense_ops.h), over a stored cost matrix or
// over two point clouds whose squared distances are formed inside the kernels (PointCost). The solver
// drivers stay on the host; f, g live on the host and travel (n + m doubles) per pass, C stays on
// the device. Row pass: one warp per row, shifted LSE with a max-shift fallback inside the warp.
// Column pass: threads per (row chunk, column), coalesced across j, partials merged in a fixed order. Per-entry
// arithmetic is native/kernels/ot_entry.h, the same function the CPU loops call. Reductions
// over rows (residual sums, ΣP, ⟨C,P⟩) are finished on the host in a fixed order, so results are
// deterministic; they differ from the CPU's blocking in the last bits (docs/design/ot.md §4.3; the CPU = CUDA
// test allows 1e-7 in L1).
#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "../../core/device_buffer.h"
#include "ot_warp.cuh"
#include "../../kernels/ot_entry.h"
#include "../../kernels/ot_line_search.h"
#include "../dense_ops.h"
#include "../ot_cuda.h"
#include "../../core/cuda/common.cuh"

namespace itk {
namespace ot {
namespace {


template <typename T, class Cost>
__device__ double z_of(const Cost& C, std::size_t m, std::size_t i, std::size_t j, T shift, const T* w, T c0, T ir) {
  return static_cast<double>(entry_exponent(shift, w[j], C(i, j), c0, ir));
}

// Row half-iteration (warp per row): res_i = (P1)_i − a_i of the input state and
// u_out_i = u_i + log a_i − log (P1)_i, or the max-shift form when the shifted sum is unusable.
template <typename T, class Cost>
__global__ void row_kernel(Cost C, std::size_t n, std::size_t m, const double* u, const T* ut, const T* vt,
                           const double* a, const double* log_a, T c0, T ir, double* u_out, double* res,
                           const int* gate = nullptr) {
  if (gate != nullptr && *gate) return;  // device-resident loop: stopped (DevLoop.done)
  const std::size_t warp = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (warp >= n) return;
  const std::size_t i = warp;
  double s = 0;
  for (std::size_t j = lane; j < m; j += 32) s += exp(z_of(C, m, i, j, ut[i], vt, c0, ir));
  s = warp_sum(s);
  if (shifted_sum_ok(s)) {
    if (lane == 0) {
      res[i] = fabs(s - a[i]);
      u_out[i] = u[i] + (log_a[i] - log(s));
    }
    return;
  }
  double mx = -HUGE_VAL;
  for (std::size_t j = lane; j < m; j += 32) mx = fmax(mx, z_of(C, m, i, j, T(0), vt, c0, ir));
  mx = warp_max(mx);
  double t = 0;
  for (std::size_t j = lane; j < m; j += 32) t += exp(z_of(C, m, i, j, T(0), vt, c0, ir) - mx);
  t = warp_sum(t);
  if (lane == 0) {
    const double lse = mx + log(t);
    u_out[i] = log_a[i] - lse;
    res[i] = fabs(exp(u[i] + lse) - a[i]);
  }
}

// Column passes (docs/design/ot.md §6.3: for small m the rows are split into chunks): a thread per column looping
// over all n rows leaves most of the GPU idle when m is a few thousand, so the rows are cut into
// kColChunks(n) fixed chunks; each (chunk, column) thread writes a partial sum, and a second kernel
// adds the partials in chunk order (deterministic, independent of the launch shape).
inline int col_chunks(std::size_t n) { return static_cast<int>(n < 128 ? 1 : (n / 128 < 64 ? n / 128 : 64)); }

// part[r·m + j] = Σ_{i in chunk r} exp(z_ij), shifted by the current potentials.
template <typename T, class Cost>
__global__ void col_partial(Cost C, std::size_t n, std::size_t m, const T* ut, const T* vt, T c0, T ir, int chunks,
                            double* part, const int* gate = nullptr) {
  if (gate != nullptr && *gate) return;
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  const int r = blockIdx.y;
  if (j >= m) return;
  const std::size_t i0 = n * r / chunks, i1 = n * (r + 1) / chunks;
  double s = 0;
  for (std::size_t i = i0; i < i1; ++i) s += exp(static_cast<double>(entry_exponent(ut[i], vt[j], C(i, j), c0, ir)));
  part[r * m + j] = s;
}

__device__ double col_total(const double* part, std::size_t m, std::size_t j, int chunks) {
  double s = 0;
  for (int r = 0; r < chunks; ++r) s += part[r * m + j];
  return s;
}

// Column half-iteration: v_j ← v_j + log b_j − log (Pᵀ1)_j, or the max-shift form (serial over
// the column, rare) when the shifted sum under- or overflows.
template <typename T, class Cost>
__global__ void col_finish(Cost C, std::size_t n, std::size_t m, const T* ut, const double* log_b, T c0, T ir,
                           const double* part, int chunks, double* v, const int* gate = nullptr) {
  if (gate != nullptr && *gate) return;
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (j >= m) return;
  const double s = col_total(part, m, j, chunks);
  if (shifted_sum_ok(s)) {
    v[j] += log_b[j] - log(s);
    return;
  }
  double mx = -HUGE_VAL;
  for (std::size_t i = 0; i < n; ++i) mx = fmax(mx, static_cast<double>(entry_exponent(ut[i], T(0), C(i, j), c0, ir)));
  double t = 0;
  for (std::size_t i = 0; i < n; ++i) t += exp(static_cast<double>(entry_exponent(ut[i], T(0), C(i, j), c0, ir)) - mx);
  v[j] = log_b[j] - (mx + log(t));
}

// K_j = (Pᵀ1)_j from the partials.
__global__ void col_sums(const double* part, std::size_t m, int chunks, double* K, const int* gate = nullptr) {
  if (gate != nullptr && *gate) return;
  const std::size_t j = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (j < m) K[j] = col_total(part, m, j, chunks);
}

// Fused pass, rows: R_i = (P1)_i, cost_i = Σ_j C_ij P_ij, optional plan row (warp per row).
template <typename T, class Cost>
__global__ void fused_rows(Cost C, std::size_t n, std::size_t m, const T* ut, const T* vt, T c0, T ir, double* R,
                           double* cost, T* plan, const int* gate = nullptr) {
  if (gate != nullptr && *gate) return;
  const std::size_t warp = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (warp >= n) return;
  const std::size_t i = warp;
  double s = 0, c = 0;
  for (std::size_t j = lane; j < m; j += 32) {
    const double e = exp(z_of(C, m, i, j, ut[i], vt, c0, ir));
    s += e;
    c += static_cast<double>(C(i, j)) * e;
    if (plan != nullptr) plan[i * m + j] = static_cast<T>(e);
  }
  s = warp_sum(s);
  c = warp_sum(c);
  if (lane == 0) {
    R[i] = s;
    cost[i] = c;
  }
}

template <typename T, class Cost>
__global__ void materialise_kernel(Cost C, std::size_t n, std::size_t m, const T* ut, const T* vt, T c0, T ir, double* P) {
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q >= n * m) return;
  const std::size_t i = q / m, j = q % m;
  P[q] = exp(static_cast<double>(entry_exponent(ut[i], vt[j], C(i, j), c0, ir)));
}

// The device-resident Sinkhorn loop (DenseOps::device_sinkhorn): run_sinkhorn's state and stop
// tests in one struct, updated by one-thread/one-block kernels between the passes; every pass is
// gated on `done`, so iterations queued after the stop do nothing.
struct DevLoop {
  int done, end;  // end: 0 limit, 1 converged, 2 stalled, 3 maxIter
  int col_exact, have_err;
  long long it, total, since, decides;
  double best, window_best, last_err;
};
constexpr int kRing = 64;  // tol checks remembered between two host reads (≥ 2 × kLoopBatch)
constexpr int kLoopBatch = 16;

__global__ void loop_top(DevLoop* L, long long max_iter, long long limit) {
  if (L->done) return;
  if (L->total >= max_iter) {
    L->end = 3;
    L->done = 1;
  } else if (L->it >= limit) {
    L->end = 0;
    L->done = 1;
  }
}

// err = Σ res_i (fixed chunks per thread, merged in thread order), then run_sinkhorn's tests.
__global__ void loop_decide(DevLoop* L, const double* res, std::size_t n, double tol, long long every, int stall,
                            long long window, double* ring_err, long long* ring_it) {
  __shared__ double part[cuda::kBlock];
  if (L->done) return;
  const std::size_t chunk = (n + blockDim.x - 1) / blockDim.x, b = threadIdx.x * chunk;
  double s = 0;
  for (std::size_t i = b; i < b + chunk && i < n; ++i) s += res[i];
  part[threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.x != 0) return;
  double err = 0;
  for (unsigned t = 0; t < blockDim.x; ++t) err += part[t];
  if (!L->col_exact) return;
  L->last_err = err;
  L->have_err = 1;
  if (L->total % every == 0) {
    ring_err[L->decides % kRing] = err;
    ring_it[L->decides % kRing] = L->total;
    ++L->decides;
    if (err <= tol) {
      L->end = 1;
      L->done = 1;
      return;
    }
  }
  if (stall) {
    L->best = fmin(L->best, err);
    if (++L->since >= window) {
      if (!(L->best < 0.99 * L->window_best) && L->window_best < 1e300) {
        L->end = 2;
        L->done = 1;
        return;
      }
      L->window_best = L->best;
      L->since = 0;
    }
  }
}

__global__ void loop_commit(const DevLoop* L, std::size_t n, const double* u_new, double* u) {
  if (L->done) return;
  const std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (i < n) u[i] = u_new[i];
}

__global__ void loop_tail(DevLoop* L) {
  if (L->done) return;
  L->col_exact = 1;
  ++L->it;
  ++L->total;
}

// ---- SNS, device-resident (DenseOps::sns_*, docs/design/ot.md §3.5, §6.3) ---------------------------
// The current point, r and d stay on the device; the line search's trial point, column fit, fused
// sums and acceptance test run here, with the formulas of kernels/ot_line_search.h. Reductions are
// one block, each thread a fixed contiguous chunk (rows, then columns), merged in thread order.
struct SnsDev {
  LsState ls;
  LsPoint cur, trial;
  double rd, dinf;
};

// The sums of one point: ⟨a,u⟩, ⟨b,v⟩, ‖(a − R, b − K)‖₁, ‖r‖₂², ΣP = ΣR (ls_block_part per thread,
// ls_block_merge by thread 0; launched with one block of cuda::kBlock threads).
__global__ void sns_sums(const int* gate, std::size_t n, std::size_t m, const double* a, const double* b, const double* u,
                         const double* v, const double* R, const double* K, LsPoint* out) {
  __shared__ LsSums rows[cuda::kBlock], cols[cuda::kBlock];
  __shared__ double S[cuda::kBlock];
  if (gate != nullptr && *gate) return;
  ls_block_part(threadIdx.x, blockDim.x, n, m, a, b, u, v, R, K, rows, cols, S);
  __syncthreads();
  if (threadIdx.x == 0) *out = ls_block_merge(rows, cols, S, blockDim.x);
}

// r = (a − R, b − K), the gradient of L at the current point.
__global__ void sns_residual(std::size_t n, std::size_t m, const double* a, const double* b, const double* R,
                             const double* K, double* r) {
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q < n) r[q] = ls_residual(a[q], R[q]);
  else if (q < n + m) r[q] = ls_residual(b[q - n], K[q - n]);
}

// rᵀd (slope of L along d) and ‖d‖∞ (the truncation bound of §3.3), one block.
__global__ void sns_direction_sums(std::size_t N, const double* r, const double* d, SnsDev* dev) {
  __shared__ LsDirection parts[cuda::kBlock];
  parts[threadIdx.x] = ls_direction_part(threadIdx.x, blockDim.x, N, r, d);
  __syncthreads();
  if (threadIdx.x != 0) return;
  const LsDirection t = ls_direction_merge(parts, blockDim.x);
  dev->rd = t.rd;
  dev->dinf = t.dinf;
}

// Trial point at the line search's α (gated on its done flag): u + φ(α d_u), seed v + α d_v.
__global__ void sns_trial(const LsState* ls, std::size_t n, std::size_t m, const double* u, const double* v,
                          const double* d, double* ut, double* vt) {
  if (ls->done) return;
  const double alpha = ls->alpha;
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q < n) ut[q] = ls_trial_u(u[q], d[q], alpha);
  else if (q < n + m) vt[q - n] = ls_trial_v(v[q - n], d[q], alpha);
}

__global__ void sns_judge(LsState* ls, const LsPoint* trial) {
  if (ls->done) return;
  ls_judge(ls, *trial);
}

// Working-dtype copy of a float64 vector (float32 C: the passes take float potentials).
template <typename T>
__global__ void to_work(const double* x, T* y, std::size_t len) {
  const std::size_t q = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
  if (q < len) y[q] = static_cast<T>(x[q]);
}

// Cost sources of the kernels above: C(i, j) is the stored matrix entry, or the squared distance
// of two points formed on the fly (the online passes: memory O((n + m)·d) on the device, the same
// float64 terms in the same order as the CPU's PointRows and cost.cc, so the same bits).
template <typename T>
struct MatrixCost {
  const T* C;
  std::size_t m;
  __device__ T operator()(std::size_t i, std::size_t j) const { return C[i * m + j]; }
};

// X: n×d row-major; Yt: d×m (Y transposed on the host), so that lanes of a warp running over j
// read consecutive addresses.
template <typename T>
struct PointCost {
  const T* X;
  const T* Yt;
  std::size_t d, m;
  __device__ T operator()(std::size_t i, std::size_t j) const {
    double s = 0;
    for (std::size_t k = 0; k < d; ++k) s = sq_term(s, static_cast<double>(X[i * d + k]), static_cast<double>(Yt[k * m + j]));
    return static_cast<T>(s);
  }
};

template <typename T>
std::size_t cost_bytes(const DenseProblem& p, const MatrixCost<T>*) {
  return p.n * p.m * sizeof(T);
}
template <typename T>
std::size_t cost_bytes(const DenseProblem& p, const PointCost<T>*) {
  return (p.n + p.m) * p.d * sizeof(T);
}
template <typename T>
MatrixCost<T> upload_cost(const DenseProblem& p, DeviceBuffer& buf, const MatrixCost<T>*) {
  cuda::copy_to_device(buf.get(), p.C, buf.bytes());
  return {static_cast<const T*>(buf.get()), p.m};
}
template <typename T>
PointCost<T> upload_cost(const DenseProblem& p, DeviceBuffer& buf, const PointCost<T>*) {
  const T* Y = static_cast<const T*>(p.Y);
  std::vector<T> Yt(p.d * p.m);
  for (std::size_t j = 0; j < p.m; ++j)
    for (std::size_t k = 0; k < p.d; ++k) Yt[k * p.m + j] = Y[j * p.d + k];
  T* base = static_cast<T*>(buf.get());
  cuda::copy_to_device(base, p.X, p.n * p.d * sizeof(T));
  cuda::copy_to_device(base + p.n * p.d, Yt.data(), Yt.size() * sizeof(T));
  return {base, base + p.n * p.d, p.d, p.m};
}

unsigned blocks_for(std::size_t threads) { return static_cast<unsigned>((threads + cuda::kBlock - 1) / cuda::kBlock); }

template <typename T, class Cost>
class CudaOps final : public DenseOps {
 public:
  explicit CudaOps(const DenseProblem& p)
      : p_(p),
        C_(cost_bytes(p, static_cast<const Cost*>(nullptr))),
        a_(p.n * sizeof(double)),
        log_a_(p.n * sizeof(double)),
        log_b_(p.m * sizeof(double)),
        u_(p.n * sizeof(double)),
        u_out_(p.n * sizeof(double)),
        v_(p.m * sizeof(double)),
        ut_(p.n * sizeof(T)),
        vt_(p.m * sizeof(T)),
        rowbuf_(p.n * sizeof(double)),
        rowbuf2_(p.n * sizeof(double)),
        colbuf_(p.m * sizeof(double)),
        chunks_(col_chunks(p.n)),
        colpart_(static_cast<std::size_t>(chunks_) * p.m * sizeof(double)) {
    n = p.n;
    m = p.m;
    cost_ = upload_cost(p, C_, static_cast<const Cost*>(nullptr));
    cuda::copy_to_device(a_.get(), p.a, a_.bytes());
    cuda::copy_to_device(log_a_.get(), p.log_a, log_a_.bytes());
    cuda::copy_to_device(log_b_.get(), p.log_b, log_b_.bytes());
  }
  void set_ir(double ir) override { ir_ = ir; }

  double row_update(const double* u, const double* v, double* u_out) override {
    upload(u, v);
    row_kernel<T, Cost><<<blocks_for(n * 32), cuda::kBlock>>>(cost_, n, m, dptr(u_), tptr(ut_), tptr(vt_), dptr(a_), dptr(log_a_),
                                                       c0(), ir(), dptr(u_out_), dptr(rowbuf_));
    cuda::check_launch("ot row kernel");
    cuda::copy_to_host(u_out, u_out_.get(), n * sizeof(double));
    std::vector<double> res(n);
    cuda::copy_to_host(res.data(), rowbuf_.get(), n * sizeof(double));
    ++passes;
    double err = 0;
    for (double x : res) err += x;
    return err;
  }

  void col_update(const double* u, double* v) override {
    upload(u, v);
    cuda::copy_to_device(v_.get(), v, m * sizeof(double));
    col_partial<T, Cost><<<col_grid(), cuda::kBlock>>>(cost_, n, m, tptr(ut_), tptr(vt_), c0(), ir(), chunks_, dptr(colpart_));
    cuda::check_launch("ot column partial sums");
    col_finish<T, Cost><<<blocks_for(m), cuda::kBlock>>>(cost_, n, m, tptr(ut_), dptr(log_b_), c0(), ir(), dptr(colpart_), chunks_,
                                                   dptr(v_));
    cuda::check_launch("ot column update");
    cuda::copy_to_host(v, v_.get(), m * sizeof(double));
    ++passes;
  }

  FusedSums fused(const double* u, const double* v, double* R, double* K, bool want_cost, void* plan) override {
    upload(u, v);
    std::unique_ptr<DeviceBuffer> dplan;
    if (plan != nullptr) dplan.reset(new DeviceBuffer(n * m * sizeof(T)));
    fused_rows<T, Cost><<<blocks_for(n * 32), cuda::kBlock>>>(cost_, n, m, tptr(ut_), tptr(vt_), c0(), ir(), dptr(rowbuf_),
                                                       dptr(rowbuf2_), dplan ? static_cast<T*>(dplan->get()) : nullptr);
    cuda::check_launch("ot fused rows");
    col_partial<T, Cost><<<col_grid(), cuda::kBlock>>>(cost_, n, m, tptr(ut_), tptr(vt_), c0(), ir(), chunks_, dptr(colpart_));
    cuda::check_launch("ot fused column partial sums");
    col_sums<<<blocks_for(m), cuda::kBlock>>>(dptr(colpart_), m, chunks_, dptr(colbuf_));
    cuda::check_launch("ot fused column sums");
    cuda::copy_to_host(R, rowbuf_.get(), n * sizeof(double));
    cuda::copy_to_host(K, colbuf_.get(), m * sizeof(double));
    std::vector<double> cost(n);
    cuda::copy_to_host(cost.data(), rowbuf2_.get(), n * sizeof(double));
    if (dplan) cuda::copy_to_host(plan, dplan->get(), n * m * sizeof(T));
    passes += 2;
    FusedSums out;
    for (std::size_t i = 0; i < n; ++i) out.S += R[i];
    if (want_cost)
      for (double x : cost) out.cost += x;
    out.finite = std::isfinite(out.S) && std::isfinite(out.cost);
    return out;
  }

  void materialise(const double* u, const double* v, double* P) override {
    upload(u, v);
    if (plan_.bytes() != n * m * sizeof(double)) plan_ = DeviceBuffer(n * m * sizeof(double));
    materialise_kernel<T, Cost><<<blocks_for(n * m), cuda::kBlock>>>(cost_, n, m, tptr(ut_), tptr(vt_), c0(), ir(), dptr(plan_));
    cuda::check_launch("ot materialise");
    cuda::copy_to_host(P, plan_.get(), n * m * sizeof(double));
    ++passes;
  }

  // Plain Sinkhorn iterations with u, v resident (DenseOps::device_sinkhorn, docs/design/ot.md §6.3):
  // kLoopBatch iterations are queued at a time (gated kernels, no synchronisation inside), then one
  // small state read; u, v travel once each way. float64 C only (float32 confirms its stop on
  // the host, sinkhorn.cc).
  bool device_sinkhorn(DeviceRun* run) override {
    if (sizeof(T) != sizeof(double)) return false;
    const cudaStream_t s = cudaStreamPerThread;
    if (loop_.bytes() == 0) {
      loop_ = DeviceBuffer(sizeof(DevLoop));
      ring_err_ = DeviceBuffer(kRing * sizeof(double));
      ring_it_ = DeviceBuffer(kRing * sizeof(long long));
    }
    DevLoop h{};
    h.col_exact = run->col_exact ? 1 : 0;
    h.total = run->done_before;
    h.best = h.window_best = 1e300;
    cuda::check(cudaMemcpyAsync(u_.get(), run->u, n * sizeof(double), cudaMemcpyHostToDevice, s), "ot loop upload");
    cuda::check(cudaMemcpyAsync(v_.get(), run->v, m * sizeof(double), cudaMemcpyHostToDevice, s), "ot loop upload");
    cuda::check(cudaMemcpyAsync(loop_.get(), &h, sizeof h, cudaMemcpyHostToDevice, s), "ot loop upload");
    DevLoop* L = static_cast<DevLoop*>(loop_.get());
    const int* gate = &L->done;
    // T = double here: the potentials are their own working-dtype copies.
    const T* ud = tptr(u_);
    const T* vd = tptr(v_);
    long long seen = 0;
    std::vector<double> rerr(kRing);
    std::vector<long long> rit(kRing);
    for (;;) {
      for (int t = 0; t < kLoopBatch; ++t) {
        loop_top<<<1, 1, 0, s>>>(L, run->max_iter, run->limit);
        row_kernel<T, Cost><<<blocks_for(n * 32), cuda::kBlock, 0, s>>>(cost_, n, m, dptr(u_), ud, vd, dptr(a_), dptr(log_a_), c0(),
                                                                    ir(), dptr(u_out_), dptr(rowbuf_), gate);
        loop_decide<<<1, cuda::kBlock, 0, s>>>(L, dptr(rowbuf_), n, run->tol, run->every, run->stall ? 1 : 0,
                                                run->stall_window, dptr(ring_err_), static_cast<long long*>(ring_it_.get()));
        loop_commit<<<blocks_for(n), cuda::kBlock, 0, s>>>(L, n, dptr(u_out_), dptr(u_));
        col_partial<T, Cost><<<col_grid(), cuda::kBlock, 0, s>>>(cost_, n, m, ud, vd, c0(), ir(), chunks_, dptr(colpart_), gate);
        col_finish<T, Cost><<<blocks_for(m), cuda::kBlock, 0, s>>>(cost_, n, m, ud, dptr(log_b_), c0(), ir(), dptr(colpart_), chunks_,
                                                                 dptr(v_), gate);
        loop_tail<<<1, 1, 0, s>>>(L);
      }
      cuda::check(cudaGetLastError(), "ot device Sinkhorn");
      cuda::check(cudaMemcpyAsync(&h, L, sizeof h, cudaMemcpyDeviceToHost, s), "ot device Sinkhorn");
      cuda::check(cudaMemcpyAsync(rerr.data(), ring_err_.get(), kRing * sizeof(double), cudaMemcpyDeviceToHost, s), "ot device Sinkhorn");
      cuda::check(cudaMemcpyAsync(rit.data(), ring_it_.get(), kRing * sizeof(long long), cudaMemcpyDeviceToHost, s), "ot device Sinkhorn");
      cuda::check(cudaStreamSynchronize(s), "ot device Sinkhorn");
      for (; seen < h.decides; ++seen) run->check(rit[seen % kRing], rerr[seen % kRing]);
      if (h.done) break;
      run->between(h.total);
    }
    // Passes as the host loop counts them: a row pass per test, a column pass per iteration.
    passes += static_cast<std::size_t>(2 * h.it + (h.end == 1 || h.end == 2 ? 1 : 0));
    cuda::check(cudaMemcpyAsync(run->u, u_.get(), n * sizeof(double), cudaMemcpyDeviceToHost, s), "ot loop download");
    cuda::check(cudaMemcpyAsync(run->v, v_.get(), m * sizeof(double), cudaMemcpyDeviceToHost, s), "ot loop download");
    cuda::check(cudaStreamSynchronize(s), "ot loop download");
    run->iters = h.it;
    run->end = h.end;
    run->last_err = h.last_err;
    run->have_err = h.have_err != 0;
    return true;
  }

  // Device-resident SNS (DenseOps::sns_*, docs/design/ot.md §3.5, §6.3): (u, v) go up once per load,
  // then the current point (u_, v_, sR_, sK_), r and d stay here; per Newton step only the CG state,
  // ΣP̃, rᵀd, ‖d‖∞ and the line search's state (a few scalars per batch of trials) come down.
  bool sns_load(const double* u, const double* v, LsPoint* cur) override {
    const cudaStream_t s = cudaStreamPerThread;
    if (sdev_.bytes() == 0) {
      const std::size_t N = n + m;
      b_ = DeviceBuffer(m * sizeof(double));
      cuda::copy_to_device(b_.get(), p_.b, m * sizeof(double));
      sR_ = DeviceBuffer(n * sizeof(double));
      sK_ = DeviceBuffer(m * sizeof(double));
      sRt_ = DeviceBuffer(n * sizeof(double));
      sKt_ = DeviceBuffer(m * sizeof(double));
      sut_ = DeviceBuffer(n * sizeof(double));
      svt_ = DeviceBuffer(m * sizeof(double));
      sr_ = DeviceBuffer(N * sizeof(double));
      sd_ = DeviceBuffer(N * sizeof(double));
      tut_ = DeviceBuffer(n * sizeof(T));
      tvt_ = DeviceBuffer(m * sizeof(T));
      sdev_ = DeviceBuffer(sizeof(SnsDev));
    }
    cuda::check(cudaMemcpyAsync(u_.get(), u, n * sizeof(double), cudaMemcpyHostToDevice, s), "ot SNS upload");
    cuda::check(cudaMemcpyAsync(v_.get(), v, m * sizeof(double), cudaMemcpyHostToDevice, s), "ot SNS upload");
    SnsDev* dev = static_cast<SnsDev*>(sdev_.get());
    sns_eval(u_, v_, work(u_, ut_, n), work(v_, vt_, m), sR_, sK_, nullptr, &dev->cur);
    cuda::check(cudaGetLastError(), "ot SNS evaluate");
    cuda::check(cudaMemcpyAsync(cur, &dev->cur, sizeof *cur, cudaMemcpyDeviceToHost, s), "ot SNS evaluate");
    cuda::check(cudaStreamSynchronize(s), "ot SNS evaluate");
    return true;
  }

  void sns_newton(std::size_t k, double sigma, double rtol, int64_t max_iter, NewtonOut* out) override {
    const cudaStream_t s = cudaStreamPerThread;
    const std::size_t N = n + m;
    if (plan_.bytes() != n * m * sizeof(double)) plan_ = DeviceBuffer(n * m * sizeof(double));
    materialise_kernel<T, Cost><<<blocks_for(n * m), cuda::kBlock, 0, s>>>(cost_, n, m, work(u_, ut_, n), work(v_, vt_, m), c0(),
                                                                        ir(), dptr(plan_));
    sns_residual<<<blocks_for(N), cuda::kBlock, 0, s>>>(n, m, dptr(a_), dptr(b_), dptr(sR_), dptr(sK_), dptr(sr_));
    cuda::check(cudaGetLastError(), "ot materialise");
    ++passes;
    if (!newton_) newton_.reset(new CudaNewton(n, m));
    newton_->solve(dptr(plan_), k, dptr(sR_), dptr(sK_), sigma, dptr(sr_), rtol, max_iter, dptr(sd_), &out->cg, &out->kept);
    SnsDev* dev = static_cast<SnsDev*>(sdev_.get());
    sns_direction_sums<<<1, cuda::kBlock, 0, s>>>(N, dptr(sr_), dptr(sd_), dev);
    cuda::check(cudaGetLastError(), "ot Newton direction");
    double rd_dinf[2];
    static_assert(offsetof(SnsDev, dinf) == offsetof(SnsDev, rd) + sizeof(double), "rd, dinf adjacent");
    cuda::check(cudaMemcpyAsync(rd_dinf, &dev->rd, sizeof rd_dinf, cudaMemcpyDeviceToHost, s), "ot Newton direction");
    cuda::check(cudaStreamSynchronize(s), "ot Newton direction");
    out->rd = rd_dinf[0];
    out->dinf = rd_dinf[1];
  }

  // Trials are queued in batches (1, 2, 4, 8, …) gated on the state's done flag, so a trial queued
  // after the acceptance does nothing and the trial buffers hold the accepted point.
  void sns_line_search(LsState* ls, const std::function<void()>& between) override {
    const cudaStream_t s = cudaStreamPerThread;
    SnsDev* dev = static_cast<SnsDev*>(sdev_.get());
    LsState* L = &dev->ls;
    const int* gate = &L->done;
    cuda::check(cudaMemcpyAsync(L, ls, sizeof *ls, cudaMemcpyHostToDevice, s), "ot line search");
    int batch = 1;
    while (!ls->done) {
      between();
      for (int t = 0; t < batch; ++t) {
        sns_trial<<<blocks_for(n + m), cuda::kBlock, 0, s>>>(L, n, m, dptr(u_), dptr(v_), dptr(sd_), dptr(sut_), dptr(svt_));
        const T* ut = work(sut_, tut_, n);
        col_partial<T, Cost><<<col_grid(), cuda::kBlock, 0, s>>>(cost_, n, m, ut, work(svt_, tvt_, m), c0(), ir(), chunks_,
                                                                dptr(colpart_), gate);
        col_finish<T, Cost><<<blocks_for(m), cuda::kBlock, 0, s>>>(cost_, n, m, ut, dptr(log_b_), c0(), ir(), dptr(colpart_),
                                                                 chunks_, dptr(svt_), gate);
        sns_eval(sut_, svt_, ut, work(svt_, tvt_, m), sRt_, sKt_, gate, &dev->trial);
        sns_judge<<<1, 1, 0, s>>>(L, &dev->trial);
      }
      cuda::check(cudaGetLastError(), "ot line search");
      cuda::check(cudaMemcpyAsync(ls, L, sizeof *ls, cudaMemcpyDeviceToHost, s), "ot line search");
      cuda::check(cudaStreamSynchronize(s), "ot line search");
      batch = ls_next_batch(batch);
    }
    passes += static_cast<std::size_t>(3 * ls->evals);  // a column fit and a fused pass (2) per trial
    if (ls->accepted) {
      std::swap(u_, sut_);
      std::swap(v_, svt_);
      std::swap(sR_, sRt_);
      std::swap(sK_, sKt_);
    }
  }

  void sns_store(double* u, double* v) override {
    const cudaStream_t s = cudaStreamPerThread;
    cuda::check(cudaMemcpyAsync(u, u_.get(), n * sizeof(double), cudaMemcpyDeviceToHost, s), "ot SNS download");
    cuda::check(cudaMemcpyAsync(v, v_.get(), m * sizeof(double), cudaMemcpyDeviceToHost, s), "ot SNS download");
    cuda::check(cudaStreamSynchronize(s), "ot SNS download");
  }

 private:
  static double* dptr(DeviceBuffer& b) { return static_cast<double*>(b.get()); }
  // x in the working dtype: x itself in float64, else a converted copy in `copy`.
  const T* work(DeviceBuffer& x, DeviceBuffer& copy, std::size_t len) {
    if (sizeof(T) == sizeof(double)) return static_cast<const T*>(x.get());
    to_work<T><<<blocks_for(len), cuda::kBlock, 0, cudaStreamPerThread>>>(dptr(x), tptr(copy), len);
    return tptr(copy);
  }
  // One fused pass at a device point (R, K) and its sums into *out (gated when gate != null).
  void sns_eval(DeviceBuffer& u, DeviceBuffer& v, const T* uw, const T* vw, DeviceBuffer& R, DeviceBuffer& K,
                const int* gate, LsPoint* out) {
    const cudaStream_t s = cudaStreamPerThread;
    fused_rows<T, Cost><<<blocks_for(n * 32), cuda::kBlock, 0, s>>>(cost_, n, m, uw, vw, c0(), ir(), dptr(R), dptr(rowbuf2_),
                                                                 nullptr, gate);
    col_partial<T, Cost><<<col_grid(), cuda::kBlock, 0, s>>>(cost_, n, m, uw, vw, c0(), ir(), chunks_, dptr(colpart_), gate);
    col_sums<<<blocks_for(m), cuda::kBlock, 0, s>>>(dptr(colpart_), m, chunks_, dptr(K), gate);
    sns_sums<<<1, cuda::kBlock, 0, s>>>(gate, n, m, dptr(a_), dptr(b_), dptr(u), dptr(v), dptr(R), dptr(K), out);
    passes += gate == nullptr ? 2 : 0;  // trials are counted by sns_line_search
  }
  static T* tptr(DeviceBuffer& b) { return static_cast<T*>(b.get()); }
  T c0() const { return static_cast<T>(p_.c0); }
  dim3 col_grid() const { return dim3(blocks_for(m), static_cast<unsigned>(chunks_)); }
  T ir() const { return static_cast<T>(ir_); }
  // Potentials in the working dtype (and u in float64 for the row update).
  void upload(const double* u, const double* v) {
    std::vector<T> ut(u, u + n), vt(v, v + m);
    cuda::copy_to_device(u_.get(), u, n * sizeof(double));
    cuda::copy_to_device(ut_.get(), ut.data(), n * sizeof(T));
    cuda::copy_to_device(vt_.get(), vt.data(), m * sizeof(T));
  }

  DenseProblem p_;
  Cost cost_{};
  DeviceBuffer C_, a_, log_a_, log_b_, u_, u_out_, v_, ut_, vt_, rowbuf_, rowbuf2_, colbuf_;
  int chunks_;
  DeviceBuffer colpart_, plan_;
  std::unique_ptr<CudaNewton> newton_;
  DeviceBuffer loop_, ring_err_, ring_it_;
  DeviceBuffer b_, sR_, sK_, sRt_, sKt_, sut_, svt_, sr_, sd_, tut_, tvt_, sdev_;  // device-resident SNS
  double ir_ = 1;
};

}  // namespace

std::unique_ptr<DenseOps> make_cuda_ops(const DenseProblem& p) {
  cuda::require_available();
  if (p.X != nullptr) {
    if (p.f32) return std::unique_ptr<DenseOps>(new CudaOps<float, PointCost<float>>(p));
    return std::unique_ptr<DenseOps>(new CudaOps<double, PointCost<double>>(p));
  }
  if (p.f32) return std::unique_ptr<DenseOps>(new CudaOps<float, MatrixCost<float>>(p));
  return std::unique_ptr<DenseOps>(new CudaOps<double, MatrixCost<double>>(p));
}

}  // namespace ot
}  // namespace itk

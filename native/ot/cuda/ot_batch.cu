// ot.sinkhornBatch on CUDA in one launch (docs/design/ot.md §5.1): one block per problem, the
// problem's cost tile in shared memory, log-domain row and column updates (warp per row; columns
// split into row chunks with partials merged in a fixed order), the stopping rules of
// sinkhorn.cc run_sinkhorn (error of the current state checked every checkEvery iterations, the
// stall window) decided per block, and the final fused pass (R, K, ΣP, ⟨C,P⟩, the plan) written
// per problem. The host (sinkhorn.cc) does the validation before and the gauge and scalars after.
// Per-entry arithmetic is native/kernels/ot_entry.h, as in the single-problem passes.
#include <cmath>
#include <cstdint>

#include "../../core/cuda/common.cuh"
#include "../../core/device_buffer.h"
#include "../../kernels/ot_entry.h"
#include "../dense_ops.h"
#include "ot_warp.cuh"

namespace itk {
namespace ot {
namespace {

constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr std::size_t kMaxSmem = 200 * 1024;  // H100/H200 allow 227 KiB per block with the opt-in


struct BatchArgs {
  const double* C;
  bool shared_cost;
  std::size_t n, m;
  const double *c0, *ir, *a, *log_a, *log_b;
  long long max_iter, every, stall_window;
  double tol;
  double* plan;  // B·n·m or null
  double *u, *v, *R, *K, *S, *cost, *err;
  long long* iters;
  int* end;
};

std::size_t part_len(std::size_t m) { return m < kThreads ? kThreads : m; }
std::size_t smem_bytes(std::size_t n, std::size_t m) { return 8 * (n * m + 3 * n + m + part_len(m)); }

// Column sums of exp(z_ij) with z from u (shift) and v: rows cut into `chunks` = max(1, 256/m)
// chunks, thread t → (column t mod m, chunk t / m); partials then merged in chunk order.
__device__ void column_partials(const double* Cs, std::size_t n, std::size_t m, const double* u, const double* v, double c0,
                                double ir, double* part, int chunks) {
  for (std::size_t t = threadIdx.x; t < static_cast<std::size_t>(chunks) * m; t += blockDim.x) {
    const std::size_t j = t % m, r = t / m;
    const std::size_t i0 = n * r / chunks, i1 = n * (r + 1) / chunks;
    double s = 0;
    for (std::size_t i = i0; i < i1; ++i) s += exp(entry_exponent(u[i], v[j], Cs[i * m + j], c0, ir));
    part[r * m + j] = s;
  }
}

__global__ void __launch_bounds__(kThreads) sinkhorn_batch_kernel(BatchArgs A) {
  extern __shared__ double sm[];
  const std::size_t n = A.n, m = A.m, nm = n * m, p = blockIdx.x;
  double* Cs = sm;
  double* u = Cs + nm;
  double* un = u + n;
  double* res = un + n;
  double* v = res + n;
  double* part = v + m;
  __shared__ int stop;  // 0 running, 1 converged, 2 stalled, 3 maxIter
  __shared__ double err_sh;
  const double* Cg = A.C + (A.shared_cost ? 0 : p * nm);
  for (std::size_t q = threadIdx.x; q < nm; q += blockDim.x) Cs[q] = Cg[q];
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) u[i] = 0;
  for (std::size_t j = threadIdx.x; j < m; j += blockDim.x) v[j] = 0;
  const double c0 = A.c0[p], ir = A.ir[p];
  const double* a = A.a + p * n;
  const double* log_a = A.log_a + p * n;
  const double* log_b = A.log_b + p * m;
  const int chunks = m >= kThreads ? 1 : static_cast<int>(kThreads / m);
  const int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
  if (threadIdx.x == 0) stop = 0;
  __syncthreads();
  // run_sinkhorn (sinkhorn.cc) with relaxation off and the stall rule on; its state in thread 0.
  long long iters = 0, since = 0;
  double best = 1e300, window_best = 1e300, last_err = 1e300;
  bool col_exact = false;
  for (;;) {
    if (iters >= A.max_iter) {
      if (threadIdx.x == 0) stop = 3;
      break;
    }
    // Row half-iteration (dense CUDA row_kernel): res_i of the input state, u_new.
    for (std::size_t i = warp; i < n; i += kWarps) {
      double s = 0;
      for (std::size_t j = lane; j < m; j += 32) s += exp(entry_exponent(u[i], v[j], Cs[i * m + j], c0, ir));
      s = warp_sum(s);
      if (shifted_sum_ok(s)) {
        if (lane == 0) {
          res[i] = fabs(s - a[i]);
          un[i] = u[i] + (log_a[i] - log(s));
        }
      } else {
        double mx = -HUGE_VAL;
        for (std::size_t j = lane; j < m; j += 32) mx = fmax(mx, entry_exponent(0.0, v[j], Cs[i * m + j], c0, ir));
        mx = warp_max(mx);
        double t = 0;
        for (std::size_t j = lane; j < m; j += 32) t += exp(entry_exponent(0.0, v[j], Cs[i * m + j], c0, ir) - mx);
        t = warp_sum(t);
        if (lane == 0) {
          const double lse = mx + log(t);
          un[i] = log_a[i] - lse;
          res[i] = fabs(exp(u[i] + lse) - a[i]);
        }
      }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      double err = 0;
      for (std::size_t i = 0; i < n; ++i) err += res[i];  // the host's order in the single solve
      if (col_exact) {
        last_err = err;
        if (iters % A.every == 0 && err <= A.tol) stop = 1;
        if (stop == 0) {
          best = fmin(best, err);
          if (++since >= A.stall_window) {
            if (!(best < 0.99 * window_best) && window_best < 1e300) stop = 2;
            window_best = best;
            since = 0;
          }
        }
      }
      err_sh = last_err;
    }
    __syncthreads();
    if (stop != 0) break;
    double* t = u;
    u = un;
    un = t;
    // Column half-iteration with the new u.
    column_partials(Cs, n, m, u, v, c0, ir, part, chunks);
    __syncthreads();
    for (std::size_t j = threadIdx.x; j < m; j += blockDim.x) {
      double s = 0;
      for (int r = 0; r < chunks; ++r) s += part[r * m + j];
      if (shifted_sum_ok(s)) {
        v[j] += log_b[j] - log(s);
      } else {
        double mx = -HUGE_VAL;
        for (std::size_t i = 0; i < n; ++i) mx = fmax(mx, entry_exponent(u[i], 0.0, Cs[i * m + j], c0, ir));
        double tt = 0;
        for (std::size_t i = 0; i < n; ++i) tt += exp(entry_exponent(u[i], 0.0, Cs[i * m + j], c0, ir) - mx);
        v[j] = log_b[j] - (mx + log(tt));
      }
    }
    __syncthreads();
    col_exact = true;
    ++iters;
  }
  // Final fused pass at (u, v): R_i, ⟨C,P⟩ per row, the plan; K_j from column partials.
  double* plan = A.plan != nullptr ? A.plan + p * nm : nullptr;
  for (std::size_t i = warp; i < n; i += kWarps) {
    double s = 0, c = 0;
    for (std::size_t j = lane; j < m; j += 32) {
      const double cij = Cs[i * m + j];
      const double e = exp(entry_exponent(u[i], v[j], cij, c0, ir));
      s += e;
      c += cij * e;
      if (plan != nullptr) plan[i * m + j] = e;
    }
    s = warp_sum(s);
    c = warp_sum(c);
    if (lane == 0) {
      res[i] = s;
      un[i] = c;
    }
  }
  column_partials(Cs, n, m, u, v, c0, ir, part, chunks);
  __syncthreads();
  for (std::size_t j = threadIdx.x; j < m; j += blockDim.x) {
    double s = 0;
    for (int r = 0; r < chunks; ++r) s += part[r * m + j];
    A.K[p * m + j] = s;
    A.v[p * m + j] = v[j];
  }
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) {
    A.R[p * n + i] = res[i];
    A.u[p * n + i] = u[i];
  }
  if (threadIdx.x == 0) {
    double S = 0, cost = 0;
    for (std::size_t i = 0; i < n; ++i) {
      S += res[i];
      cost += un[i];
    }
    A.S[p] = S;
    A.cost[p] = cost;
    A.err[p] = err_sh;
    A.iters[p] = iters;
    A.end[p] = stop;
  }
}

template <typename T>
T* as(const DeviceBuffer& b) {
  return static_cast<T*>(b.get());
}

}  // namespace

bool cuda_batch_fits(std::size_t n, std::size_t m) { return smem_bytes(n, m) <= kMaxSmem; }

void cuda_sinkhorn_batch(const BatchIn& in, BatchOut* out) {
  cuda::require_available();
  const std::size_t B = in.B, n = in.n, m = in.m, nm = n * m;
  const std::size_t cbytes = (in.shared_cost ? 1 : B) * nm * sizeof(double);
  DeviceBuffer C(cbytes), c0(B * 8), ir(B * 8), a(B * n * 8), la(B * n * 8), lb(B * m * 8),
      plan(in.want_plan ? B * nm * 8 : 0), u(B * n * 8), v(B * m * 8), R(B * n * 8), K(B * m * 8), S(B * 8), cost(B * 8),
      err(B * 8), iters(B * 8), end(B * sizeof(int));
  cuda::copy_to_device(C.get(), in.C, cbytes);
  cuda::copy_to_device(c0.get(), in.c0, B * 8);
  cuda::copy_to_device(ir.get(), in.ir, B * 8);
  cuda::copy_to_device(a.get(), in.a, B * n * 8);
  cuda::copy_to_device(la.get(), in.log_a, B * n * 8);
  cuda::copy_to_device(lb.get(), in.log_b, B * m * 8);
  BatchArgs A{as<double>(C), in.shared_cost, n, m, as<double>(c0), as<double>(ir), as<double>(a), as<double>(la), as<double>(lb),
              in.max_iter, in.every < 1 ? 1 : in.every, in.stall_window, in.tol, in.want_plan ? as<double>(plan) : nullptr,
              as<double>(u), as<double>(v), as<double>(R), as<double>(K), as<double>(S), as<double>(cost), as<double>(err),
              as<long long>(iters), as<int>(end)};
  const std::size_t smem = smem_bytes(n, m);
  cuda::check(cudaFuncSetAttribute(sinkhorn_batch_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
              "ot batch shared memory");
  sinkhorn_batch_kernel<<<static_cast<unsigned>(B), kThreads, smem>>>(A);
  cuda::check_launch("ot batch Sinkhorn");
  out->u.resize(B * n);
  out->v.resize(B * m);
  out->R.resize(B * n);
  out->K.resize(B * m);
  out->S.resize(B);
  out->cost.resize(B);
  out->err.resize(B);
  out->iters.resize(B);
  out->end.resize(B);
  cuda::copy_to_host(out->u.data(), u.get(), B * n * 8);
  cuda::copy_to_host(out->v.data(), v.get(), B * m * 8);
  cuda::copy_to_host(out->R.data(), R.get(), B * n * 8);
  cuda::copy_to_host(out->K.data(), K.get(), B * m * 8);
  cuda::copy_to_host(out->S.data(), S.get(), B * 8);
  cuda::copy_to_host(out->cost.data(), cost.get(), B * 8);
  cuda::copy_to_host(out->err.data(), err.get(), B * 8);
  cuda::copy_to_host(out->iters.data(), iters.get(), B * 8);
  cuda::copy_to_host(out->end.data(), end.get(), B * sizeof(int));
  if (in.want_plan) cuda::copy_to_host(in.plan, plan.get(), B * nm * 8);
}

}  // namespace ot
}  // namespace itk

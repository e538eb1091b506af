// Forward rollout and adjoint pass of the variational fBM-SDE trainer (see fsde.h).
//
// Forward step n, t_n = nΔ (docs/design/trainers.md §2):
//   u_n = U(sin t_n, cos t_n, X_n, Y_n [, o])
//   Y_{k,n+1} = Y_{k,n} + (−γ_k Y_{k,n} + u_n)Δ + ΔW_n
//   X_{n+1}   = X_n + [−θX_n − σ Σ_k ω_k γ_k Y_{k,n} + σ ω̄ u_n]Δ + σ ω̄ ΔW_n
// Adjoint λ_n = ∂L/∂Z_n, n = N−1 … 0, with g_u = ∂L/∂u_n = (Σ_k λ^Y_{k,n+1} + σω̄ λ^X_{n+1})Δ + u_nΔ:
//   λ^X_n   = (1 − θΔ) λ^X_{n+1} + [U's VJP of g_u]_X + ∂(obs terms)/∂X_n
//   λ^Y_k,n = (1 − γ_kΔ) λ^Y_{k,n+1} − σ ω_k γ_k Δ λ^X_{n+1} + [U's VJP of g_u]_{Y_k}
//   ∂L/∂ω_k += λ^X_{n+1} σ (−γ_k Y_{k,n}Δ + u_nΔ + ΔW_n),  ∂L/∂θ += −λ^X_{n+1} X_n Δ
// Everything is scaled by 1/B so the outputs are means over the batch.
#include "fsde.h"

#include <algorithm>
#include <cmath>

#include "../core/error.h"
#include "../core/threadpool.h"
#include "../kernels/fbm_rng.h"
#include "../kernels/rng_draw.h"
#include "../kernels/step_noise.h"

namespace itk {
namespace train {

namespace {

template <typename T>
struct ChunkResult {
  std::vector<T> grad;
  std::vector<double> d_omega;
  double d_theta = 0, loss = 0, nll = 0, kl = 0;
};

}  // namespace

template <typename T>
void fsde_run(const nn::MlpLayout& L, const T* params, const FsdeConfig& cfg, std::size_t B, bool backward,
              FsdeOutput<T>* out, const Control& ctl) {
  const int K = cfg.K, N = cfg.N;
  const std::size_t J = cfg.obs_idx.size();
  const int in_dim = cfg.input_dim();
  require(K >= 1 && K <= 32, Code::InvalidArg, "K must be in [1, 32]");
  require(L.in() == in_dim, Code::Shape, "control MLP input width must be 3 + K (+ 2 when amortized)");
  require(L.out() == 1, Code::Shape, "control MLP must have one output");
  require(static_cast<int>(cfg.gammas.size()) == K && static_cast<int>(cfg.omegas.size()) == K, Code::Shape,
          "gammas and omegas need K entries");
  require(!cfg.type1 || cfg.chol_c.size() == static_cast<std::size_t>(K * K), Code::Shape, "type I needs sqrt(C)");
  require(J == 0 || (cfg.obs != nullptr && cfg.M >= 1), Code::InvalidArg, "observations missing");
  std::vector<int> obs_at(N + 1, -1);  // step -> observation index
  for (std::size_t j = 0; j < J; ++j) {
    const int n = cfg.obs_idx[j];
    require(n >= 1 && n <= N, Code::InvalidArg, "observation steps must be in [1, N]");
    require(obs_at[n] < 0, Code::InvalidArg, "observation steps must be distinct");
    obs_at[n] = static_cast<int>(j);
  }
  const T* obs = static_cast<const T*>(cfg.obs);
  // next_obs[n]: index of the first observation at a step > n (the last one after it).
  std::vector<int> next_obs(N + 1, J > 0 ? static_cast<int>(J) - 1 : -1);
  for (int n = N, nx = -1; n >= 0; --n) {
    if (nx >= 0) next_obs[n] = nx;
    if (obs_at[n] >= 0) nx = obs_at[n];
  }
  const std::size_t S = 1 + K;  // state width
  const T dt = static_cast<T>(cfg.dt), sigma = static_cast<T>(cfg.sigma), theta = static_cast<T>(cfg.theta);
  std::vector<T> g(K), w(K), wg(K);
  T wbar = 0;
  for (int k = 0; k < K; ++k) {
    g[k] = static_cast<T>(cfg.gammas[k]);
    w[k] = static_cast<T>(cfg.omegas[k]);
    wg[k] = static_cast<T>(cfg.omegas[k] * cfg.gammas[k]);
    wbar += w[k];
  }
  const double inv_obs_var = 1.0 / (cfg.obs_sigma * cfg.obs_sigma);
  const T scale = static_cast<T>(1.0 / static_cast<double>(B));

  std::vector<T> wt(L.n_params);
  nn::transpose_weights(L, params, wt.data());

  const std::size_t chunks = (B + kFsdeChunk - 1) / kFsdeChunk;
  std::vector<ChunkResult<T>> res(chunks);
  std::vector<double> path_loss(B);

  parallel_for(chunks, [&](std::size_t c) {
    const std::size_t p0 = c * kFsdeChunk, R = std::min(B, p0 + kFsdeChunk) - p0;
    ChunkResult<T>& r = res[c];
    const std::size_t steps_kept = backward ? N : 1;
    std::vector<T> Z((N + 1) * R * S), U(N * R), dW(N * R);
    std::vector<T> feat(steps_kept * R * in_dim), tape(steps_kept * R * L.tape_per_row);
    std::vector<T> ctx(R * J);
    std::vector<double> nll(R, 0.0), kl(R, 0.0);
    for (std::size_t i = 0; i < R; ++i) {
      const uint64_t path = cfg.path_offset + p0 + i;
      const std::size_t seq = static_cast<std::size_t>((cfg.seq_offset + p0 + i) % cfg.M);
      for (std::size_t j = 0; j < J; ++j) ctx[i * J + j] = obs[seq * J + j];
      T* z = &Z[i * S];
      z[0] = static_cast<T>(cfg.x0);
      if (cfg.type1) {
        float e[32];
        normal_lanes(cfg.key_lo, cfg.key_hi, kStreamFbmInit, path, 0, 0, K, e);
        for (int a = 0; a < K; ++a) {
          double s = 0;
          for (int b = 0; b < K; ++b) s += cfg.chol_c[a * K + b] * e[b];
          z[1 + a] = static_cast<T>(s);
        }
      } else {
        for (int a = 0; a < K; ++a) z[1 + a] = 0;
      }
      const T sq = static_cast<T>(std::sqrt(cfg.dt));
      StepNormals<1> bw;  // W of sde.simulate and fbm.sample: draw 0, four steps per block
      for (int n = 0; n < N; ++n) {
        float zn;
        bw.get(cfg.key_lo, cfg.key_hi, kStreamBrownian, path, static_cast<uint32_t>(n), 0, 1, &zn);
        dW[n * R + i] = sq * static_cast<T>(zn);
      }
    }
    // Forward rollout.
    for (int n = 0; n < N; ++n) {
      if ((n & 15) == 0) ctl.check();
      const double t = n * cfg.dt;
      const T st = static_cast<T>(std::sin(t)), ct = static_cast<T>(std::cos(t));
      const std::size_t slot = backward ? n : 0;
      T* f = &feat[slot * R * in_dim];
      const T* zn = &Z[n * R * S];
      for (std::size_t i = 0; i < R; ++i) {
        T* fi = f + i * in_dim;
        fi[0] = st;
        fi[1] = ct;
        for (std::size_t s = 0; s < S; ++s) fi[2 + s] = zn[i * S + s];
        if (cfg.amortized) {
          const int j = next_obs[n];
          fi[2 + S] = ctx[i * J + j];
          fi[3 + S] = static_cast<T>(std::max(0.0, cfg.obs_idx[j] * cfg.dt - t));
        }
      }
      T* un = &U[n * R];
      nn::mlp_forward_rows(L, params, wt.data(), f, R, &tape[slot * R * L.tape_per_row], un);
      T* zn1 = &Z[(n + 1) * R * S];
      for (std::size_t i = 0; i < R; ++i) {
        const T* zi = zn + i * S;
        T* zo = zn1 + i * S;
        const T u = un[i], dw = dW[n * R + i];
        T drift_y = 0;
        for (int k = 0; k < K; ++k) drift_y += wg[k] * zi[1 + k];
        for (int k = 0; k < K; ++k) zo[1 + k] = zi[1 + k] + (-g[k] * zi[1 + k] + u) * dt + dw;
        zo[0] = zi[0] + (-theta * zi[0] - sigma * drift_y + sigma * wbar * u) * dt + sigma * wbar * dw;
        kl[i] += 0.5 * static_cast<double>(u) * static_cast<double>(u) * cfg.dt;
        const int j = obs_at[n + 1];
        if (j >= 0) {
          const double e = static_cast<double>(zo[0]) - static_cast<double>(ctx[i * J + j]);
          nll[i] += 0.5 * e * e * inv_obs_var;
        }
      }
    }
    for (std::size_t i = 0; i < R; ++i) {
      r.nll += nll[i];
      r.kl += kl[i];
      path_loss[p0 + i] = nll[i] + kl[i];
      if (out->x_paths)
        for (int n = 0; n <= N; ++n) out->x_paths[(p0 + i) * (N + 1) + n] = Z[(n * R + i) * S];
      if (out->u_paths)
        for (int n = 0; n < N; ++n) out->u_paths[(p0 + i) * N + n] = U[n * R + i];
    }
    r.loss = r.nll + r.kl;
    if (!backward) return;
    // Adjoint pass over the stored trajectory.
    r.grad.assign(L.n_params, T(0));
    r.d_omega.assign(K, 0.0);
    std::vector<T> lam(R * S, T(0)), gu(R), dfeat(R * in_dim), scratch(2 * R * L.max_width);
    std::vector<double> domega(K, 0.0);
    double dtheta = 0;
    auto add_obs = [&](int n) {
      const int j = obs_at[n];
      if (j < 0) return;
      for (std::size_t i = 0; i < R; ++i)
        lam[i * S] += scale * static_cast<T>((static_cast<double>(Z[(n * R + i) * S]) - static_cast<double>(ctx[i * J + j])) * inv_obs_var);
    };
    add_obs(N);
    for (int n = N - 1; n >= 0; --n) {
      if ((n & 15) == 0) ctl.check();
      const T* zn = &Z[n * R * S];
      const T* un = &U[n * R];
      for (std::size_t i = 0; i < R; ++i) {
        const T* li = &lam[i * S];
        T sy = 0;
        for (int k = 0; k < K; ++k) sy += li[1 + k];
        gu[i] = (sy + sigma * wbar * li[0]) * dt + scale * un[i] * dt;
        const double lx = li[0], u = un[i], dw = dW[n * R + i];
        for (int k = 0; k < K; ++k)
          domega[k] += lx * cfg.sigma * (-cfg.gammas[k] * static_cast<double>(zn[i * S + 1 + k]) * cfg.dt + u * cfg.dt + dw);
        dtheta += -lx * static_cast<double>(zn[i * S]) * cfg.dt;
      }
      nn::mlp_backward_rows(L, params, &feat[n * R * in_dim], R, &tape[n * R * L.tape_per_row], gu.data(), dfeat.data(),
                            r.grad.data(), scratch.data());
      for (std::size_t i = 0; i < R; ++i) {
        T* li = &lam[i * S];
        const T lx = li[0];
        const T* df = &dfeat[i * in_dim];
        li[0] = (T(1) - theta * dt) * lx + df[2];
        for (int k = 0; k < K; ++k) li[1 + k] = (T(1) - g[k] * dt) * li[1 + k] - sigma * wg[k] * dt * lx + df[3 + k];
      }
      if (n >= 1) add_obs(n);
    }
    r.d_omega = domega;
    r.d_theta = dtheta;
  });
  // Reduce in chunk order.
  double loss = 0, nl = 0, k = 0;
  for (const auto& r : res) {
    loss += r.loss;
    nl += r.nll;
    k += r.kl;
  }
  out->loss = loss / B;
  out->nll = nl / B;
  out->kl = k / B;
  if (out->path_loss) std::copy(path_loss.begin(), path_loss.end(), out->path_loss);
  if (!backward) return;
  out->d_omega.assign(K, 0.0);
  out->d_theta = 0;
  for (std::size_t p = 0; p < L.n_params; ++p) out->grad[p] = T(0);
  for (const auto& r : res) {
    for (std::size_t p = 0; p < L.n_params; ++p) out->grad[p] += r.grad[p];
    for (int a = 0; a < K; ++a) out->d_omega[a] += r.d_omega[a];
    out->d_theta += r.d_theta;
  }
}

template void fsde_run<float>(const nn::MlpLayout&, const float*, const FsdeConfig&, std::size_t, bool,
                              FsdeOutput<float>*, const Control&);
template void fsde_run<double>(const nn::MlpLayout&, const double*, const FsdeConfig&, std::size_t, bool,
                               FsdeOutput<double>*, const Control&);

}  // namespace train
}  // namespace itk

/**
 * Exact conditioned statistics of the MA-fBM fractional OU bridge under the Euler scheme
 * (docs/design/fbm.md §8): the augmented prior dZ = FZ dt + G dW is linear-Gaussian, so the
 * Euler recursion P ← (I+FΔ)P(I+FΔ)ᵀ + ΔGGᵀ gives every covariance exactly. Independent of the
 * trainer (plain float64 TypeScript, small matrices).
 */

/** Inputs: speeds γ, weights ω, θ, σ, Δ, steps N, type I start (Y(0) ~ N(0, C)) or type II (0). */
export interface BridgeSpec {
  gammas: ArrayLike<number>;
  omegas: ArrayLike<number>;
  theta: number;
  sigma: number;
  dt: number;
  steps: number;
  type1: boolean;
  obsSigma: number;
}

/** GP-conditioned std of X(t_n) given X(T) observed with noise, for n = 0..N, and L* = ½ln(1 + P00(T)/σ_obs²). */
export function bridgeReference(s: BridgeSpec): { condStd: Float64Array; priorStd: Float64Array; optimalLoss: number } {
  const K = s.gammas.length;
  const S = K + 1;
  // M = I + FΔ, F = [[−θ, −σ(ω⊙γ)ᵀ], [0, −diag γ]]; G = (σω̄, 1, …, 1).
  const M = new Float64Array(S * S);
  const G = new Float64Array(S);
  let wbar = 0;
  for (let k = 0; k < K; k++) wbar += s.omegas[k];
  M[0] = 1 - s.theta * s.dt;
  for (let k = 0; k < K; k++) {
    M[k + 1] = -s.sigma * s.omegas[k] * s.gammas[k] * s.dt;
    M[(k + 1) * S + k + 1] = 1 - s.gammas[k] * s.dt;
  }
  G[0] = s.sigma * wbar;
  for (let k = 0; k < K; k++) G[k + 1] = 1;
  const mul = (A: Float64Array, B: Float64Array): Float64Array => {
    const C = new Float64Array(S * S);
    for (let i = 0; i < S; i++) for (let k = 0; k < S; k++) for (let j = 0; j < S; j++) C[i * S + j] += A[i * S + k] * B[k * S + j];
    return C;
  };
  const transpose = (A: Float64Array): Float64Array => {
    const C = new Float64Array(S * S);
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) C[j * S + i] = A[i * S + j];
    return C;
  };
  let P: Float64Array = new Float64Array(S * S);
  if (s.type1) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) P[(i + 1) * S + j + 1] = 1 / (s.gammas[i] + s.gammas[j]);
  const Ps: Float64Array[] = [P];
  const Mt = transpose(M);
  for (let n = 0; n < s.steps; n++) {
    P = mul(mul(M, P), Mt);
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) P[i * S + j] += s.dt * G[i] * G[j];
    Ps.push(P);
  }
  // Cov(X(T), X(t_n)) = [M^{N−n} P(t_n)]_00: propagate row e_0ᵀ M^{N−n} backwards.
  const N = s.steps;
  const condStd = new Float64Array(N + 1);
  const priorStd = new Float64Array(N + 1);
  const varT = Ps[N][0];
  let row = new Float64Array(S);
  row[0] = 1; // e_0ᵀ M^0
  for (let n = N; n >= 0; n--) {
    let cov = 0;
    for (let k = 0; k < S; k++) cov += row[k] * Ps[n][k * S];
    const v = Ps[n][0];
    priorStd[n] = Math.sqrt(v);
    condStd[n] = Math.sqrt(Math.max(0, v - (cov * cov) / (varT + s.obsSigma ** 2)));
    const next = new Float64Array(S);
    for (let j = 0; j < S; j++) for (let k = 0; k < S; k++) next[j] += row[k] * M[k * S + j];
    row = next;
  }
  return { condStd, priorStd, optimalLoss: 0.5 * Math.log(1 + varT / s.obsSigma ** 2) };
}

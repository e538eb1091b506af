/**
 * Built-in SDE models (docs/design/sde.md) and the score-SDE forward processes. A {@link Model} is a
 * plain description: what it is, its dimensions, noise type and calculus, the methods it
 * supports, and (internally) either the flat parameter block of a fused native kernel or the
 * JavaScript callbacks of a user model. New model kinds (e.g. fBM-driven systems built from a
 * state plus K Ornstein–Uhlenbeck factors sharing one Brownian motion) are added the same way:
 * a `kind`, its parameter layout (native/kernels/sde_fused.h) and its methods.
 * @packageDocumentation
 */
import { InvalidArgumentError, ShapeError } from '../errors';
import { FloatArray, checkBacking, checkNumber, checkOptions, describe, optionKeys } from '../validate';

/** A list of numbers (Array or typed array). */
export type Vec = ArrayLike<number>;
/** Noise structure of g (docs/design/sde.md): diagonal [P,d], additive [d,m] shared, scalar [P,d] with m = 1, general [P,d,m]. */
export type NoiseType = 'diagonal' | 'additive' | 'scalar' | 'general';
/** Stochastic calculus a model's equations are written in. */
export type Calculus = 'ito' | 'stratonovich';
/** Integration methods (docs/design/sde.md). */
export type Method = 'euler' | 'milstein' | 'heun' | 'sra1' | 'exact' | 'euler-ft' | 'log-euler-ft';

/** Native method codes (native/kernels/sde_fused.h `Method`). @internal */
export const METHOD_CODE: Record<Method, number> = {
  euler: 0, milstein: 1, heun: 2, sra1: 3, exact: 4, 'euler-ft': 5, 'log-euler-ft': 6,
};
/** Native fused kinds (native/kernels/sde_fused.h `FusedKind`). @internal */
export const KIND_CODE = { linear: 0, gbm: 1, cir: 2, heston: 3, gmm: 4 } as const;

/**
 * Parameters of a fused native kernel. `build(dim, h, t0, steps)` returns the flat parameter
 * block (float64, cast once to the state type natively) and the time-coefficient table: one
 * shared row of 7, or one row per step (`perStep`).
 * @internal
 */
export interface FusedSpec {
  code: number;
  mixture: number;
  build(dim: number, h: number, t0: number, t1: number, steps: number, method: Method): { par: Float64Array; tcoef: Float64Array; perStep: boolean };
  /** Transforms a saved value back from the raw state (documentation only: done natively). */
  saves?: string;
}

/** Callbacks of a user-defined model (see `define`). @internal */
export interface UserSpec {
  drift(t: number, x: FloatArray, out: FloatArray, n: number): void;
  diffusion(t: number, x: FloatArray, out: FloatArray, n: number): void;
  diffusionDx?(t: number, x: FloatArray, out: FloatArray, n: number): void;
}

/** An SDE dX = f(t,X)dt + g(t,X)dW ready for {@link simulate}. Build one with `models.*` or `define`. */
export interface Model {
  /** What the model is: 'ou', 'gbm', 'cir', 'heston', 'gmmLangevin', 'vp', 'subVp', 've' or 'user'. */
  readonly kind: string;
  /** State dimension d; 0 means "any" (taken from x0: OU with scalar parameters, VP/sub-VP/VE). */
  readonly dim: number;
  /** Brownian dimension m; 0 means "same as dim". */
  readonly brownianDim: number;
  readonly noise: NoiseType;
  readonly calculus: Calculus;
  /** Methods this model accepts. */
  readonly methods: readonly Method[];
  /** @internal */
  readonly fused?: FusedSpec;
  /** @internal */
  readonly user?: UserSpec;
}

function vec(name: string, v: unknown, opts: { min?: number; positive?: boolean } = {}): Float64Array {
  if (typeof v === 'number') v = [v];
  if (v === null || typeof v !== 'object' || typeof (v as Vec).length !== 'number') {
    throw new InvalidArgumentError(`${name} must be a number or an array of numbers, got ${describe(v)}`);
  }
  checkBacking(name, v);
  const a = Float64Array.from(v as Vec);
  if (a.length === 0) throw new ShapeError(`${name} must not be empty`);
  a.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new InvalidArgumentError(`${name}[${i}] must be finite, got ${x}`);
    if (opts.positive && !(x > 0)) throw new InvalidArgumentError(`${name}[${i}] must be > 0, got ${x}`);
    if (opts.min !== undefined && !(x >= opts.min)) throw new InvalidArgumentError(`${name}[${i}] must be >= ${opts.min}, got ${x}`);
  });
  return a;
}

/** Per-dimension parameter broadcast: length 1 or d. */
function perDim(name: string, a: Float64Array, d: number): Float64Array {
  if (a.length === d) return a;
  if (a.length === 1) return new Float64Array(d).fill(a[0]);
  throw new ShapeError(`${name} has ${a.length} values but the state has ${d} dimensions`);
}

const ONE_ROW = new Float64Array([1, 1, 1, 1, 1, 1, 1]);

/** Parameters of `sde.models.ou`: per-dimension values or scalars. */
export interface OuParams {
  /** Mean-reversion speed θ ≥ 0. */
  theta: Vec | number;
  /** Long-run mean μ. */
  mu: Vec | number;
  /** Volatility σ ≥ 0. */
  sigma: Vec | number;
}
const OU_KEYS = optionKeys<OuParams>()(['theta', 'mu', 'sigma']);

/**
 * Ornstein–Uhlenbeck: dX_i = θ_i(μ_i − X_i)dt + σ_i dW_i (additive noise). Scalars broadcast.
 * Methods: exact, euler, heun, sra1. Stationary variance σ²/(2θ).
 */
export function ou(p: OuParams): Model {
  checkOptions('sde.models.ou', p, OU_KEYS);
  const theta = vec('theta', p.theta, { min: 0 });
  const mu = vec('mu', p.mu);
  const sigma = vec('sigma', p.sigma, { min: 0 });
  const lens = [theta.length, mu.length, sigma.length].filter((n) => n > 1);
  if (lens.some((n) => n !== lens[0])) throw new ShapeError('theta, mu and sigma must have the same length (or length 1)');
  const dim = lens.length ? lens[0] : 0;
  return {
    kind: 'ou', dim, brownianDim: 0, noise: 'additive', calculus: 'ito',
    methods: ['exact', 'euler', 'heun', 'sra1'],
    fused: {
      code: KIND_CODE.linear, mixture: 0,
      build(d, h) {
        const th = perDim('theta', theta, d), m = perDim('mu', mu, d), s = perDim('sigma', sigma, d);
        const par = new Float64Array(6 * d);
        const sq = Math.sqrt(Math.abs(h));
        for (let i = 0; i < d; i++) {
          par[i] = th[i];
          par[d + i] = th[i] * m[i];
          par[2 * d + i] = s[i];
          par[3 * d + i] = m[i];
          // Exact transition (docs/design/sde.md): a = e^{−θh}, b = σ sqrt(−expm1(−2θh)/(2θ)), σ√h when θ = 0.
          par[4 * d + i] = Math.exp(-th[i] * h);
          const b = th[i] === 0 ? s[i] * sq : s[i] * Math.sqrt(-Math.expm1(-2 * th[i] * h) / (2 * th[i]));
          par[5 * d + i] = b / sq;
        }
        return { par, tcoef: ONE_ROW, perStep: false };
      },
    },
  };
}

/** Lower Cholesky factor of a symmetric positive-definite d×d matrix (row-major), in float64. */
function cholesky(c: Float64Array, d: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = c[i * d + j];
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      if (i === j) {
        if (!(s > 0)) throw new InvalidArgumentError('corr must be symmetric positive definite');
        L[i * d + i] = Math.sqrt(s);
      } else {
        L[i * d + j] = s / L[j * d + j];
      }
    }
  }
  return L;
}

/** Parameters of `sde.models.gbm`. */
export interface GbmParams {
  /** Drift μ per asset (or one for all). */
  mu: Vec | number;
  /** Volatility σ ≥ 0 per asset (or one for all). */
  sigma: Vec | number;
  /** Correlation matrix, d×d row-major with unit diagonal (default identity). */
  corr?: Vec;
}
const GBM_KEYS = optionKeys<GbmParams>()(['mu', 'sigma', 'corr']);

/**
 * Correlated geometric Brownian motion dS_i = μ_i S_i dt + σ_i S_i dW̃_i, corr(dW̃_i, dW̃_j) = ρ_ij.
 * Methods: exact (pathwise), euler, milstein. `corr` is a d×d row-major matrix with unit diagonal.
 */
export function gbm(p: GbmParams): Model {
  checkOptions('sde.models.gbm', p, GBM_KEYS);
  const mu = vec('mu', p.mu);
  const sigma = vec('sigma', p.sigma, { min: 0 });
  const d = Math.max(mu.length, sigma.length);
  const m = perDim('mu', mu, d), s = perDim('sigma', sigma, d);
  if (d > 32) throw new InvalidArgumentError('gbm supports at most 32 assets per path');
  let L: Float64Array;
  if (p.corr === undefined) {
    L = new Float64Array(d * d);
    for (let i = 0; i < d; i++) L[i * d + i] = 1;
  } else {
    const c = vec('corr', p.corr);
    if (c.length !== d * d) throw new ShapeError(`corr must hold ${d}×${d} values, has ${c.length}`);
    for (let i = 0; i < d; i++) {
      if (Math.abs(c[i * d + i] - 1) > 1e-12) throw new InvalidArgumentError('corr must have a unit diagonal');
      for (let j = 0; j < i; j++) {
        if (Math.abs(c[i * d + j] - c[j * d + i]) > 1e-12) throw new InvalidArgumentError('corr must be symmetric');
      }
    }
    L = cholesky(c, d);
  }
  return {
    kind: 'gbm', dim: d, brownianDim: d, noise: 'general', calculus: 'ito',
    methods: ['exact', 'euler', 'milstein'],
    fused: {
      code: KIND_CODE.gbm, mixture: 0,
      build(_d, h) {
        const par = new Float64Array(3 * d + d * d);
        for (let i = 0; i < d; i++) {
          par[i] = m[i];
          par[d + i] = s[i];
          par[2 * d + i] = (m[i] - 0.5 * s[i] * s[i]) * h;
        }
        par.set(L, 3 * d);
        return { par, tcoef: ONE_ROW, perStep: false };
      },
    },
  };
}

/** Parameters of `sde.models.cir`. */
export interface CirParams {
  /** Mean-reversion speed κ ≥ 0. */
  kappa: number;
  /** Long-run level θ ≥ 0. */
  theta: number;
  /** Volatility of variance ξ ≥ 0. */
  xi: number;
}
const CIR_KEYS = optionKeys<CirParams>()(['kappa', 'theta', 'xi']);

/**
 * Cox–Ingersoll–Ross dv = κ(θ − v)dt + ξ√v dW, full-truncation Euler (`euler-ft`). Saved values are
 * v̂⁺ ≥ 0; `final` holds the raw v̂ so that a resumed run is bit-exact.
 */
export function cir(p: CirParams): Model {
  checkOptions('sde.models.cir', p, CIR_KEYS);
  const kappa = checkNumber('kappa', p.kappa, { min: 0 });
  const theta = checkNumber('theta', p.theta, { min: 0 });
  const xi = checkNumber('xi', p.xi, { min: 0 });
  return {
    kind: 'cir', dim: 1, brownianDim: 1, noise: 'diagonal', calculus: 'ito', methods: ['euler-ft'],
    fused: { code: KIND_CODE.cir, mixture: 0, build: () => ({ par: new Float64Array([kappa, theta, xi]), tcoef: ONE_ROW, perStep: false }) },
  };
}

/** Parameters of `sde.models.heston`. */
export interface HestonParams {
  /** Drift of S. */
  mu: number;
  /** Mean-reversion speed κ ≥ 0 of v. */
  kappa: number;
  /** Long-run variance θ ≥ 0. */
  theta: number;
  /** Volatility of variance ξ ≥ 0. */
  xi: number;
  /** Correlation ρ ∈ [−1, 1] of the two Brownian motions. */
  rho: number;
}
const HESTON_KEYS = optionKeys<HestonParams>()(['mu', 'kappa', 'theta', 'xi', 'rho']);

/**
 * Heston stochastic volatility, state row (S, v): log-Euler for S and full truncation for v
 * (`log-euler-ft`), corr(dW₁, dW₂) = ρ. Saves (S, v̂⁺); `final` holds the raw (S, v̂).
 */
export function heston(p: HestonParams): Model {
  checkOptions('sde.models.heston', p, HESTON_KEYS);
  const mu = checkNumber('mu', p.mu);
  const kappa = checkNumber('kappa', p.kappa, { min: 0 });
  const theta = checkNumber('theta', p.theta, { min: 0 });
  const xi = checkNumber('xi', p.xi, { min: 0 });
  const rho = checkNumber('rho', p.rho, { min: -1, max: 1 });
  return {
    kind: 'heston', dim: 2, brownianDim: 2, noise: 'general', calculus: 'ito', methods: ['log-euler-ft'],
    fused: {
      code: KIND_CODE.heston, mixture: 0,
      build: () => ({ par: new Float64Array([mu, kappa, theta, xi, rho, Math.sqrt(1 - rho * rho)]), tcoef: ONE_ROW, perStep: false }),
    },
  };
}

/** Validated diagonal Gaussian mixture: K weights, K×d means and variances (a scalar or per-dimension variances broadcast). @internal */
export interface Mixture {
  K: number; d: number; weights: Float64Array; means: Float64Array; vars: Float64Array;
}

/** A diagonal Gaussian mixture as given by the caller. */
export interface MixtureParams {
  /** K positive weights (normalised to sum 1). */
  weights: Vec;
  /** K×d means, row-major. */
  means: Vec;
  /** Variances: one for all, one per component (K) or per component and dimension (K×d). */
  vars: Vec | number;
}
/** @internal Keys of {@link MixtureParams}, for callers that extend it. */
export const MIXTURE_KEYS = optionKeys<MixtureParams>()(['weights', 'means', 'vars']);

/** @internal Validates a mixture (the caller checks the option keys). */
export function mixture(p: MixtureParams): Mixture {
  const weights = vec('weights', p.weights, { positive: true });
  const K = weights.length;
  const means = vec('means', p.means);
  if (means.length % K !== 0) throw new ShapeError(`means must hold K×d values (K = ${K}), has ${means.length}`);
  const d = means.length / K;
  let vars = vec('vars', p.vars, { positive: true });
  if (vars.length === 1) vars = new Float64Array(K * d).fill(vars[0]);
  else if (vars.length === K) vars = Float64Array.from({ length: K * d }, (_, i) => vars[Math.floor(i / d)]);
  else if (vars.length !== K * d) throw new ShapeError(`vars must hold 1, K or K×d values, has ${vars.length}`);
  const tot = weights.reduce((a, b) => a + b, 0);
  return { K, d, weights: weights.map((w) => w / tot), means, vars };
}

/** Parameters of `sde.models.gmmLangevin`. */
export interface GmmLangevinParams extends MixtureParams {
  /** Temperature τ > 0 (default 1): the stationary law is ∝ p^{1/τ}. */
  temperature?: number;
}
const GMM_LANGEVIN_KEYS = optionKeys<GmmLangevinParams>()([...MIXTURE_KEYS, 'temperature']);

/**
 * Overdamped Langevin on a diagonal Gaussian mixture p: dX = ∇log p(X)dt + sqrt(2τ)dW, stationary
 * law ∝ p^{1/τ}. The score is closed-form and evaluated natively. K ≤ 64, d ≤ 32.
 * Methods: euler, heun, sra1.
 */
export function gmmLangevin(p: GmmLangevinParams): Model {
  checkOptions('sde.models.gmmLangevin', p, GMM_LANGEVIN_KEYS);
  const mx = mixture(p);
  const tau = checkNumber('temperature', p.temperature ?? 1, { min: 0, minExclusive: true });
  if (mx.K > 64 || mx.d > 32) throw new InvalidArgumentError('gmmLangevin supports K ≤ 64 components and d ≤ 32');
  const { K, d } = mx;
  const par = new Float64Array(1 + K + 2 * K * d);
  par[0] = Math.sqrt(2 * tau);
  for (let k = 0; k < K; k++) {
    let c = Math.log(mx.weights[k]);
    for (let i = 0; i < d; i++) c -= 0.5 * Math.log(2 * Math.PI * mx.vars[k * d + i]);
    par[1 + k] = c;
  }
  par.set(mx.means, 1 + K);
  for (let i = 0; i < K * d; i++) par[1 + K + K * d + i] = 1 / mx.vars[i];
  return {
    kind: 'gmmLangevin', dim: d, brownianDim: d, noise: 'additive', calculus: 'ito', methods: ['euler', 'heun', 'sra1'],
    fused: { code: KIND_CODE.gmm, mixture: K, build: () => ({ par, tcoef: ONE_ROW, perStep: false }) },
  };
}

/**
 * A score-SDE forward process (Song et al. 2021, docs/design/sde.md): dx = f(t)x dt + g(t)dW on [0, T = 1],
 * marginal x_t = m(t)x₀ + std(t)z. Also a {@link Model} (methods exact, euler, sra1) of any dim.
 */
export interface DiffusionProcess extends Model {
  readonly kind: 'vp' | 'subVp' | 've';
  /** End time T (1). */
  readonly T: number;
  /** Default smallest time of the samplers (1e-3 VP/sub-VP, 1e-5 VE). */
  readonly eps: number;
  /** Number of discrete scales N of the discrete forms (1000). */
  readonly N: number;
  /** Drift coefficient: f(x, t) = driftCoef(t)·x. */
  driftCoef(t: number): number;
  /** g(t)². */
  g2(t: number): number;
  /** Marginal mean scale m(t). */
  mean(t: number): number;
  /** Marginal standard deviation std(t). */
  std(t: number): number;
  /** Standard deviation of the prior N(0, σ²I) at T. */
  readonly priorStd: number;
  /** Parameters as given. */
  readonly params: Readonly<Record<string, number>>;
}

function linearProcess(kind: 'vp' | 'subVp' | 've', params: Record<string, number>, fns: {
  driftCoef(t: number): number; g2(t: number): number; mean(t: number): number; std(t: number): number;
  priorStd: number; eps: number; A(t: number): number; transition(t: number, t2: number): [number, number]; theta: number;
}): DiffusionProcess {
  return {
    kind, dim: 0, brownianDim: 0, noise: 'additive', calculus: 'ito', methods: ['exact', 'euler', 'sra1'],
    T: 1, eps: fns.eps, N: 1000, priorStd: fns.priorStd, params,
    driftCoef: fns.driftCoef, g2: fns.g2, mean: fns.mean, std: fns.std,
    fused: {
      code: KIND_CODE.linear, mixture: 0,
      build(d, h, t0, t1, steps) {
        // θ = ½ (VP) or 0 (VE), κ = 0, σ = 1, μ = 0, ea = eb = 1: time dependence lives in the table.
        const par = new Float64Array(6 * d);
        par.fill(fns.theta, 0, d);
        par.fill(1, 2 * d, 3 * d);
        par.fill(1, 4 * d, 6 * d);
        const tc = new Float64Array(7 * steps);
        const sq = Math.sqrt(Math.abs(h));
        const at = (n: number): number => (n === steps ? t1 : t0 + n * h);
        for (let n = 0; n < steps; n++) {
          const t = at(n), tn = at(n + 1);
          const [a, v] = fns.transition(t, tn);
          tc.set([fns.A(t), fns.A(t + 0.75 * h), fns.A(tn), Math.sqrt(fns.g2(t)), Math.sqrt(fns.g2(tn)), a, Math.sqrt(Math.max(v, 0)) / sq], 7 * n);
        }
        return { par, tcoef: tc, perStep: true };
      },
    },
  };
}

/** Parameters of `sde.models.vp` and `sde.models.subVp`: the linear β schedule. */
export interface VpParams {
  /** β_min ≥ 0 (default 0.1). */
  betaMin?: number;
  /** β_max ≥ 0 (default 20). */
  betaMax?: number;
}
const VP_KEYS = optionKeys<VpParams>()(['betaMin', 'betaMax']);

/** Variance-preserving SDE (DDPM in continuous time): β(t) = β_min + t(β_max − β_min). */
export function vp(p: VpParams = {}): DiffusionProcess {
  checkOptions('sde.models.vp', p, VP_KEYS);
  const b0 = checkNumber('betaMin', p.betaMin ?? 0.1, { min: 0 });
  const b1 = checkNumber('betaMax', p.betaMax ?? 20, { min: 0 });
  const beta = (t: number): number => b0 + t * (b1 - b0);
  const B = (t: number): number => b0 * t + 0.5 * t * t * (b1 - b0);
  return linearProcess('vp', { betaMin: b0, betaMax: b1 }, {
    driftCoef: (t) => -0.5 * beta(t), g2: beta, mean: (t) => Math.exp(-0.5 * B(t)), std: (t) => Math.sqrt(-Math.expm1(-B(t))),
    priorStd: 1, eps: 1e-3, A: beta, theta: 0.5,
    transition: (t, t2) => [Math.exp(-0.5 * (B(t2) - B(t))), -Math.expm1(-(B(t2) - B(t)))],
  });
}

/** Sub-VP SDE: g(t)² = β(t)(1 − e^{−2B(t)}), std(t) = 1 − e^{−B(t)}. */
export function subVp(p: VpParams = {}): DiffusionProcess {
  checkOptions('sde.models.subVp', p, VP_KEYS);
  const b0 = checkNumber('betaMin', p.betaMin ?? 0.1, { min: 0 });
  const b1 = checkNumber('betaMax', p.betaMax ?? 20, { min: 0 });
  const beta = (t: number): number => b0 + t * (b1 - b0);
  const B = (t: number): number => b0 * t + 0.5 * t * t * (b1 - b0);
  const std = (t: number): number => -Math.expm1(-B(t));
  return linearProcess('subVp', { betaMin: b0, betaMax: b1 }, {
    driftCoef: (t) => -0.5 * beta(t), g2: (t) => beta(t) * -Math.expm1(-2 * B(t)), mean: (t) => Math.exp(-0.5 * B(t)), std,
    priorStd: 1, eps: 1e-3, A: beta, theta: 0.5,
    transition: (t, t2) => {
      const a = Math.exp(-0.5 * (B(t2) - B(t)));
      return [a, std(t2) ** 2 - a * a * std(t) ** 2];
    },
  });
}

/** Parameters of `sde.models.ve`: the geometric σ schedule. */
export interface VeParams {
  /** σ_min > 0 (default 0.01). */
  sigmaMin?: number;
  /** σ_max > 0 (default 50). */
  sigmaMax?: number;
}
const VE_KEYS = optionKeys<VeParams>()(['sigmaMin', 'sigmaMax']);

/** Variance-exploding SDE: σ(t) = σ_min(σ_max/σ_min)^t, g(t)² = σ(t)²·2 ln(σ_max/σ_min). */
export function ve(p: VeParams = {}): DiffusionProcess {
  checkOptions('sde.models.ve', p, VE_KEYS);
  const s0 = checkNumber('sigmaMin', p.sigmaMin ?? 0.01, { min: 0, minExclusive: true });
  const s1 = checkNumber('sigmaMax', p.sigmaMax ?? 50, { min: 0, minExclusive: true });
  const sigma = (t: number): number => s0 * Math.pow(s1 / s0, t);
  const lr = Math.log(s1 / s0);
  return linearProcess('ve', { sigmaMin: s0, sigmaMax: s1 }, {
    driftCoef: () => 0, g2: (t) => sigma(t) ** 2 * 2 * lr, mean: () => 1, std: sigma,
    priorStd: s1, eps: 1e-5, A: () => 0, theta: 0,
    transition: (t, t2) => [1, sigma(t2) ** 2 - sigma(t) ** 2],
  });
}

/** True when `m` is one of the score-SDE processes. */
export function isDiffusionProcess(m: unknown): m is DiffusionProcess {
  return typeof m === 'object' && m !== null && ['vp', 'subVp', 've'].includes((m as Model).kind) && typeof (m as DiffusionProcess).std === 'function';
}

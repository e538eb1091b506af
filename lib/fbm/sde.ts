/**
 * fBM-driven SDEs as augmented Markov systems (docs/design/fbm.md): the state X plus K OU factors
 * per dimension, all driven by one Brownian motion. A fused native simulator for the built-in
 * models (fractional OU, rough volatility) and the controlled Euler step of the variational
 * trainer (docs/design/fbm.md), with the option conventions of `sde.simulate`.
 * @packageDocumentation
 */
import { InvalidArgumentError, ShapeError } from '../errors';
import { RUN_KEYS, RunOptions, runNative, runNativeSync } from '../run';
import {
  Dtype, FloatArray, Seed, allocate, checkBacking, checkDtype, checkInt, checkNumber, checkOneOf, checkOptions, checkSize, describe, newArray, optionKeys, seedKey,
  toFloat64,
} from '../validate';
import { fbmAddon } from './addon';
import { markovCoefficients, resolveGammas } from './coefficients';
import { FbmType, Normalization, checkHorizon, checkHurst, checkNormalization, checkOmegas, checkType, typeCode } from './options';

/** A built-in fBM-driven model. Build one with {@link fou} or {@link roughVol}. */
export interface FbmSdeModel {
  /** 'fou' or 'roughVol'. */
  readonly kind: 'fou' | 'roughVol';
  /** fBM-driven dimensions D. */
  readonly fbmDims: number;
  /** State dimension: D for fOU, 2 (log σ, log S) for rough volatility. */
  readonly stateDim: number;
  /** @internal packed parameters */
  readonly params: Float64Array;
}

function vec(name: string, v: unknown): Float64Array {
  const a = typeof v === 'number' ? new Float64Array([v]) : ArrayBuffer.isView(v) || Array.isArray(v) ? toFloat64(name, v) : null;
  if (!a || a.length === 0) throw new InvalidArgumentError(`${name} must be a number or a non-empty array, got ${describe(v)}`);
  a.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new InvalidArgumentError(`${name}[${i}] must be finite`);
  });
  return a;
}

/** Parameters of {@link fou}: per-dimension values or scalars. */
export interface FouParams {
  /** Mean-reversion speed θ ≥ 0. */
  theta: number | ArrayLike<number>;
  /** Long-run mean μ (default 0). */
  mu?: number | ArrayLike<number>;
  /** Volatility σ (default 1). */
  sigma?: number | ArrayLike<number>;
}
const FOU_KEYS = optionKeys<FouParams>()(['theta', 'mu', 'sigma']);

/**
 * Fractional Ornstein–Uhlenbeck, dX_d = θ_d(μ_d − X_d)dt + σ_d dB̂_d, with D independent
 * fBM-driven dimensions (scalars broadcast). σ is constant, so Itô and Stratonovich agree.
 */
export function fou(p: FouParams): FbmSdeModel {
  checkOptions('fbm.models.fou', p, FOU_KEYS);
  const th = vec('theta', p.theta), mu = vec('mu', p.mu ?? 0), sg = vec('sigma', p.sigma ?? 1);
  const D = Math.max(th.length, mu.length, sg.length);
  for (const [n, a] of [['theta', th], ['mu', mu], ['sigma', sg]] as const) {
    if (a.length !== 1 && a.length !== D) throw new ShapeError(`${n} has ${a.length} values, expected 1 or ${D}`);
  }
  th.forEach((x) => { if (x < 0) throw new InvalidArgumentError('theta must be >= 0'); });
  const params = new Float64Array(3 * D);
  for (let d = 0; d < D; d++) {
    params[d] = th[th.length === 1 ? 0 : d];
    params[D + d] = mu[mu.length === 1 ? 0 : d];
    params[2 * D + d] = sg[sg.length === 1 ? 0 : d];
  }
  return { kind: 'fou', fbmDims: D, stateDim: D, params };
}

/** Parameters of {@link roughVol}. */
export interface RoughVolParams {
  /** Mean reversion κ ≥ 0 of log σ. */
  kappa: number;
  /** Long-run mean m of log σ. */
  meanLogVol: number;
  /** Volatility ν ≥ 0 of log σ. */
  nu: number;
  /** Drift μ of the asset (default 0). */
  mu?: number;
  /** Correlation ρ ∈ [−1, 1] of the asset's and the fBM's Brownian motions (default 0). */
  rho?: number;
}
const ROUGH_VOL_KEYS = optionKeys<RoughVolParams>()(['kappa', 'meanLogVol', 'nu', 'mu', 'rho']);

/**
 * Rough fractional stochastic volatility (Gatheral, Jaisson & Rosenbaum 2018, with MA-fBM):
 * X = log σ_t follows dX = κ(m − X)dt + ν dB̂ (use H < ½, type 'II' by convention), and the asset
 * log-price dL = (μ − ½σ²)dt + σ dW_S with dW_S = ρ dW + √(1−ρ²) dW⊥, W the fBM's Brownian
 * motion. State (log σ, log S).
 */
export function roughVol(p: RoughVolParams): FbmSdeModel {
  checkOptions('fbm.models.roughVol', p, ROUGH_VOL_KEYS);
  const kappa = checkNumber('kappa', p.kappa, { min: 0 });
  const m = checkNumber('meanLogVol', p.meanLogVol);
  const nu = checkNumber('nu', p.nu, { min: 0 });
  const mu = checkNumber('mu', p.mu ?? 0);
  const rho = checkNumber('rho', p.rho ?? 0, { min: -1, max: 1 });
  return { kind: 'roughVol', fbmDims: 1, stateDim: 2, params: new Float64Array([kappa, m, nu, mu, rho]) };
}

/** Built-in fBM-driven models. */
export const models = {
  /** Fractional Ornstein–Uhlenbeck driven by MA-fBM. */
  fou,
  /** Rough fractional stochastic volatility (Gatheral, Jaisson & Rosenbaum 2018, with MA-fBM). */
  roughVol,
};

/** Driving MA-fBM of an fBM-driven simulation. */
export interface DrivingNoise {
  /** Hurst index H ∈ (0, 1). */
  hurst: number;
  /** 'I' (default) or 'II'. */
  type?: FbmType;
  K?: number;
  gammaMax?: number;
  gammas?: ArrayLike<number>;
  /** Own weights (e.g. from a trainer that learns H): skips the solve. */
  omegas?: ArrayLike<number>;
  /** Fit window of the weights (default t1). */
  omegaHorizon?: number;
  normalization?: Normalization;
}

/** @internal Keys of {@link DrivingNoise}, shared by the options that extend it. */
export const DRIVING_KEYS = optionKeys<DrivingNoise>()(['hurst', 'type', 'K', 'gammaMax', 'gammas', 'omegas', 'omegaHorizon', 'normalization']);

/** Options of {@link simulate} (the conventions of `sde.simulate`). */
export interface FbmSdeOptions extends DrivingNoise {
  paths: number;
  /** Initial state: stateDim values shared by all paths, or paths·stateDim values. */
  x0: ArrayLike<number>;
  /** Horizon (the grid starts at 0). */
  t1: number;
  steps: number;
  /** 'exact' (default): exact OU factors, X by Euler on the exact ΔB̂; 'euler': the augmented system by Euler. */
  scheme?: 'exact' | 'euler';
  seed: Seed;
  pathOffset?: number;
  /** 'final' (default) or { every: k }. */
  save?: 'final' | { every: number };
  /** Output precision (default 'float32'); the state is float64 either way. */
  dtype?: Dtype;
  /** Also return the OU factors Y after the last step ([paths, D, K]). */
  returnFactors?: boolean;
}

const FBM_SDE_KEYS = optionKeys<FbmSdeOptions>()([
  ...DRIVING_KEYS, 'paths', 'x0', 't1', 'steps', 'scheme', 'seed', 'pathOffset', 'save', 'dtype', 'returnFactors',
]);

/** Result of {@link simulate}. */
export interface FbmSdeResult<A extends FloatArray = FloatArray> {
  times: Float64Array;
  /** Saved states [S, P, stateDim]. */
  data: A;
  shape: [number, number, number];
  factors?: Float64Array;
  gammas: Float64Array;
  omegas: Float64Array;
  stats: { pathSteps: number; wallMs: number; device: 'cpu' };
}

const MODEL_CODE = { fou: 0, roughVol: 1 } as const;
const SAVE_EVERY_KEYS = optionKeys<Exclude<FbmSdeOptions['save'], 'final' | undefined>>()(['every']);

function checkModel(m: unknown): FbmSdeModel {
  const mm = m as FbmSdeModel;
  if (!mm || typeof mm !== 'object' || !(mm.kind in MODEL_CODE) || !(mm.params instanceof Float64Array || ArrayBuffer.isView(mm.params))) {
    throw new InvalidArgumentError('model must come from fbm.models.fou or fbm.models.roughVol');
  }
  return mm;
}

/** Resolves γ and ω of the driving noise. @internal */
export function drivingWeights(o: DrivingNoise, T: number): { type: FbmType; gammas: Float64Array; omegas: Float64Array } {
  const hurst = checkHurst(o.hurst);
  const type = checkType(o.type);
  const gammas = resolveGammas(o);
  let omegas: Float64Array;
  if (o.omegas !== undefined) {
    omegas = checkOmegas(o.omegas, gammas.length);
  } else {
    omegas = markovCoefficients({ hurst, type, gammas, T: checkHorizon('omegaHorizon', o.omegaHorizon, T), normalization: checkNormalization(o.normalization) }).omegas;
  }
  return { type, gammas, omegas };
}

interface SdePlan {
  res: FbmSdeResult;
  call: (control: Float64Array | null, async: boolean) => Promise<void> | undefined;
}

function plan(model: FbmSdeModel, o: FbmSdeOptions, where: string, allowed: readonly string[]): SdePlan {
  const m = checkModel(model);
  checkOptions(where, o, allowed);
  const P = checkInt('paths', o.paths, 0, 2 ** 31 - 1);
  const N = checkInt('steps', o.steps, 1, 2 ** 32 - 1);
  const T = checkNumber('t1', o.t1, { min: 0, minExclusive: true });
  const scheme = o.scheme === undefined ? 'exact' : checkOneOf('scheme', o.scheme, ['exact', 'euler'] as const);
  const dtype = checkDtype(o.dtype);
  const [lo, hi] = seedKey(o.seed);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - 1 - P);
  const { type, gammas, omegas } = drivingWeights(o, T);
  if (scheme === 'euler' && !((gammas[gammas.length - 1] * T) / N < 0.5)) {
    throw new InvalidArgumentError(`scheme 'euler' needs gammaMax*dt < 0.5, got ${(gammas[gammas.length - 1] * T) / N}`);
  }
  const sd = m.stateDim;
  const x0 = toFloat64('x0', o.x0);
  if (x0.length !== sd && x0.length !== P * sd) throw new ShapeError(`x0 must hold ${sd} or paths*${sd} values, has ${x0.length}`);
  x0.forEach((x, i) => { if (!Number.isFinite(x)) throw new InvalidArgumentError(`x0[${i}] is not finite`); });
  let every = 0;
  if (o.save !== undefined && o.save !== 'final') {
    if (typeof o.save !== 'object' || o.save === null || !('every' in o.save)) throw new InvalidArgumentError("save must be 'final' or { every }");
    checkOptions(`${where} save`, o.save, SAVE_EVERY_KEYS);
    every = checkInt('save.every', o.save.every, 1, N);
  }
  const S = every === 0 ? 1 : Math.ceil(N / every) + 1;
  // The save count also sizes `times`, so it is bounded even when there are no paths.
  if (S * Math.max(P * sd, 1) > 2 ** 31 - 1) throw new InvalidArgumentError(`the output would hold ${S}·${P}·${sd} values, above 2^31 − 1; split the work`);
  const times = new Float64Array(S);
  if (every === 0) times[0] = T;
  else for (let s = 0; s < S; s++) times[s] = (Math.min(s * every, N) * T) / N;
  const data = allocate(dtype, S * P * sd);
  const factors = o.returnFactors ? newArray(Float64Array, P * m.fbmDims * gammas.length, 'the factors (paths·D·K)') : null;
  const res: FbmSdeResult = { times, data, shape: [S, P, sd], gammas, omegas, stats: { pathSteps: P * N, wallMs: 0, device: 'cpu' } };
  if (factors) res.factors = factors;
  return {
    res,
    call: (control, async) => fbmAddon().fbmSdeSimulate({
      out: data, finalY: factors, model: MODEL_CODE[m.kind], params: m.params, D: m.fbmDims, stateDim: sd, paths: P, n: N, T,
      exact: scheme === 'exact', type: typeCode(type), gammas, omegas, keyLo: lo, keyHi: hi, pathOffset, x0, x0PerPath: x0.length !== sd,
      saveEvery: every, control, async,
    }),
  };
}

/**
 * Simulates an fBM-driven SDE (built-in model) with the fused native kernel. Same seed ⇒ the same
 * W as `fbm.sample` and as a plain `sde.simulate` run (BROWNIAN lane d, step j).
 * @example
 * ```ts
 * const r = fbm.simulateSync(fbm.models.fou({ theta: 1, sigma: 0.5 }),
 *   { hurst: 0.7, paths: 10_000, x0: [0], t1: 2, steps: 200, seed: 1 });
 * ```
 */
export function simulateSync<D extends Dtype = 'float32'>(model: FbmSdeModel, o: FbmSdeOptions & { dtype?: D }): FbmSdeResult<D extends 'float64' ? Float64Array : Float32Array> {
  const p = plan(model, o, 'fbm.simulateSync', FBM_SDE_KEYS);
  const t0 = Date.now();
  runNativeSync(() => p.call(null, false));
  p.res.stats.wallMs = Date.now() - t0;
  return p.res as FbmSdeResult<D extends 'float64' ? Float64Array : Float32Array>;
}

/** {@link simulateSync} off the event loop, with AbortSignal and progress. */
export async function simulate<D extends Dtype = 'float32'>(model: FbmSdeModel, o: FbmSdeOptions & RunOptions & { dtype?: D }): Promise<FbmSdeResult<D extends 'float64' ? Float64Array : Float32Array>> {
  const p = plan(model, o, 'fbm.simulate', [...FBM_SDE_KEYS, ...RUN_KEYS]);
  const t0 = Date.now();
  await runNative(o, (control) => p.call(control, true));
  p.res.stats.wallMs = Date.now() - t0;
  return p.res as FbmSdeResult<D extends 'float64' ? Float64Array : Float32Array>;
}

/** Options of {@link createControlledStepper}. */
export interface ControlledStepperOptions extends DrivingNoise {
  paths: number;
  x0: ArrayLike<number>;
  t1: number;
  steps: number;
  seed: Seed;
  pathOffset?: number;
}

const CONTROLLED_KEYS = optionKeys<ControlledStepperOptions>()([...DRIVING_KEYS, 'paths', 'x0', 't1', 'steps', 'seed', 'pathOffset']);

/**
 * The posterior of the variational trainer (docs/design/fbm.md) stepped by Euler:
 * dY_k = (−γ_kY_k + u)dt + dW, dX = [b(X) − σΣω_kγ_kY_k + σω̄u]dt + σω̄dW, and
 * kl += ½u²Δ per path (Girsanov). The state lives in Float64Arrays the caller reads between
 * steps (e.g. as control-network input).
 */
export interface ControlledStepper {
  /** X, [paths, stateDim]. */
  readonly x: Float64Array;
  /** OU factors Y, [paths, D, K]. */
  readonly y: Float64Array;
  /** Accumulated ½∫|u|²dt per path. */
  readonly kl: Float64Array;
  readonly gammas: Float64Array;
  readonly omegas: Float64Array;
  /** Steps taken so far; the current time is step·dt. */
  readonly step: number;
  readonly dt: number;
  /** Advances one step with control u ([paths, D], or omitted for the prior). */
  advance(u?: Float64Array): void;
}

/** Creates a {@link ControlledStepper}: Y(0) ~ N(0, C) for type I (FBM_INIT stream), else 0. */
export function createControlledStepper(model: FbmSdeModel, o: ControlledStepperOptions): ControlledStepper {
  const m = checkModel(model);
  checkOptions('fbm.createControlledStepper', o, CONTROLLED_KEYS);
  const P = checkInt('paths', o.paths, 1, 2 ** 31 - 1);
  const N = checkInt('steps', o.steps, 1, 2 ** 32 - 1);
  const T = checkNumber('t1', o.t1, { min: 0, minExclusive: true });
  const [lo, hi] = seedKey(o.seed);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - 1 - P);
  const { type, gammas, omegas } = drivingWeights(o, T);
  const dt = T / N;
  if (!(gammas[gammas.length - 1] * dt < 0.5)) throw new InvalidArgumentError(`the controlled Euler step needs gammaMax*dt < 0.5, got ${gammas[gammas.length - 1] * dt}`);
  const sd = m.stateDim, D = m.fbmDims, K = gammas.length;
  const x0 = toFloat64('x0', o.x0);
  if (x0.length !== sd && x0.length !== P * sd) throw new ShapeError(`x0 must hold ${sd} or paths*${sd} values`);
  checkSize('the factors (paths·D·K)', P * D * K);
  const x = newArray(Float64Array, P * sd, 'the state (paths·stateDim)');
  for (let p = 0; p < P; p++) x.set(x0.length === sd ? x0 : x0.subarray(p * sd, (p + 1) * sd), p * sd);
  const y = newArray(Float64Array, P * D * K, 'the factors (paths·D·K)');
  runNativeSync(() => fbmAddon().fbmInitialFactors({ y, paths: P, D, gammas, type: typeCode(type), keyLo: lo, keyHi: hi, pathOffset }));
  const kl = new Float64Array(P);
  const code = MODEL_CODE[m.kind];
  let step = 0;
  return {
    x, y, kl, gammas, omegas, dt,
    get step() {
      return step;
    },
    advance(u?: Float64Array) {
      if (step >= N) throw new InvalidArgumentError(`all ${N} steps were taken`);
      if (u !== undefined && (!ArrayBuffer.isView(u) || Object.prototype.toString.call(u) !== '[object Float64Array]' || u.length !== P * D)) {
        throw new ShapeError(`u must be a Float64Array of paths*D = ${P * D} values`);
      }
      if (u !== undefined) checkBacking('u', u);
      runNativeSync(() => fbmAddon().fbmControlledStep({
          x, y, u: u ?? null, kl: u ? kl : null, model: code, params: m.params, D, dt, gammas, omegas, keyLo: lo, keyHi: hi, pathOffset, step,
        }));
      step++;
    },
  } as ControlledStepper;
}

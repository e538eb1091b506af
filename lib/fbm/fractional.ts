/**
 * MA-fBM-driven SDEs on the generic SDE engine (docs/design/fbm.md): `fractionalSDE` turns a user model
 * of `sde.define` (dX = b dt + σ dB̂, diagonal σ) into the augmented system
 * Z = (X_d, Y_d1..Y_dK) with dY_k = −γ_kY_k dt + dW_d, dX_d = [b − σΣω_kγ_kY_k]dt + σω̄ dW_d,
 * noise 'general' [D(1+K), D], which `sde.simulate` integrates like any other model. The element
 * work of the wrapper runs natively (native/fbm/fbm_augment.cc); only the base callbacks run in JS.
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { runNativeSync } from '../run';
import { define } from '../sde/define';
import type { Model } from '../sde/models';
import { FloatArray, Seed, allocate, checkInt, checkOneOf, checkOptions, checkSize, newArray, optionKeys, seedKey, toFloat64 } from '../validate';
import { fbmAddon } from './addon';
import { DRIVING_KEYS, DrivingNoise, drivingWeights } from './sde';
import { FbmType, checkHorizon, typeCode } from './options';

/** Options of {@link fractionalSDE}. */
export interface FractionalOptions extends DrivingNoise {
  /** Fit window of the weights (default 1): use the simulation horizon. */
  T?: number;
  /**
   * How dB̂ is read (default 'stratonovich', as the official code): the augmented model then has
   * calculus 'stratonovich' (`sde.simulate` method 'heun'). 'ito' gives an Itô model (method 'euler').
   */
  interpretation?: 'stratonovich' | 'ito';
  /**
   * With interpretation 'stratonovich', build the equivalent Itô model instead (adds ½ω̄²σ∂ₓσ to the
   * X drift; needs the base model's diffusionDx) so Euler can integrate it.
   */
  toIto?: boolean;
}

const FRACTIONAL_KEYS = optionKeys<FractionalOptions>()([...DRIVING_KEYS, 'T', 'interpretation', 'toIto']);

/** An augmented model from {@link fractionalSDE}: an `sde` Model plus its MA-fBM layout. */
export type FractionalModel = Model & {
  readonly fbm: { readonly D: number; readonly K: number; readonly type: FbmType; readonly gammas: Float64Array; readonly omegas: Float64Array };
};

/**
 * Builds the augmented Markov system of an fBM-driven SDE for `sde.simulate`. Start it from
 * {@link fractionalInitialState} (type I needs Y(0) ~ N(0, C)). Same seed ⇒ the same W as
 * `fbm.sample` (Brownian lane d at step j).
 * @example
 * ```ts
 * const base = sde.define({ dim: 1, noise: 'diagonal', calculus: 'ito',
 *   drift: (t, x, out, n) => { for (let i = 0; i < n; i++) out[i] = -x[i]; },
 *   diffusion: (t, x, out) => out.fill(0.5) });
 * const m = fbm.fractionalSDE(base, { hurst: 0.7, T: 1, interpretation: 'ito' });
 * const x0 = fbm.fractionalInitialState(m, { paths: 1000, x0: [0], seed: 1 });
 * const r = sde.simulateSync(m, { paths: 1000, x0, t1: 1, steps: 100, method: 'euler', seed: 1 });
 * ```
 */
export function fractionalSDE(base: Model, o: FractionalOptions): FractionalModel {
  if (base === null || typeof base !== 'object' || !base.user) {
    throw new InvalidArgumentError('fractionalSDE needs a user model from sde.define (built-in models have fused kernels; use fbm.simulate for fOU and rough volatility)');
  }
  if (base.noise !== 'diagonal' && !(base.noise === 'scalar' && base.dim === 1)) {
    throw new InvalidArgumentError(`fractionalSDE needs diagonal noise (one fBM per dimension), got '${base.noise}'`);
  }
  checkOptions('fbm.fractionalSDE', o, FRACTIONAL_KEYS);
  const D = checkInt('dim', base.dim, 1, 1 << 16);
  const { type, gammas, omegas } = drivingWeights(o, checkHorizon('T', o.T, 1));
  const K = gammas.length;
  const interp = o.interpretation === undefined ? 'stratonovich' : checkOneOf('interpretation', o.interpretation, ['stratonovich', 'ito'] as const);
  const toIto = o.toIto === true && interp === 'stratonovich';
  if (toIto && !base.user.diffusionDx) throw new InvalidArgumentError('toIto needs the base model’s diffusionDx (∂σ/∂x)');
  const user = base.user;
  const A = fbmAddon();
  // Scratch buffers per (paths, dtype), reused across calls.
  let cache: { n: number; f64: boolean; x: FloatArray; f: FloatArray; s: FloatArray; ds: FloatArray | null } | undefined;
  const scratch = (z: FloatArray, n: number): NonNullable<typeof cache> => {
    const f64 = z instanceof Float64Array || Object.prototype.toString.call(z) === '[object Float64Array]';
    if (!cache || cache.n !== n || cache.f64 !== f64) {
      const dt = f64 ? 'float64' : 'float32';
      cache = { n, f64, x: allocate(dt, n * D), f: allocate(dt, n * D), s: allocate(dt, n * D), ds: toIto ? allocate(dt, n * D) : null };
    }
    return cache;
  };
  const model = define({
    dim: D * (K + 1),
    brownianDim: D,
    noise: 'general',
    calculus: toIto ? 'ito' : interp,
    drift(t, z, out, n) {
      const b = scratch(z, n);
      runNativeSync(() => A.fbmAugment({ op: 0, z, P: n, D, gammas, omegas, x: b.x }));
      user.drift(t, b.x, b.f, n);
      user.diffusion(t, b.x, b.s, n);
      if (b.ds) user.diffusionDx!(t, b.x, b.ds, n);
      runNativeSync(() => A.fbmAugment({ op: 1, z, P: n, D, gammas, omegas, f: b.f, sigma: b.s, itoCorrection: b.ds, out }));
    },
    diffusion(t, z, out, n) {
      const b = scratch(z, n);
      runNativeSync(() => A.fbmAugment({ op: 0, z, P: n, D, gammas, omegas, x: b.x }));
      user.diffusion(t, b.x, b.s, n);
      runNativeSync(() => A.fbmAugment({ op: 2, z: null, P: n, D, gammas, omegas, sigma: b.s, out }));
    },
  });
  return { ...model, kind: `fractional(${base.kind})`, fbm: { D, K, type, gammas, omegas } };
}

/** Options of {@link fractionalInitialState}. */
export interface InitialStateOptions {
  /** Number of paths. */
  paths: number;
  /** X(0): D values shared by all paths, or paths·D values. */
  x0: ArrayLike<number>;
  /** Seed of Y(0) (type I). */
  seed: Seed;
  /** Path id of row 0 (default 0). */
  pathOffset?: number;
}
const INITIAL_STATE_KEYS = optionKeys<InitialStateOptions>()(['paths', 'x0', 'seed', 'pathOffset']);

/**
 * Initial augmented state [paths, D(1+K)]: X(0) = x0 (D values, or paths·D), Y(0) ~ N(0, C) drawn
 * from the FBM_INIT stream for type I (as `fbm.sample`), 0 for type II.
 */
export function fractionalInitialState(m: FractionalModel, o: InitialStateOptions): Float64Array {
  if (!m || typeof m !== 'object' || !m.fbm) throw new InvalidArgumentError('model must come from fbm.fractionalSDE');
  checkOptions('fbm.fractionalInitialState', o, INITIAL_STATE_KEYS);
  const { D, K, gammas, type } = m.fbm;
  const P = checkInt('paths', o.paths, 1, 2 ** 31 - 1);
  const [lo, hi] = seedKey(o.seed);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - 1 - P);
  const x0 = toFloat64('x0', o.x0);
  if (x0.length !== D && x0.length !== P * D) throw new InvalidArgumentError(`x0 must hold ${D} or paths*${D} values`);
  checkSize('the augmented state (paths·D·(K+1))', P * D * (K + 1));
  const y = newArray(Float64Array, P * D * K, 'the factors (paths·D·K)');
  runNativeSync(() => fbmAddon().fbmInitialFactors({ y, paths: P, D, gammas, type: typeCode(type), keyLo: lo, keyHi: hi, pathOffset }));
  // One-time interleave of X and Y into the augmented layout (setup, not a hot path).
  const z = newArray(Float64Array, P * D * (K + 1), 'the augmented state (paths·D·(K+1))');
  for (let p = 0; p < P; p++) {
    for (let d = 0; d < D; d++) {
      const o0 = (p * D + d) * (K + 1);
      z[o0] = x0.length === D ? x0[d] : x0[p * D + d];
      z.set(y.subarray((p * D + d) * K, (p * D + d + 1) * K), o0 + 1);
    }
  }
  return z;
}

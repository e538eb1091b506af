/**
 * Discrete-time samplers for ε-models: DDPM ancestral sampling (Ho et al. 2020) and DDIM (Song,
 * Meng, Ermon 2021), both with the optional Time-Shift sampler (Li et al., ICLR 2024; docs/design/sde.md).
 * Generic over dim, so they serve any ε-network (e.g. a UNet over flattened images).
 * @packageDocumentation
 */
import { DeviceArray, OutputOption } from '../device-array';
import { InvalidArgumentError, ShapeError } from '../errors';
import { streams } from '../rng';
import { Seed, checkFloatArray, checkInt, checkNumber, checkOneOf, checkOptions, optionKeys, seedKey } from '../validate';
import { OnDevice, ScoreFn, SampleResult, checkModelOutput, onDevice } from './common';
import { Call, NoiseRef, SAMPLER_RUN_KEYS, SampleBuffer, SamplerRun, StepComb, allocBuffer, applyStep, drive, driveSync, fusedStepOf, lincomb, progress, rowStats, startState } from './ops';
import { linearBetas } from './schedules';

/** Options of {@link ddpm} and {@link ddim}; B is the state's buffer type (see `output`). */
export interface DiscreteOptions<B extends SampleBuffer = Float32Array> extends SamplerRun {
  /** ε-prediction model; receives integer timesteps t (one per sample). */
  epsModel: ScoreFn<B>;
  /** ᾱ_t for t = 0..T−1 (default DDPM's linear β 1e-4…0.02, T = 1000). */
  alphasCumprod?: Float64Array;
  batch: number;
  dim: number;
  seed: Seed;
  /** Sample id of row 0 (default 0). */
  sampleOffset?: number;
  /** Number of sampling steps S (DDIM sub-sequence length; DDPM uses all T steps, default T). */
  steps?: number;
  /** Start state x_T ([batch, dim]; with `output: 'device'` also a DeviceArray); default N(0, I) from the PRIOR stream. */
  x?: B | Float32Array;
  /** Time-Shift sampler: window w and cutoff c (docs/design/sde.md). */
  timeShift?: { window: number; cutoff: number };
  /**
   * Where the state lives (default 'host'): 'device' keeps x and ε in float32 DeviceArrays, runs
   * every update on the GPU (bit-identical to the host updates), hands the model DeviceArrays and
   * returns `x` as a DeviceArray. The model's output is then not checked for non-finite values.
   */
  output?: OutputOption;
}

const DISCRETE_KEYS = optionKeys<DiscreteOptions>()([
  ...SAMPLER_RUN_KEYS, 'epsModel', 'alphasCumprod', 'batch', 'dim', 'seed', 'sampleOffset', 'steps', 'x', 'timeShift', 'output',
]);
const TIME_SHIFT_KEYS = optionKeys<NonNullable<DiscreteOptions['timeShift']>>()(['window', 'cutoff']);

interface DCtx {
  P: number; D: number; key: [number, number]; offset: number; ac: Float64Array; T: number; fn: ScoreFn<SampleBuffer>;
  device: boolean; x: SampleBuffer; eps: SampleBuffer; tArr: Float64Array; nfe: number; shift?: { window: number; cutoff: number };
}

function dcontext(o: DiscreteOptions | DiscreteOptions<DeviceArray<'float32'>>, where: string, allowed: readonly string[]): DCtx {
  checkOptions(where, o, allowed);
  if (typeof o.epsModel !== 'function') throw new InvalidArgumentError('epsModel must be a function');
  const P = checkInt('batch', o.batch, 1, 2 ** 31 - 1);
  const D = checkInt('dim', o.dim, 1, 2 ** 31 - 1);
  if (P * D > 2 ** 31 - 1) throw new ShapeError('batch·dim must be below 2^31');
  const ac = o.alphasCumprod === undefined ? linearBetas().alphasCumprod : checkFloatArray('alphasCumprod', o.alphasCumprod, 'float64');
  if (ac.length < 1) throw new InvalidArgumentError('alphasCumprod must not be empty');
  for (let t = 0; t < ac.length; t++) {
    if (!(ac[t] > 0 && ac[t] <= 1) || (t > 0 && ac[t] > ac[t - 1])) throw new InvalidArgumentError('alphasCumprod must be in (0, 1] and non-increasing');
  }
  const key = seedKey(o.seed);
  const offset = checkInt('sampleOffset', o.sampleOffset ?? 0, 0, 2 ** 48 - P);
  const device = onDevice(o.output);
  let x: SampleBuffer;
  if (o.x !== undefined) {
    x = startState(device, o.x, P, D);
  } else {
    x = allocBuffer(device, P, D);
    lincomb(x, P, D, [], [1, { key, stream: streams.PRIOR, step: 0, offset }]);
  }
  let shift: DCtx['shift'];
  if (o.timeShift !== undefined) {
    checkOptions(`${where} timeShift`, o.timeShift, TIME_SHIFT_KEYS);
    shift = {
      window: checkInt('timeShift.window', o.timeShift.window, 0, ac.length),
      cutoff: checkInt('timeShift.cutoff', o.timeShift.cutoff, -1, 2 ** 31),
    };
  }
  const fn = o.epsModel as unknown as ScoreFn<SampleBuffer>;
  return { P, D, key, offset, ac, T: ac.length, fn, device, x, eps: allocBuffer(device, P, D), tArr: new Float64Array(P), nfe: 0, shift };
}

/**
 * Time-Shift (docs/design/sde.md): for a step t → t′ that is not the first and has t′ > cutoff, sample b's
 * ᾱ_t′ is replaced by ᾱ of argmin_{τ ∈ [t′−⌊w/2⌋, t′+⌊w/2⌋] ∩ [0, T−1]} (V_b − (1 − ᾱ_τ))², V_b the
 * unbiased variance of sample b's current x over its elements; ties go to the smallest τ.
 * Returns the per-sample ᾱ for t′ and the chosen τ.
 */
export function shiftedAlphas(ac: Float64Array, variances: Float64Array, tNext: number, window: number): { alphas: Float64Array; times: Int32Array } {
  checkFloatArray('alphasCumprod', ac, 'float64');
  checkFloatArray('variances', variances, 'float64');
  if (ac.length < 1) throw new InvalidArgumentError('alphasCumprod must not be empty');
  checkInt('tNext', tNext, 0, ac.length - 1);
  checkInt('window', window, 0, ac.length);
  const T = ac.length, half = Math.floor(window / 2);
  const lo = Math.max(0, tNext - half), hi = Math.min(T - 1, tNext + half);
  const alphas = new Float64Array(variances.length), times = new Int32Array(variances.length);
  for (let b = 0; b < variances.length; b++) {
    let best = lo, bestErr = Infinity;
    for (let tau = lo; tau <= hi; tau++) {
      const e = (variances[b] - (1 - ac[tau])) ** 2;
      if (e < bestErr) {
        bestErr = e;
        best = tau;
      }
    }
    times[b] = best;
    alphas[b] = ac[best];
  }
  return { alphas, times };
}

/**
 * One step: the model call at t, then the update `combs` (tmp: the scratch buffer they may use). A
 * model that carries a fused step (ops.ts FusedStep, e.g. a CUDA UNet's) runs both itself when the
 * state is on the device: the same bits, one native call (one CUDA graph) instead of a model call
 * and one launch per combination.
 */
function* step(c: DCtx, t: number, step: number, combs: StepComb[], tmp?: SampleBuffer): Generator<Call, void, void> {
  c.tArr.fill(t);
  const x = c.x, tArr = c.tArr, eps = c.eps, fn = c.fn, info = { batch: c.P, dim: c.D, step };
  const fused = c.device ? fusedStepOf(fn) : undefined;
  if (fused) {
    yield () => fused(x as DeviceArray<'float32'>, tArr, combs, info);
    c.nfe++;
    return;
  }
  yield () => fn(x, tArr, eps, info);
  c.nfe++;
  checkModelOutput(eps);
  applyStep({ x, eps, tmp }, c.P, c.D, combs);
}

/** ᾱ of the target time for this update: scheduled, or per sample under Time-Shift. */
function targetAlpha(c: DCtx, tNext: number, first: boolean): number | Float64Array {
  const a = tNext < 0 ? 1 : c.ac[tNext];
  if (!c.shift || first || tNext < 0 || tNext <= c.shift.cutoff) return a;
  return shiftedAlphas(c.ac, rowStats(c.x, c.P, c.D).variance, tNext, c.shift.window).alphas;
}

function noise(c: DCtx, step: number): NoiseRef {
  return { key: c.key, stream: streams.PREDICTOR, step, offset: c.offset };
}

const per = (a: number | Float64Array, f: (v: number) => number): number | Float64Array => (typeof a === 'number' ? f(a) : a.map(f));

/** Timestep spacings of diffusers' DDIMScheduler (docs/design/unet.md); 'uniform' = 'leading'. */
export type DdimSpacing = 'uniform' | 'leading' | 'trailing' | 'linspace';

/** numpy's round (half to even), which diffusers applies to its timestep grids. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The timesteps of N DDIM steps over T training steps, in sampling order (diffusers
 * `scheduler.timesteps`, docs/design/sde.md): 'leading' (default) k·⌊T/N⌋ + stepsOffset for k = N−1 … 0;
 * 'trailing' round(arange(T, 0, −T/N)) − 1; 'linspace' round(linspace(0, T−1, N)) reversed.
 */
export function ddimTimesteps(T: number, N: number, spacing: DdimSpacing = 'leading', stepsOffset = 0): number[] {
  checkInt('T', T, 1, 2 ** 31 - 1);
  checkInt('steps', N, 1, T);
  checkOneOf('timesteps', spacing, ['uniform', 'leading', 'trailing', 'linspace'] as const);
  const offset = checkInt('stepsOffset', stepsOffset, 0, T - 1);
  let out: number[];
  if (spacing === 'trailing') {
    out = Array.from({ length: N }, (_, k) => roundHalfEven(T - (k * T) / N) - 1);
  } else if (spacing === 'linspace') {
    out = Array.from({ length: N }, (_, k) => roundHalfEven(N === 1 ? 0 : ((N - 1 - k) * (T - 1)) / (N - 1)));
  } else {
    const r = Math.floor(T / N);
    out = Array.from({ length: N }, (_, k) => (N - 1 - k) * r + offset);
  }
  if (out[0] > T - 1) throw new InvalidArgumentError(`stepsOffset ${offset} puts the first timestep at ${out[0]}, past T − 1 = ${T - 1}`);
  return out;
}

/** State handed to {@link DdimOptions.onStep}. */
export interface DdimStepInfo<B extends SampleBuffer = Float32Array> {
  /** Step ordinal (0 for the first model call). */
  step: number;
  /** The timestep of this step's model call. */
  t: number;
  /** x_t, the input of this step's model call ([batch, dim]); the sampler's live buffer: copy it to keep it. */
  x: B;
}

function* ddimGen(o: DdimOptions | DdimOptions<DeviceArray<'float32'>>, where: string): Generator<Call, SampleResult<SampleBuffer>, void> {
  const c = dcontext(o, where, DDIM_KEYS);
  const eta = checkNumber('eta', o.eta ?? 0, { min: 0 });
  const ts = o.timesteps ?? 'leading';
  // (t, t′) pairs in sampling order; t′ = −1 means ᾱ′ = 1 (or ᾱ_0 without setAlphaToOne).
  const pairs: [number, number][] = [];
  if (typeof ts === 'string') {
    // diffusers: prev = t − ⌊T/N⌋ for every spacing (docs/design/sde.md)
    const S = checkInt('steps', o.steps ?? 50, 1, c.T);
    const r = Math.floor(c.T / S);
    for (const t of ddimTimesteps(c.T, S, ts, o.stepsOffset ?? 0)) pairs.push([t, t - r >= 0 ? t - r : -1]);
  } else {
    if (typeof ts !== 'object' || typeof ts.length !== 'number' || ts.length === 0) throw new InvalidArgumentError("timesteps must be 'leading', 'trailing', 'linspace' or a list");
    if (o.stepsOffset !== undefined) throw new InvalidArgumentError('stepsOffset applies to leading spacing only, not to an explicit timestep list');
    const taus = Array.from(ts, (v, i) => checkInt(`timesteps[${i}]`, v, 0, c.T - 1));
    // Non-decreasing: repeated entries (TFMQ's "quad" list starts 0, 0, 0, 0, 1, …) are identity steps.
    for (let i = 1; i < taus.length; i++) if (taus[i] < taus[i - 1]) throw new InvalidArgumentError('timesteps must not decrease');
    for (let k = taus.length - 1; k >= 0; k--) pairs.push([taus[k], k > 0 ? taus[k - 1] : -1]);
  }
  const clip = o.clipSample === undefined || o.clipSample === false ? 0 : checkNumber('clipSampleRange', o.clipSampleRange ?? 1, { min: 0, minExclusive: true });
  if (o.clipSample !== undefined && typeof o.clipSample !== 'boolean') throw new InvalidArgumentError('clipSample must be a boolean');
  if (o.onStep !== undefined && typeof o.onStep !== 'function') throw new InvalidArgumentError('onStep must be a function');
  const finalAlpha = (o.setAlphaToOne ?? true) ? 1 : c.ac[0];
  const x0 = clip > 0 ? allocBuffer(c.device, c.P, c.D) : undefined;
  const S = pairs.length;
  const report = progress(o, S);
  for (let i = 0; i < S; i++) {
    const [t, tn] = pairs[i];
    const at = c.ac[t];
    const shifted = targetAlpha(c, tn, i === 0);
    const an = tn < 0 ? finalAlpha : shifted;
    if (o.onStep) {
      const onStep = o.onStep as (info: DdimStepInfo<SampleBuffer>) => void | Promise<void>, info = { step: i, t, x: c.x };
      yield () => onStep(info);
    }
    // σ = η sqrt((1−ᾱ′)/(1−ᾱ_t)) sqrt(1 − ᾱ_t/ᾱ′); x′ = sqrt(ᾱ′)·x̂0 + sqrt(1 − ᾱ′ − σ²)·ε + σz,
    // x̂0 = (x − sqrt(1−ᾱ_t)·ε)/sqrt(ᾱ_t) (docs/design/sde.md, DDIM eq. 12).
    const sig = per(an, (a) => eta * Math.sqrt(Math.max(0, ((1 - a) / (1 - at)) * (1 - at / a))));
    const dir = per(an, (a) => {
      const s = eta * Math.sqrt(Math.max(0, ((1 - a) / (1 - at)) * (1 - at / a)));
      return Math.sqrt(Math.max(0, 1 - a - s * s));
    });
    const z: StepComb['noise'] = eta === 0 ? undefined : [sig, noise(c, i)];
    let combs: StepComb[];
    if (x0) {
      // clip_sample: x̂0 (in tmp) is clamped to ±clipSampleRange before it is recombined (diffusers DDIMScheduler.step)
      combs = [
        { terms: [['x', 1 / Math.sqrt(at)], ['eps', -Math.sqrt(1 - at) / Math.sqrt(at)]], clip },
        { terms: [['tmp', per(an, Math.sqrt)], ['eps', dir]], noise: z },
      ];
    } else {
      // the same update with x̂0 substituted: x′ = sqrt(ᾱ′/ᾱ_t)·x + (sqrt(1 − ᾱ′ − σ²) − sqrt(ᾱ′)·sqrt(1−ᾱ_t)/sqrt(ᾱ_t))·ε
      const cx = per(an, (a) => Math.sqrt(a / at));
      const ce = per(an, (a) => {
        const s = eta * Math.sqrt(Math.max(0, ((1 - a) / (1 - at)) * (1 - at / a)));
        return Math.sqrt(Math.max(0, 1 - a - s * s)) - Math.sqrt(a) * Math.sqrt(1 - at) / Math.sqrt(at);
      });
      combs = [{ terms: [['x', cx], ['eps', ce]], noise: z }];
    }
    yield* step(c, t, i, combs, x0);
    report(i + 1, t, c.nfe);
  }
  return { x: c.x, nfe: c.nfe };
}

function* ddpmGen(o: DdpmOptions | DdpmOptions<DeviceArray<'float32'>>, where: string): Generator<Call, SampleResult<SampleBuffer>, void> {
  const c = dcontext(o, where, DDPM_KEYS);
  const variance = checkOneOf('variance', o.variance ?? 'small', ['small', 'large'] as const);
  checkInt('steps', o.steps ?? c.T, c.T, c.T);
  const report = progress(o, c.T);
  for (let t = c.T - 1, i = 0; t >= 0; t--, i++) {
    const at = c.ac[t], aPrev = t > 0 ? c.ac[t - 1] : 1;
    const beta = 1 - at / aPrev;
    // x_{t−1} = (x − β/sqrt(1−ᾱ_t)·ε)/sqrt(1−β) + σ z (z = 0 at t = 0). Under Time-Shift the target
    // ᾱ_{t−1} is per sample (from x_t, before the model call); the step then uses β' = 1 − ᾱ_t/ᾱ'.
    // A window reaching past t may pick τ > t (ᾱ' < ᾱ_t, β' < 0: a NaN σ); such a target is held
    // at ᾱ_t, an identity step for that sample.
    const an = t > 0 ? per(targetAlpha(c, t - 1, i === 0), (a) => Math.max(a, at)) : 1;
    const betaN = per(an, (a) => 1 - at / a);
    const cx = per(betaN, (b) => 1 / Math.sqrt(1 - b));
    const ce = per(betaN, (b) => -b / Math.sqrt(1 - at) / Math.sqrt(1 - b));
    const sig = per(an, (a) => {
      const b = 1 - at / a;
      return variance === 'large' ? Math.sqrt(b) : Math.sqrt((b * (1 - a)) / (1 - at));
    });
    void beta;
    yield* step(c, t, i, [{ terms: [['x', cx], ['eps', ce]], noise: t > 0 ? [sig, noise(c, i)] : undefined }]);
    report(i + 1, t, c.nfe);
  }
  return { x: c.x, nfe: c.nfe };
}

/** DDIM options. */
export interface DdimOptions<B extends SampleBuffer = Float32Array> extends DiscreteOptions<B> {
  /** 0 = deterministic (default), 1 = DDPM-like. */
  eta?: number;
  /**
   * A diffusers spacing of `steps` timesteps ('leading', the default, equal to 'uniform'
   * τ_k = k·⌊T/S⌋; 'trailing'; 'linspace'; each step then goes to t − ⌊T/S⌋ as in diffusers), or an
   * explicit non-decreasing list τ_0 ≤ … ≤ τ_{S−1} walked from the end, each step going to the
   * previous entry and the last to ᾱ = 1; repeated entries are identity steps (TFMQ's quad list).
   */
  timesteps?: DdimSpacing | ArrayLike<number>;
  /** diffusers `steps_offset`, added to every 'leading' timestep (default 0). */
  stepsOffset?: number;
  /**
   * diffusers `clip_sample`: clamp x̂0 to ±clipSampleRange before recombining (default false here;
   * diffusers' DDIMScheduler defaults to true, and image models trained on [−1, 1] want it).
   */
  clipSample?: boolean;
  /** diffusers `clip_sample_range` (default 1). */
  clipSampleRange?: number;
  /** diffusers `set_alpha_to_one`: ᾱ after the last step is 1 (default true) or ᾱ_0. */
  setAlphaToOne?: boolean;
  /**
   * Called before each model call with the step ordinal, its timestep and x_t (e.g. to record
   * calibration inputs, docs/design/unet.md). May return a Promise in the Promise form.
   */
  onStep?: (info: DdimStepInfo<B>) => void | Promise<void>;
}
/** DDPM options. */
export interface DdpmOptions<B extends SampleBuffer = Float32Array> extends DiscreteOptions<B> {
  /** σ_t² = β̃_t ('small', default) or β_t ('large'). */
  variance?: 'small' | 'large';
}

const DDIM_KEYS = optionKeys<DdimOptions>()([
  ...DISCRETE_KEYS, 'eta', 'timesteps', 'stepsOffset', 'clipSample', 'clipSampleRange', 'setAlphaToOne', 'onStep',
]);
const DDPM_KEYS = optionKeys<DdpmOptions>()([...DISCRETE_KEYS, 'variance']);

/** DDIM sampler (Promise form). */
export function ddim(o: OnDevice<DdimOptions<DeviceArray<'float32'>>>): Promise<SampleResult<DeviceArray<'float32'>>>;
export function ddim(o: DdimOptions): Promise<SampleResult>;
export function ddim(o: DdimOptions | DdimOptions<DeviceArray<'float32'>>): Promise<SampleResult<SampleBuffer>> {
  return drive(ddimGen(o, 'diffusion.ddim'), o);
}
/** {@link ddim}, blocking; the model must be synchronous. */
export function ddimSync(o: OnDevice<DdimOptions<DeviceArray<'float32'>>>): SampleResult<DeviceArray<'float32'>>;
export function ddimSync(o: DdimOptions): SampleResult;
export function ddimSync(o: DdimOptions | DdimOptions<DeviceArray<'float32'>>): SampleResult<SampleBuffer> {
  return driveSync(ddimGen(o, 'diffusion.ddimSync'));
}
/** DDPM ancestral sampler (Promise form). */
export function ddpm(o: OnDevice<DdpmOptions<DeviceArray<'float32'>>>): Promise<SampleResult<DeviceArray<'float32'>>>;
export function ddpm(o: DdpmOptions): Promise<SampleResult>;
export function ddpm(o: DdpmOptions | DdpmOptions<DeviceArray<'float32'>>): Promise<SampleResult<SampleBuffer>> {
  return drive(ddpmGen(o, 'diffusion.ddpm'), o);
}
/** {@link ddpm}, blocking; the model must be synchronous. */
export function ddpmSync(o: OnDevice<DdpmOptions<DeviceArray<'float32'>>>): SampleResult<DeviceArray<'float32'>>;
export function ddpmSync(o: DdpmOptions): SampleResult;
export function ddpmSync(o: DdpmOptions | DdpmOptions<DeviceArray<'float32'>>): SampleResult<SampleBuffer> {
  return driveSync(ddpmGen(o, 'diffusion.ddpmSync'));
}

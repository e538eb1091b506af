/**
 * Native building blocks of the samplers: every update is one call of
 * out = Σ_k c_k[p]·A_k + c_z[p]·z (z from (seed, stream, sampleOffset + p, step)), so the
 * TypeScript loops never touch elements.
 * @internal
 * @packageDocumentation
 */
import { DeviceArray } from '../device-array';
import { InvalidArgumentError, ItokitError, ShapeError } from '../errors';
import { native } from '../native';
import { AbortSignalLike, runNativeSync, throwIfAborted } from '../run';
import { sdeNative } from '../sde/addon';
import { checkFloatArray, optionKeys } from '../validate';

/**
 * Where a sampler keeps its state: host float32 arrays (the default), or float32 DeviceArrays
 * with `output: 'device'`, when every update runs on the GPU (native/sde/cuda/sampler_ops.cu).
 */
export type SampleBuffer = Float32Array | DeviceArray<'float32'>;

/** The device half of the sampler ops (native/bindings/sampler_device.cc). @internal */
export interface SamplerDeviceAddon {
  samplerLincombDevice(o: {
    out: object; inputs: object[]; coef: Float64Array; noise: boolean; P: number; D: number;
    keyLo: number; keyHi: number; stream: number; step: number; sampleOffset: number; clip: number;
  }): void;
  samplerRowStatsDevice(o: { x: object; P: number; D: number; out: Float64Array }): void;
  samplerRk45NormDevice(o: { y: object; ynew: object; k: object[]; e: Float64Array; n: number; h: number; atol: number; rtol: number }): number;
}
/** @internal The device half of the sampler ops. */
export function deviceOps(): SamplerDeviceAddon {
  return native() as unknown as SamplerDeviceAddon;
}

/** A new state buffer of P·D float32 values, on the device or on the host. */
export function allocBuffer(device: boolean, P: number, D: number): SampleBuffer {
  return device ? DeviceArray.allocate('float32', [P, D]) : new Float32Array(P * D);
}

/** dst = src, element for element (both on the host or both on the device). */
export function copyBuffer(dst: SampleBuffer, src: SampleBuffer): void {
  if (dst instanceof DeviceArray) {
    dst.copyFrom(src as DeviceArray<'float32'>);
  } else {
    dst.set(src as Float32Array);
  }
}

/** A per-sample coefficient: one number for all samples, or one per sample. */
export type Coef = number | Float64Array;

/** Noise source of one update. */
export interface NoiseRef {
  key: [number, number];
  stream: number;
  step: number;
  offset: number;
}

/** One coefficient row (P values from `start`) of a lincomb's coef array: a scalar repeated, or per sample. */
function putCoefRow(coef: Float64Array, start: number, P: number, c: Coef): void {
  if (typeof c === 'number') coef.fill(c, start, start + P);
  else coef.set(c, start);
}

/**
 * out = Σ c_k·A_k (+ c_z·z), summed in float64; with `clip` > 0 each result is clamped to
 * [−clip, clip] before rounding to float32. `out` may be one of the inputs.
 */
export function lincomb(out: SampleBuffer, P: number, D: number, terms: [SampleBuffer, Coef][], noise?: [Coef, NoiseRef], clip = 0): void {
  const K = terms.length;
  const coef = new Float64Array((K + 1) * P);
  terms.forEach(([, c], k) => putCoefRow(coef, k * P, P, c));
  if (noise) putCoefRow(coef, K * P, P, noise[0]);
  const n = noise?.[1];
  if (out instanceof DeviceArray) {
    const inputs = terms.map(([a]) => {
      if (!(a instanceof DeviceArray)) throw new ShapeError('internal: a device update mixes host and device arrays');
      return a.live();
    });
    runNativeSync(() => deviceOps().samplerLincombDevice({ out: out.live(), inputs, coef, noise: noise !== undefined, P, D,
      keyLo: n?.key[0] ?? 0, keyHi: n?.key[1] ?? 0, stream: n?.stream ?? 0, step: n?.step ?? 0, sampleOffset: n?.offset ?? 0, clip }));
    return;
  }
  runNativeSync(() => sdeNative().sdeLincomb({
    out, inputs: terms.map((t) => t[0] as Float32Array), coef, noise: noise !== undefined, P, D,
    keyLo: n?.key[0] ?? 0, keyHi: n?.key[1] ?? 0, stream: n?.stream ?? 0, step: n?.step ?? 0, sampleOffset: n?.offset ?? 0, clip,
  }));
}

/** A value of a discrete sampler's step: the state x, the model's output ε, or a scratch buffer. */
export type StepValue = 'x' | 'eps' | 'tmp';

/**
 * One linear combination of a discrete sampler's update, as data: Σ c_k·V_k (+ c_z·z), clamped to
 * ±clip when clip > 0 (the samplers' linear combination, summed in float64). A step's update is one or two of them:
 * every one but the last writes tmp, the last writes the new x.
 */
export interface StepComb {
  terms: [StepValue, Coef][];
  noise?: [Coef, NoiseRef];
  clip?: number;
}

/**
 * A model that also runs a whole sampler step itself: ε̂ = model(x, t) and then `combs`, x replaced
 * by the new state, with the same bits as the model call followed by the sampler's own update (a CUDA UNet
 * does it as one CUDA graph: `UNetModel.epsModel`). The samplers call it, when the function
 * carries one, in place of the model call and the update, for states on the
 * device.
 */
export type FusedStep = (x: DeviceArray<'float32'>, t: Float64Array, combs: StepComb[], info: { batch: number; dim: number; step: number }) => void | Promise<void>;

/** The property under which a model function carries its {@link FusedStep}. @internal */
export const FUSED_STEP: unique symbol = Symbol.for('itokit.samplers.fusedStep');

/** The fused step a model function carries, if any. @internal */
export function fusedStepOf(fn: unknown): FusedStep | undefined {
  const f = (fn as { [FUSED_STEP]?: unknown })[FUSED_STEP];
  return typeof f === 'function' ? (f as FusedStep) : undefined;
}

/**
 * Runs a step's update after the model call: each combination one {@link lincomb}, reading x, eps
 * and tmp, writing tmp (all but the last) or x (the last).
 */
export function applyStep(v: { x: SampleBuffer; eps: SampleBuffer; tmp?: SampleBuffer }, P: number, D: number, combs: StepComb[]): void {
  const value = (name: StepValue): SampleBuffer => {
    const b = v[name];
    if (!b) throw new ShapeError('internal: a step combination reads tmp without a tmp buffer');
    return b;
  };
  combs.forEach((c, i) => {
    const out = i === combs.length - 1 ? v.x : value('tmp');
    lincomb(out, P, D, c.terms.map(([name, coef]) => [value(name), coef]), c.noise, c.clip ?? 0);
  });
}

/**
 * The flat form of a step's combinations for the native fused step (unetStepDevice): per
 * combination (K, input, input) codes (x 0, eps 1, tmp 2), noise flags, clips, and the (K + 1)·P
 * coefficient rows of each in turn, laid out as {@link lincomb} lays them. Every noisy combination
 * must draw from the same noise reference. @internal
 */
export function flatStep(combs: StepComb[], P: number): {
  combs: number; combTerms: Int32Array; combNoise: Uint8Array; combClip: Float64Array; coef: Float64Array;
  keyLo: number; keyHi: number; stream: number; step: number; sampleOffset: number;
} {
  const code = { x: 0, eps: 1, tmp: 2 } as const;
  const n = combs.length;
  const combTerms = new Int32Array(3 * n), combNoise = new Uint8Array(n), combClip = new Float64Array(n);
  const coef = new Float64Array(combs.reduce((s, c) => s + (c.terms.length + 1) * P, 0));
  let off = 0, ref: NoiseRef | undefined;
  const put = (row: number, c: Coef): void => putCoefRow(coef, off + row * P, P, c);
  combs.forEach((c, i) => {
    const K = c.terms.length;
    combTerms[3 * i] = K;
    c.terms.forEach(([name, k], j) => {
      combTerms[3 * i + 1 + j] = code[name];
      put(j, k);
    });
    if (c.noise) {
      const r = c.noise[1];
      if (ref && (r.key[0] !== ref.key[0] || r.key[1] !== ref.key[1] || r.stream !== ref.stream || r.step !== ref.step || r.offset !== ref.offset)) {
        throw new InvalidArgumentError('internal: a fused step draws one noise');
      }
      ref = r;
      combNoise[i] = 1;
      put(K, c.noise[0]);
    }
    combClip[i] = c.clip ?? 0;
    off += (K + 1) * P;
  });
  return { combs: n, combTerms, combNoise, combClip, coef, keyLo: ref?.key[0] ?? 0, keyHi: ref?.key[1] ?? 0, stream: ref?.stream ?? 0, step: ref?.step ?? 0, sampleOffset: ref?.offset ?? 0 };
}

/**
 * Dormand–Prince error norm over all elements (native/kernels/sampler_ops.h rk45_chunk): the same
 * float64 sums in the same order on the host and on the device.
 */
export function rk45Norm(y: SampleBuffer, ynew: SampleBuffer, k: SampleBuffer[], e: Float64Array, h: number, atol: number, rtol: number): number {
  if (y instanceof DeviceArray) {
    const handle = (a: SampleBuffer): object => {
      if (!(a instanceof DeviceArray)) throw new ShapeError('internal: a device update mixes host and device arrays');
      return a.live();
    };
    return runNativeSync(() => deviceOps().samplerRk45NormDevice({ y: y.live(), ynew: handle(ynew), k: k.map(handle), e, n: y.length, h, atol, rtol }));
  }
  return runNativeSync(() => sdeNative().sdeRk45Norm({ y, ynew: ynew as Float32Array, ks: k as Float32Array[], e, h, atol, rtol }));
}

/**
 * A sampler's own copy of a caller's start state x ([P, D] float32): on the host for a host run;
 * on the device for a device run (uploaded from a host array, or copied from a DeviceArray).
 */
export function startState(device: boolean, x: unknown, P: number, D: number): SampleBuffer {
  if (x instanceof DeviceArray) {
    if (!device) throw new InvalidArgumentError("x is a DeviceArray: pass output: 'device', or x.toHost()");
    if (x.dtype !== 'float32' || x.length !== P * D) throw new ShapeError(`x must be a float32 DeviceArray of batch·dim = ${P * D} values`);
    return (x as DeviceArray<'float32'>).clone();
  }
  checkFloatArray('x', x, 'float32');
  if ((x as Float32Array).length !== P * D) throw new ShapeError(`x must hold batch·dim = ${P * D} values`);
  return device ? DeviceArray.fromHost(x as Float32Array, [P, D]) : (x as Float32Array).slice();
}

/** Standard normals of (stream, step) for rows offset .. offset+P−1: an explicit z buffer. */
export function normals(out: SampleBuffer, P: number, D: number, noise: NoiseRef): void {
  lincomb(out, P, D, [], [1, noise]);
}

/** Per row: Σx², mean and unbiased variance. */
export function rowStats(x: SampleBuffer, P: number, D: number): { sumSq: Float64Array; mean: Float64Array; variance: Float64Array } {
  const s = new Float64Array(3 * P);
  if (x instanceof DeviceArray) runNativeSync(() => deviceOps().samplerRowStatsDevice({ x: x.live(), P, D, out: s }));
  else runNativeSync(() => sdeNative().sdeRowStats({ x, P, D, out: s }));
  const sumSq = new Float64Array(P), mean = new Float64Array(P), variance = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    sumSq[p] = s[3 * p];
    mean[p] = s[3 * p + 1];
    variance[p] = s[3 * p + 2];
  }
  return { sumSq, mean, variance };
}

/** A request to evaluate the user's model; the driver calls it and awaits it when async. */
export type Call = () => void | Promise<void>;

function isPromise(v: unknown): v is Promise<void> {
  return typeof v === 'object' && v !== null && typeof (v as Promise<void>).then === 'function';
}

/** Runs a sampler generator whose yields are model calls, synchronously. */
export function driveSync<R>(g: Generator<Call, R, void>): R {
  for (let r = g.next(); ; r = g.next()) {
    if (r.done) return r.value;
    const v = r.value();
    if (isPromise(v)) {
      v.catch(() => undefined);
      throw new ItokitError('ERR_ITOKIT_ASYNC_CALLBACK', 'the model returned a Promise; use the Promise form of this sampler');
    }
  }
}

/** Progress of a sampler. */
export interface SamplerProgress { step: number; steps: number; t: number; nfe?: number }

/** Options every sampler accepts for long runs. */
export interface SamplerRun {
  /** Cancels the run (checked before each model call). */
  signal?: AbortSignalLike;
  /** Called with the step, the step count, t and the model evaluations so far. */
  onProgress?: (p: SamplerProgress) => void;
  /** Minimum milliseconds between progress callbacks (default 100). */
  progressIntervalMs?: number;
}

/** Keys of {@link SamplerRun}, part of every sampler's options. */
export const SAMPLER_RUN_KEYS = optionKeys<SamplerRun>()(['signal', 'onProgress', 'progressIntervalMs']);

/** Runs a sampler generator, awaiting model calls, checking the signal before each. */
export async function drive<R>(g: Generator<Call, R, void>, run: SamplerRun): Promise<R> {
  for (let r = g.next(); ; r = g.next()) {
    throwIfAborted(run.signal);
    if (r.done) return r.value;
    const v = r.value();
    if (isPromise(v)) await v;
  }
}

/** Throttled progress reporter. */
export function progress(run: SamplerRun, steps: number): (step: number, t: number, nfe: number) => void {
  let last = -Infinity;
  const every = Math.max(1, run.progressIntervalMs ?? 100);
  return (step, t, nfe) => {
    if (!run.onProgress) return;
    const now = Date.now();
    if (now - last >= every || step === steps) {
      last = now;
      run.onProgress({ step, steps, t, nfe });
    }
  };
}

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

/**
 * out = Σ c_k·A_k (+ c_z·z), summed in float64; with `clip` > 0 each result is clamped to
 * [−clip, clip] before rounding to float32. `out` may be one of the inputs.
 */
export function lincomb(out: SampleBuffer, P: number, D: number, terms: [SampleBuffer, Coef][], noise?: [Coef, NoiseRef], clip = 0): void {
  const K = terms.length;
  const coef = new Float64Array((K + 1) * P);
  const put = (row: number, c: Coef): void => {
    if (typeof c === 'number') coef.fill(c, row * P, (row + 1) * P);
    else coef.set(c, row * P);
  };
  terms.forEach(([, c], k) => put(k, c));
  if (noise) put(K, noise[0]);
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

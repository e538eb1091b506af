/**
 * Native building blocks of the samplers: every update is one call of
 * out = Σ_k c_k[p]·A_k + c_z[p]·z (z from (seed, stream, sampleOffset + p, step)), so the
 * TypeScript loops never touch elements.
 * @internal
 * @packageDocumentation
 */
import { ItokitError } from '../errors';
import { AbortSignalLike, runNativeSync, throwIfAborted } from '../run';
import { sdeNative } from '../sde/addon';
import { optionKeys } from '../validate';

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
export function lincomb(out: Float32Array, P: number, D: number, terms: [Float32Array, Coef][], noise?: [Coef, NoiseRef], clip = 0): void {
  const K = terms.length;
  const coef = new Float64Array((K + 1) * P);
  const put = (row: number, c: Coef): void => {
    if (typeof c === 'number') coef.fill(c, row * P, (row + 1) * P);
    else coef.set(c, row * P);
  };
  terms.forEach(([, c], k) => put(k, c));
  if (noise) put(K, noise[0]);
  const n = noise?.[1];
  runNativeSync(() => sdeNative().sdeLincomb({
    out, inputs: terms.map((t) => t[0]), coef, noise: noise !== undefined, P, D,
    keyLo: n?.key[0] ?? 0, keyHi: n?.key[1] ?? 0, stream: n?.stream ?? 0, step: n?.step ?? 0, sampleOffset: n?.offset ?? 0, clip,
  }));
}

/** Standard normals of (stream, step) for rows offset .. offset+P−1: an explicit z buffer. */
export function normals(out: Float32Array, P: number, D: number, noise: NoiseRef): void {
  lincomb(out, P, D, [], [1, noise]);
}

/** Per row: Σx², mean and unbiased variance. */
export function rowStats(x: Float32Array, P: number, D: number): { sumSq: Float64Array; mean: Float64Array; variance: Float64Array } {
  const s = new Float64Array(3 * P);
  runNativeSync(() => sdeNative().sdeRowStats({ x, P, D, out: s }));
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

/**
 * Karras et al. (2022) samplers over a σ schedule (k-diffusion's sample_euler, sample_heun,
 * sample_euler_ancestral; docs/design/sde.md). The denoiser D(x, σ) predicts the clean sample.
 * @packageDocumentation
 */
import { DeviceArray, OutputOption } from '../device-array';
import { InvalidArgumentError, ShapeError } from '../errors';
import { streams } from '../rng';
import { Seed, checkFloatArray, checkInt, checkNumber, checkOptions, optionKeys, seedKey } from '../validate';
import { OnDevice, SampleResult, checkModelOutput, onDevice } from './common';
import { Call, NoiseRef, SAMPLER_RUN_KEYS, SampleBuffer, SamplerRun, allocBuffer, drive, driveSync, lincomb, progress, startState } from './ops';

/** A Karras denoiser: D(x, σ) into out; σ holds one value per sample (B: see `output`). */
export type Denoiser<B extends SampleBuffer = Float32Array> = (x: B, sigma: Float64Array, out: B) => void | Promise<void>;

/** Options of the Karras samplers; B is the state's buffer type (see `output`). */
export interface KarrasOptions<B extends SampleBuffer = Float32Array> extends SamplerRun {
  /** D(x, σ) into out; σ holds one value per sample. */
  denoiser: Denoiser<B>;
  /** σ_0 > … > σ_{n−1} > σ_n = 0 (see schedules.karras). */
  sigmas: Float64Array;
  batch: number;
  dim: number;
  seed: Seed;
  sampleOffset?: number;
  /** Start state (default σ_0·z from the PRIOR stream; with `output: 'device'` also a DeviceArray). */
  x?: B | Float32Array;
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  /**
   * Where the state lives (default 'host'): 'device' keeps it in float32 DeviceArrays, runs every
   * update on the GPU (bit-identical to the host updates), hands the denoiser DeviceArrays and
   * returns `x` as a DeviceArray. The denoiser's output is then not checked for non-finite values.
   */
  output?: OutputOption;
}

/** Options of {@link eulerAncestral}. */
export interface AncestralOptions<B extends SampleBuffer = Float32Array> extends KarrasOptions<B> {
  /** Scale of the ancestral noise (default 1; 0 is plain Euler). */
  eta?: number;
}

const KARRAS_KEYS = optionKeys<KarrasOptions>()([
  ...SAMPLER_RUN_KEYS, 'denoiser', 'sigmas', 'batch', 'dim', 'seed', 'sampleOffset', 'x', 'sChurn', 'sTmin', 'sTmax', 'sNoise', 'output',
]);
const ANCESTRAL_KEYS = optionKeys<AncestralOptions>()([...KARRAS_KEYS, 'eta']);

interface KCtx {
  P: number; D: number; key: [number, number]; offset: number; sig: Float64Array; device: boolean; x: SampleBuffer; den: SampleBuffer;
  sArr: Float64Array; nfe: number; fn: Denoiser<SampleBuffer>;
}
function kcontext(o: KarrasOptions | KarrasOptions<DeviceArray<'float32'>>, where: string, allowed: readonly string[]): KCtx {
  checkOptions(where, o, allowed);
  if (typeof o.denoiser !== 'function') throw new InvalidArgumentError('denoiser must be a function');
  const P = checkInt('batch', o.batch, 1, 2 ** 31 - 1), D = checkInt('dim', o.dim, 1, 2 ** 31 - 1);
  if (P * D > 2 ** 31 - 1) throw new ShapeError('batch·dim must be below 2^31');
  const sig = checkFloatArray('sigmas', o.sigmas, 'float64');
  if (sig.length < 2) throw new InvalidArgumentError('sigmas must hold at least 2 values');
  for (let i = 0; i < sig.length; i++) {
    if (!(sig[i] >= 0) || !Number.isFinite(sig[i]) || (i > 0 && !(sig[i] < sig[i - 1]))) throw new InvalidArgumentError('sigmas must be finite, ≥ 0 and decreasing');
  }
  const key = seedKey(o.seed);
  const offset = checkInt('sampleOffset', o.sampleOffset ?? 0, 0, 2 ** 48 - P);
  const device = onDevice(o.output);
  let x: SampleBuffer;
  if (o.x !== undefined) {
    x = startState(device, o.x, P, D);
  } else {
    x = allocBuffer(device, P, D);
    lincomb(x, P, D, [], [sig[0], { key, stream: streams.PRIOR, step: 0, offset }]);
  }
  const fn = o.denoiser as unknown as Denoiser<SampleBuffer>;
  return { P, D, key, offset, sig, device, x, den: allocBuffer(device, P, D), sArr: new Float64Array(P), nfe: 0, fn };
}

function* denoise(c: KCtx, x: SampleBuffer, sigma: number, out: SampleBuffer): Generator<Call, void, void> {
  c.sArr.fill(sigma);
  const s = c.sArr, fn = c.fn;
  yield () => fn(x, s, out);
  c.nfe++;
  checkModelOutput(out);
}

const noise = (c: KCtx, i: number): NoiseRef => ({ key: c.key, stream: streams.PREDICTOR, step: i, offset: c.offset });

function* eulerHeunGen(o: KarrasOptions | KarrasOptions<DeviceArray<'float32'>>, heun: boolean, where: string): Generator<Call, SampleResult<SampleBuffer>, void> {
  const c = kcontext(o, where, KARRAS_KEYS);
  const n = c.sig.length - 1;
  const sChurn = checkNumber('sChurn', o.sChurn ?? 0, { min: 0 });
  const sTmin = checkNumber('sTmin', o.sTmin ?? 0, { min: 0 });
  const sTmax = o.sTmax === undefined ? Infinity : checkNumber('sTmax', o.sTmax, { min: 0 });
  const sNoise = checkNumber('sNoise', o.sNoise ?? 1, { min: 0 });
  const { P, D } = c;
  const x2 = allocBuffer(c.device, P, D), den2 = allocBuffer(c.device, P, D);
  const report = progress(o, n);
  for (let i = 0; i < n; i++) {
    const si = c.sig[i], sn = c.sig[i + 1];
    const gamma = sTmin <= si && si <= sTmax ? Math.min(sChurn / n, Math.SQRT2 - 1) : 0;
    const sh = si * (1 + gamma);
    if (gamma > 0) lincomb(c.x, P, D, [[c.x, 1]], [Math.sqrt(sh * sh - si * si) * sNoise, noise(c, i)]);
    yield* denoise(c, c.x, sh, c.den);
    // d = (x̂ − D)/σ̂; x′ = x̂ + (σ_{i+1} − σ̂)d
    const r = (sn - sh) / sh;
    if (!heun || sn === 0) {
      lincomb(c.x, P, D, [[c.x, 1 + r], [c.den, -r]]);
    } else {
      lincomb(x2, P, D, [[c.x, 1 + r], [c.den, -r]]);
      yield* denoise(c, x2, sn, den2);
      // x″ = x̂ + Δ/2·[(x̂ − D)/σ̂ + (x′ − D′)/σ_{i+1}]
      const hd = (sn - sh) / 2;
      lincomb(c.x, P, D, [[c.x, 1 + hd / sh], [c.den, -hd / sh], [x2, hd / sn], [den2, -hd / sn]]);
    }
    report(i + 1, sn, c.nfe);
  }
  return { x: c.x, nfe: c.nfe };
}

function* ancestralGen(o: AncestralOptions | AncestralOptions<DeviceArray<'float32'>>, where: string): Generator<Call, SampleResult<SampleBuffer>, void> {
  const c = kcontext(o, where, ANCESTRAL_KEYS);
  const eta = checkNumber('eta', o.eta ?? 1, { min: 0 });
  const n = c.sig.length - 1;
  const report = progress(o, n);
  for (let i = 0; i < n; i++) {
    const si = c.sig[i], sn = c.sig[i + 1];
    yield* denoise(c, c.x, si, c.den);
    const up = Math.min(sn, eta * Math.sqrt((sn * sn * (si * si - sn * sn)) / (si * si)));
    const down = Math.sqrt(sn * sn - up * up);
    const r = (down - si) / si;
    lincomb(c.x, c.P, c.D, [[c.x, 1 + r], [c.den, -r]], sn > 0 && up > 0 ? [up, noise(c, i)] : undefined);
    report(i + 1, sn, c.nfe);
  }
  return { x: c.x, nfe: c.nfe };
}

/** Karras Euler (with optional churn). */
export function euler(o: OnDevice<KarrasOptions<DeviceArray<'float32'>>>): Promise<SampleResult<DeviceArray<'float32'>>>;
export function euler(o: KarrasOptions): Promise<SampleResult>;
export function euler(o: KarrasOptions | KarrasOptions<DeviceArray<'float32'>>): Promise<SampleResult<SampleBuffer>> {
  return drive(eulerHeunGen(o, false, 'diffusion.karras.euler'), o);
}
/** {@link euler}, blocking. */
export function eulerSync(o: OnDevice<KarrasOptions<DeviceArray<'float32'>>>): SampleResult<DeviceArray<'float32'>>;
export function eulerSync(o: KarrasOptions): SampleResult;
export function eulerSync(o: KarrasOptions | KarrasOptions<DeviceArray<'float32'>>): SampleResult<SampleBuffer> {
  return driveSync(eulerHeunGen(o, false, 'diffusion.karras.eulerSync'));
}
/** Karras Heun (2nd order; Euler on the last step to σ = 0). */
export function heun(o: OnDevice<KarrasOptions<DeviceArray<'float32'>>>): Promise<SampleResult<DeviceArray<'float32'>>>;
export function heun(o: KarrasOptions): Promise<SampleResult>;
export function heun(o: KarrasOptions | KarrasOptions<DeviceArray<'float32'>>): Promise<SampleResult<SampleBuffer>> {
  return drive(eulerHeunGen(o, true, 'diffusion.karras.heun'), o);
}
/** {@link heun}, blocking. */
export function heunSync(o: OnDevice<KarrasOptions<DeviceArray<'float32'>>>): SampleResult<DeviceArray<'float32'>>;
export function heunSync(o: KarrasOptions): SampleResult;
export function heunSync(o: KarrasOptions | KarrasOptions<DeviceArray<'float32'>>): SampleResult<SampleBuffer> {
  return driveSync(eulerHeunGen(o, true, 'diffusion.karras.heunSync'));
}
/** Euler ancestral: Euler to σ_down, then add σ_up·z. */
export function eulerAncestral(o: OnDevice<AncestralOptions<DeviceArray<'float32'>>>): Promise<SampleResult<DeviceArray<'float32'>>>;
export function eulerAncestral(o: AncestralOptions): Promise<SampleResult>;
export function eulerAncestral(o: AncestralOptions | AncestralOptions<DeviceArray<'float32'>>): Promise<SampleResult<SampleBuffer>> {
  return drive(ancestralGen(o, 'diffusion.karras.eulerAncestral'), o);
}
/** {@link eulerAncestral}, blocking. */
export function eulerAncestralSync(o: OnDevice<AncestralOptions<DeviceArray<'float32'>>>): SampleResult<DeviceArray<'float32'>>;
export function eulerAncestralSync(o: AncestralOptions): SampleResult;
export function eulerAncestralSync(o: AncestralOptions | AncestralOptions<DeviceArray<'float32'>>): SampleResult<SampleBuffer> {
  return driveSync(ancestralGen(o, 'diffusion.karras.eulerAncestralSync'));
}

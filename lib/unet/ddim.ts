/**
 * DDPM noise schedule and a DDIM loop over any ε-model (spec/quantized-unet.md §6). Used to
 * produce calibration data from the FP model's own sampler (§7.6) and by `itokit sample` when
 * `diffusion.ddim` is not available.
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { randn, streams } from '../rng';
import { Seed, checkInt, checkNumber } from '../validate';

/**
 * ᾱ of diffusers' linear schedule: β = linspace(start, end, T) in float32, ᾱ = cumprod(1 − β) in
 * float32 (returned widened to float64).
 */
export function linearAlphasCumprod(T = 1000, start = 1e-4, end = 0.02): Float64Array {
  checkInt('T', T, 1, 1e6);
  const out = new Float64Array(T);
  let acc = 1;
  for (let i = 0; i < T; i++) {
    // torch.linspace(float32): start + i·step, with step = (end − start)/(T − 1)
    const beta = Math.fround(T === 1 ? start : Math.fround(start) + i * Math.fround((end - start) / (T - 1)));
    acc = Math.fround(acc * Math.fround(1 - beta));
    out[i] = acc;
  }
  return out;
}

/** diffusers `leading` spacing: k·⌊T/N⌋ for k = N−1 … 0. */
export function ddimTimesteps(T: number, N: number): number[] {
  checkInt('steps', N, 1, T);
  const r = Math.floor(T / N);
  const out: number[] = [];
  for (let k = N - 1; k >= 0; k--) out.push(k * r);
  return out;
}

/** Options of {@link ddimLoop}. */
export interface DdimLoopOptions {
  /** ε̂(x, t) for the whole batch at one timestep. */
  eps: (x: Float32Array, t: number, step: number) => Promise<Float32Array>;
  batch: number;
  /** Values per sample (C·H·W). */
  dim: number;
  seed: Seed;
  /** Sampling steps N (leading spacing) unless `timesteps` is given. */
  steps: number;
  /** ᾱ (default: linear 1e-4..0.02, T = 1000). */
  alphasCumprod?: Float64Array;
  /** Explicit timesteps in sampling order (descending); the step after the last goes to ᾱ = 1. */
  timesteps?: number[];
  /** η (default 0: deterministic). */
  eta?: number;
  /** Clip x̂0 to [−1, 1] (diffusers default true). */
  clipSample?: boolean;
  /** Called with x_t before each model call (calibration recording) and after each step. */
  onStep?: (info: { step: number; t: number; x: Float32Array }) => void | Promise<void>;
  /** Initial noise (default: rng.randn on the PRIOR stream of `seed`). */
  x?: Float32Array;
}

/**
 * DDIM (η = 0 by default): x′ = √ᾱ′·x̂0 + √(1 − ᾱ′ − σ²)·ε̂ + σz, x̂0 = (x − √(1−ᾱ)ε̂)/√ᾱ (§6).
 * Noise: sample b's initial x is path b of rng.randn on the PRIOR stream; the η > 0 noise of step
 * k is path b, step k+1 of the PREDICTOR stream, so samples never depend on the batch size.
 */
export async function ddimLoop(o: DdimLoopOptions): Promise<Float32Array> {
  const batch = checkInt('batch', o.batch, 1, 1 << 20);
  const dim = checkInt('dim', o.dim, 1, 1 << 26);
  const abar = o.alphasCumprod ?? linearAlphasCumprod();
  const T = abar.length;
  const ts = o.timesteps ?? ddimTimesteps(T, o.steps);
  const eta = checkNumber('eta', o.eta ?? 0, { min: 0 });
  for (const t of ts) if (!Number.isInteger(t) || t < 0 || t >= T) throw new InvalidArgumentError(`timestep ${t} is outside [0, ${T})`);
  const clip = o.clipSample ?? true;
  let x = o.x ? Float32Array.from(o.x) : randn({ seed: o.seed, paths: batch, dim, stream: streams.PRIOR });
  if (x.length !== batch * dim) throw new InvalidArgumentError(`x must hold batch*dim = ${batch * dim} values`);
  const r = Math.floor(T / ts.length);
  for (let k = 0; k < ts.length; k++) {
    const t = ts[k];
    if (o.onStep) await o.onStep({ step: k, t, x });
    const e = await o.eps(x, t, k);
    // previous timestep: t − ⌊T/N⌋ for the standard list, else the next list entry
    const prev = o.timesteps ? (k + 1 < ts.length ? ts[k + 1] : -1) : t - r;
    const a = abar[t];
    const ap = prev >= 0 ? abar[prev] : 1;
    const sigma = eta * Math.sqrt((1 - ap) / (1 - a)) * Math.sqrt(1 - a / ap);
    const z = sigma > 0 ? randn({ seed: o.seed, paths: batch, dim, stream: streams.PREDICTOR, step: k + 1 }) : undefined;
    const sa = Math.sqrt(a), s1a = Math.sqrt(1 - a), sap = Math.sqrt(ap), dirc = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
    const nx = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let x0 = (x[i] - s1a * e[i]) / sa;
      if (clip) x0 = Math.min(1, Math.max(-1, x0));
      nx[i] = sap * x0 + dirc * e[i] + (z ? sigma * z[i] : 0);
    }
    x = nx;
  }
  return x;
}

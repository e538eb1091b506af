/**
 * `itokit sample`: the package's main job. Loads the built-in diffusion UNet (or a user's
 * diffusers folder / quantized file), quantizes it TFMQ-style to W4A8 (cached), samples a grid of
 * images with DDIM, writes a PNG, and compares against FP32 from the same noise.
 * @packageDocumentation
 */
import type { Command } from 'commander';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setThreads } from '../backends';
import * as samplers from '../samplers';
import * as ot from '../ot';
import { randn, streams } from '../rng';
import * as unet from '../unet';
import { gridPng } from '../unet/png';

/** Options of {@link sample}. */
export interface SampleCliOptions {
  steps: number;
  seed: number;
  batch: number;
  precision: 'fp32' | 'w8a8' | 'w4a8';
  sampler: 'ddim' | 'ddpm';
  out: string;
  model?: string;
  calib: number;
  compare: boolean;
  threads?: number;
  cache: boolean;
}

type EpsFn = (x: Float32Array, t: number) => Promise<Float32Array>;
type SamplersDdim = (o: {
  epsModel: (x: Float32Array, t: Float64Array, out: Float32Array, info: { batch: number; dim: number; step: number }) => void | Promise<void>;
  alphasCumprod?: Float64Array; batch: number; dim: number; seed: number; steps: number; eta?: number;
}) => Promise<{ x: Float32Array; nfe: number }>;

function bar(done: number, total: number, extra: string): void {
  if (!process.stderr.isTTY) return;
  const w = 30;
  const f = Math.round((w * done) / total);
  process.stderr.write(`\r  [${'#'.repeat(f)}${'-'.repeat(w - f)}] ${done}/${total} ${extra}   `);
  if (done === total) process.stderr.write('\n');
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/**
 * Runs DDIM (η = 0, or η = 1 for `ddpm`) over `eps`, with a progress bar, and returns the samples
 * and the mean milliseconds per UNet call. Uses `diffusion.ddim` when the samplers module has it,
 * else the package's own loop (unet.ddimLoop).
 */
async function runSampler(eps: EpsFn, o: { batch: number; dim: number; seed: number; steps: number; eta: number; label: string }): Promise<{ x: Float32Array; msPerStep: number; sampler: string }> {
  let calls = 0;
  let ms = 0;
  const timed: EpsFn = async (x, t) => {
    const s = process.hrtime.bigint();
    const y = await eps(x, t);
    ms += Number(process.hrtime.bigint() - s) / 1e6;
    calls++;
    bar(calls, o.steps, `${o.label} t=${t} ${(ms / calls).toFixed(1)} ms/step`);
    return y;
  };
  const ddim = (samplers as Record<string, unknown>).ddim as SamplersDdim | undefined;
  if (typeof ddim === 'function' && o.eta === 0) {
    const r = await ddim({
      epsModel: async (x, t, out) => out.set(await timed(x, t[0])),
      alphasCumprod: unet.linearAlphasCumprod(),
      batch: o.batch, dim: o.dim, seed: o.seed, steps: o.steps, eta: o.eta,
    });
    return { x: r.x, msPerStep: ms / Math.max(calls, 1), sampler: 'diffusion.ddim' };
  }
  const x = await unet.ddimLoop({ eps: timed, batch: o.batch, dim: o.dim, seed: o.seed, steps: o.steps, eta: o.eta });
  return { x, msPerStep: ms / Math.max(calls, 1), sampler: 'unet.ddimLoop' };
}

function toPixels(x: Float32Array): Float64Array {
  const p = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) p[i] = Math.min(1, Math.max(0, x[i] / 2 + 0.5));
  return p;
}

function rmse(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

/** Sinkhorn W2 between two image sets when the ot module provides it. */
async function w2(a: Float64Array, b: Float64Array, n: number, d: number): Promise<number | undefined> {
  const fn = (ot as Record<string, unknown>).w2 as ((x: unknown, y: unknown, o: unknown) => Promise<{ w2: number }>) | undefined;
  if (typeof fn !== 'function') return undefined;
  try {
    return (await fn({ data: a, shape: [n, d] }, { data: b, shape: [n, d] }, { regRelative: 1e-3 })).w2;
  } catch (e) {
    console.log(`  (Sinkhorn W2 unavailable: ${(e as Error).message})`);
    return undefined;
  }
}

/** True when sampling will go through `diffusion.ddim` (present, and η = 0). */
function usesSamplersDdim(o: SampleCliOptions): boolean {
  return typeof (samplers as Record<string, unknown>).ddim === 'function' && o.sampler === 'ddim';
}

/** The quantized model for (model, precision, calibration), cached in the OS temp folder. */
async function quantized(fp: unet.UNetModel, src: string, o: SampleCliOptions): Promise<unet.UNetModel> {
  const bits = o.precision === 'w4a8' ? 4 : 8;
  const weights = fs.statSync(src).isDirectory() ? fs.readdirSync(src).map((f) => `${f}:${fs.statSync(path.join(src, f)).mtimeMs}`).join() : '';
  const key = crypto.createHash('sha256').update(JSON.stringify([path.resolve(src), weights, bits, o.steps, o.calib, o.seed, usesSamplersDdim(o), 2])).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'itokit-unet-cache');
  const file = path.join(dir, `${key}.safetensors`);
  if (o.cache && fs.existsSync(file)) {
    try {
      const m = unet.loadSync(file);
      console.log(`  quantized model from cache ${file}`);
      return m;
    } catch {
      // stale or damaged: quantize again
    }
  }
  console.log(`  quantizing to ${o.precision.toUpperCase()} (TFMQ: exact temporal-feature cache, per-step activation scales from ${o.calib} FP DDIM chains x ${o.steps} steps)`);
  const t0 = Date.now();
  const q = await unet.quantize(fp, {
    weightBits: bits,
    // calibrate on the trajectories of the sampler that will run: diffusion.ddim does not clip x̂0
    calibration: { steps: o.steps, samplesPerStep: o.calib, seed: o.seed + 1000, clipSample: !usesSamplersDdim(o) },
    onProgress: ({ done, total }) => bar(Math.round(done), total, 'calibration'),
  });
  bar(1, 1, 'calibration');
  console.log(`  quantized in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (o.cache) {
    fs.mkdirSync(dir, { recursive: true });
    unet.save(q, file);
  }
  return q;
}

/** The `itokit sample` command body. */
export async function sample(o: SampleCliOptions): Promise<void> {
  if (o.threads) setThreads(o.threads);
  const src = o.model ?? unet.builtinModelPath();
  const loaded = await unet.load(src);
  for (const w of loaded.warnings) console.log(`  warning: ${w}`);
  const { inChannels: C, sampleSize } = loaded.config;
  const S = sampleSize ?? 32;
  const dim = C * S * S;
  console.log(`itokit sample: ${src === unet.builtinModelPath() ? 'built-in digits16 model' : src}, ${C}x${S}x${S}, ${o.batch} images, ${o.sampler.toUpperCase()} ${o.steps} steps, seed ${o.seed}`);
  let fp: unet.UNetModel | undefined = loaded.quantized ? undefined : loaded;
  let model = loaded;
  if (!loaded.quantized && o.precision !== 'fp32') model = await quantized(loaded, src, o);
  const eta = o.sampler === 'ddpm' ? 1 : 0;
  const info = model.info();
  const fpInfo = fp?.info();
  console.log(`  model in memory: ${mb(info.weightBytes)} weights (FP32 ${mb(info.fp32Bytes)}, ${(info.fp32Bytes / info.weightBytes).toFixed(1)}x smaller)` +
    (model.quantized ? `, codes ${mb(info.codeBytes)}, temporal cache + activation params ${mb(info.cacheBytes)}, kernel ${info.kernel}` : ''));
  const run = await runSampler((x, t) => model.predict({ data: x, shape: [o.batch, C, S, S] }, t), { batch: o.batch, dim, seed: o.seed, steps: o.steps, eta, label: model.precision });
  fs.writeFileSync(o.out, gridPng(run.x, [o.batch, C, S, S]));
  console.log(`  ${model.precision.toUpperCase()}: ${run.msPerStep.toFixed(1)} ms per step (${(run.msPerStep / o.batch).toFixed(2)} ms per image), sampler ${run.sampler} -> ${o.out}`);
  if (!o.compare || !fp || model === fp) return;
  const ref = await runSampler((x, t) => fp!.predict({ data: x, shape: [o.batch, C, S, S] }, t), { batch: o.batch, dim, seed: o.seed, steps: o.steps, eta, label: 'fp32' });
  const fpOut = o.out.replace(/(\.png)?$/i, '-fp32.png');
  fs.writeFileSync(fpOut, gridPng(ref.x, [o.batch, C, S, S]));
  console.log(`  FP32: ${ref.msPerStep.toFixed(1)} ms per step (${(ref.msPerStep / o.batch).toFixed(2)} ms per image) -> ${fpOut}`);
  console.log(`  speed: ${model.precision.toUpperCase()} is ${(ref.msPerStep / run.msPerStep).toFixed(2)}x FP32; weights ${mb(info.weightBytes)} vs ${mb(fpInfo!.weightBytes)}`);
  // Comparison in [0, 1] pixel space (same initial noise): paired RMSE, and Sinkhorn W2 of the
  // quantized set to FP32 against the W2 of FP32 to the noise it started from.
  const pq = toPixels(run.x), pf = toPixels(ref.x);
  const noise = toPixels(randn({ seed: o.seed, paths: o.batch, dim, stream: streams.PRIOR }));
  console.log(`  fp32 vs ${model.precision}: paired RMSE ${rmse(pq, pf).toFixed(4)} (fp32 vs its noise ${rmse(pf, noise).toFixed(4)})`);
  const wq = await w2(pq, pf, o.batch, dim);
  const wn = await w2(pf, noise, o.batch, dim);
  if (wq !== undefined && wn !== undefined) console.log(`  Sinkhorn W2: fp32 vs ${model.precision} ${wq.toFixed(4)}, fp32 vs noise ${wn.toFixed(4)} (ratio ${(wq / wn).toFixed(3)})`);
}

function int(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
    return n;
  };
}

/** Registers the `sample` command on the CLI program. */
export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('generate a PNG grid with the quantized (W4A8 by default) diffusion UNet and compare it with FP32')
    .option('--steps <n>', 'DDIM sampling steps', int('steps', 1, 1000), 50)
    .option('--seed <n>', 'seed of the initial noise', int('seed', 0, Number.MAX_SAFE_INTEGER), 0)
    .option('--batch <n>', 'number of images', int('batch', 1, 1024), 16)
    .option('--precision <p>', 'fp32 | w8a8 | w4a8', 'w4a8')
    .option('--sampler <s>', 'ddim (eta 0) | ddpm (eta 1)', 'ddim')
    .option('--out <file>', 'output PNG', 'samples.png')
    .option('--model <path>', 'a diffusers UNet2DModel folder or an itokit quantized file (default: the built-in model)')
    .option('--calib <n>', 'calibration chains (inputs per step)', int('calib', 1, 4096), 32)
    .option('--threads <n>', 'CPU threads', int('threads', 1, 1024))
    .option('--no-compare', 'skip the FP32 comparison run')
    .option('--no-cache', 'quantize again instead of using the cached quantized model')
    .action(async (o: Record<string, unknown>) => {
      if (!['fp32', 'w8a8', 'w4a8'].includes(o.precision as string)) throw new Error('--precision must be fp32, w8a8 or w4a8');
      if (!['ddim', 'ddpm'].includes(o.sampler as string)) throw new Error('--sampler must be ddim or ddpm');
      await sample(o as unknown as SampleCliOptions);
    });
}

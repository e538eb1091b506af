/**
 * `itokit sample`: the package's main job. Loads the built-in diffusion UNet (or a user's
 * diffusers folder / quantized file), quantizes it TFMQ-style to W4A8 (cached), samples a grid of
 * images with DDIM, writes them (PNG grid, JSON or raw float32, chosen by the `--out` extension),
 * and compares against FP32 from the same noise. The device and the output paths are checked
 * before any work; progress bars (cli-progress) go to stderr.
 * @packageDocumentation
 */
import type { Command } from 'commander';
import * as cliProgress from 'cli-progress';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getThreads, resolveDevice, setThreads } from '../backends';
import { InvalidArgumentError } from '../errors';
import * as samplers from '../samplers';
import * as ot from '../ot';
import { randn, streams } from '../rng';
import * as unet from '../unet';
import { gridPng } from '../unet/png';
import { checkWritableFile } from './output';

/** Options of {@link sample}. */
export interface SampleCliOptions {
  steps: number;
  seed: number;
  batch: number;
  precision: 'fp32' | 'w8a8' | 'w4a8';
  sampler: 'ddim' | 'ddpm';
  /** Output file; its extension picks the format (see {@link OUTPUT_FORMATS}). */
  out: string;
  model?: string;
  calib: number;
  compare: boolean;
  threads?: number;
  cache: boolean;
  /** Where the UNet runs: 'auto' (default; CUDA when available), 'cpu' or 'cuda'. */
  device?: 'auto' | 'cpu' | 'cuda';
}

/**
 * Output formats by extension: a PNG image grid; JSON `{ shape, layout, data }` with the samples in
 * [-1, 1]; raw little-endian float32 samples in [B, C, H, W] order.
 */
export const OUTPUT_FORMATS = {
  '.png': 'PNG grid of the images',
  '.json': 'JSON { shape: [B, C, H, W], layout, data } with the samples in [-1, 1]',
  '.bin': 'raw little-endian float32 samples, [B, C, H, W] order',
} as const;

type OutputFormat = keyof typeof OUTPUT_FORMATS;

/** The format of `file` from its extension, or a coded error naming the supported ones. */
export function outputFormat(file: string): OutputFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext in OUTPUT_FORMATS) return ext as OutputFormat;
  throw new InvalidArgumentError(`--out ${file}: unsupported extension '${ext || '(none)'}'; use ${Object.keys(OUTPUT_FORMATS).join(', ')}`);
}

/** The FP32 comparison's file beside `out`: "samples.png" -> "samples-fp32.png". */
export function fp32Path(out: string): string {
  const ext = path.extname(out);
  return `${out.slice(0, out.length - ext.length)}-fp32${ext}`;
}

function writeSamples(file: string, x: Float32Array, shape: [number, number, number, number]): void {
  const fmt = outputFormat(file);
  if (fmt === '.png') fs.writeFileSync(file, gridPng(x, shape));
  else if (fmt === '.json') fs.writeFileSync(file, JSON.stringify({ shape, layout: 'NCHW', range: [-1, 1], data: Array.from(x) }));
  else {
    const le = new Float32Array(x); // typed arrays are little-endian on every platform Node supports
    fs.writeFileSync(file, new Uint8Array(le.buffer, le.byteOffset, le.byteLength));
  }
}

/** A cli-progress bar on stderr (drawn on a terminal only, so logs stay clean). */
function progressBar(label: string, total: number): { update(done: number, extra?: string): void; stop(): void } {
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: `  ${label} [{bar}] {value}/{total} {extra}`,
    hideCursor: false,
    clearOnComplete: false,
    barsize: 30,
  }, cliProgress.Presets.legacy);
  bar.start(total, 0, { extra: '' });
  return { update: (done, extra = '') => bar.update(done, { extra }), stop: () => bar.stop() };
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/** The DDIM settings `itokit sample` uses for a model: diffusers' scheduler defaults, or its scheduler config. */
function schedule(model: unet.UNetModel): { alphasCumprod: Float64Array; clipSample: boolean; clipSampleRange: number } {
  const sc = model.scheduler ?? {};
  const num = (k: string, d: number): number => (typeof sc[k] === 'number' ? (sc[k] as number) : d);
  const alphasCumprod = samplers.schedules.linearBetas(num('num_train_timesteps', 1000), num('beta_start', 1e-4), num('beta_end', 0.02), { float32: true }).alphasCumprod;
  // clip_sample defaults to true in diffusers (docs/design/unet.md §6); the built-in model's scheduler config sets it too
  return { alphasCumprod, clipSample: sc.clip_sample !== false, clipSampleRange: num('clip_sample_range', 1) };
}

/** Timing of one sampling run: wall and process CPU time of the whole sampler loop. */
interface SampleTiming {
  /**
   * Mean wall milliseconds per step: on the CPU the UNet call as the sampler awaits it; on CUDA the
   * whole step (forward and update fused, one CUDA graph), i.e. the run's wall time / steps.
   */
  msPerStep: number;
  /** Wall milliseconds of the whole run (UNet calls and the sampler's own update). */
  wallMs: number;
  /** Process CPU milliseconds (user + system, all threads) over the whole run. */
  cpuMs: number;
}

/**
 * Runs DDIM (η = 0, or η = 1 for `ddpm`) with `diffusion.ddim` from the noise `x` with the model's
 * {@link unet.UNetModel.epsModel}, with a progress bar, and returns the samples with the run's timing.
 * On the CPU a step costs the UNet forward into the sampler's buffer and the sampler's native update
 * (no JS loop over elements). On CUDA the state stays on the device and each step is one native call
 * (forward and update fused, one CUDA graph from the second step on); only the result comes back.
 */
async function runSampler(model: unet.UNetModel, device: 'cpu' | 'cuda', o: { batch: number; dim: number; size: number; seed: number; steps: number; eta: number;
  label: string; x: Float32Array; sched: ReturnType<typeof schedule> }): Promise<{ x: Float32Array } & SampleTiming> {
  let calls = 0;
  let ms = 0;
  const bar = progressBar(`${o.label} sampling`, o.steps);
  const run = { ...o.sched, batch: o.batch, dim: o.dim, seed: o.seed, steps: o.steps, eta: o.eta, x: o.x };
  try {
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    let x: Float32Array;
    if (device === 'cuda') {
      const r = await samplers.ddim({
        ...run, epsModel: model.epsModel({ device, imageSize: [o.size, o.size] }), output: 'device', progressIntervalMs: 0,
        onProgress: (p) => bar.update(p.step, `t=${p.t} ${(Number(process.hrtime.bigint() - w0) / 1e6 / p.step).toFixed(2)} ms/step`),
      });
      x = r.x.toHost();
      r.x.dispose();
      calls = o.steps;
      ms = Number(process.hrtime.bigint() - w0) / 1e6;
    } else {
      const eps = model.epsModel({ device, imageSize: [o.size, o.size] });
      const r = await samplers.ddim({
        ...run,
        epsModel: async (xs, t, out, info) => {
          const s = process.hrtime.bigint();
          await eps(xs, t, out, info);
          ms += Number(process.hrtime.bigint() - s) / 1e6;
          calls++;
          bar.update(calls, `t=${t[0]} ${(ms / calls).toFixed(1)} ms/step`);
        },
      });
      x = r.x;
    }
    const wallMs = Number(process.hrtime.bigint() - w0) / 1e6;
    const c = process.cpuUsage(c0);
    return { x, msPerStep: ms / Math.max(calls, 1), wallMs, cpuMs: (c.user + c.system) / 1000 };
  } finally {
    bar.stop();
  }
}

/**
 * One result line: "W4A8: 11.2 ms per step (0.70 ms per image) on the CPU (2 threads); sampling 0.58 s,
 * CPU 1.10 s". CPU time is printed beside the wall time because a shared machine inflates the latter.
 */
function timingLine(label: string, t: SampleTiming, batch: number, where: string): string {
  return `  ${label}: ${t.msPerStep.toFixed(1)} ms per step (${(t.msPerStep / batch).toFixed(2)} ms per image) on ${where}; ` +
    `sampling ${(t.wallMs / 1000).toFixed(2)} s, CPU ${(t.cpuMs / 1000).toFixed(2)} s`;
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

/** The quantized model for (model, precision, calibration), cached in the OS temp folder. */
async function quantized(fp: unet.UNetModel, src: string, o: SampleCliOptions): Promise<unet.UNetModel> {
  const bits = o.precision === 'w4a8' ? 4 : 8;
  const weights = fs.statSync(src).isDirectory() ? fs.readdirSync(src).map((f) => `${f}:${fs.statSync(path.join(src, f)).mtimeMs}`).join() : '';
  const key = crypto.createHash('sha256').update(JSON.stringify([path.resolve(src), weights, bits, o.steps, o.calib, o.seed, schedule(fp).clipSample, 4])).digest('hex').slice(0, 16);
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
  let bar: ReturnType<typeof progressBar> | undefined;
  let total = 0;
  let q: unet.UNetModel;
  try {
    q = await unet.quantize(fp, {
      weightBits: bits,
      // calibrate on the trajectories of the sampler that will run (same steps and x̂0 clipping)
      calibration: { steps: o.steps, samplesPerStep: o.calib, seed: o.seed + 1000, clipSample: schedule(fp).clipSample },
      onProgress: (p) => {
        total = p.total;
        bar ??= progressBar('calibration', total);
        bar.update(Math.round(p.done));
      },
    });
    // progress reports are throttled: the bar ends full when the calibration did
    bar?.update(total);
  } finally {
    bar?.stop();
  }
  console.log(`  quantized in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (o.cache) {
    fs.mkdirSync(dir, { recursive: true });
    unet.save(q, file);
  }
  return q;
}

/** The `itokit sample` command body. */
export async function sample(o: SampleCliOptions): Promise<void> {
  // Everything that can fail without computing fails first: the device, then the output files.
  const device = resolveDevice(o.device);
  outputFormat(o.out);
  checkWritableFile(o.out, '--out');
  if (o.compare && o.precision !== 'fp32') checkWritableFile(fp32Path(o.out), '--out (FP32 comparison)');
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
  // everything the model holds: weights (codes, qparams, FP layers) plus the temporal cache and per-step parameters
  const held = info.weightBytes + info.cacheBytes;
  console.log(`  model in memory: ${mb(held)} (FP32 ${mb(info.fp32Bytes)}, ${(info.fp32Bytes / held).toFixed(1)}x smaller)` +
    (model.quantized ? `: codes ${mb(info.codeBytes)}, scales ${mb(info.qparamBytes)}, FP layers ${mb(info.fpBytes)}, temporal cache + activation params ${mb(info.cacheBytes)}; kernel ${info.kernel}` : ''));
  // one initial noise for both runs, so the comparison is paired
  const noise = randn({ seed: o.seed, paths: o.batch, dim, stream: streams.PRIOR });
  const sched = schedule(loaded);
  const run = await runSampler(model, device, { batch: o.batch, dim, size: S, seed: o.seed, steps: o.steps, eta, label: model.precision, x: noise, sched });
  writeSamples(o.out, run.x, [o.batch, C, S, S]);
  const where = device === 'cuda' ? 'CUDA' : `the CPU (${getThreads()} thread${getThreads() === 1 ? '' : 's'})`;
  console.log(`${timingLine(model.precision.toUpperCase(), run, o.batch, where)} -> ${o.out}`);
  if (!o.compare || !fp || model === fp) return;
  const ref = await runSampler(fp, device, { batch: o.batch, dim, size: S, seed: o.seed, steps: o.steps, eta, label: 'fp32', x: noise, sched });
  const fpOut = fp32Path(o.out);
  writeSamples(fpOut, ref.x, [o.batch, C, S, S]);
  console.log(`${timingLine('FP32', ref, o.batch, where)} -> ${fpOut}`);
  console.log(`  speed: ${model.precision.toUpperCase()} is ${(ref.msPerStep / run.msPerStep).toFixed(2)}x FP32 per step (wall; ` +
    `CPU time ${(ref.cpuMs / run.cpuMs).toFixed(2)}x); memory ${mb(held)} vs ${mb(fpInfo!.weightBytes)}`);
  // Comparison in [0, 1] pixel space (same initial noise): paired RMSE, and Sinkhorn W2 of the
  // quantized set to FP32 against the W2 of FP32 to the noise it started from.
  const pq = toPixels(run.x), pf = toPixels(ref.x);
  const pn = toPixels(noise);
  console.log(`  fp32 vs ${model.precision}: paired RMSE ${rmse(pq, pf).toFixed(4)} (fp32 vs its noise ${rmse(pf, pn).toFixed(4)})`);
  const wq = await w2(pq, pf, o.batch, dim);
  const wn = await w2(pf, pn, o.batch, dim);
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
    .option('--out <file>', `output file; the extension picks the format: ${Object.entries(OUTPUT_FORMATS).map(([e, d]) => `${e} (${d})`).join(', ')}`, 'samples.png')
    .option('--model <path>', 'a diffusers UNet2DModel folder or an itokit quantized file (default: the built-in model)')
    .option('--calib <n>', 'calibration chains (inputs per step)', int('calib', 1, 4096), 32)
    .option('--threads <n>', 'CPU threads', int('threads', 1, 1024))
    .option('--device <d>', 'where the UNet runs: auto (CUDA when available) | cpu | cuda', 'auto')
    .option('--no-compare', 'skip the FP32 comparison run')
    .option('--no-cache', 'quantize again instead of using the cached quantized model')
    .action(async (o: Record<string, unknown>) => {
      if (!['fp32', 'w8a8', 'w4a8'].includes(o.precision as string)) throw new Error('--precision must be fp32, w8a8 or w4a8');
      if (!['ddim', 'ddpm'].includes(o.sampler as string)) throw new Error('--sampler must be ddim or ddpm');
      if (!['auto', 'cpu', 'cuda'].includes(o.device as string)) throw new Error('--device must be auto, cpu or cuda');
      await sample(o as unknown as SampleCliOptions);
    });
}

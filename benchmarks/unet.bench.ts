/**
 * UNet forward time per image at FP32, W8A8 and W4A8 on CPU (1 thread and all threads), for the
 * built-in digits model and a ddpm-cifar10-32-shaped model with random weights (written by
 * PyTorch, which also gives the FP32 baseline in the same run), plus the memory each model holds
 * (whole model: codes, qparams, FP layers, temporal cache and per-step activation parameters) for
 * the storage options of unet.quantize (tibWeights, fpWeights).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getThreads, setThreads } from '../lib/backends';
import * as unet from '../lib/unet';
import { runAnchor } from './anchors/anchor';
import { BenchOptions, BenchRow, report } from './harness';
import * as unetTesting from '../lib/testing/unet';

const CIFAR = {
  _class_name: 'UNet2DModel', act_fn: 'silu', attention_head_dim: null, block_out_channels: [128, 256, 256, 256], center_input_sample: false,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'], downsample_padding: 0, flip_sin_to_cos: false,
  freq_shift: 1, in_channels: 3, layers_per_block: 2, mid_block_scale_factor: 1, norm_eps: 1e-6, norm_num_groups: 32, out_channels: 3,
  sample_size: 32, time_embedding_type: 'positional', up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
};

/** Wall and process CPU time of fn: best of `runs` after one warm-up (CPU time of that same run). */
function timeCpu(fn: () => void, runs: number): { ms: number; cpuMs: number } {
  fn();
  let best = { ms: Infinity, cpuMs: Infinity };
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const s = process.hrtime.bigint();
    fn();
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    const du = process.cpuUsage(c);
    if (ms < best.ms) best = { ms, cpuMs: (du.user + du.system) / 1000 };
  }
  return best;
}

/** Thread counts of the timed rows: 1 and 2 (this project's CI machines have 2 cores), capped by the machine. */
function threadCounts(): number[] {
  return [...new Set([1, Math.min(2, os.cpus().length)])];
}

/**
 * FP32 and quantized rows of one model at batch B, beside the PyTorch anchor (benchmarks/anchors/unet_torch.py:
 * the same weights, input, timestep, batch and thread count, in this run). Ratios are ms/image of
 * PyTorch / ours (above 1: itokit faster).
 */
function measure(name: string, folder: string, fp: unet.UNetModel, B: number, runs: number, qs: unet.UNetModel[], rows: BenchRow[]): void {
  const { inChannels: C, sampleSize } = fp.config;
  const S = sampleSize!;
  const x = { data: Float32Array.from({ length: B * C * S * S }, (_, i) => Math.sin(i * 0.37)), shape: [B, C, S, S] };
  const t = 500;
  for (const threads of threadCounts()) {
    const a = runAnchor('unet_torch', { lib: 'torch', folder, batch: B, threads, repeats: runs, timestep: t });
    const torchMs = a?.ms_per_image;
    if (a) {
      rows.push({
        case: `${name} PyTorch ${a.version} FP32, ${a.threads} thr`, value: torchMs!, unit: 'ms/image',
        note: `CPU ${(a.cpu_seconds_min! * 1000 / B).toFixed(2)} ms/image (anchor unet_torch.py)`,
      });
    }
    setThreads(threads);
    const vs = (ms: number): string | undefined => (torchMs !== undefined ? `${(torchMs / ms).toFixed(2)}x vs PyTorch (${(ms / torchMs).toFixed(2)} of its time)` : undefined);
    const f = timeCpu(() => fp.predictSync(x, t), runs);
    rows.push({ case: `${name} itokit FP32, ${threads} thr`, value: f.ms / B, unit: 'ms/image', ratio: vs(f.ms / B), note: `CPU ${(f.cpuMs / B).toFixed(2)} ms/image` });
    for (const q of qs) {
      const r = timeCpu(() => q.predictSync(x, t), runs);
      rows.push({
        case: `${name} itokit ${q.precision.toUpperCase()}, ${threads} thr`, value: r.ms / B, unit: 'ms/image', ratio: vs(r.ms / B),
        note: `CPU ${(r.cpuMs / B).toFixed(2)} ms/image; ${(f.ms / r.ms).toFixed(2)}x vs itokit FP32; kernel ${q.info().kernel}`,
      });
    }
  }
}

/**
 * FP32 conv layers alone (unet.convFpTest: one conv_fp call on random data; the test call packs
 * its weights per call and copies its operands in and out of JS, the forward packs each layer once,
 * so these rows understate it, most for the large 1×1 shape): GFLOP/s = 2·O·I·k²·B·Ho·Wo / time.
 * No % of peak here: a VM's /proc/cpuinfo clock can be far from the real one (this project's 2-core
 * VM reports 2.1 GHz; a register-only FMA loop runs at 212 GFLOP/s, i.e. 3.3 GHz ×
 * 64 FLOP/cycle, docs/design/unet.md §9).
 */
function convRows(rows: BenchRow[]): void {
  const shapes: [string, number, number, number, number, number][] = [
    // name, B, I, H(=W), O, k
    ['digits 32->32 16x16 3x3', 16, 32, 16, 32, 3], ['digits 64->64 8x8 3x3', 16, 64, 8, 64, 3], ['digits 128->64 8x8 3x3', 16, 128, 8, 64, 3],
    ['cifar 128->128 32x32 3x3', 8, 128, 32, 128, 3], ['cifar 256->256 16x16 3x3', 8, 256, 16, 256, 3], ['cifar 256->256 8x8 3x3', 8, 256, 8, 256, 3],
    ['cifar 256->256 4x4 3x3', 8, 256, 4, 256, 3], ['cifar 512->256 4x4 3x3', 8, 512, 4, 256, 3], ['cifar 256->256 16x16 1x1', 8, 256, 16, 256, 1],
  ];
  setThreads(1);
  for (const [name, B, I, H, O, k] of shapes) {
    const x = Float32Array.from({ length: B * I * H * H }, (_, i) => Math.sin(i * 0.37));
    const w = Float32Array.from({ length: O * I * k * k }, (_, i) => Math.cos(i * 0.11) * 0.05);
    const bias = new Float32Array(O);
    const g = { k, stride: 1, pad: k === 3 ? 1 : 0, padBr: false };
    const r = timeCpu(() => unetTesting.convFpTest('avx512', x, [B, I, H, H], w, bias, null, g), 5);
    const gflops = (2 * O * I * k * k * B * H * H) / (Math.max(r.cpuMs, 1e-3) * 1e6);
    rows.push({
      case: `conv ${name}, B=${B}, 1 thr`, value: gflops, unit: 'GFLOP/s',
      note: `CPU ${r.cpuMs.toFixed(2)} ms (wall ${r.ms.toFixed(2)} ms)`,
    });
  }
}

/** Whole-model memory rows: everything a model holds against the FP32 model's weights. */
function memory(name: string, fp: unet.UNetModel, qs: { label: string; q: unet.UNetModel }[], rows: BenchRow[]): void {
  const fi = fp.info();
  const mib = (b: number): string => (b / 2 ** 20).toFixed(3);
  rows.push({ case: `${name} FP32 model`, value: fi.weightBytes / 2 ** 20, unit: 'MiB' });
  for (const { label, q } of qs) {
    const i = q.info();
    const held = i.weightBytes + i.cacheBytes;
    rows.push({
      case: `${name} ${label}`, value: held / 2 ** 20, unit: 'MiB',
      ratio: `${(fi.weightBytes / held).toFixed(2)}x smaller`,
      note: `codes ${mib(i.codeBytes)} + qparams ${mib(i.qparamBytes)} + FP layers ${mib(i.fpBytes)} + cache ${mib(i.cacheBytes)} (${i.steps} steps)`,
    });
  }
}

/** The three storage configurations of a quantized model (docs/design/unet.md §7.2, §8). */
const STORAGE = [
  { label: 'TIB f32, FP f32', o: { tibWeights: 'f32', fpWeights: 'f32' } },
  { label: 'TIB none, FP f32', o: { tibWeights: 'none', fpWeights: 'f32' } },
  { label: 'TIB none, FP f16 (default)', o: { tibWeights: 'none', fpWeights: 'f16' } },
] as const;

/** Benchmark entry point. */
export async function run(o: BenchOptions): Promise<void> {
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const threads0 = getThreads();
  // built-in digits model (16x16, 1 channel), batch 16
  const fp = unet.loadSync(unet.builtinModelPath());
  const cal = { steps: 10, samplesPerStep: 16, seed: 1 };
  const w8 = await unet.quantize(fp, { weightBits: 8, calibration: cal });
  const w4 = await unet.quantize(fp, { weightBits: 4, calibration: cal });
  convRows(rows);
  for (const B of o.quick ? [16] : [16, 64]) measure(`digits16 B=${B}`, unet.builtinModelPath(), fp, B, o.quick ? 3 : 7, [w8, w4], rows);
  // memory at the schedule of `itokit sample` (50 steps; the cache grows with the calibrated steps)
  const mem: { label: string; q: unet.UNetModel }[] = [];
  for (const bits of [8, 4] as const) {
    for (const st of STORAGE) {
      if (bits === 8 && st.o.fpWeights === 'f32') continue;
      mem.push({ label: `W${bits}A8 ${st.label}`, q: await unet.quantize(fp, { weightBits: bits, ...st.o, calibration: { steps: 50, samplesPerStep: 4, seed: 1 } }) });
    }
  }
  memory('digits16 (50 steps)', fp, mem, rows);
  if (!o.quick) {
    // ddpm-cifar10-32 shape with random weights (PyTorch init), batch 4; calibrated on one step
    // of random inputs (speed only, quality is meaningless here)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-cifar-bench-'));
    try {
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(CIFAR));
      runAnchor('unet_torch', { lib: 'torch', folder: dir, batch: 1, threads: 1, repeats: 1, write: 1 });  // PyTorch-initialised random weights
      if (fs.existsSync(path.join(dir, 'diffusion_pytorch_model.safetensors'))) {
        setThreads(threads0);
        const cf = unet.loadSync(dir);
        const xs = Float32Array.from({ length: 4 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.91));
        const data = { xs, timesteps: [500], samplesPerStep: 4, height: 32, width: 32 };
        const t0 = Date.now(), c0 = process.cpuUsage();
        const c4 = await unet.quantize(cf, { weightBits: 4, calibration: { data, initSamples: 4, batch: 4 } });
        const cq = process.cpuUsage(c0);
        rows.push({
          case: `cifar10-32 W4A8 quantization, ${getThreads()} thr`, value: (Date.now() - t0) / 1000, unit: 's',
          note: `CPU ${((cq.user + cq.system) / 1e6).toFixed(1)} s; weights: Lp search over 33 M weights; calibration: 1 step x 4 inputs`,
        });
        const c8 = await unet.quantize(cf, { weightBits: 8, calibration: { data, initSamples: 4, batch: 4 } });
        measure('cifar10-32 B=8', dir, cf, 8, 2, [c8, c4], rows);
        // memory with a 100-step cache (TFMQ's CIFAR schedule): one input per calibrated step
        const ts = Array.from({ length: 100 }, (_, k) => 990 - 10 * k);
        const d100 = { xs: Float32Array.from({ length: 100 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.91)), timesteps: ts, samplesPerStep: 1, height: 32, width: 32 };
        const cmem: { label: string; q: unet.UNetModel }[] = [{ label: 'W8A8 TIB none, FP f16 (default)', q: c8 }];
        for (const st of STORAGE) cmem.push({ label: `W4A8 ${st.label}`, q: st.o.tibWeights === 'none' && st.o.fpWeights === 'f16' ? c4 : await unet.quantize(cf, { weightBits: 4, ...st.o, calibration: { data, initSamples: 4, batch: 4 } }) });
        const c100 = await unet.quantize(cf, { weightBits: 4, calibration: { data: d100, initSamples: 1, batch: 1 } });
        cmem.push({ label: 'W4A8 TIB none, FP f16 (default), 100 steps', q: c100 });
        memory('cifar10-32', cf, cmem, rows);
      } else {
        notes.push('CIFAR-shaped model skipped: PyTorch is needed to write its random weights.');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  setThreads(threads0);
  notes.push(
    'ms/image = best wall time of predictSync(batch) / batch, t = 500, CPU = process CPU time of that run (the machine may be shared: ' +
      'compare CPU times when wall times are noisy). PyTorch rows: benchmarks/anchors/unet_torch.py, the same weights, input, batch and threads in the same run. ' +
      'FP32 is itokit\'s blocked implicit-GEMM convolution (packed weights, FMA register tiles, AVX-512 / AVX2 / scalar by run-time dispatch); W8A8/W4A8 run the integer conv kernels (u8 activations x 4/8-bit codes, int32 accumulators, ' +
      'zero-point identity) on every layer the TFMQ plan quantizes, with the exact temporal-feature cache; FP layers (conv_in/out, shortcuts, ' +
      'downsamplers) compute in FP32 (stored F16 by default, widened and packed once per layer on first use). GroupNorm+SiLU feeding an integer layer writes its u8 codes directly (fused). ',
    'Memory rows: everything the model holds (info().weightBytes + info().cacheBytes): integer codes (kernel layout), per-channel (scale, zero, sum), ' +
      'FP layers (weights F32 or F16, F32 biases and norms), the exact temporal-feature cache (FP32, one row per calibrated timestep) and the per-step activation (scale, zero); ' +
      'ratio = the FP32 model\'s weight bytes / that. TIB = time MLP + every time_emb_proj (kept F32 or dropped: cache-only); FP = storage of the FP-kept layers.',
  );
  report('unet', 'UNet forward time per image and weight memory (CPU)', rows, notes);
}

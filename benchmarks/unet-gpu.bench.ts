/**
 * UNet forward time per image on CUDA (`predictSync(..., { device: 'cuda' })`) at FP32, W8A8 and
 * W4A8, for the built-in digits model and a ddpm-cifar10-32-shaped model with random weights, batch
 * 64, with the CPU (all threads) in the same run as the baseline. Skips, with a message, when CUDA
 * is unavailable. Also exports {@link writeRandomUnet}, the random-weight model writer the GPU tests
 * share.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends } from '../lib/backends';
import * as unet from '../lib/unet';
import { BenchOptions, BenchRow, report, time } from './harness';

/** diffusers config of google/ddpm-cifar10-32 (docs/design/unet.md §5). */
export const CIFAR_CONFIG = {
  _class_name: 'UNet2DModel', act_fn: 'silu', attention_head_dim: null, block_out_channels: [128, 256, 256, 256], center_input_sample: false,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'], downsample_padding: 0, flip_sin_to_cos: false,
  freq_shift: 1, in_channels: 3, layers_per_block: 2, mid_block_scale_factor: 1, norm_eps: 1e-6, norm_num_groups: 32, out_channels: 3,
  sample_size: 32, time_embedding_type: 'positional', up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
};

/** The subset of a diffusers UNet2DModel config the writer reads. */
export interface RandomUnetConfig {
  block_out_channels: number[];
  down_block_types: string[];
  up_block_types: string[];
  layers_per_block: number;
  in_channels: number;
  out_channels: number;
  add_attention?: boolean;
  [key: string]: unknown;
}

/**
 * Writes config.json and diffusion_pytorch_model.safetensors of a UNet2DModel with random weights
 * into `dir`. Tensor names and shapes follow docs/design/unet.md §2 (current attention naming), built here from the
 * config independently of the loader. Weights are uniform in ±1/√fan_in (PyTorch's default
 * bound, so activations stay O(1) through the depth); GroupNorm γ = 1 ± 0.1, β = ±0.1. A fixed
 * LCG seeded with `seed` makes the model reproducible.
 */
export function writeRandomUnet(dir: string, cfg: RandomUnetConfig, seed = 1): void {
  const out: Record<string, { dtype: string; shape: number[]; data: Float32Array }> = {};
  let s = seed >>> 0 || 1;
  const u = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const add = (name: string, shape: number[], bound: number, center = 0): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = center + bound * u();
    out[name] = { dtype: 'F32', shape, data: d };
  };
  const lin = (p: string, o: number, i: number): void => { add(`${p}.weight`, [o, i], 1 / Math.sqrt(i)); add(`${p}.bias`, [o], 1 / Math.sqrt(i)); };
  const conv = (p: string, o: number, i: number, k = 3): void => {
    add(`${p}.weight`, [o, i, k, k], 1 / Math.sqrt(i * k * k));
    add(`${p}.bias`, [o], 1 / Math.sqrt(i * k * k));
  };
  const gn = (p: string, c: number): void => { add(`${p}.weight`, [c], 0.1, 1); add(`${p}.bias`, [c], 0.1); };
  const boc = cfg.block_out_channels;
  const n = boc.length;
  const L = cfg.layers_per_block;
  const E = 4 * boc[0];
  const res = (p: string, i: number, o: number): void => {
    gn(`${p}.norm1`, i); conv(`${p}.conv1`, o, i); lin(`${p}.time_emb_proj`, o, E); gn(`${p}.norm2`, o); conv(`${p}.conv2`, o, o);
    if (i !== o) conv(`${p}.conv_shortcut`, o, i, 1);
  };
  const att = (p: string, c: number): void => {
    gn(`${p}.group_norm`, c);
    for (const q of ['to_q', 'to_k', 'to_v', 'to_out.0']) lin(`${p}.${q}`, c, c);
  };
  conv('conv_in', boc[0], cfg.in_channels);
  lin('time_embedding.linear_1', E, boc[0]);
  lin('time_embedding.linear_2', E, E);
  let ch = boc[0];
  for (let i = 0; i < n; i++) {
    const cin = ch;
    ch = boc[i];
    for (let j = 0; j < L; j++) {
      res(`down_blocks.${i}.resnets.${j}`, j === 0 ? cin : ch, ch);
      if (cfg.down_block_types[i].startsWith('Attn')) att(`down_blocks.${i}.attentions.${j}`, ch);
    }
    if (i < n - 1) conv(`down_blocks.${i}.downsamplers.0.conv`, ch, ch);
  }
  res('mid_block.resnets.0', ch, ch);
  if (cfg.add_attention !== false) att('mid_block.attentions.0', ch);
  res('mid_block.resnets.1', ch, ch);
  const rev = [...boc].reverse();
  for (let i = 0; i < n; i++) {
    const prev = ch;
    ch = rev[i];
    const cin = rev[Math.min(i + 1, n - 1)];
    for (let j = 0; j <= L; j++) {
      res(`up_blocks.${i}.resnets.${j}`, (j === 0 ? prev : ch) + (j === L ? cin : ch), ch);
      if (cfg.up_block_types[i].startsWith('Attn')) att(`up_blocks.${i}.attentions.${j}`, ch);
    }
    if (i < n - 1) conv(`up_blocks.${i}.upsamplers.0.conv`, ch, ch);
  }
  gn('conv_norm_out', boc[0]);
  conv('conv_out', cfg.out_channels, boc[0]);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  unet.writeSafetensors(path.join(dir, 'diffusion_pytorch_model.safetensors'), out);
}

/** Quantizes on one step of recorded inputs (speed only: the values are not meant to sample well). */
async function quantizeQuick(fp: unet.UNetModel, bits: 4 | 8, t: number, n: number): Promise<unet.UNetModel> {
  const { inChannels: C, sampleSize: S } = fp.config;
  const xs = Float32Array.from({ length: n * C * S! * S! }, (_, i) => Math.sin(i * 0.91));
  return unet.quantize(fp, { weightBits: bits, calibration: { data: { xs, timesteps: [t], samplesPerStep: n, height: S!, width: S! }, initSamples: n, batch: n } });
}

async function measure(name: string, fp: unet.UNetModel, B: number, runs: number, rows: BenchRow[]): Promise<void> {
  const { inChannels: C, sampleSize } = fp.config;
  const S = sampleSize!;
  const t = 500;
  const x = { data: Float32Array.from({ length: B * C * S * S }, (_, i) => Math.sin(i * 0.37)), shape: [B, C, S, S] };
  const models = [fp, await quantizeQuick(fp, 8, t, 4), await quantizeQuick(fp, 4, t, 4)];
  for (const m of models) {
    const cpu = time(() => m.predictSync(x, t, { device: 'cpu' }), { warmup: 1, runs: Math.max(1, Math.floor(runs / 3)) });
    // the first CUDA call uploads the weights; warm-up covers it
    const gpu = time(() => m.predictSync(x, t, { device: 'cuda' }), { warmup: 2, runs });
    rows.push({
      case: `${name} ${m.precision.toUpperCase()} CUDA`, value: gpu.minMs / B, unit: 'ms/image',
      ratio: `${(cpu.minMs / gpu.minMs).toFixed(1)}x vs CPU (${(cpu.minMs / B).toFixed(2)} ms/image, ${os.cpus().length} threads)`,
      note: `median ${(gpu.medianMs / B).toFixed(3)} ms/image`,
    });
  }
}

/**
 * The CUDA rows (digits16 and, unless quick, the CIFAR-shaped model; batch 64; FP32, W8A8, W4A8),
 * for this file's report or another area's table (benchmarks/gpu.bench.ts). Empty without CUDA.
 */
export async function unetGpuRows(o: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  if (!backends().cuda.available) return rows;
  const B = 64;
  await measure(`unet digits16 B=${B}`, unet.loadSync(unet.builtinModelPath()), B, o.quick ? 3 : 10, rows);
  if (!o.quick) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-cifar-gpu-'));
    try {
      writeRandomUnet(dir, CIFAR_CONFIG, 7);
      await measure(`unet cifar10-32 B=${B}`, unet.loadSync(dir), B, 5, rows);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Notes that explain {@link unetGpuRows}. */
export const UNET_GPU_NOTES = [
  'UNet ms/image = best wall time of predictSync(x, 500, { device }) over the batch / batch, including the upload of x and the download of eps; ' +
    'weights are resident after the first call. CPU column: the same call on all CPU threads in the same run.',
  'UNet W8A8/W4A8: integer dp4a convolutions on the layers the TFMQ plan quantizes (calibrated on one step of 4 synthetic inputs; speed only), exact temporal-feature cache. ' +
    'CIFAR-shaped model: random weights (uniform +-1/sqrt(fan_in)), docs/design/unet.md §5 shape.',
  "Bound: the CIFAR-shaped UNet costs about 6.2 G multiply-adds per image (counted layer by layer from the docs/design/unet.md §5 shape: convolutions 5.7 G, attention 0.5 G), so FP32 at 1.34 ms/image runs about 9 TFLOP/s, 14 % of the H200's ~67 TFLOP/s plain-FP32 peak (no TF32 or tensor cores, to keep CPU agreement at 1e-5); W4A8 at 0.64 ms/image is 2.1x FP32 on dp4a alone (no int8 mma.sync yet). digits16 (16x16, 0.01 G MACs per image) is launch-bound: about 100 small kernel launches per forward.",
];

/** Benchmark entry point (`itokit bench unet-gpu`). */
export async function run(o: BenchOptions): Promise<void> {
  const info = backends().cuda;
  if (!info.available) {
    console.log(`unet-gpu: skipped, CUDA is unavailable (${info.reason ?? 'no reason given'})`);
    return;
  }
  report('unet-gpu', `UNet forward time per image on CUDA (${info.devices[0]?.name ?? 'GPU'})`, await unetGpuRows(o), UNET_GPU_NOTES);
}

/**
 * UNet forward time per image on CUDA (`predictSync(..., { device: 'cuda' })`): FP32 at fpPrecision
 * fp32/tf32/bf16, W8A8 and W4A8 on the tensor-core (MMA) and dp4a integer kernels, CUDA graphs on and
 * off, beside PyTorch on the same GPU (fp32, TF32, autocast fp16 and bf16; benchmarks/anchors/unet_torch.py),
 * for the built-in digits model (one DDIM step of 64 images) and a ddpm-cifar10-32-shaped model with
 * random weights, batch 64, with the CPU (all threads) in the same run. Skips, with a message, when CUDA
 * is unavailable. Also exports {@link writeRandomUnet}, the random-weight model writer the GPU tests
 * share.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends } from '../lib/backends';
import * as diffusion from '../lib/samplers';
import * as unet from '../lib/unet';
import { runAnchor } from './anchors/anchor';
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

/** Runs f with the environment variables set (the native forward reads them at each call). */
function withEnv<T>(vars: Record<string, string>, f: () => T): T {
  const old: Record<string, string | undefined> = {};
  for (const k of Object.keys(vars)) {
    old[k] = process.env[k];
    process.env[k] = vars[k];
  }
  try {
    return f();
  } finally {
    for (const k of Object.keys(vars)) {
      if (old[k] === undefined) delete process.env[k];
      else process.env[k] = old[k];
    }
  }
}

/** One itokit configuration of the GPU table: model precision, integer kernel, FP-conv precision, graphs. */
interface Variant {
  label: string;
  model: 0 | 1 | 2;  // FP32, W8A8, W4A8
  qconv?: 'mma' | 'dp4a';
  fp?: unet.FpPrecision;
  graph: boolean;
}

const VARIANTS: Variant[] = [
  { label: 'FP32 fp32', model: 0, fp: 'fp32', graph: true },
  { label: 'FP32 fp32, no graph', model: 0, fp: 'fp32', graph: false },
  { label: 'FP32 tf32', model: 0, fp: 'tf32', graph: true },
  { label: 'FP32 bf16', model: 0, fp: 'bf16', graph: true },
  { label: 'W8A8 MMA', model: 1, qconv: 'mma', graph: true },
  { label: 'W8A8 dp4a', model: 1, qconv: 'dp4a', graph: true },
  { label: 'W4A8 MMA', model: 2, qconv: 'mma', graph: true },
  { label: 'W4A8 MMA, no graph', model: 2, qconv: 'mma', graph: false },
  { label: 'W4A8 dp4a', model: 2, qconv: 'dp4a', graph: true },
  { label: 'W4A8 MMA, FP layers bf16', model: 2, qconv: 'mma', fp: 'bf16', graph: true },
];

/** PyTorch rows on CUDA (benchmarks/anchors/unet_torch.py --device cuda), the same weights, input, batch and t. */
const TORCH_PRECISIONS = [['fp32', 'fp32, TF32 off'], ['tf32', 'TF32'], ['fp16', 'autocast fp16'], ['bf16', 'autocast bf16']] as const;

/**
 * The main job on CUDA: DDIM with clip_sample over a state on the device, 50 steps of B images from
 * the initial noise to the samples on the host (`itokit sample --device cuda`'s sampling), with each
 * step fused (forward and update in one CUDA graph, UNetModel.epsModel) and, for comparison, apart
 * (the model call, then the sampler's own update launches). The ratio is against 50 forwards of the
 * PyTorch port under bf16 autocast (its best row, per-forward time × 50; a PyTorch DDIM loop adds its
 * own update on top).
 */
function ddimRows(name: string, models: [string, unet.UNetModel][], B: number, runs: number, rows: BenchRow[], torchBf16?: number): void {
  const { inChannels: C, sampleSize: S } = models[0][1].config;
  const steps = 50;
  for (const [label, m] of models) {
    const fused = m.epsModel({ device: 'cuda', sync: true });
    const apart: unet.UNetEpsFn = (x, t, out, info) => fused(x as never, t, out as never, info);
    for (const [how, epsModel] of [['fused', fused], ['apart', apart]] as const) {
      const sample = (): void => {
        const r = diffusion.ddimSync({ epsModel, output: 'device', batch: B, dim: C * S! * S!, seed: 1, steps, clipSample: true });
        r.x.toHost();
        r.x.dispose();
      };
      const t = time(sample, { warmup: 1, runs });  // the warm-up run uploads the weights and captures the step graph
      rows.push({
        case: `${name} DDIM ${steps} steps itokit ${label}, steps ${how}`, value: t.minMs, unit: 'ms',
        ratio: torchBf16 ? `${(t.minMs / (steps * torchBf16 * B)).toFixed(2)}x ${steps} PyTorch bf16 forwards` : 'no PyTorch row',
        note: `${(t.minMs / steps).toFixed(3)} ms per step (median run ${t.medianMs.toFixed(1)} ms); targets: W4A8 step <= 1 ms and faster than FP32, 50 steps <= 100 ms`,
      });
    }
  }
}

async function measure(name: string, fp: unet.UNetModel, folder: string, B: number, runs: number, rows: BenchRow[], ddimName?: string): Promise<void> {
  const { inChannels: C, sampleSize } = fp.config;
  const S = sampleSize!;
  const t = 500;
  const x = { data: Float32Array.from({ length: B * C * S * S }, (_, i) => Math.sin(i * 0.37)), shape: [B, C, S, S] };
  // PyTorch first (it frees its GPU memory when the child exits)
  const torch: Record<string, number> = {};
  for (const [p, label] of TORCH_PRECISIONS) {
    const a = runAnchor('unet_torch', { lib: 'torch', device: 'cuda', precision: p, folder, batch: B, repeats: runs, timestep: t });
    if (a?.seconds_min === undefined) continue;
    torch[p] = (a.seconds_min * 1000) / B;
    rows.push({ case: `${name} PyTorch ${a.version ?? ''} ${label}`, value: torch[p], unit: 'ms/image', note: `median ${((a.seconds_median! * 1000) / B).toFixed(3)} ms/image (anchor unet_torch.py)` });
  }
  const models = [fp, await quantizeQuick(fp, 8, t, 4), await quantizeQuick(fp, 4, t, 4)];
  if (ddimName) ddimRows(ddimName, [['FP32', models[0]], ['W4A8', models[2]]], B, Math.max(3, Math.floor(runs / 2)), rows, torch.bf16);
  const cpuMs = models.map((m) => time(() => m.predictSync(x, t, { device: 'cpu' }), { warmup: 1, runs: 1 }).minMs / B);
  for (const v of VARIANTS) {
    const m = models[v.model];
    const env: Record<string, string> = { ITOKIT_UNET_GRAPH: v.graph ? '1' : '0' };
    if (v.qconv) env.ITOKIT_UNET_QCONV = v.qconv;
    // warm-up: the first call uploads the weights, the second captures the graph
    const gpu = withEnv(env, () => time(() => m.predictSync(x, t, { device: 'cuda', fpPrecision: v.fp ?? 'fp32' }), { warmup: 3, runs }));
    const ms = gpu.minMs / B;
    const vs = [torch.bf16 ? `${(ms / torch.bf16).toFixed(2)}x PyTorch bf16` : '', torch.fp32 ? `${(ms / torch.fp32).toFixed(2)}x PyTorch fp32` : '']
      .filter(Boolean).join(', ');
    rows.push({
      case: `${name} itokit ${v.label}`, value: ms, unit: 'ms/image', ratio: vs || 'no PyTorch row',
      note: `median ${(gpu.medianMs / B).toFixed(3)} ms/image; CPU ${cpuMs[v.model].toFixed(2)} ms/image (${os.cpus().length} threads, same run)`,
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
  // digits16 at B = 64 is one DDIM step of 64 images (the step's update is elementwise and negligible)
  await measure(`unet digits16 B=${B} (one DDIM step)`, unet.loadSync(unet.builtinModelPath()), unet.builtinModelPath(), B, o.quick ? 3 : 10, rows, `unet digits16 B=${B}`);
  if (!o.quick) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-cifar-gpu-'));
    try {
      writeRandomUnet(dir, CIFAR_CONFIG, 7);
      await measure(`unet cifar10-32 B=${B}`, unet.loadSync(dir), dir, B, 5, rows);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/** Notes that explain {@link unetGpuRows}. */
export const UNET_GPU_NOTES = [
  'UNet ms/image = best wall time of predictSync(x, 500, { device: \'cuda\', fpPrecision }) over the batch / batch, including the upload of x and the download of eps; ' +
    'weights are resident and the graph captured after the warm-up calls. CPU: the same call on all CPU threads in the same run (one run).',
  'itokit rows: FP32 fp32 = CUDA-core FP32 in the CPU\'s summation order (agrees with the CPU to 1e-5); tf32 / bf16 = FP convs on tensor cores (mma.sync m16n8k8 tf32 / m16n8k16 bf16, FP32 accumulation; ' +
    'emulated whole-model error on digits16 2.5e-4 / 2.1e-3 rel L2, tools/unet_precision_error.py). W8A8/W4A8 MMA = integer convs on mma.sync m16n8k32 u8 (sm_80+), dp4a = the pre-tensor-core kernel (ITOKIT_UNET_QCONV); ' +
    'both give the same bits. "no graph" = ITOKIT_UNET_GRAPH=0 (one launch per kernel, ~100 per forward) instead of a replayed CUDA graph.',
  'W8A8/W4A8 models: the TFMQ plan, calibrated on one step of 4 synthetic inputs (speed only), exact temporal-feature cache. CIFAR-shaped model: random weights (uniform +-1/sqrt(fan_in)), docs/design/unet.md §5 shape.',
  'PyTorch rows: benchmarks/anchors/unet_torch.py --device cuda, the project\'s PyTorch port of UNet2DModel on the same weights, input, batch and t, timed from x.to(cuda) to out.cpu(), cudnn.benchmark on; ' +
    'ratios < 1 mean itokit is faster.',
  'Bound: the CIFAR-shaped UNet costs about 6.2 G multiply-adds per image (convolutions 5.7 G, attention 0.5 G, docs/design/unet.md §5), so 1 ms/image is 12.4 TFLOP/s; ' +
    'the H200 peaks near 67 TFLOP/s FP32, ~495 TFLOP/s TF32, ~990 TFLOP/s bf16 and ~1980 TOP/s int8 (dense). digits16 (16x16, 0.01 G MACs per image) is launch-bound.',
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

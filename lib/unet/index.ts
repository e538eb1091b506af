/**
 * Diffusion UNet inference: diffusers `UNet2DModel` folders in FP32, and TFMQ-style W4A8 / W8A8
 * post-training quantization with an exact temporal-feature cache (docs/design/unet.md).
 *
 * @example
 * ```ts
 * import { unet } from 'itokit';
 * const fp = await unet.load(unet.builtinModelPath());
 * const eps = await fp.predict({ data: new Float32Array(16 * 16), shape: [1, 1, 16, 16] }, 500);
 * const q = await unet.quantize(fp, { weightBits: 4, calibration: { steps: 20, samplesPerStep: 16 } });
 * unet.save(q, '/tmp/digits-w4a8.safetensors');
 * const again = await unet.load('/tmp/digits-w4a8.safetensors');
 * ```
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { DeviceOption } from '../backends';
import { InvalidArgumentError, ItokitError, ModelFormatError } from '../errors';
import { packageRoot } from '../native';
import { RunOptions, runNative, runNativeSync } from '../run';
import { Seed, checkInt, optionalOptions, describe, seedKey } from '../validate';
import { planModel, resolveConfig } from './config';
import { ddim, ddimTimesteps } from '../samplers/discrete';
import { linearBetas } from '../samplers/schedules';
import { readFolder } from './loader';
import { Handle, unetNative } from './native-unet';
import { Precision, UNetModel, unetDevice } from './model';
import { ACT_SAMPLE_PER_TENSOR, QUANT_FORMAT, loadQuantized, serializeQuantized } from './quant-file';
export { QUANT_SCALE_RANGE } from './quant-file';
import { readSafetensors } from './safetensors';

export { UNetModel } from './model';
export type { EpsModelOptions, FpPrecision, ModelInfo, PredictOptions, Precision, QuantMode, Tensor4, UNetEpsFn } from './model';
export { CONFIG_LIMITS, resolveConfig } from './config';
export type { ResolvedConfig, DiffusersConfig } from './config';
export { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors, toFloat32, SafetensorsError } from './safetensors';
export type { SafetensorsFile, StTensor, StTensorInput, SafetensorsReason } from './safetensors';

/** Options of {@link load}. */
export interface LoadOptions {
  /**
   * Default device of the model's {@link UNetModel.predict} ('cpu' when omitted): 'cuda' keeps the
   * weights resident on the GPU after the first call and throws `ERR_ITOKIT_DEVICE_UNAVAILABLE`
   * when no CUDA device is usable; 'auto' picks CUDA when available (`ITOKIT_DEVICE` overrides).
   */
  device?: DeviceOption;
  /** Unknown config keys fail instead of warning. */
  strict?: boolean;
  /** Load `diffusion_pytorch_model.fp16.safetensors`. */
  variant?: 'fp16';
}

/** Keys of {@link LoadOptions}. */
const LOAD_OPTIONS = ['device', 'strict', 'variant'] as const;

/** Folder of the built-in model (a UNet2DModel trained on 16×16 sklearn digits; see docs/unet.md). */
export function builtinModelPath(): string {
  return path.join(packageRoot, 'models', 'digits16');
}

/**
 * Loads a diffusers model folder (config.json + diffusion_pytorch_model.safetensors, flat or
 * pipeline layout) or an itokit quantized file (docs/design/unet.md).
 *
 * Files are untrusted input: everything is validated before a model is built (config ranges and
 * the parameter bytes it implies, every tensor's name, shape and finiteness, the quantized
 * file's metadata and scales), and every failure is an ItokitError with a code,
 * `ERR_ITOKIT_MODEL_FORMAT` for a malformed or implausible file.
 */
export function loadSync(file: string, o: LoadOptions = {}): UNetModel {
  if (typeof file !== 'string' || file.length === 0) throw new InvalidArgumentError('path must be a non-empty string');
  optionalOptions('unet.load', o, LOAD_OPTIONS);
  if (o.strict !== undefined && typeof o.strict !== 'boolean') throw new InvalidArgumentError(`strict must be true or false, got ${describe(o.strict)}`);
  if (o.variant !== undefined && o.variant !== 'fp16') throw new InvalidArgumentError(`variant must be 'fp16' or undefined, got ${describe(o.variant)}`);
  unetDevice(o.device);
  try {
    return loadFile(file, o);
  } catch (e) {
    // name the file in format errors that do not (config values, tensor checks), for callers
    // loading several; SafetensorsErrors and their subclass fields stay as they are
    if (e instanceof ModelFormatError && e.constructor === ModelFormatError && !e.message.includes(file)) {
      throw new ModelFormatError(`${file}: ${e.message}`, { cause: e });
    }
    if (e instanceof ItokitError) throw e;
    // a file system error (unreadable folder, permissions) is a file that cannot be read, as
    // readSafetensors reports it; anything else is a bug of the loader, still coded
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) throw new ModelFormatError(`cannot read ${file}: ${err.message}`, { cause: e });
    throw new ItokitError('ERR_ITOKIT_INTERNAL', `${file}: the loader failed unexpectedly: ${String(err?.message ?? e)}`, { cause: e });
  }
}

function loadFile(file: string, o: LoadOptions): UNetModel {
  if (!fs.existsSync(file)) throw new ModelFormatError(`${file} does not exist`);
  if (fs.statSync(file).isFile()) {
    const f = readSafetensors(file);
    if (f.metadata?.format !== QUANT_FORMAT) {
      throw new ModelFormatError(`${file} is not an itokit quantized model (format ${JSON.stringify(f.metadata?.format)}); pass the diffusers model folder instead`);
    }
    return loadQuantized(f, file, o.device);
  }
  const folder = readFolder(file, { variant: o.variant });
  const { config, warnings } = resolveConfig(folder.config, { strict: o.strict });
  // the config's size and every tensor's shape are checked before anything is built
  const plan = planModel(config, new Map([...folder.tensors].map(([n, t]) => [n, t.shape])));
  // Tensors the model does not use: warn (error in strict mode), docs/design/unet.md §2
  for (const n of plan.unexpected) {
    const w = `unexpected tensor ${n} ignored`;
    if (o.strict) throw new ModelFormatError(w);
    warnings.push(w);
  }
  const names = plan.tensors.map((t) => t.name);
  const handle = runNativeSync(() =>
    unetNative().unetCreate({
      config, names, arrays: names.map((n) => folder.tensors.get(n)!.data), shapes: names.map((n) => folder.tensors.get(n)!.shape), quant: null,
    }),
  );
  return new UNetModel({ handle, config, rawConfig: folder.config, warnings, scheduler: folder.scheduler, precision: 'fp32', device: o.device });
}

/** {@link loadSync} as a Promise (loading reads files synchronously; inference is what runs off-thread). */
export async function load(file: string, o: LoadOptions = {}): Promise<UNetModel> {
  return loadSync(file, o);
}

/** Activation range rule of the per-step calibration (docs/design/unet.md): see {@link CalibrationOptions.actRange}. */
export type ActRange = 'minmax' | 'search';

/** Default {@link CalibrationOptions.actRange}. */
export const DEFAULT_ACT_RANGE: ActRange = 'minmax';

/** Exponent p of the activation shrink search (`actRange: 'search'`, docs/design/unet.md). */
export const ACT_SEARCH_P = 2;

/** Calibration settings (docs/design/unet.md). */
export interface CalibrationOptions {
  /** DDIM steps of the deployment sampler whose x_t are recorded (default 50). */
  steps?: number;
  /** Explicit timesteps in sampling order instead of `steps` (custom lists, duplicates allowed). */
  timesteps?: number[];
  /** Chains run by the FP sampler = inputs per step (default 256, as TFMQ-DM, docs/design/unet.md). */
  samplesPerStep?: number;
  /** Seed of the calibration chains and shuffles (default 0). */
  seed?: Seed;
  /** Initialisation inputs per step (default 16) and batch size of the EMA updates (default 16). */
  initSamples?: number;
  batch?: number;
  /** Clip x̂0 to [−1, 1] in the calibration sampler (default true, diffusers' DDIM default); match the deployment sampler. */
  clipSample?: boolean;
  /** Image size (default the config's sample_size). */
  size?: number;
  /**
   * How each step's activation (Δ, z) is set after the EMA batches (docs/design/unet.md): `'minmax'`
   * keeps the EMA Min-Max range as TFMQ-DM's code does; `'search'` refines it with the docs/design/unet.md §7.3
   * shrink search (80 ratios r·lo … r·hi of the Min-Max range, score mean |x − x̂|^p with
   * p = {@link ACT_SEARCH_P}) on a bounded subsample of the values the quantizer saw in that
   * step's EMA batches. Only the stored (Δ, z) change; recorded in the file as
   * `calibration.act_range`. Default {@link DEFAULT_ACT_RANGE}.
   */
  actRange?: ActRange;
  /** Pre-recorded calibration inputs [S, n, C, H, W] with their timesteps (skips the sampler). */
  data?: { xs: Float32Array; timesteps: number[]; samplesPerStep: number; height: number; width: number };
}

/** Options of {@link quantize}. */
export interface QuantizeOptions extends RunOptions {
  /** 4 (W4A8) or 8 (W8A8). */
  weightBits: 4 | 8;
  /** Activation bits: 8 (the only value in v1). */
  actBits?: 8;
  /** Group size along K (32, 64, 128), or 0 for per output channel (default). */
  groupSize?: 0 | 32 | 64 | 128;
  calibration?: CalibrationOptions;
  /**
   * TIB weights (time MLP and every time_emb_proj, docs/design/unet.md) kept in FP32 so that timesteps
   * outside the calibrated schedule can be served (`'f32'`), or dropped (`'none'`, the default):
   * the model is then cache-only and a timestep outside its cache throws ERR_ITOKIT_INVALID_ARG
   * naming it. Recorded in the file as `tib_weights`.
   */
  tibWeights?: 'f32' | 'none';
  /**
   * Storage of the FP-kept layers' weights (conv_in, conv_out, 1×1 shortcuts, downsamplers;
   * docs/design/unet.md): `'f16'` (default) holds them as IEEE binary16 and widens them to
   * FP32 per use, so computation stays FP32; `'f32'` keeps them in FP32.
   */
  fpWeights?: 'f32' | 'f16';
}

/** Keys of {@link QuantizeOptions} and of its `calibration`. */
const QUANTIZE_OPTIONS = ['weightBits', 'actBits', 'groupSize', 'calibration', 'tibWeights', 'fpWeights', 'signal', 'onProgress', 'progressIntervalMs'] as const;
const CALIBRATION_OPTIONS = ['steps', 'timesteps', 'samplesPerStep', 'seed', 'initSamples', 'batch', 'clipSample', 'size', 'actRange', 'data'] as const;

/**
 * TFMQ-style post-training quantization (docs/design/unet.md): integer weights per output channel (or group)
 * with the Lp clipping search, temporal features cached exactly in FP32 for every calibrated
 * timestep, and one 8-bit activation (Δ, z) per quantizer and sampling step, calibrated on x_t
 * recorded from the FP model's own DDIM sampler.
 */
export async function quantize(model: UNetModel, o: QuantizeOptions): Promise<UNetModel> {
  if (!(model instanceof UNetModel)) throw new InvalidArgumentError('model must be a UNetModel from unet.load()');
  if (model.quantized) throw new InvalidArgumentError('the model is already quantized');
  if (o === null || typeof o !== 'object') throw new InvalidArgumentError('quantize needs options with weightBits');
  optionalOptions('unet.quantize', o, QUANTIZE_OPTIONS);
  optionalOptions('unet.quantize calibration', o.calibration, CALIBRATION_OPTIONS);
  if (o.weightBits !== 4 && o.weightBits !== 8) throw new InvalidArgumentError(`weightBits must be 4 or 8, got ${describe(o.weightBits)}`);
  if ((o.actBits ?? 8) !== 8) throw new InvalidArgumentError(`actBits must be 8, got ${describe(o.actBits)}`);
  const group = o.groupSize ?? 0;
  const tibWeights = o.tibWeights ?? 'none', fpWeights = o.fpWeights ?? 'f16';
  if (tibWeights !== 'f32' && tibWeights !== 'none') throw new InvalidArgumentError(`tibWeights must be 'f32' or 'none', got ${describe(o.tibWeights)}`);
  if (fpWeights !== 'f32' && fpWeights !== 'f16') throw new InvalidArgumentError(`fpWeights must be 'f32' or 'f16', got ${describe(o.fpWeights)}`);
  if (![0, 32, 64, 128].includes(group)) throw new InvalidArgumentError(`groupSize must be 0, 32, 64 or 128, got ${describe(group)}`);
  const c = o.calibration ?? {};
  const seed = c.seed ?? 0;
  seedKey(seed);
  const initSamples = checkInt('calibration.initSamples', c.initSamples ?? 16, 1, 1 << 16);
  const batch = checkInt('calibration.batch', c.batch ?? 16, 1, 1 << 16);
  const actRange = c.actRange ?? DEFAULT_ACT_RANGE;
  if (actRange !== 'minmax' && actRange !== 'search') throw new InvalidArgumentError(`calibration.actRange must be 'minmax' or 'search', got ${describe(c.actRange)}`);
  const C = model.config.inChannels;
  let xs: Float32Array, timesteps: number[], n: number, H: number, W: number;
  // diffusers' float32 linear schedule (docs/design/unet.md), as the deployment sampler uses it
  const abar = linearBetas(1000, 1e-4, 0.02, { float32: true }).alphasCumprod;
  if (c.data) {
    ({ xs, timesteps, samplesPerStep: n, height: H, width: W } = c.data);
    if (!(xs instanceof Float32Array) || xs.length !== timesteps.length * n * C * H * W) {
      throw new InvalidArgumentError('calibration.data.xs must be a Float32Array of [S, n, C, H, W]');
    }
  } else {
    // the DDIM sampler feeds ε̂ back into x: it needs one output channel per input channel
    if (model.config.outChannels !== C) {
      throw new InvalidArgumentError(`the calibration sampler needs out_channels = in_channels, the model has ${model.config.outChannels} and ${C}: pass calibration.data`);
    }
    n = checkInt('calibration.samplesPerStep', c.samplesPerStep ?? 256, 1, 1 << 16);
    H = W = checkInt('calibration.size', c.size ?? model.config.sampleSize ?? 0, 1, 4096);
    timesteps = c.timesteps ?? ddimTimesteps(abar.length, checkInt('calibration.steps', c.steps ?? 50, 1, abar.length));
    const dim = C * H * W;
    const S = timesteps.length;
    xs = new Float32Array(S * n * dim);
    // Record x_t of every step of the FP model's own sampler (one set of n chains, docs/design/unet.md §7.6).
    await ddim({
      batch: n,
      dim,
      seed,
      alphasCumprod: abar,
      // the explicit list is given in sampling order; diffusion.ddim walks a non-decreasing list from its end
      ...(c.timesteps ? { timesteps: [...c.timesteps].reverse() } : { steps: S }),
      clipSample: c.clipSample ?? true,
      signal: o.signal,
      onStep: ({ step, x }) => {
        xs.set(x, step * n * dim);
        o.onProgress?.({ done: step, total: 2 * S });
      },
      epsModel: async (x, t, out) => out.set(await model.predict({ data: x, shape: [n, C, H, W] }, t[0])),
    });
  }
  for (const t of timesteps) checkInt('calibration timestep', t, 0, 2 ** 31);
  const S = timesteps.length;
  const onProgress = o.onProgress;
  const handle = await runNative<Handle>(
    { signal: o.signal, progressIntervalMs: o.progressIntervalMs, onProgress: onProgress ? (p) => onProgress({ done: S + p.done, total: 2 * S }) : undefined },
    (control) =>
      unetNative().unetQuantize({
        model: model.handle,
        bits: o.weightBits,
        group,
        initSamples,
        batch,
        seed: Number(seed),
        fpF16: fpWeights === 'f16',
        cacheOnly: tibWeights === 'none',
        actSearchP: actRange === 'search' ? ACT_SEARCH_P : 0,
        xs,
        S,
        n,
        H,
        W,
        steps: Float64Array.from(timesteps),
        control,
        async: true,
      }) as Promise<Handle>,
  );
  const precision: Precision = o.weightBits === 4 ? 'w4a8' : 'w8a8';
  return new UNetModel({
    handle,
    config: model.config,
    rawConfig: model.rawConfig,
    scheduler: model.scheduler,
    precision,
    device: model.device,
    quantMeta: {
      weight_bits: o.weightBits,
      act_bits: 8,
      group_size: group,
      tib_weights: tibWeights,
      fp_weights: fpWeights,
      schedule: { kind: 'ddim', spacing: c.timesteps ? 'custom' : 'leading', num_train_timesteps: abar.length, eta: 0, clip_sample: c.clipSample ?? true },
      calibration: {
        samples_per_step: n, init_samples: initSamples, batch, momentum: 0.95, seed: String(seed), act_range: actRange,
        ...(actRange === 'search' ? { act_scaler: { p: ACT_SEARCH_P, steps: 80, ratio_step: 0.01, sample_per_tensor: ACT_SAMPLE_PER_TENSOR } } : {}),
      },
    },
  });
}

/** Serialises a quantized model to bytes (docs/design/unet.md; deterministic). */
export function serialize(model: UNetModel): Uint8Array {
  return runNativeSync(() => serializeQuantized(model));
}

/** Writes a quantized model to one safetensors file (docs/design/unet.md). */
export function save(model: UNetModel, file: string): void {
  const bytes = serialize(model);
  try {
    fs.writeFileSync(file, bytes);
  } catch (e) {
    throw new InvalidArgumentError(`cannot write ${String(file)}: ${(e as Error).message}`, { cause: e });
  }
}

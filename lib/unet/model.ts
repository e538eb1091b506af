/**
 * The UNet model object: FP32 or quantized, with `predict` (Promise) and `predictSync`.
 * @packageDocumentation
 */
import { DeviceOption, deviceCode, resolveDevice } from '../backends';
import { DeviceArray } from '../device-array';
import { InvalidArgumentError, ShapeError, DtypeError } from '../errors';
import { optionalOptions, describe } from '../validate';
import { RunOptions, ownedInput, runNative, runNativeSync } from '../run';
import type { ScoreFn } from '../samplers/common';
import { FUSED_STEP, FusedStep, SampleBuffer, flatStep } from '../samplers/ops';
import { DiffusersConfig, ResolvedConfig } from './config';
import { Handle, NativeInfo, UnetPredictArgs, unetNative } from './native-unet';

/** A float32 NCHW tensor. */
export interface Tensor4 {
  data: Float32Array;
  /** [B, C, H, W] */
  shape: [number, number, number, number] | number[];
}

/** How a quantized model runs its layers. */
export type QuantMode = 'integer' | 'fake-quant' | 'fp';

/** Options of {@link UNetModel.predict}. */
export interface PredictOptions extends RunOptions {
  /**
   * Quantized models only: 'integer' (default) runs the W4A8/W8A8 integer kernels, 'fake-quant'
   * quantizes and dequantizes then computes in FP32 (the definition the integer path must match),
   * 'fp' runs FP32 math on the dequantized weights (weight-only quantization).
   */
  mode?: QuantMode;
  /** Quantized models: use the exact temporal-feature cache (default true). */
  useCache?: boolean;
  /**
   * Where the forward pass runs (default: the model's {@link UNetModel.device}, 'cpu' unless set).
   * 'cuda' keeps the weights resident on the GPU after the first call and runs every layer there
   * (FP32, integer and fake-quant modes); it throws `ERR_ITOKIT_DEVICE_UNAVAILABLE` without a usable
   * CUDA device. 'auto' picks CUDA when it is available (`ITOKIT_DEVICE=cpu|cuda` overrides).
   * CUDA and CPU agree to float rounding: FP32 convolutions and integer accumulators are
   * bit-identical, GroupNorm sums, expf and softmax sums differ in the last bits (docs/unet.md).
   */
  device?: DeviceOption;
  /**
   * Arithmetic of the FP convolutions on CUDA (default 'fp32'). 'fp32' sums products one by one as
   * the CPU does (whole model within 1e-5 of the CPU); 'tf32' and 'bf16' round both operands of
   * every FP convolution to TF32 (10 mantissa bits) or bfloat16 (7 bits) and multiply on tensor
   * cores with FP32 accumulation: faster, with the added error docs/unet.md states. Needs compute
   * capability 8.0+ (`ERR_ITOKIT_DEVICE_UNAVAILABLE` otherwise). Integer layers, GroupNorm,
   * attention and the time MLP are unaffected. Runs on the CPU ignore it (they compute in FP32).
   */
  fpPrecision?: FpPrecision;
}

/** Arithmetic of the FP convolutions on the GPU; see {@link PredictOptions.fpPrecision}. */
export type FpPrecision = 'fp32' | 'tf32' | 'bf16';

const FP_PRECISION = { fp32: 0, tf32: 1, bf16: 2 } as const;

/** Sizes and counters of a model. */
export interface ModelInfo {
  /** Parameters (weights and biases of all conv/linear layers). */
  precision: Precision;
  /** Bytes the model holds for its weights, all parts together. */
  weightBytes: number;
  /** The same weights in FP32. */
  fp32Bytes: number;
  /** Bytes of integer codes (kernel layout, K padded to a multiple of 32). */
  codeBytes: number;
  /** FP32 bytes of the weights that are held as integer codes (compare with codeBytes + qparamBytes). */
  intFp32Bytes: number;
  /** Bytes of FP32 tensors still held (FP layers, biases, norms). */
  fpBytes: number;
  /** Per-channel/group (Δ, z, Σw) bytes. */
  qparamBytes: number;
  /** Temporal-feature cache and per-step activation parameters. */
  cacheBytes: number;
  /**
   * Native bytes (host weights, cache and, after the first CUDA call, the GPU copy) reported to V8
   * as external memory, so the garbage collector weighs them; 0 after {@link UNetModel.dispose}.
   */
  externalBytes: number;
  /** Channels of the temporal feature vector per timestep (Σ C_i over resnets). */
  tibWidth: number;
  /** Integer kernel path chosen for this CPU. */
  kernel: string;
  /** Quantized models: cache misses (timesteps served by computing the TIB on the fly). */
  cacheMisses?: number;
  /** Quantized models: calls whose t had no calibrated step (nearest step used). */
  stepMisses?: number;
  /** Quantized models: calibrated timesteps. */
  steps?: number;
  /** Quantized models: activation quantizer names in column order. */
  actNames?: string[];
}

/** Numeric precision of a model. */
export type Precision = 'fp32' | 'w8a8' | 'w4a8';

const MODE = { fp: 0, integer: 1, 'fake-quant': 2 } as const;

/** The timesteps of a call: one for all B samples, or B of them; non-negative integers. */
function timesteps(t: number | ArrayLike<number>, B: number): Float64Array {
  const ts = new Float64Array(B);
  if (typeof t === 'number') ts.fill(t);
  else {
    if (!t || typeof t.length !== 'number' || t.length !== B) throw new ShapeError(`t must be one timestep or ${B} timesteps`);
    for (let i = 0; i < B; i++) ts[i] = t[i];
  }
  for (const v of ts) {
    if (!Number.isInteger(v) || v < 0 || v > 2 ** 31) throw new InvalidArgumentError(`timesteps must be non-negative integers, got ${v}`);
  }
  return ts;
}

/** Options of {@link UNetModel.epsModel}: those of predictSync, and the image size and call form. */
export interface EpsModelOptions extends Omit<PredictOptions, keyof RunOptions> {
  /** [H, W] of the images the sampler's flat rows hold (default [sample_size, sample_size]). */
  imageSize?: [number, number];
  /** A blocking function, for `ddimSync` / `ddpmSync` (default false: it returns Promises, for `ddim` / `ddpm`). */
  sync?: boolean;
}

const EPS_MODEL_OPTIONS = ['mode', 'useCache', 'device', 'fpPrecision', 'imageSize', 'sync'] as const;

/**
 * The ε-model function {@link UNetModel.epsModel} returns: it serves the discrete samplers with the
 * state on the host or (on CUDA) on the device.
 */
export type UNetEpsFn = ScoreFn<Float32Array> & ScoreFn<DeviceArray<'float32'>>;

/** Keys of {@link PredictOptions}; predictSync takes those that are not {@link RunOptions}. */
const PREDICT_SYNC_OPTIONS = ['mode', 'useCache', 'device', 'fpPrecision'] as const;
const PREDICT_OPTIONS = [...PREDICT_SYNC_OPTIONS, 'signal', 'onProgress', 'progressIntervalMs'] as const;

/**
 * A loaded diffusers UNet2DModel (FP32) or an itokit quantized UNet. Create it with
 * `unet.load()` or `unet.quantize()`.
 */
export class UNetModel {
  /** @internal */
  readonly handle: Handle;
  /** The resolved config. */
  readonly config: ResolvedConfig;
  /** config.json as read (for saving). */
  readonly rawConfig: DiffusersConfig;
  /** Warnings from loading (unknown config keys, unexpected tensors). */
  readonly warnings: string[];
  /** The scheduler config found beside the model, if any. */
  readonly scheduler?: Record<string, unknown>;
  /** fp32, w8a8 or w4a8. */
  readonly precision: Precision;
  /** Default device of {@link predict} ('cpu' unless the model was created with another). */
  readonly device: DeviceOption;
  /** @internal metadata of quantized models (schedule, calibration) kept for saving. */
  readonly quantMeta?: Record<string, unknown>;

  /** @internal */
  constructor(o: {
    handle: Handle;
    config: ResolvedConfig;
    rawConfig: DiffusersConfig;
    warnings?: string[];
    scheduler?: Record<string, unknown>;
    precision: Precision;
    quantMeta?: Record<string, unknown>;
    device?: DeviceOption;
  }) {
    this.handle = o.handle;
    this.config = o.config;
    this.rawConfig = o.rawConfig;
    this.warnings = o.warnings ?? [];
    this.scheduler = o.scheduler;
    this.precision = o.precision;
    this.device = o.device ?? 'cpu';
    this.quantMeta = o.quantMeta;
  }

  private released = false;

  /**
   * Frees the model's native weights (and its GPU copy) now instead of when the garbage collector
   * finds the model unreachable. Calls already running finish with the weights they hold; any later
   * call throws an `InvalidArgumentError` (ERR_ITOKIT_INVALID_ARG). Calling it twice is harmless.
   * Until then the weights count as V8 external memory, so a loop that loads models without
   * disposing them is still collected in time.
   *
   * @example
   * const model = await unet.load('./ddpm-cifar10-32');
   * try { await model.predict(x, 999); } finally { model.dispose(); }
   */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    unetNative().unetDispose({ model: this.handle });
  }

  /** True once {@link dispose} was called. */
  get disposed(): boolean {
    return this.released;
  }

  /** True for W8A8/W4A8 models. */
  get quantized(): boolean {
    return this.precision !== 'fp32';
  }

  private prepare(x: Float32Array | Tensor4 | DeviceArray<'float32'>, t: number | ArrayLike<number>, o: PredictOptions) {
    const { inChannels: C, outChannels, blockOutChannels, sampleSize } = this.config;
    let data: Float32Array | DeviceArray<'float32'>;
    let B: number, H: number, W: number;
    if (x instanceof DeviceArray) {
      if (x.dtype !== 'float32') throw new DtypeError('a DeviceArray x must be float32');
      if (x.shape.length === 4) {
        [B, , H, W] = x.shape;
        if (x.shape[1] !== C) throw new ShapeError(`x has ${x.shape[1]} channels, the model takes ${C}`);
      } else {
        if (!sampleSize) throw new ShapeError('x has no [B, C, H, W] shape and the config has no sample_size');
        H = W = sampleSize;
        B = x.length / (C * H * W);
      }
      data = x;
    } else if (x instanceof Float32Array) {
      if (!sampleSize) throw new ShapeError('x has no shape and the config has no sample_size: pass { data, shape }');
      data = x;
      H = W = sampleSize;
      B = x.length / (C * H * W);
    } else if (x && typeof x === 'object' && x.data instanceof Float32Array && Array.isArray(x.shape)) {
      if (x.shape.length !== 4) throw new ShapeError(`x.shape must be [B, C, H, W], got [${x.shape.join(', ')}]`);
      [B, , H, W] = x.shape;
      if (x.shape[1] !== C) throw new ShapeError(`x has ${x.shape[1]} channels, the model takes ${C}`);
      data = x.data;
      if (data.length !== B * C * H * W) throw new ShapeError(`x.data holds ${data.length} values, shape [${x.shape.join(', ')}] needs ${B * C * H * W}`);
    } else {
      throw new DtypeError('x must be a Float32Array, { data: Float32Array, shape: [B, C, H, W] } or a float32 DeviceArray');
    }
    if (!Number.isInteger(B) || B < 1) throw new ShapeError(`x holds ${data.length} values, not a whole number of ${C}x${H}x${W} images`);
    const div = 2 ** (blockOutChannels.length - 1);
    if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1 || H % div || W % div) {
      throw new ShapeError(`H and W must be positive multiples of ${div}, got ${H}x${W}`);
    }
    const ts = timesteps(t, B);
    // x is checked finite by the native forward (ERR_ITOKIT_INVALID_ARG naming the index), not by a loop here
    const codes = this.callCodes(o, ts);
    if (data instanceof DeviceArray) {
      // a DeviceArray stays on the GPU: the forward reads it there and writes a DeviceArray
      if (o.device === 'cpu') throw new InvalidArgumentError("a DeviceArray x runs on device 'cuda', not 'cpu'");
      resolveDevice('cuda');
      const out = DeviceArray.allocate('float32', [B, outChannels, H, W]);
      return { data, B, H, W, ts, out, ...codes, device: deviceCode('cuda') };
    }
    const device = deviceCode(resolveDevice(o.device ?? this.device));
    const out = new Float32Array(B * outChannels * H * W);
    return { data, B, H, W, ts, out, ...codes, device };
  }

  /** The native codes of a call's mode, cache use and fpPrecision, checked against the model and ts. */
  private callCodes(o: PredictOptions, ts: Float64Array): { mode: number; useCache: boolean; fpPrecision: number } {
    const modeName = o.mode ?? (this.quantized ? 'integer' : 'fp');
    if (!(modeName in MODE)) throw new InvalidArgumentError(`mode must be 'integer', 'fake-quant' or 'fp', got ${describe(modeName)}`);
    let mode: number = MODE[modeName as QuantMode];
    if (!this.quantized) {
      if (modeName !== 'fp') throw new InvalidArgumentError(`mode '${modeName}' needs a quantized model`);
      mode = 0;
    } else if (mode !== 0 && !ts.every((v) => v === ts[0])) {
      throw new InvalidArgumentError('a quantized call serves one timestep for the whole batch (docs/design/unet.md)');
    }
    const fpName = o.fpPrecision ?? 'fp32';
    if (!Object.prototype.hasOwnProperty.call(FP_PRECISION, fpName)) {
      throw new InvalidArgumentError(`fpPrecision must be 'fp32', 'tf32' or 'bf16', got ${describe(fpName)}`);
    }
    return { mode, useCache: o.useCache ?? true, fpPrecision: FP_PRECISION[fpName as FpPrecision] };
  }

  /**
   * The model as the ε-model of the discrete samplers (`diffusion.ddim`, `diffusion.ddpm`): a
   * function of the sampler's flat [batch, C·H·W] state that writes ε̂ into the sampler's buffer
   * (host Float32Arrays, or DeviceArrays with the sampler's `output: 'device'`). On CUDA with the
   * state on the device, it also runs each whole step itself: the forward and the sampler's update
   * in one native call, replayed as one CUDA graph from the second step on, with the same bits as
   * the model call followed by the sampler's own update (docs/design/unet.md §9 "CUDA graphs").
   * @throws InvalidArgumentError for bad options (checked here) and, per call, a state on the
   *   device with a model on the CPU; ShapeError when the sampler's dim is not C·H·W
   * @example
   * const model = unet.loadSync(unet.builtinModelPath());
   * const { x } = await diffusion.ddim({ epsModel: model.epsModel({ device: 'cuda' }), output: 'device',
   *   batch: 64, dim: 256, seed: 1, steps: 50, clipSample: true });
   * const images = x.toHost();
   */
  epsModel(o: EpsModelOptions = {}): UNetEpsFn {
    optionalOptions('epsModel', o, EPS_MODEL_OPTIONS);
    const { inChannels: C, outChannels, sampleSize, blockOutChannels } = this.config;
    const size: unknown[] = Array.isArray(o.imageSize) ? o.imageSize : o.imageSize === undefined && sampleSize ? [sampleSize, sampleSize] : [];
    const [H, W] = size as [number, number];
    const div = 2 ** (blockOutChannels.length - 1);
    if (size.length !== 2 || !Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1 || H % div || W % div) {
      throw new ShapeError(`imageSize must be two positive multiples of ${div}${sampleSize ? '' : ' (the config has no sample_size)'}`);
    }
    if (outChannels !== C) throw new ShapeError(`an ε-model's output must have its input's ${C} channels, this one has ${outChannels}`);
    const po: PredictOptions = { mode: o.mode, useCache: o.useCache, fpPrecision: o.fpPrecision };
    this.callCodes(po, new Float64Array(1));  // bad options fail here, not at the first step
    const device = resolveDevice(o.device ?? this.device);
    const sync = o.sync ?? false;
    const args = (t: Float64Array, info: { batch: number; dim: number }) => {
      if (info.dim !== C * H * W) throw new ShapeError(`the sampler's dim ${info.dim} is not C·H·W = ${C * H * W}`);
      const ts = timesteps(t, info.batch);
      return { model: this.handle, B: info.batch, H, W, t: ts, ...this.callCodes(po, ts) };
    };
    const eps = (x: SampleBuffer, t: Float64Array, out: SampleBuffer, info: { batch: number; dim: number; step: number }): void | Promise<void> => {
      const a = args(t, info);
      if (x instanceof DeviceArray || out instanceof DeviceArray) {
        if (device !== 'cuda') throw new InvalidArgumentError("the sampler's state is on the device: use epsModel({ device: 'cuda' })");
        if (!(x instanceof DeviceArray && out instanceof DeviceArray)) throw new ShapeError('x and out must both be DeviceArrays, or neither');
        const dev = { ...a, device: 1 };
        if (sync) return void runNativeSync(() => unetNative().unetPredict({ ...dev, x: x.live(), out: out.live(), control: null, async: false }));
        return DeviceArray.holding([x, out], () => runNative({}, (control) => unetNative().unetPredict({ ...dev, x: x.live(), out: out.live(), control, async: true })));
      }
      const host = { ...a, device: deviceCode(device), out };
      if (sync) return void runNativeSync(() => unetNative().unetPredict({ ...host, x, control: null, async: false }));
      const data = ownedInput(x);
      return runNative({}, (control) => unetNative().unetPredict({ ...host, x: data, control, async: true }));
    };
    if (device === 'cuda') {
      const step: FusedStep = (x, t, combs, info) => {
        const a = { ...args(t, info), ...flatStep(combs, info.batch), x: x.live() };
        if (sync) return void runNativeSync(() => unetNative().unetStepDevice({ ...a, control: null, async: false }));
        return DeviceArray.holding([x], () => runNative({}, (control) => unetNative().unetStepDevice({ ...a, control, async: true })));
      };
      Object.defineProperty(eps, FUSED_STEP, { value: step });
    }
    return eps as UNetEpsFn;
  }

  /** The inputs of native unetPredict that {@link prepare} fixed (the caller adds x, out, control, async). */
  private predictArgs(p: ReturnType<UNetModel['prepare']>): Omit<UnetPredictArgs, 'x' | 'out' | 'control' | 'async'> {
    return { model: this.handle, B: p.B, H: p.H, W: p.W, t: p.ts, mode: p.mode, useCache: p.useCache, device: p.device, fpPrecision: p.fpPrecision };
  }

  /**
   * ε̂ = UNet(x, t) off the event loop.
   * @param x - [B, C, H, W] float32 (a bare Float32Array means square sample_size images); or a
   *   float32 {@link DeviceArray} (shape [B, C, H, W], or flat with sample_size), which runs on
   *   CUDA with the result left on the device as a DeviceArray (nothing crosses the bus but t)
   * @param t - one integer timestep, or one per sample
   * @returns [B, out_channels, H, W]
   * @throws InvalidArgumentError (`ERR_ITOKIT_INVALID_ARG`) when x holds NaN or ±Inf (checked by the
   *   native forward, the message names the first index); NumericalError (`ERR_ITOKIT_NUMERICAL`)
   *   when the output is not finite (weights that overflow float32 on this input)
   */
  predict(x: DeviceArray<'float32'>, t: number | ArrayLike<number>, o?: PredictOptions): Promise<DeviceArray<'float32'>>;
  predict(x: Float32Array | Tensor4, t: number | ArrayLike<number>, o?: PredictOptions): Promise<Float32Array>;
  async predict(x: Float32Array | Tensor4 | DeviceArray<'float32'>, t: number | ArrayLike<number>, o: PredictOptions = {}): Promise<Float32Array | DeviceArray<'float32'>> {
    const p = this.prepare(x, t, optionalOptions('predict', o, PREDICT_OPTIONS));
    if (p.data instanceof DeviceArray) {
      const dx = p.data, out = p.out as DeviceArray<'float32'>;
      await DeviceArray.holding([dx, out], () => runNative(o, (control) =>
        unetNative().unetPredict({ ...this.predictArgs(p), x: dx.live(), out: out.live(), control, async: true })));
      return out;
    }
    const data = ownedInput(p.data);  // async inputs are copied at the start (README, Threads and concurrency)
    const out = p.out as Float32Array;
    await runNative(o, (control) => unetNative().unetPredict({ ...this.predictArgs(p), x: data, out, control, async: true }));
    return out;  // checked finite by the native forward (ERR_ITOKIT_NUMERICAL)
  }

  /** {@link predict}, blocking. */
  predictSync(x: DeviceArray<'float32'>, t: number | ArrayLike<number>, o?: Omit<PredictOptions, keyof RunOptions>): DeviceArray<'float32'>;
  predictSync(x: Float32Array | Tensor4, t: number | ArrayLike<number>, o?: Omit<PredictOptions, keyof RunOptions>): Float32Array;
  predictSync(x: Float32Array | Tensor4 | DeviceArray<'float32'>, t: number | ArrayLike<number>, o: Omit<PredictOptions, keyof RunOptions> = {}): Float32Array | DeviceArray<'float32'> {
    const p = this.prepare(x, t, optionalOptions('predictSync', o, PREDICT_SYNC_OPTIONS));
    const data = p.data instanceof DeviceArray ? p.data.live() : p.data;
    const out = p.out instanceof DeviceArray ? p.out.live() : p.out;
    runNativeSync(() => unetNative().unetPredict({ ...this.predictArgs(p), x: data, out, control: null, async: false }));
    return p.out;  // checked finite by the native forward (ERR_ITOKIT_NUMERICAL)
  }

  /**
   * FP32 forward with debug taps (time_proj e(t), emb, temporal features in TIB order, mid_block,
   * eps).
   */
  debugTaps(x: Tensor4, t: number | ArrayLike<number>): Record<string, Float32Array> {
    const p = this.prepare(x, t, { mode: 'fp', device: 'cpu' });
    const data = p.data as Float32Array;  // a Tensor4 is never a DeviceArray
    return runNativeSync(() => unetNative().unetTaps({ model: this.handle, x: data, B: p.B, H: p.H, W: p.W, t: p.ts }));
  }

  /**
   * Temporal features X_{t,i} (docs/design/unet.md) in TIB order, [t.length, tibWidth]: computed in FP32,
   * or read from the quantized model's exact cache (`cached: true`).
   */
  temporalFeatures(t: ArrayLike<number>, o: { cached?: boolean } = {}): Float32Array {
    optionalOptions('temporalFeatures', o, ['cached']);
    const ts = Float64Array.from(t as ArrayLike<number>);
    for (const v of ts) if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`timesteps must be non-negative integers, got ${v}`);
    return runNativeSync(() => unetNative().unetTemporal({ model: this.handle, t: ts, cached: Boolean(o.cached) }));
  }

  /** Sizes, kernel path and counters. */
  info(): ModelInfo {
    const i: NativeInfo = runNativeSync(() => unetNative().unetInfo({ model: this.handle }));
    return {
      precision: this.precision,
      weightBytes: i.fpBytes + i.codeBytes + i.qparamBytes,
      fp32Bytes: i.fp32Bytes,
      codeBytes: i.codeBytes,
      intFp32Bytes: i.intFp32Bytes,
      fpBytes: i.fpBytes,
      qparamBytes: i.qparamBytes,
      cacheBytes: i.cacheBytes,
      externalBytes: i.externalBytes,
      tibWidth: i.tibWidth,
      kernel: i.kernel,
      cacheMisses: i.cacheMisses,
      stepMisses: i.stepMisses,
      steps: i.steps,
      actNames: i.actNames,
    };
  }
}

/**
 * Resolves a device option for the UNet ('cpu' when undefined): 'cuda' without a usable CUDA
 * device throws `ERR_ITOKIT_DEVICE_UNAVAILABLE`; 'auto' falls back to 'cpu'.
 */
export function unetDevice(device: DeviceOption | undefined): 'cpu' | 'cuda' {
  return resolveDevice(device ?? 'cpu');
}

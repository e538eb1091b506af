/**
 * Typed view of the unet area's native functions (native/bindings/unet.cc).
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { ResolvedConfig } from './config';

/** Opaque native model handle. */
export type Handle = object & { readonly __unet: unique symbol };

/** Integer layer as passed to / returned by the native layer. */
export interface NativeQLayer {
  name: string;
  kind?: 'conv' | 'linear';
  shape: number[];
  bits: number;
  groupSize: number;
  act?: number;
  codes?: Uint8Array;
  scale?: Float32Array;
  zero?: Float32Array;
}

/** Quantization state passed to unetCreate when loading a quantized file (docs/design/unet.md §8). */
export interface NativeQuant {
  weightBits: number;
  groupSize: number;
  actNames: string[];
  layers: NativeQLayer[];
  steps: Float64Array;
  actScale: Float32Array;
  actZero: Uint8Array;
  cacheT: Float64Array;
  cache: Float32Array;
  /** fp_weights 'f16' (docs/design/unet.md): hold the FP-kept layers' weights as binary16. */
  fpF16?: boolean;
  /** tib_weights 'none' (docs/design/unet.md): the file has no TIB tensors (none are passed); the model serves cached timesteps only. */
  cacheOnly?: boolean;
}

/** What unetExport returns. */
export interface NativeExport {
  tensors: { name: string; dtype: 'F32' | 'F16' | 'U8'; shape: number[]; data: Float32Array | Uint16Array | Uint8Array }[];
  layers: Required<Omit<NativeQLayer, 'codes' | 'scale' | 'zero'>>[];
  steps?: Float64Array;
  actScale?: Float32Array;
  actZero?: Uint8Array;
  cacheT?: Float64Array;
  cache?: Float32Array;
  actNames?: string[];
  tibWidths?: number[];
  tibPrefixes?: string[];
}

/** What unetPlan returns. */
export interface NativePlan {
  paramBytes: number;
  tensors: { name: string; shape: number[]; tib: boolean }[];
  integerLayers: string[];
  actNames: string[];
  tibPrefixes: string[];
  tibWidths: number[];
  /** null, or the missing / mis-shaped tensors as the native builder reports them. */
  mismatch: string | null;
}

/** What unetInfo returns. */
export interface NativeInfo {
  tibWidth: number;
  quantized: boolean;
  fpBytes: number;
  codeBytes: number;
  qparamBytes: number;
  cacheBytes: number;
  externalBytes: number;
  fp32Bytes: number;
  intFp32Bytes: number;
  kernel: string;
  weightBits?: number;
  groupSize?: number;
  steps?: number;
  cacheMisses?: number;
  stepMisses?: number;
  actNames?: string[];
}

/** Control block of a call (lib/run.ts), or null for the job's own. */
type Control = Float64Array | null;

/** Inputs of native unetPlan (native/bindings/unet.cc). @internal */
export interface UnetPlanArgs {
  /** The resolved config (camelCase, lib/unet/config.ts). */
  config: ResolvedConfig;
  /** Tensor names a file holds. */
  names: string[];
  /** Their shapes, in the order of `names`. */
  shapes: number[][];
  /** tib_weights 'none' (docs/design/unet.md): TIB tensors may be absent. */
  allowTibAbsent: boolean;
}

/** Inputs of native unetCreate (native/bindings/unet.cc). @internal */
export interface UnetCreateArgs {
  /** The resolved config (camelCase, lib/unet/config.ts). */
  config: ResolvedConfig;
  /** Names of the FP tensors. */
  names: string[];
  /** Their values, in the order of `names`. */
  arrays: Float32Array[];
  /** Their shapes, in the order of `names`. */
  shapes: number[][];
  /** The quantization state of a quantized file, or null for an FP model. */
  quant: NativeQuant | null;
}

/** Inputs naming a model handle only: unetInfo, unetDispose, unetExport (native/bindings/unet.cc). @internal */
export interface UnetHandleArgs {
  /** The model. */
  model: Handle;
}

/** Inputs of native unetPredict: ε̂ = UNet(x, t) into `out` (native/bindings/unet.cc). @internal */
export interface UnetPredictArgs {
  /** The model. */
  model: Handle;
  /** [B, C, H, W] float32 input, or a device handle (then `out` is one too and `device` is 1). */
  x: Float32Array | object;
  /** Batch size. */
  B: number;
  /** Image height. */
  H: number;
  /** Image width. */
  W: number;
  /** One integer timestep per sample. */
  t: Float64Array;
  /** [B, out_channels, H, W] float32 output, or a device handle. */
  out: Float32Array | object;
  /** 0 fp, 1 integer, 2 fake-quant (1 and 2 need a quantized model). */
  mode: number;
  /** Read temporal features from the quantized model's cache. */
  useCache: boolean;
  control: Control;
  /** Run off the event loop (a Promise) or block. */
  async: boolean;
  /** 0 cpu (also when undefined), 1 cuda. */
  device?: number;
  /** CUDA FP convs: 0 fp32 (also when undefined), 1 tf32, 2 bf16; the CPU ignores it; above 2 is INVALID_ARG. */
  fpPrecision?: number;
}

/**
 * Inputs of native unetStepDevice: one whole sampler step on the GPU, ε̂ = UNet(x, t) and then the
 * update's combinations (lib/samplers/ops.ts flatStep), x (a device handle) replaced by x′
 * (native/bindings/unet.cc, unet::forward_step_device). @internal
 */
export interface UnetStepDeviceArgs extends Omit<UnetPredictArgs, 'x' | 'out' | 'device'> {
  /** The state [B, C, H, W] as a device handle; in place. */
  x: object;
  /** Combinations (1 or 2); the last writes x′, the first of two writes the scratch tmp. */
  combs: number;
  /** (K, input, input) per combination; inputs 0 x, 1 eps, 2 tmp. */
  combTerms: Int32Array;
  /** 1 where the combination adds c_z·z. */
  combNoise: Uint8Array;
  /** Clamp bound per combination (0: none). */
  combClip: Float64Array;
  /** Each combination's (K + 1)·B coefficient rows in turn. */
  coef: Float64Array;
  keyLo: number;
  keyHi: number;
  stream: number;
  step: number;
  sampleOffset: number;
}

/** Inputs of native unetTaps: an FP32 forward with debug taps (native/bindings/unet.cc). @internal */
export interface UnetTapsArgs {
  /** The model. */
  model: Handle;
  /** [B, C, H, W] float32 input. */
  x: Float32Array;
  /** Batch size. */
  B: number;
  /** Image height. */
  H: number;
  /** Image width. */
  W: number;
  /** One integer timestep per sample. */
  t: Float64Array;
}

/** Inputs of native unetTemporal: temporal features in TIB order (native/bindings/unet.cc). @internal */
export interface UnetTemporalArgs {
  /** The model. */
  model: Handle;
  /** Integer timesteps. */
  t: Float64Array;
  /** Read the quantized model's exact cache instead of computing in FP32. */
  cached: boolean;
}

/** Inputs of native unetQuantize: weight quantization and activation calibration (native/bindings/unet.cc). @internal */
export interface UnetQuantizeArgs {
  /** The FP model (left unchanged; the result is a new handle). */
  model: Handle;
  /** Weight bits, 4 or 8. */
  bits: number;
  /** Weight group size. */
  group: number;
  /** Calibration samples of the initial range estimate. */
  initSamples: number;
  /** Calibration batch size. */
  batch: number;
  /** Calibration seed. */
  seed: number;
  /** fp_weights 'f16' (docs/design/unet.md): hold the FP-kept layers' weights as binary16. */
  fpF16: boolean;
  /** tib_weights 'none' (docs/design/unet.md): drop the TIB weights, serve cached timesteps only. */
  cacheOnly: boolean;
  /** p of the actRange 'search' refinement (docs/design/unet.md), 0 (or undefined) for Min-Max. */
  actSearchP?: number;
  /** Calibration inputs [S, n, C, H, W]. */
  xs: Float32Array;
  /** Calibration steps. */
  S: number;
  /** Samples per step. */
  n: number;
  /** Image height. */
  H: number;
  /** Image width. */
  W: number;
  /** One timestep per calibration step. */
  steps: Float64Array;
  control: Control;
  /** Run off the event loop (a Promise) or block. */
  async: boolean;
}

/**
 * The unet area's native functions: each takes one options object (docs/design/bindings.md).
 * @internal
 */
export interface UnetAddon {
  /** Builds a model from FP tensors (and the quantization state of a quantized file). */
  unetCreate(o: UnetCreateArgs): Handle;
  /** The tensors a config implies checked against shapes a file holds, without building (see planModel). */
  unetPlan(o: UnetPlanArgs): NativePlan;
  /** ε̂ = UNet(x, t) into `out`. */
  unetPredict(o: UnetPredictArgs): Promise<void> | undefined;
  /** One sampler step on the GPU (forward and update, one CUDA graph once captured). */
  unetStepDevice(o: UnetStepDeviceArgs): Promise<void> | undefined;
  /** FP32 forward with debug taps. */
  unetTaps(o: UnetTapsArgs): Record<string, Float32Array>;
  /** Temporal features, [t.length, tibWidth]. */
  unetTemporal(o: UnetTemporalArgs): Float32Array;
  /** Sizes, quantization summary, counters. */
  unetInfo(o: UnetHandleArgs): NativeInfo;
  /** Drops the handle's model (running jobs keep theirs) and its V8 external-memory report. */
  unetDispose(o: UnetHandleArgs): void;
  /** A quantized copy of an FP model. */
  unetQuantize(o: UnetQuantizeArgs): Promise<Handle> | Handle;
  /** The model's tensors and quantization state as a file holds them. */
  unetExport(o: UnetHandleArgs): NativeExport;
}

/** The addon with the unet functions. */
export function unetNative(): UnetAddon {
  return native() as unknown as UnetAddon;
}

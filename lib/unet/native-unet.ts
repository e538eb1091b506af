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

/** @internal */
export interface UnetAddon {
  unetCreate(cfg: ResolvedConfig, names: string[], arrays: Float32Array[], shapes: number[][], quant: NativeQuant | null): Handle;
  /** The tensors a config implies checked against shapes a file holds, without building (see planModel). */
  unetPlan(cfg: ResolvedConfig, names: string[], shapes: number[][], allowTibAbsent: boolean): NativePlan;
  unetPredict(h: Handle, x: Float32Array | object, B: number, H: number, W: number, t: Float64Array, out: Float32Array | object, mode: number,
    useCache: boolean, control: Float64Array | null, async: boolean, device?: number, fpPrecision?: number): Promise<void> | undefined;
  unetTaps(h: Handle, x: Float32Array, B: number, H: number, W: number, t: Float64Array): Record<string, Float32Array>;
  unetTemporal(h: Handle, t: Float64Array, cached: boolean): Float32Array;
  unetInfo(h: Handle): NativeInfo;
  /** Drops the handle's model (running jobs keep theirs) and its V8 external-memory report. */
  unetDispose(h: Handle): void;
  /** o.actSearchP: p of the actRange 'search' refinement (docs/design/unet.md), 0 for Min-Max. */
  unetQuantize(h: Handle, o: { bits: number; group: number; initSamples: number; batch: number; seed: number; fpF16: boolean; cacheOnly: boolean; actSearchP: number }, xs: Float32Array,
    S: number, n: number, H: number, W: number, steps: Float64Array, control: Float64Array | null, async: boolean): Promise<Handle> | Handle;
  unetExport(h: Handle): NativeExport;
}

/** The addon with the unet functions. */
export function unetNative(): UnetAddon {
  return native() as unknown as UnetAddon;
}

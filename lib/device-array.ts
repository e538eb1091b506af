/**
 * Device-resident arrays: memory on the GPU that results can stay in and later calls can read,
 * so chained work never touches host memory.
 * @packageDocumentation
 */
import { resolveDevice } from './backends';
import { InvalidArgumentError, ShapeError } from './errors';
import { native } from './native';
import { runNativeSync } from './run';
import { Dtype, FloatArray, allocate, checkDtype, checkFloatArray, checkInt, dtypeOf } from './validate';

/** Where a call leaves its result: a host typed array (default) or a {@link DeviceArray}. */
export type OutputOption = 'host' | 'device';

/** The host typed array that holds elements of dtype D. */
export type HostArrayFor<D extends Dtype> = D extends 'float64' ? Float64Array : Float32Array;

function elementBytes(dtype: Dtype): number {
  return dtype === 'float64' ? 8 : 4;
}

function checkShape(shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.length === 0) throw new InvalidArgumentError('shape must be a non-empty list of sizes');
  return shape.map((s, i) => checkInt(`shape[${i}]`, s, 0, 2 ** 48));
}

/**
 * A float array in CUDA device memory. Results of calls made with `output: 'device'` are
 * DeviceArrays, and DeviceArrays are accepted where those calls read state (e.g. `x0` of
 * `sde.simulate`), so a chain of calls runs without host copies.
 *
 * Create one with {@link DeviceArray.fromHost} or {@link DeviceArray.zeros}; read it back with
 * {@link DeviceArray.toHost}; free it with {@link DeviceArray.dispose} (the garbage collector frees
 * it too; its bytes are reported to V8 so dropped arrays are collected promptly). Disposing while
 * an async call still uses the array defers the free until that call ends.
 * Throws `ERR_ITOKIT_DEVICE_UNAVAILABLE` when CUDA is not available.
 * @example
 * ```ts
 * const z = rng.normal(1 << 26, { seed: 1, output: 'device' }); // stays on the GPU
 * const host = z.toHost();                                      // copy back when needed
 * z.dispose();
 * ```
 */
export class DeviceArray<D extends Dtype = Dtype> {
  /** Element type. */
  readonly dtype: D;
  /** Number of elements (the product of {@link DeviceArray.shape}). */
  readonly length: number;
  /** Logical shape, row-major (e.g. `[paths, dim]` for a simulation state). */
  readonly shape: readonly number[];
  private handle: object | undefined;
  private users = 0;
  private disposeRequested = false;

  private constructor(dtype: D, shape: readonly number[]) {
    resolveDevice('cuda');
    this.dtype = dtype;
    this.shape = Object.freeze(shape.slice());
    this.length = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(this.length * elementBytes(dtype))) throw new InvalidArgumentError(`shape [${shape.join(', ')}] is too large`);
    this.handle = runNativeSync(() => native().deviceAlloc({ bytes: this.length * elementBytes(dtype) }));
  }

  /** @internal Uninitialised storage for a native call to fill. */
  static allocate<D extends Dtype>(dtype: D, shape: readonly number[]): DeviceArray<D> {
    return new DeviceArray(dtype, checkShape(shape));
  }

  /** Allocates zeros: `length` elements, or an explicit shape. */
  static zeros<D extends Dtype = 'float32'>(lengthOrShape: number | readonly number[], dtype?: D): DeviceArray<D> {
    const shape = typeof lengthOrShape === 'number' ? [checkInt('length', lengthOrShape, 0, 2 ** 48)] : checkShape(lengthOrShape);
    const a = new DeviceArray((dtype === undefined ? 'float32' : checkDtype(dtype)) as D, shape);
    a.upload(allocate(a.dtype, a.length));
    return a;
  }

  /** Copies a host array to a new device array (shape defaults to `[data.length]`). */
  static fromHost<A extends FloatArray>(data: A, shape?: readonly number[]): DeviceArray<A extends Float64Array ? 'float64' : 'float32'> {
    checkFloatArray('data', data);
    const s = shape === undefined ? [data.length] : checkShape(shape);
    const a = new DeviceArray(dtypeOf(data), s);
    if (a.length !== data.length) throw new ShapeError(`shape [${s.join(', ')}] holds ${a.length} elements, data has ${data.length}`);
    a.upload(data);
    return a as DeviceArray<A extends Float64Array ? 'float64' : 'float32'>;
  }

  /** Bytes of device memory held. */
  get byteLength(): number {
    return this.length * elementBytes(this.dtype);
  }

  /** Overwrites the device contents with `data` (same dtype, same length). */
  upload(data: FloatArray): void {
    checkFloatArray('data', data, this.dtype);
    if (data.length !== this.length) throw new ShapeError(`data has ${data.length} elements, the device array ${this.length}`);
    runNativeSync(() => native().deviceUpload({ handle: this.live(), src: data }));
  }

  /**
   * Copies the contents to the host: into `into` when given (same dtype and length; reusing one
   * array avoids faulting in fresh pages on every copy), else into a new array.
   */
  toHost(into?: HostArrayFor<D>): HostArrayFor<D> {
    let out: FloatArray;
    if (into === undefined) {
      out = allocate(this.dtype, this.length);
    } else {
      out = checkFloatArray('into', into, this.dtype);
      if (out.length !== this.length) throw new ShapeError(`into has ${out.length} elements, the device array ${this.length}`);
    }
    runNativeSync(() => native().deviceDownload({ handle: this.live(), dst: out }));
    return out as HostArrayFor<D>;
  }

  /** A new device array with the same contents (a device-to-device copy). */
  clone(): DeviceArray<D> {
    const c = new DeviceArray(this.dtype, this.shape);
    c.copyFrom(this);
    return c;
  }

  /**
   * Overwrites this array with the contents of `src` (a device-to-device copy): same dtype and
   * length, shapes may differ (e.g. a [B, C, H, W] UNet output into a [B, C·H·W] sampler buffer).
   */
  copyFrom(src: DeviceArray<D>): void {
    if (!(src instanceof DeviceArray)) throw new InvalidArgumentError('copyFrom needs a DeviceArray');
    if (src.dtype !== this.dtype || src.length !== this.length) {
      throw new ShapeError(`copyFrom: ${src.dtype}[${src.length}] into ${this.dtype}[${this.length}]`);
    }
    runNativeSync(() => native().deviceCopy({ dst: this.live(), src: src.live(), bytes: this.byteLength }));
  }

  /** Frees the device memory now (or when the async calls using it end). Calling it twice is harmless. */
  dispose(): void {
    if (this.users > 0) {
      this.disposeRequested = true;
      return;
    }
    if (this.handle) native().deviceFree({ handle: this.handle });
    this.handle = undefined;
  }

  /** True once {@link DeviceArray.dispose} was called. */
  get disposed(): boolean {
    return this.handle === undefined || this.disposeRequested;
  }

  /** @internal The native handle, for a synchronous call that reads or writes this array. */
  live(): object {
    if (!this.handle || this.disposeRequested) throw new InvalidArgumentError('this DeviceArray was disposed');
    return this.handle;
  }

  /** @internal Holds the array for the duration of an async call: dispose() waits for it. */
  async using<T>(fn: (handle: object) => Promise<T>): Promise<T> {
    return DeviceArray.holding([this], () => fn(this.live()));
  }

  /**
   * @internal Holds every given array (nulls skipped) while `fn` runs, so a dispose() made in the
   * meantime frees them only after the native call that reads or writes them has ended.
   */
  static async holding<T>(arrays: readonly (DeviceArray | null | undefined)[], fn: () => Promise<T>): Promise<T> {
    const held = arrays.filter((a): a is DeviceArray => a instanceof DeviceArray);
    for (const a of held) a.live();
    for (const a of held) a.users++;
    try {
      return await fn();
    } finally {
      for (const a of held) {
        a.users--;
        if (a.users === 0 && a.disposeRequested) {
          a.disposeRequested = false;
          a.dispose();
        }
      }
    }
  }
}

/** @internal Validates an `output` option. */
export function checkOutput(v: unknown): OutputOption {
  if (v === undefined || v === 'host') return 'host';
  if (v === 'device') return 'device';
  throw new InvalidArgumentError(`output must be 'host' or 'device', got ${String(v)}`);
}

/**
 * @internal The device a call with `output: 'device'` runs on: CUDA, whatever `device` says
 * unless it asks for the CPU, which is an error (the result could not stay on a GPU).
 */
export function deviceForOutput(device: unknown): 'cuda' {
  if (device === 'cpu') throw new InvalidArgumentError("output: 'device' needs device 'cuda' or 'auto', got 'cpu'");
  resolveDevice(device === undefined || device === 'auto' ? 'cuda' : device);
  return 'cuda';
}

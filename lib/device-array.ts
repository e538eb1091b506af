/**
 * Device-resident arrays: memory on the GPU that loops can reuse without copying every step.
 * @packageDocumentation
 */
import { resolveDevice } from './backends';
import { InvalidArgumentError, ShapeError } from './errors';
import { native } from './native';
import { runNativeSync } from './run';
import { Dtype, FloatArray, allocate, checkDtype, checkFloatArray, dtypeOf } from './validate';

/**
 * A float array in CUDA device memory. Create it with {@link DeviceArray.fromHost} or
 * {@link DeviceArray.zeros}; read it back with {@link DeviceArray.toHost}; free it with
 * {@link DeviceArray.dispose} (the garbage collector frees it too, later).
 * Throws `ERR_ITOKIT_DEVICE_UNAVAILABLE` when CUDA is not available.
 */
export class DeviceArray {
  /** Element type. */
  readonly dtype: Dtype;
  /** Number of elements. */
  readonly length: number;
  private handle: object | undefined;

  private constructor(dtype: Dtype, length: number) {
    resolveDevice('cuda');
    this.dtype = dtype;
    this.length = length;
    const bytes = length * (dtype === 'float64' ? 8 : 4);
    this.handle = runNativeSync(() => native().deviceAlloc(bytes));
  }

  /** Allocates `length` elements on the device (uninitialised contents are zeroed by upload). */
  static zeros(length: number, dtype: Dtype = 'float32'): DeviceArray {
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidArgumentError(`length must be a non-negative integer, got ${length}`);
    const a = new DeviceArray(checkDtype(dtype), length);
    a.upload(allocate(a.dtype, length));
    return a;
  }

  /** Copies a host array to a new device array. */
  static fromHost(data: FloatArray): DeviceArray {
    checkFloatArray('data', data);
    const a = new DeviceArray(dtypeOf(data), data.length);
    a.upload(data);
    return a;
  }

  /** Overwrites the device contents with `data` (same dtype, same length). */
  upload(data: FloatArray): void {
    checkFloatArray('data', data, this.dtype);
    if (data.length !== this.length) throw new ShapeError(`data has ${data.length} elements, the device array ${this.length}`);
    runNativeSync(() => native().deviceUpload(this.live(), data));
  }

  /** Copies the contents back to a new host array. */
  toHost(): FloatArray {
    const out = allocate(this.dtype, this.length);
    runNativeSync(() => native().deviceDownload(this.live(), out));
    return out;
  }

  /** Frees the device memory now. Further use throws. Calling it twice is harmless. */
  dispose(): void {
    if (this.handle) native().deviceFree(this.handle);
    this.handle = undefined;
  }

  /** True once {@link DeviceArray.dispose} was called. */
  get disposed(): boolean {
    return this.handle === undefined;
  }

  private live(): object {
    if (!this.handle) throw new InvalidArgumentError('this DeviceArray was disposed');
    return this.handle;
  }
}

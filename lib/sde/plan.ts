// The validated simulation plan that simulate.ts builds and both the fused path and the callback
// path (user.ts) run; its own module so neither of those imports the other.
import type { DeviceArray } from '../device-array';
import type { Dtype, FloatArray } from '../validate';
import type { Method, Model } from './models';

/** @internal Validated simulation plan shared by the fused and callback paths. */
export interface Plan {
  model: Model; method: Method; P: number; d: number; m: number; N: number; t0: number; t1: number; h: number;
  a: number; b: number; refine: number; dtype: Dtype; key: [number, number]; pathOffset: number;
  saveN0: Uint32Array; saveW: Float64Array; times: Float64Array; x: FloatArray; device: 'cpu' | 'cuda';
  /** With output 'device': how to build the device state (x is then empty). */
  deviceX0?: { row: FloatArray } | { all: FloatArray } | { array: DeviceArray };
}

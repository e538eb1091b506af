/**
 * Typed view of the internal testing binding, `addon.testing` (native/bindings/testing.cc): entry
 * points only tests call. lib/testing/ wraps them; lib/index.ts exports none of this.
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import type { Handle } from '../unet/native-unet';

/** Inputs of testing.unetQdot: one integer dot-product micro-kernel by name. @internal */
export interface UnetQdotArgs {
  /** 'scalar', 'avx2' or 'avx512vnni'. */
  kernel: string;
  bits: number;
  w: Uint8Array;
  /** Four activation rows of 32·nblk codes. */
  a: Uint8Array;
  nblk: number;
  /** Four weight rows against the four activation rows (16 outputs). */
  rows4: boolean;
}

/** Inputs of testing.unetConvFp: one FP32 convolution with a named micro-kernel. @internal */
export interface UnetConvFpArgs {
  kernel: string;
  x: Float32Array;
  /** [B, I, H, W] */
  shape: Int32Array;
  w: Float32Array;
  bias: Float32Array;
  add: Float32Array | null;
  /** [k, stride, pad, padBr] */
  geometry: Int32Array;
}

/** Inputs of testing.unetLayerCheck: one integer layer against its fake-quant FP32 form. @internal */
export interface UnetLayerCheckArgs {
  model: Handle;
  layer: string;
  x: Float32Array;
  B: number;
  H: number;
  W: number;
  delta: number;
  zero: number;
  cuda: boolean;
}

/** Inputs of testing.unetQuantTest: a quantizer primitive on test vectors. @internal */
export interface UnetQuantTestArgs {
  op: 'lp' | 'lpcompare' | 'minmax' | 'code' | 'calib' | 'actsearch' | 'exp' | 'gnquant';
  data: Float32Array;
  a: number;
  b: number;
  c: number;
}

/** The testing binding's entry points. @internal */
export interface TestingAddon {
  unetQdot(o: UnetQdotArgs): Int32Array | null;
  unetConvFp(o: UnetConvFpArgs): Float32Array | null;
  unetLayerCheck(o: UnetLayerCheckArgs): { integer: Float32Array; fakeQuant: Float32Array };
  unetQuantTest(o: UnetQuantTestArgs): Float64Array;
}

/** `addon.testing`. @internal */
export function testingNative(): TestingAddon {
  return (native() as unknown as { testing: TestingAddon }).testing;
}

/**
 * Typed view of the internal testing binding, `addon.testing` (native/bindings/testing.cc): entry
 * points only tests call. lib/testing/ wraps them; lib/index.ts exports none of this.
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import type { Handle } from '../unet/native-unet';
import type { flatStep } from '../samplers/ops';

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

/** One op of a UNet forward graph (native/unet/unet_graph.h), as testing.unetGraph lists it. @internal */
export interface UnetGraphOp {
  kind: string;
  in: number[];
  out: number[];
  /** Names of the convolutions the op runs (to_q, to_k, to_v for norm_qkv). */
  layers: string[];
  norm: string | null;
  /** Whether the GroupNorm is followed by SiLU. */
  silu: boolean;
  /** Resnet (TIB order) whose temporal feature the conv adds, or -1. */
  tf: number;
  /** Values whose last use is this op. */
  release: number[];
}

/** Inputs of testing.unetGraph. @internal */
export interface UnetGraphArgs {
  model: Handle;
}

/** The forward graph of a UNet model. @internal */
export interface UnetGraph {
  values: number;
  input: number;
  output: number;
  ops: UnetGraphOp[];
}

/** Inputs of testing.unetStepUpdate: a fused step's update (flatStep's form) on the host. @internal */
export interface UnetStepUpdateArgs extends ReturnType<typeof flatStep> {
  x: Float32Array;
  eps: Float32Array;
  P: number;
  D: number;
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
/** Inputs of native mathf: out[i] = op(x[i]) by the project's float math (native/bindings/core.cc). */
export interface MathfArgs {
  /** 0 log, 1 sin of turn24 (x holds integers), 2 cos of turn24, 3 exp. */
  op: number;
  x: Float32Array;
  out: Float32Array;
}

/** Inputs of native testingSetEnv: sets (value) or clears (null) a variable for native code (native/bindings/core.cc). */
export interface TestingSetEnvArgs {
  name: string;
  value: string | null;
}

/** Inputs of native otKthLargest (native/bindings/ot.cc). */
export interface OtKthLargestArgs {
  P: Float64Array;
  k: number;
  sampled?: boolean;
}

/** Inputs of native otSetKernelPath (native/bindings/ot.cc). */
export interface OtSetKernelPathArgs {
  name: string;
}

/** Inputs of native otExpCheck (native/bindings/ot.cc). */
export interface OtExpCheckArgs {
  z: Float64Array;
}

/** Inputs of native poolStress (native/bindings/core.cc): parallel regions on the CPU pool. */
export interface PoolStressArgs {
  /** Regions each caller runs. */
  regions: number;
  /** Chunks per region, in [1, 65536]. */
  chunks: number;
  /** Thread budget of this thread's regions (0: the whole pool). */
  threads: number;
  /** Every throwEvery-th region throws from one chunk (0: never). */
  throwEvery: number;
  /** Busy-wait per chunk, ns. */
  spinNs: number;
  /** Extra native threads that run regions at the same time, blocking on the pool (budgets 0, 1, 2, ...). */
  callers: number;
}

export interface TestingAddon {
  /** out[i] = op(x[i]) by the project's float math (native/kernels/ikmath.h). */
  mathf(o: MathfArgs): void;
  /** Sets (value) or clears (null) an environment variable for native code. */
  testingSetEnv(o: TestingSetEnvArgs): void;
  /** OT row-kernel tables this CPU runs, best first. */
  otKernelPaths(): string[];
  /** Switches the OT row-kernel table; returns the previous name. */
  otSetKernelPath(o: OtSetKernelPathArgs): string;
  /** e^z by the current OT table's exp. */
  otExpCheck(o: OtExpCheckArgs): Float64Array;
  /** Radix-select k-th largest of P (sampled: the sampled variant). */
  otKthLargest(o: OtKthLargestArgs): number;
  /** [ns per region on this thread, regions run, exceptions caught, violations]. */
  poolStress(o: PoolStressArgs): Float64Array;
  unetQdot(o: UnetQdotArgs): Int32Array | null;
  unetConvFp(o: UnetConvFpArgs): Float32Array | null;
  unetLayerCheck(o: UnetLayerCheckArgs): { integer: Float32Array; fakeQuant: Float32Array };
  unetQuantTest(o: UnetQuantTestArgs): Float64Array;
  unetGraph(o: UnetGraphArgs): UnetGraph;
  unetStepUpdate(o: UnetStepUpdateArgs): Float32Array;
}

/** `addon.testing`. @internal */
export function testingNative(): TestingAddon {
  return (native() as unknown as { testing: TestingAddon }).testing;
}

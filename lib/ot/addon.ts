/**
 * Typed view of the ot part of the native addon and the options block it reads
 * (native/bindings/ot.cc, enum Slot).
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

/** What native otSolve returns for one problem. */
export interface RawResult {
  f: Float64Array;
  g: Float64Array;
  cost: number;
  regularizedCost: number;
  dualValue: number;
  marginalError: number;
  status: number;
  sinkhornIters: number;
  newtonIters: number;
  cgIters: number;
  lineSearchEvals: number;
  densePasses: number;
  lambdaFinal: number;
  timeMs: number;
  /** native Method code: 0 sinkhorn, 1 sns, 2 kernel-scaling. */
  method: number;
  absorptions: number;
  history: Float64Array;
}

/** A reference problem as built natively. */
export interface RawReference {
  n: number;
  m: number;
  C: Float64Array;
  a: Float64Array;
  b: Float64Array;
  X: Float64Array;
  Y: Float64Array;
}

type Maybe<T> = T | null;

/** The ot functions of the addon. */
export interface OtAddon {
  otSolve(C: FloatArray, n: number, m: number, a: Float64Array, b: Float64Array, options: Float64Array, initF: Maybe<Float64Array>, initG: Maybe<Float64Array>, plan: Maybe<FloatArray>, device: number, control: Maybe<Float64Array>, async: boolean): RawResult | Promise<RawResult>;
  otSolvePoints(X: FloatArray, Y: FloatArray, n: number, m: number, d: number, a: Float64Array, b: Float64Array, options: Float64Array, initF: Maybe<Float64Array>, initG: Maybe<Float64Array>, plan: Maybe<FloatArray>, device: number, control: Maybe<Float64Array>, async: boolean): RawResult | Promise<RawResult>;
  /** OT row-kernel tables this CPU runs, best first (tests). */
  otKernelPaths(): string[];
  /** Switches the OT row-kernel table; returns the previous name (tests). */
  otSetKernelPath(name: string): string;
  /** e^z by the current table's exp (tests). */
  otExpCheck(z: Float64Array): Float64Array;
  otSolveBatch(C: FloatArray, shared: boolean, B: number, n: number, m: number, a: Float64Array, b: Float64Array, reg: Float64Array, options: Float64Array, plan: Maybe<FloatArray>, device: number, control: Maybe<Float64Array>, async: boolean): RawResult[] | Promise<RawResult[]>;
  otPairwiseCost(X: FloatArray, Y: FloatArray, n: number, m: number, d: number, squared: boolean, C: FloatArray, async: boolean): undefined | Promise<undefined>;
  otGridCost(h: number, w: number, p: number, C: Float64Array): void;
  /** Radix-select k-th largest (internal, for tests). */
  otKthLargest(P: Float64Array, k: number, sampled?: boolean): number;
  otReference(kind: number, n: number, m: number, p: number, keyLo: number, keyHi: number, problem: number): RawReference;
}

/**
 * Type tests that work across realms: arrays made by the addon belong to the main realm, which is
 * not the realm of a Jest test or a vm context, so `instanceof` cannot be used on them.
 */
export function isF64(x: unknown): x is Float64Array {
  return Object.prototype.toString.call(x) === '[object Float64Array]';
}
/** See {@link isF64}. */
export function isF32(x: unknown): x is Float32Array {
  return Object.prototype.toString.call(x) === '[object Float32Array]';
}
/** dtype of a float array, realm-independent. */
export function dtypeOfArray(x: FloatArray): 'float32' | 'float64' {
  return isF64(x) ? 'float64' : 'float32';
}
/** Copies a native-made array into this realm. */
export function local(x: Float64Array): Float64Array {
  return new Float64Array(x);
}

/** The addon, typed for this area. */
export function addon(): OtAddon {
  return native() as unknown as OtAddon;
}

/** Slots of the options block, in native order. */
export const SLOTS = [
  'reg', 'method', 'tol', 'maxIter', 'checkEvery', 'epsScaling', 'returnPlan', 'roundPlan', 'stallWindow',
  'warmupIters', 'lambda0', 'lambdaMax', 'badRatio', 'maxNewton', 'cgMaxIter', 'cgRtol', 'shiftMax', 'armijoC1',
  'maxBacktracks', 'fallbackIters', 'fallbackRatio', 'relax',
] as const;

/** Packs named option values into the native block. */
export function packOptions(values: Record<(typeof SLOTS)[number], number>): Float64Array {
  return Float64Array.from(SLOTS.map((k) => values[k]));
}

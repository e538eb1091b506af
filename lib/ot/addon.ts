/**
 * Typed view of the ot part of the native addon and the options objects it reads by name
 * (native/bindings/ot.cc).
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

/**
 * Solver options every solve reads by name (native/bindings/ot.cc options_arg). Sentinels: a
 * negative lambda0/lambdaMax/cgMaxIter/cgRtol/relax asks for the solver's own choice.
 */
export interface OtSolverOptions {
  reg: number;
  /** native Method code: index in lib/ot/solve.ts METHODS (0 sinkhorn, 1 sns, 2 kernel-scaling, 3 auto). */
  method: number;
  tol: number;
  maxIter: number;
  checkEvery: number;
  epsScaling: boolean;
  returnPlan: boolean;
  roundPlan: boolean;
  stallWindow: number;
  warmupIters: number;
  lambda0: number;
  lambdaMax: number;
  badRatio: number;
  maxNewton: number;
  cgMaxIter: number;
  cgRtol: number;
  shiftMax: number;
  armijoC1: number;
  maxBacktracks: number;
  fallbackIters: number;
  fallbackRatio: number;
  /** over-relaxation: 1 on, 0 off, -1 the solver's choice. */
  relax: number;
}

/** The inputs a single-problem solve ends with: warm start, plan output, device and job control. */
export interface OtSolveTail {
  initF: Maybe<Float64Array>;
  initG: Maybe<Float64Array>;
  /** n×m output of the problem's dtype, or null for no plan. */
  plan: Maybe<FloatArray>;
  /** 0 cpu, 1 cuda. */
  device: number;
  control: Maybe<Float64Array>;
  async: boolean;
}

/** Inputs of native otSolve: a (n), b (m), cost C (n×m). */
export interface OtSolveArgs extends OtSolverOptions, OtSolveTail {
  C: FloatArray;
  n: number;
  m: number;
  a: Float64Array;
  b: Float64Array;
}

/** Inputs of native otSolvePoints: squared Euclidean cost between the rows of X (n×d) and Y (m×d). */
export interface OtSolvePointsArgs extends OtSolverOptions, OtSolveTail {
  X: FloatArray;
  Y: FloatArray;
  n: number;
  m: number;
  d: number;
  a: Float64Array;
  b: Float64Array;
}

/** Inputs of native otSolveBatch: B problems, C [B or 1 (shared), n, m], a [B, n], b [B, m], regs [B]. */
export interface OtSolveBatchArgs extends OtSolverOptions {
  C: FloatArray;
  shared: boolean;
  B: number;
  n: number;
  m: number;
  a: Float64Array;
  b: Float64Array;
  regs: Float64Array;
  plan: Maybe<FloatArray>;
  device: number;
  control: Maybe<Float64Array>;
  async: boolean;
}

/** Inputs of native otPairwiseCost: C (n×m) = ‖x_i − y_j‖ (squared when `squared`). */
export interface OtPairwiseCostArgs {
  X: FloatArray;
  Y: FloatArray;
  n: number;
  m: number;
  d: number;
  squared: boolean;
  C: FloatArray;
  async: boolean;
}

/** Inputs of native otGridCost: C ((hw)²) = |Δ|^p between the cells of an h×w grid. */
export interface OtGridCostArgs {
  h: number;
  w: number;
  p: number;
  C: Float64Array;
}

/** Inputs of native otReference (kind 1, 2 or 3, docs/design/ot.md). */
export interface OtReferenceArgs {
  kind: number;
  n: number;
  m: number;
  p: number;
  keyLo: number;
  keyHi: number;
  problem: number;
}

/** The ot functions of the addon; each takes one options object read by name (docs/design/bindings.md). */
export interface OtAddon {
  otSolve(o: OtSolveArgs): RawResult | Promise<RawResult>;
  otSolvePoints(o: OtSolvePointsArgs): RawResult | Promise<RawResult>;
  otSolveBatch(o: OtSolveBatchArgs): RawResult[] | Promise<RawResult[]>;
  otPairwiseCost(o: OtPairwiseCostArgs): undefined | Promise<undefined>;
  otGridCost(o: OtGridCostArgs): void;
  otReference(o: OtReferenceArgs): RawReference;
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

/**
 * Typed view of the train functions of the native addon.
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

type Ctl = Float64Array | null;
type Ret = Promise<void> | undefined;

/** The network of a trainer call: its layout (lib/nn/mlp.ts) and parameters. @internal */
export interface NetArgs {
  layout: Int32Array;
  params: FloatArray;
}

/** Inputs of native trainFsdeCoefficients: ω(H), dω/dH and the type I initial-covariance root. @internal */
export interface TrainFsdeCoefficientsArgs {
  type1: boolean;
  hurst: number;
  horizon: number;
  unit: boolean;
  gammas: Float64Array;
}

/** Inputs of native trainFsde: one batch of the variational fBM-SDE trainer (native/train/fsde.h). @internal */
export interface TrainFsdeArgs extends NetArgs {
  /** Number of OU factors, in [1, 32]. */
  K: number;
  /** Time steps. */
  N: number;
  dt: number;
  sigma: number;
  theta: number;
  x0: number;
  type1: boolean;
  obsSigma: number;
  /** First observed sequence: path p observes sequence (seqOffset + p) mod M. */
  seqOffset: number;
  amortized: boolean;
  keyLo: number;
  keyHi: number;
  pathOffset: number;
  gammas: Float64Array;
  omegas: Float64Array;
  cholC: Float64Array | null;
  obsIdx: Int32Array;
  obs: FloatArray;
  M: number;
  B: number;
  backward: boolean;
  grad: FloatArray | null;
  dOmega: Float64Array | null;
  xPaths: FloatArray | null;
  uPaths: FloatArray | null;
  pathLoss: Float64Array | null;
  /** loss, nll, kl, dTheta */
  result: Float64Array;
  control: Ctl;
  async: boolean;
}

/** Inputs of native trainDiffusionStep: one score-matching (mode 0 VP, 1 VE) or flow-matching (2) step. @internal */
export interface TrainDiffusionStepArgs extends NetArgs {
  mode: number;
  B: number;
  D: number;
  /** VP β_min or VE σ_min. */
  a: number;
  /** VP β_max or VE σ_max. */
  b: number;
  tEps: number;
  /** σ of the flow-matching path noise. */
  sigmaFm: number;
  keyLo: number;
  keyHi: number;
  /** The Philox step of this iteration's draws. */
  step: number;
  /** Rows of `data`. */
  M: number;
  freqs: Float64Array;
  data: FloatArray;
  x0: FloatArray | null;
  pair: Int32Array | null;
  grad: FloatArray;
  result: Float64Array;
  control: Ctl;
  async: boolean;
}

/** Inputs of native trainModelEval: alpha·x + beta·g(x, t) of a trained time model. @internal */
export interface TrainModelEvalArgs extends NetArgs {
  freqs: Float64Array;
  D: number;
  x: FloatArray;
  t: Float64Array;
  alpha: number;
  beta: number;
  out: FloatArray;
  control: Ctl;
  async: boolean;
}

/** Inputs of native trainDrawBatch: B rows of data (x1) and B normals (x0). @internal */
export interface TrainDrawBatchArgs {
  data: FloatArray;
  M: number;
  D: number;
  B: number;
  keyLo: number;
  keyHi: number;
  step: number;
  x0: FloatArray;
  x1: FloatArray;
  idx: Int32Array;
}

/** Inputs of native trainPlanPairs: pairs drawn from (or the argmax of) each row of a B×B plan. @internal */
export interface TrainPlanPairsArgs {
  plan: Float64Array;
  B: number;
  idx: Int32Array;
  argmax: boolean;
  keyLo: number;
  keyHi: number;
  step: number;
  pair: Int32Array;
}

/** The train functions; each takes one options object read by name (docs/design/bindings.md). @internal */
export interface TrainAddon {
  trainFsdeCoefficients(o: TrainFsdeCoefficientsArgs): {
    omegas: Float64Array; dOmegaDHurst: Float64Array; cholC: Float64Array; relativeError: number;
  };
  trainFsde(o: TrainFsdeArgs): Ret;
  trainDiffusionStep(o: TrainDiffusionStepArgs): Ret;
  trainModelEval(o: TrainModelEvalArgs): Ret;
  trainDrawBatch(o: TrainDrawBatchArgs): undefined;
  trainPlanPairs(o: TrainPlanPairsArgs): undefined;
}

/** The addon with the train functions typed. @internal */
export function trainAddon(): TrainAddon {
  return native() as unknown as TrainAddon;
}

/**
 * Typed view of the train functions of the native addon.
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

type Ctl = Float64Array | null;
type Ret = Promise<void> | undefined;

/** @internal */
export interface TrainAddon {
  trainFsdeCoefficients(type1: boolean, hurst: number, horizon: number, unit: boolean, gammas: Float64Array): {
    omegas: Float64Array; dOmegaDHurst: Float64Array; cholC: Float64Array; relativeError: number;
  };
  trainFsde(layout: Int32Array, params: FloatArray, cfg: Float64Array, gammas: Float64Array, omegas: Float64Array,
    cholC: Float64Array | null, obsIdx: Int32Array, obs: FloatArray, M: number, B: number, backward: boolean,
    grad: FloatArray | null, dOmega: Float64Array | null, xPaths: FloatArray | null, uPaths: FloatArray | null,
    pathLoss: Float64Array | null, result: Float64Array, control: Ctl, async: boolean): Ret;
  trainDiffusionStep(layout: Int32Array, params: FloatArray, cfg: Float64Array, freqs: Float64Array, data: FloatArray,
    x0: FloatArray | null, pair: Int32Array | null, grad: FloatArray, result: Float64Array, control: Ctl, async: boolean): Ret;
  trainModelEval(layout: Int32Array, params: FloatArray, freqs: Float64Array, dim: number, x: FloatArray, t: Float64Array,
    alpha: number, beta: number, out: FloatArray, control: Ctl, async: boolean): Ret;
  trainDrawBatch(data: FloatArray, M: number, D: number, B: number, keyLo: number, keyHi: number, step: number,
    x0: FloatArray, x1: FloatArray, idx: Int32Array): undefined;
  trainPlanPairs(plan: Float64Array, B: number, idx: Int32Array, argmax: boolean, keyLo: number, keyHi: number, step: number,
    pair: Int32Array): undefined;
}

/** The addon with the train functions typed. @internal */
export function trainAddon(): TrainAddon {
  return native() as unknown as TrainAddon;
}

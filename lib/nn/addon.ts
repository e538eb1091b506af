/**
 * Typed view of the nn and train functions of the native addon.
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

type Ctl = Float64Array | null;
type Ret = Promise<void> | undefined;

/** @internal */
export interface NnAddon {
  nnForward(layout: Int32Array, params: FloatArray, x: FloatArray, rows: number, tape: FloatArray, y: FloatArray, device: number, control: Ctl, async: boolean): Ret;
  nnBackward(layout: Int32Array, params: FloatArray, x: FloatArray, rows: number, tape: FloatArray, dy: FloatArray,
    dx: FloatArray | null, grad: FloatArray, device: number, control: Ctl, async: boolean): Ret;
  nnAdam(params: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, t: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, decoupled: boolean, maxNorm: number): number;
  nnGradNorm(grad: FloatArray): number;
}

/** The addon with the nn functions typed. @internal */
export function nnAddon(): NnAddon {
  return native() as unknown as NnAddon;
}

/**
 * Typed view of the nn and train functions of the native addon.
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

type Ctl = Float64Array | null;
type Ret = Promise<void> | undefined;

/** Inputs of native nnForward: y = MLP(x) for `rows` rows, keeping the activations in `tape`. @internal */
export interface NnForwardArgs {
  layout: Int32Array;
  params: FloatArray;
  x: FloatArray;
  rows: number;
  tape: FloatArray;
  y: FloatArray;
  /** 0 cpu, 1 cuda. */
  device: number;
  control: Ctl;
  async: boolean;
}

/** Inputs of native nnBackward: accumulates ∂L/∂params into `grad` (and ∂L/∂x into `dx`) from dy. @internal */
export interface NnBackwardArgs {
  layout: Int32Array;
  params: FloatArray;
  x: FloatArray;
  rows: number;
  tape: FloatArray;
  dy: FloatArray;
  dx: FloatArray | null;
  grad: FloatArray;
  device: number;
  control: Ctl;
  async: boolean;
}

/** Inputs of native nnAdam: one Adam(W) step of params in place; returns ‖grad‖. @internal */
export interface NnAdamArgs {
  params: FloatArray;
  grad: FloatArray;
  m: FloatArray;
  v: FloatArray;
  /** Step number, from 1. */
  t: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  /** Gradient-norm clip (0: none). */
  maxNorm: number;
}

/** Inputs of native nnGradNorm. @internal */
export interface NnGradNormArgs {
  grad: FloatArray;
}

/** The nn functions; each takes one options object read by name (docs/design/bindings.md). @internal */
export interface NnAddon {
  nnForward(o: NnForwardArgs): Ret;
  nnBackward(o: NnBackwardArgs): Ret;
  nnAdam(o: NnAdamArgs): number;
  nnGradNorm(o: NnGradNormArgs): number;
}

/** The addon with the nn functions typed. @internal */
export function nnAddon(): NnAddon {
  return native() as unknown as NnAddon;
}

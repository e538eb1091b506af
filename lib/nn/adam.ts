/**
 * Adam and AdamW with bias correction and optional clipping by global L2 norm
 * (docs/design/trainers.md; Kingma & Ba 2015; Loshchilov & Hutter 2019). One native loop over a
 * contiguous parameter buffer.
 * @packageDocumentation
 */
import { InvalidArgumentError, ShapeError } from '../errors';
import { runNativeSync } from '../run';
import { FloatArray, allocate, checkFloatArray, checkNumber, checkOptions, dtypeOf, optionKeys } from '../validate';
import { nnAddon } from './addon';

/** Hyper-parameters of {@link Adam}. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** β₁ (default 0.9). */
  beta1?: number;
  /** β₂ (default 0.999). */
  beta2?: number;
  /** ε (default 1e-8). */
  eps?: number;
  /** Weight decay: L2 added to the gradient for Adam (default 0), decoupled for AdamW (default 1e-2). */
  weightDecay?: number;
  /** 'adam' (default) or 'adamw'. */
  kind?: 'adam' | 'adamw';
  /** Clip the gradient to this global L2 norm before the update (default: no clipping). */
  maxGradNorm?: number;
}

const ADAM_KEYS = optionKeys<AdamOptions>()(['lr', 'beta1', 'beta2', 'eps', 'weightDecay', 'kind', 'maxGradNorm']);

/**
 * Optimizer state for one parameter buffer.
 * @example
 * ```ts
 * const opt = new nn.Adam(net.params, { lr: 1e-3, maxGradNorm: 1 });
 * const gradNorm = opt.step(net.grad);
 * ```
 */
export class Adam {
  /** First-moment estimate. */
  readonly m: FloatArray;
  /** Second-moment estimate. */
  readonly v: FloatArray;
  /** Steps taken so far. */
  t = 0;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  readonly maxGradNorm: number;

  constructor(readonly params: FloatArray, o: AdamOptions = {}) {
    checkFloatArray('params', params);
    checkOptions('nn.Adam', o, ADAM_KEYS);
    const kind = o.kind ?? 'adam';
    if (kind !== 'adam' && kind !== 'adamw') throw new InvalidArgumentError(`kind must be 'adam' or 'adamw', got ${String(kind)}`);
    this.decoupled = kind === 'adamw';
    this.lr = checkNumber('lr', o.lr ?? 1e-3, { min: 0 });
    this.beta1 = checkNumber('beta1', o.beta1 ?? 0.9, { min: 0, max: 1, maxExclusive: true });
    this.beta2 = checkNumber('beta2', o.beta2 ?? 0.999, { min: 0, max: 1, maxExclusive: true });
    this.eps = checkNumber('eps', o.eps ?? 1e-8, { min: 0 });
    this.weightDecay = checkNumber('weightDecay', o.weightDecay ?? (this.decoupled ? 1e-2 : 0), { min: 0 });
    this.maxGradNorm = o.maxGradNorm === undefined ? 0 : checkNumber('maxGradNorm', o.maxGradNorm, { min: 0, minExclusive: true });
    this.m = allocate(dtypeOf(params), params.length);
    this.v = allocate(dtypeOf(params), params.length);
  }

  /** One update with gradient `grad` (not modified). Returns the gradient's L2 norm before clipping. */
  step(grad: FloatArray): number {
    checkFloatArray('grad', grad);
    if (dtypeOf(grad) !== dtypeOf(this.params) || grad.length !== this.params.length) {
      throw new ShapeError('grad must have the dtype and length of the parameters');
    }
    this.t += 1;
    return runNativeSync(() =>
      nnAddon().nnAdam({
        params: this.params, grad, m: this.m, v: this.v, t: this.t, lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps,
        weightDecay: this.weightDecay, decoupled: this.decoupled, maxNorm: this.maxGradNorm,
      }),
    );
  }
}

/** Global L2 norm of a gradient buffer (accumulated in float64). */
export function gradNorm(grad: FloatArray): number {
  checkFloatArray('grad', grad);
  return runNativeSync(() => nnAddon().nnGradNorm({ grad }));
}

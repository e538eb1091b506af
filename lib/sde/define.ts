/**
 * User-defined SDEs: drift and diffusion as vectorised TypeScript callbacks (docs/design/sde.md).
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { FloatArray, checkInt, checkOneOf, checkOptions, optionKeys } from '../validate';
import { Calculus, Method, Model, NoiseType } from './models';

/** Specification of a user-defined SDE. Callbacks see the whole batch: x is [n, dim] row-major. */
export interface DefineSpec {
  /** State dimension d. */
  dim: number;
  /** Brownian dimension m (default: d for diagonal, 1 for scalar; required for additive/general). */
  brownianDim?: number;
  noise: NoiseType;
  calculus: Calculus;
  /** Writes f(t, x) into out ([n, d]). */
  drift(t: number, x: FloatArray, out: FloatArray, n: number): void;
  /** Writes g(t, x) into out: [n, d] (diagonal, scalar), [d, m] (additive, shared), [n, d, m] (general). */
  diffusion(t: number, x: FloatArray, out: FloatArray, n: number): void;
  /**
   * Optional ∂g_i/∂x_i ([n, d]) for Milstein (without it Milstein is derivative-free). With diagonal
   * noise it also lets Itô models use Heun and Stratonovich models use Euler/Milstein, the drift being
   * converted by f_Strat = f_Itô − ½ g ∂g/∂x.
   */
  diffusionDx?(t: number, x: FloatArray, out: FloatArray, n: number): void;
}

const DEFINE_KEYS = optionKeys<DefineSpec>()(['dim', 'brownianDim', 'noise', 'calculus', 'drift', 'diffusion', 'diffusionDx']);

/** Methods a (noise, calculus) pair admits (docs/design/sde.md). @internal */
export function methodsFor(noise: NoiseType, calculus: Calculus, hasDx = false): Method[] {
  if (noise === 'additive') return ['euler', 'heun', 'sra1'];
  // With ∂g/∂x and diagonal noise the drift converts between calculi: f_S = f_I − ½ g ∂g/∂x (docs/design/sde.md).
  if (noise === 'diagonal' && hasDx) return ['euler', 'milstein', 'heun'];
  if (calculus === 'stratonovich') return ['heun'];
  return noise === 'diagonal' || noise === 'scalar' ? ['euler', 'milstein'] : ['euler'];
}

/**
 * Defines an SDE from callbacks; drift and diffusion are called once per stage on the whole batch,
 * while noise generation and the update run natively (CPU in v1).
 * @example
 * ```ts
 * const m = sde.define({ dim: 1, noise: 'diagonal', calculus: 'ito',
 *   drift: (t, x, out) => { for (let i = 0; i < x.length; i++) out[i] = -x[i]; },
 *   diffusion: (t, x, out) => out.fill(0.5) });
 * ```
 */
export function define(spec: DefineSpec): Model {
  checkOptions('sde.define', spec, DEFINE_KEYS);
  const dim = checkInt('dim', spec.dim, 1, 2 ** 30);
  const noise = checkOneOf('noise', spec.noise, ['diagonal', 'additive', 'scalar', 'general'] as const);
  const calculus = checkOneOf('calculus', spec.calculus, ['ito', 'stratonovich'] as const);
  let m: number;
  if (noise === 'diagonal') {
    m = checkInt('brownianDim', spec.brownianDim ?? dim, dim, dim);
  } else if (noise === 'scalar') {
    m = checkInt('brownianDim', spec.brownianDim ?? 1, 1, 1);
  } else {
    m = checkInt('brownianDim', spec.brownianDim, 1, 2 ** 30);
  }
  for (const k of ['drift', 'diffusion'] as const) {
    if (typeof spec[k] !== 'function') throw new InvalidArgumentError(`${k} must be a function`);
  }
  if (spec.diffusionDx !== undefined && typeof spec.diffusionDx !== 'function') throw new InvalidArgumentError('diffusionDx must be a function');
  return {
    kind: 'user', dim, brownianDim: m, noise, calculus, methods: methodsFor(noise, calculus, spec.diffusionDx !== undefined),
    user: { drift: spec.drift, diffusion: spec.diffusion, diffusionDx: spec.diffusionDx },
  };
}

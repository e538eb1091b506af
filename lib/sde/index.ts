/**
 * Batched SDE simulation on CPU and CUDA (docs/design/sde.md): built-in models with fused native
 * trajectory kernels, user-defined vectorised models, and a low-level in-place stepper.
 *
 * @example
 * ```ts
 * import { sde } from 'itokit';
 * const r = sde.simulateSync(sde.models.ou({ theta: 1, mu: 0, sigma: 1 }),
 *   { paths: 100_000, x0: [1], t1: 1, steps: 100, method: 'exact', seed: 42 });
 * ```
 * @packageDocumentation
 */
import { cir, gbm, gmmLangevin, heston, ou, subVp, ve, vp } from './models';

/** Built-in models (docs/design/sde.md). */
export const models = {
  /** Ornstein–Uhlenbeck, dX = θ(μ − X)dt + σ dW (per dimension); see `OuParams`. */
  ou,
  /** Geometric Brownian motion, dS = μS dt + σS dW; see `GbmParams`. */
  gbm,
  /** Cox–Ingersoll–Ross, dv = κ(θ − v)dt + ξ√v dW; see `CirParams`. */
  cir,
  /** Heston stochastic volatility (price and variance); see `HestonParams`. */
  heston,
  /** Overdamped Langevin dynamics targeting a Gaussian mixture; see `GmmLangevinParams`. */
  gmmLangevin,
  /** Variance-preserving diffusion SDE (linear β schedule); see `VpParams`. */
  vp,
  /** Sub-VP diffusion SDE; see `VpParams`. */
  subVp,
  /** Variance-exploding diffusion SDE (geometric σ schedule); see `VeParams`. */
  ve,
};
export type {
  Calculus, CirParams, DiffusionProcess, GbmParams, GmmLangevinParams, HestonParams, Method, MixtureParams, Model, NoiseType, OuParams, Vec, VeParams,
  VpParams,
} from './models';
export { isDiffusionProcess } from './models';
export { define } from './define';
export type { DefineSpec } from './define';
export { memoryEstimate, simulate, simulateSync } from './simulate';
export type { DeviceSimulateOptions, HostSimulateOptions, SaveAt, SimProgress, SimResult, SimulateOptions } from './simulate';
export { createStepper } from './stepper';
export type { Stepper, StepperOptions } from './stepper';

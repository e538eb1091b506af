/**
 * Diffusion samplers composed from native step kernels and a user's score, ε or denoiser callback
 * (docs/design/sde.md): predictor–corrector, probability-flow ODE (adaptive RK45), DDPM, DDIM with
 * the Time-Shift sampler, and Karras Euler/Heun/ancestral. Every sampler has a `…Sync` twin that
 * accepts only synchronous callbacks. With `output: 'device'` the state stays in float32
 * DeviceArrays on the GPU: every update runs there, bit-identical to the host updates, and the
 * model receives and fills DeviceArrays.
 *
 * @example
 * ```ts
 * import { diffusion, sde } from 'itokit';
 * const target = diffusion.gmm({ weights: [0.5, 0.5], means: [-2, -2, 2, 2], vars: 0.25, process: sde.models.vp() });
 * const { x } = await diffusion.pc({ process: sde.models.vp(), model: { kind: 'score', fn: target.score },
 *   batch: 4096, dim: 2, seed: 1 });
 * ```
 * @packageDocumentation
 */
import * as karras from './karras';
import * as schedules from './schedules';

export { karras, schedules };
export { pc, pcSync } from './pc';
export type { PcOptions } from './pc';
export { probabilityFlow, probabilityFlowSync } from './flow';
export type { FlowOptions } from './flow';
export { ddim, ddimSync, ddimTimesteps, ddpm, ddpmSync, shiftedAlphas } from './discrete';
export type { DdimOptions, DdimSpacing, DdimStepInfo, DdpmOptions, DiscreteOptions } from './discrete';
export type { AncestralOptions, Denoiser, KarrasOptions } from './karras';
export { gmm } from './gmm';
export type { Gmm, GmmParams } from './gmm';
export type { OnDevice, SampleOptions, SampleResult, ScoreFn, ScoreModel } from './common';
export type { Coef, FusedStep, NoiseRef, SampleBuffer, SamplerProgress, StepComb, StepValue } from './ops';

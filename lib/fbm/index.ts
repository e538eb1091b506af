/**
 * Fractional Brownian motion: the Markov approximation MA-fBM (K OU processes sharing one
 * Brownian motion, closed-form optimal weights; Daems et al., ICLR 2024), exact generators
 * (Davies–Harte, Cholesky, Hosking), covariances, Hurst estimation and fBM-driven SDEs.
 * Design: docs/design/fbm.md.
 *
 * @example
 * ```ts
 * import { fbm } from 'itokit';
 * const c = fbm.markovCoefficients({ hurst: 0.7, type: 'II', K: 5 });
 * const { paths } = fbm.sampleSync({ hurst: 0.7, type: 'II', n: 500, paths: 1000, seed: 1 });
 * ```
 * @packageDocumentation
 */
export type { FbmType, Normalization } from './options';
export { gammaByGammaMax, gammaByRatio, markovCoefficients, gammaVariance } from './coefficients';
export type { CoefficientOptions, MarkovCoefficients } from './coefficients';
export { sample, sampleSync } from './sample';
export type { ArrayFor, SampleOptions, SampleMethod, FbmPaths } from './sample';
export { covariance, fgnAutocovariance, circulantEigenvalues, estimateHurst, estimateHurstSync } from './analysis';
export type { CovarianceOptions, HurstOptions, HurstEstimate } from './analysis';
export { models, fou, roughVol, simulate, simulateSync, createControlledStepper } from './sde';
export type { FbmSdeModel, FbmSdeOptions, FbmSdeResult, DrivingNoise, ControlledStepper, ControlledStepperOptions, FouParams, RoughVolParams } from './sde';
export { fractionalSDE, fractionalInitialState } from './fractional';
export type { FractionalOptions, FractionalModel, InitialStateOptions } from './fractional';

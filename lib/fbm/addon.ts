/**
 * The fBM part of the native addon (native/bindings/fbm.cc).
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';

type F = Float32Array | Float64Array;
type Ctl = Float64Array | null;

/** Inputs of native fbmGammas: K geometric mean-reversion speeds (kind 0 by gammaMax, 1 by ratio). */
export interface FbmGammasArgs {
  kind: number;
  K: number;
  param: number;
  offset: number;
}

/** The fBM flavour and normalisation every coefficient call reads. */
export interface FbmTypeArgs {
  /** 1 type I (stationary start), 2 type II. */
  type: number;
  hurst: number;
}

/** Inputs of native fbmCoefficients: the Markov-approximation weights ω for the speeds γ. */
export interface FbmCoefficientsArgs extends FbmTypeArgs {
  T: number;
  unit: boolean;
  gammas: Float64Array;
  /** 0 none, 1 dω/dH by differences, 2 analytic. */
  derivative: number;
}

/** Inputs of native fbmMatrices: the normal equations A ω = b (and c) of the ω fit. */
export interface FbmMatricesArgs extends FbmTypeArgs {
  T: number;
  unit: boolean;
  gammas: Float64Array;
}

/** Inputs of native fbmMarkovSample: paths of the Markov approximation (host arrays or device handles). */
export interface FbmMarkovSampleArgs {
  out: F | object;
  brownian: F | object | null;
  paths: number;
  dims: number;
  n: number;
  T: number;
  type: number;
  exact: boolean;
  gammas: Float64Array;
  omegas: Float64Array;
  keyLo: number;
  keyHi: number;
  pathOffset: number;
  device: number;
  control: Ctl;
  async: boolean;
  /** dtype of device-handle out/brownian. */
  f64: boolean;
}

/** Inputs of native fbmExactSample (method 0 Davies–Harte, 1 Cholesky, 2 Hosking); returns true when Davies–Harte fell back. */
export interface FbmExactSampleArgs extends FbmTypeArgs {
  out: F;
  method: number;
  n: number;
  T: number;
  scale: number;
  paths: number;
  keyLo: number;
  keyHi: number;
  pathOffset: number;
  control: Ctl;
  async: boolean;
}

/** Inputs of native fbmCirculantEigenvalues. */
export interface FbmCirculantEigenvaluesArgs {
  hurst: number;
  n: number;
}

/** Inputs of native fbmAutocov: the fGn autocovariance ρ(k). */
export interface FbmAutocovArgs {
  hurst: number;
  k: number;
}

/** Inputs of native fbmCovariance: Cov(B(t_i), B(t_j)) of exact (markov false) or Markov-approximate fBM. */
export interface FbmCovarianceArgs extends FbmTypeArgs {
  markov: boolean;
  unit: boolean;
  times: Float64Array;
  gammas: Float64Array | null;
  omegas: Float64Array | null;
  out: Float64Array;
}

/** Inputs of native fbmHurst: one Hurst estimate per path of `data` (paths × len). */
export interface FbmHurstArgs {
  data: F;
  paths: number;
  len: number;
  increments: boolean;
  lags: Int32Array;
  out: Float64Array;
  control: Ctl;
  async: boolean;
}

/** Inputs of native fbmSdeSimulate: a built-in fBM-driven SDE (model 0 fOU, 1 rough volatility). */
export interface FbmSdeSimulateArgs {
  out: F;
  finalY: Float64Array | null;
  model: number;
  params: Float64Array;
  D: number;
  stateDim: number;
  paths: number;
  n: number;
  T: number;
  exact: boolean;
  type: number;
  gammas: Float64Array;
  omegas: Float64Array;
  keyLo: number;
  keyHi: number;
  pathOffset: number;
  x0: Float64Array;
  x0PerPath: boolean;
  saveEvery: number;
  control: Ctl;
  async: boolean;
}

/** Inputs of native fbmControlledStep: one controlled step of the model and its OU factors. */
export interface FbmControlledStepArgs {
  x: Float64Array;
  y: Float64Array;
  u: Float64Array | null;
  kl: Float64Array | null;
  model: number;
  params: Float64Array;
  D: number;
  dt: number;
  gammas: Float64Array;
  omegas: Float64Array;
  keyLo: number;
  keyHi: number;
  pathOffset: number;
  step: number;
}

/** Inputs of native fbmInitialFactors: the OU factors' start (type I stationary, type II zero). */
export interface FbmInitialFactorsArgs {
  y: Float64Array;
  paths: number;
  D: number;
  gammas: Float64Array;
  type: number;
  keyLo: number;
  keyHi: number;
  pathOffset: number;
}

/** Inputs of native fbmAugment: op 0 gathers x out of z; 1 the augmented drift (f, sigma, itoCorrection → out); 2 the diffusion (sigma → out). */
export interface FbmAugmentArgs {
  op: number;
  z: F | null;
  P: number;
  D: number;
  gammas: Float64Array;
  omegas: Float64Array;
  x?: F;
  f?: F;
  sigma?: F;
  itoCorrection?: F | null;
  out?: F;
}

/** Raw fBM surface of the addon; each call takes one options object read by name (docs/design/bindings.md). */
export interface FbmAddon {
  fbmGammas(o: FbmGammasArgs): Float64Array;
  fbmCoefficients(o: FbmCoefficientsArgs): {
    omegas: Float64Array; dOmegaDHurst?: Float64Array; relativeError: number; quadraticError: number;
    ridge: number; cond: number; illConditioned: boolean;
  };
  fbmMatrices(o: FbmMatricesArgs): { A: Float64Array; b: Float64Array; c: number };
  fbmVariance(o: FbmTypeArgs): number;
  fbmMarkovSample(o: FbmMarkovSampleArgs): Promise<void> | undefined;
  fbmExactSample(o: FbmExactSampleArgs): Promise<boolean> | boolean;
  fbmCirculantEigenvalues(o: FbmCirculantEigenvaluesArgs): Float64Array;
  fbmAutocov(o: FbmAutocovArgs): number;
  fbmCovariance(o: FbmCovarianceArgs): void;
  fbmHurst(o: FbmHurstArgs): Promise<void> | undefined;
  fbmSdeSimulate(o: FbmSdeSimulateArgs): Promise<void> | undefined;
  fbmControlledStep(o: FbmControlledStepArgs): void;
  fbmInitialFactors(o: FbmInitialFactorsArgs): void;
  fbmAugment(o: FbmAugmentArgs): void;
}

/** The addon seen through its fBM functions. */
export function fbmAddon(): FbmAddon {
  return native() as unknown as FbmAddon;
}

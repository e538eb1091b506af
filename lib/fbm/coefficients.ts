/**
 * Speed grids and the closed-form optimal MA-fBM weights (docs/design/fbm.md; Daems et al.,
 * ICLR 2024).
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { runNativeSync } from '../run';
import { checkInt, checkNumber, checkOptions, optionKeys } from '../validate';
import { fbmAddon } from './addon';
import {
  FbmType, Normalization, checkGammas, checkHorizon, checkHurst, checkK, checkNormalization, checkType, typeCode,
} from './options';

/**
 * Speeds from 1/γmax to γmax, log-symmetric around 1: γ_k = r^{k−n}, r = γmax^{2/(K−1−2·offset)},
 * n = (K+1)/2 + offset (the official code's `gammaByGammaMax`). K = 1 gives [1].
 * @example `fbm.gammaByGammaMax(5, 20)` → [0.05, 0.2236, 1, 4.472, 20]
 */
export function gammaByGammaMax(K = 5, gammaMax = 20, offset = 0): Float64Array {
  checkInt('K', K, 1, 32);
  checkNumber('gammaMax', gammaMax, { min: 1, minExclusive: true });
  checkNumber('offset', offset);
  return runNativeSync(() => fbmAddon().fbmGammas({ kind: 0, K, param: gammaMax, offset }));
}

/** Geometric speeds γ_k = r^{k−n}, n = (K+1)/2 + offset, r > 1. */
export function gammaByRatio(K: number, r: number, offset = 0): Float64Array {
  checkInt('K', K, 1, 32);
  checkNumber('r', r, { min: 1, minExclusive: true });
  checkNumber('offset', offset);
  return runNativeSync(() => fbmAddon().fbmGammas({ kind: 1, K, param: r, offset }));
}

/** Options of {@link markovCoefficients}. */
export interface CoefficientOptions {
  /** Hurst index H ∈ (0, 1). */
  hurst: number;
  /** 'I' (default) or 'II'. */
  type?: FbmType;
  /** Number of OU processes (default 5; ignored when `gammas` is given). */
  K?: number;
  /** Largest speed of the default grid (default 20). */
  gammaMax?: number;
  /** Own speeds (finite, > 0, strictly increasing, at most 32). */
  gammas?: ArrayLike<number>;
  /** Fit window [0, T] of the weights (default 1). */
  T?: number;
  /** 'unit' (default) or 'gamma'. */
  normalization?: Normalization;
  /** Also return dω/dH (default false): analytic ∂P/∂a for type II, central differences h = 1e-5 for type I. */
  derivative?: boolean;
}

const COEFFICIENT_KEYS = optionKeys<CoefficientOptions>()(['hurst', 'type', 'K', 'gammaMax', 'gammas', 'T', 'normalization', 'derivative']);

/** Result of {@link markovCoefficients}. */
export interface MarkovCoefficients {
  /** Speeds γ. */
  gammas: Float64Array;
  /** Optimal weights ω = A⁻¹b. */
  omegas: Float64Array;
  /** 1 − bᵀω/c: the mean squared error on [0, T] relative to ∫Var B. */
  relativeError: number;
  /** (c − 2bᵀω + ωᵀAω)/c, the true error of the returned ω (differs from relativeError only by the ridge). */
  quadraticError: number;
  /** dω/dH (only with `derivative: true`). */
  dOmegaDHurst?: Float64Array;
  /** Ridge ε added to the Jacobi-scaled normal matrix (1e-14 unless retried). */
  ridge: number;
  /** Condition number of the Jacobi-scaled A. */
  cond: number;
  /** cond > 1e12: the weights are only as good as the ridge allows (type II with K ≥ 7). */
  illConditioned: boolean;
}

/** Resolves `gammas` or the default grid from K and gammaMax. @internal */
export function resolveGammas(o: { K?: number; gammaMax?: number; gammas?: ArrayLike<number> }): Float64Array {
  if (o.gammas !== undefined) {
    const g = checkGammas(o.gammas);
    if (o.K !== undefined && o.K !== g.length) throw new InvalidArgumentError(`K (${o.K}) does not match gammas.length (${g.length})`);
    return g;
  }
  const gmax = o.gammaMax === undefined ? 20 : checkNumber('gammaMax', o.gammaMax, { min: 1, minExclusive: true });
  return gammaByGammaMax(checkK(o.K), gmax);
}

/**
 * Closed-form optimal weights of MA-fBM: minimises ∫₀ᵀ E[(B(t) − Σ ω_k Ŷ_k(t))²] dt. Float64,
 * a few microseconds for K = 5, so it can run every training step.
 * @example
 * ```ts
 * const { omegas, relativeError } = fbm.markovCoefficients({ hurst: 0.7, type: 'II' });
 * ```
 */
export function markovCoefficients(o: CoefficientOptions): MarkovCoefficients {
  checkOptions('fbm.markovCoefficients', o, COEFFICIENT_KEYS);
  const hurst = checkHurst(o.hurst);
  const type = checkType(o.type);
  const T = checkHorizon('T', o.T, 1);
  const norm = checkNormalization(o.normalization);
  const gammas = resolveGammas(o);
  // dω/dH = A⁻¹ db/dH. Type II: analytic ∂P/∂a series (the h = 1e-5 differences of docs/design/fbm.md
  // amplified by cond(A) ≈ 1e7 to 4e-6..8e-6 relative at T = 1, H ≥ 0.8); type I: differences.
  const deriv = o.derivative === true ? (type === 'II' ? 2 : 1) : 0;
  const r = runNativeSync(() => fbmAddon().fbmCoefficients({ type: typeCode(type), hurst, T, unit: norm === 'unit', gammas, derivative: deriv }));
  return { gammas, ...r };
}

/**
 * The normal-equation pieces A, b, c of docs/design/fbm.md (for inspection and tests).
 * @internal
 */
export function markovMatrices(o: CoefficientOptions): { A: Float64Array; b: Float64Array; c: number; gammas: Float64Array } {
  checkOptions('fbm.markovMatrices', o, COEFFICIENT_KEYS);
  const hurst = checkHurst(o.hurst);
  const type = checkType(o.type);
  const T = checkHorizon('T', o.T, 1);
  const norm = checkNormalization(o.normalization);
  const gammas = resolveGammas(o);
  return { gammas, ...runNativeSync(() => fbmAddon().fbmMatrices({ type: typeCode(type), hurst, T, unit: norm === 'unit', gammas })) };
}

/**
 * V(H) = Var B^Γ(1): 1/(Γ(2H+1) sin πH) for type I, 1/(2H Γ(H+½)²) for type II. `'gamma'`
 * paths are √V times `'unit'` paths.
 */
export function gammaVariance(hurst: number, type: FbmType = 'I'): number {
  const h = checkHurst(hurst);
  return runNativeSync(() => fbmAddon().fbmVariance({ type: typeCode(checkType(type)), hurst: h }));
}

/**
 * Shared option types and validation of the fBM family (docs/design/fbm.md).
 * @internal
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { checkInt, checkNumber, checkOneOf, describe, toFloat64 } from '../validate';

/** Type I (Mandelbrot–Van Ness, stationary increments) or type II (Riemann–Liouville). */
export type FbmType = 'I' | 'II';
/** `'unit'`: Var B(1) = 1 (default); `'gamma'`: the paper's Γ normalisation (docs/design/fbm.md). */
export type Normalization = 'unit' | 'gamma';

/** Native type code (1 = I, 2 = II). */
export function typeCode(t: FbmType): number {
  return t === 'I' ? 1 : 2;
}

/** Validates H ∈ (0, 1). */
export function checkHurst(h: unknown): number {
  return checkNumber('hurst', h, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
}

/** Validates the fBM type (default 'I'). */
export function checkType(t: unknown): FbmType {
  return t === undefined ? 'I' : checkOneOf('type', t, ['I', 'II'] as const);
}

/** Validates the normalisation (default 'unit'). */
export function checkNormalization(n: unknown): Normalization {
  return n === undefined ? 'unit' : checkOneOf('normalization', n, ['unit', 'gamma'] as const);
}

/** Validates K ∈ [1, 32] (default 5). */
export function checkK(K: unknown): number {
  return K === undefined ? 5 : checkInt('K', K, 1, 32);
}

/** Validates a strictly positive finite horizon. */
export function checkHorizon(name: string, T: unknown, fallback: number): number {
  return T === undefined ? fallback : checkNumber(name, T, { min: 0, minExclusive: true });
}

/** Validates user speeds: 1..32 finite values > 0, strictly increasing; returns a copy. */
export function checkGammas(g: unknown): Float64Array {
  if (!(ArrayBuffer.isView(g) || Array.isArray(g))) {
    throw new InvalidArgumentError(`gammas must be an array of numbers, got ${describe(g)}`);
  }
  const a = toFloat64('gammas', g);
  if (a.length < 1 || a.length > 32) throw new InvalidArgumentError(`gammas must hold 1..32 speeds, got ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !(a[i] > 0)) throw new InvalidArgumentError(`gammas[${i}] must be finite and > 0, got ${a[i]}`);
    if (i > 0 && !(a[i] > a[i - 1])) throw new InvalidArgumentError('gammas must be strictly increasing');
  }
  return a;
}

/** Validates user weights: finite, one per speed; returns a copy. */
export function checkOmegas(w: unknown, K: number): Float64Array {
  const a = toFloat64('omegas', w);
  if (a.length !== K) throw new InvalidArgumentError(`omegas has ${a.length} entries, gammas ${K}`);
  a.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new InvalidArgumentError(`omegas[${i}] is not finite`);
  });
  return a;
}

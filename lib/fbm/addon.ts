/**
 * The fBM part of the native addon (native/bindings/fbm.cc).
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';

/** Raw fBM surface of the addon; arguments are validated by lib/fbm before they get here. */
export interface FbmAddon {
  fbmGammas(kind: number, K: number, param: number, offset: number): Float64Array;
  fbmCoefficients(type: number, hurst: number, T: number, unit: boolean, gammas: Float64Array, derivative: number): {
    omegas: Float64Array; dOmegaDHurst?: Float64Array; relativeError: number; quadraticError: number;
    ridge: number; cond: number; illConditioned: boolean;
  };
  fbmMatrices(type: number, hurst: number, T: number, unit: boolean, gammas: Float64Array): { A: Float64Array; b: Float64Array; c: number };
  fbmVariance(type: number, hurst: number): number;
  fbmMarkovSample(out: Float32Array | Float64Array | object, bro: Float32Array | Float64Array | object | null, paths: number, dims: number,
    n: number, T: number, type: number, exact: boolean, gammas: Float64Array, omegas: Float64Array, keyLo: number,
    keyHi: number, pathOffset: number, device: number, control: Float64Array | null, async: boolean, f64: boolean): Promise<void> | undefined;
  fbmExactSample(out: Float32Array | Float64Array, method: number, type: number, hurst: number, n: number, T: number,
    scale: number, paths: number, keyLo: number, keyHi: number, pathOffset: number, control: Float64Array | null,
    async: boolean): Promise<boolean> | boolean;
  fbmCirculantEigenvalues(hurst: number, n: number): Float64Array;
  fbmAutocov(hurst: number, k: number): number;
  fbmCovariance(markov: boolean, type: number, hurst: number, unit: boolean, times: Float64Array,
    gammas: Float64Array | null, omegas: Float64Array | null, out: Float64Array): void;
  fbmHurst(data: Float32Array | Float64Array, paths: number, len: number, increments: boolean, lags: Int32Array,
    out: Float64Array, control: Float64Array | null, async: boolean): Promise<void> | undefined;
  fbmSdeSimulate(out: Float32Array | Float64Array, finalY: Float64Array | null, model: number, params: Float64Array, D: number,
    stateDim: number, paths: number, n: number, T: number, exact: boolean, type: number, gammas: Float64Array,
    omegas: Float64Array, keyLo: number, keyHi: number, pathOffset: number, x0: Float64Array, x0PerPath: boolean,
    saveEvery: number, control: Float64Array | null, async: boolean): Promise<void> | undefined;
  fbmControlledStep(x: Float64Array, y: Float64Array, u: Float64Array | null, kl: Float64Array | null, model: number,
    params: Float64Array, D: number, dt: number, gammas: Float64Array, omegas: Float64Array, keyLo: number, keyHi: number,
    pathOffset: number, step: number): void;
  fbmInitialFactors(y: Float64Array, paths: number, D: number, gammas: Float64Array, type: number, keyLo: number,
    keyHi: number, pathOffset: number): void;
  fbmAugment(op: number, z: Float32Array | Float64Array | null, P: number, D: number, gammas: Float64Array, omegas: Float64Array,
    a: Float32Array | Float64Array, b: Float32Array | Float64Array | null, c: Float32Array | Float64Array | null,
    out: Float32Array | Float64Array | null): void;
}

/** The addon seen through its fBM functions. */
export function fbmAddon(): FbmAddon {
  return native() as unknown as FbmAddon;
}

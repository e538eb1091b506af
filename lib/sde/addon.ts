/**
 * Typed view of the sde area's native functions (native/bindings/sde.cc).
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

/** @internal */
export interface SdeAddon {
  sdeFused(x: FloatArray | object, out: FloatArray | object, par: Float64Array, tcoef: Float64Array, saveN0: Uint32Array, saveW: Float64Array,
    hdr: Float64Array, control: Float64Array | null, async: boolean): Promise<void> | undefined;
  sdeBrownian(dW: FloatArray, J: FloatArray | null, hdr: Float64Array): void;
  sdeUpdate(op: number, noise: number, paths: number, d: number, m: number, h: number, x: FloatArray, y: FloatArray,
    f1: FloatArray | null, f2: FloatArray | null, g1: FloatArray | null, g2: FloatArray | null, gdg: FloatArray | null,
    dW: FloatArray | null, J: FloatArray | null, device?: number): void;
  sdeLincomb(out: Float32Array, inputs: Float32Array[], coef: Float64Array, noise: boolean, P: number, D: number,
    keyLo: number, keyHi: number, stream: number, step: number, sampleOffset: number, clip?: number): void;
  sdeRowStats(x: Float32Array, P: number, D: number, out: Float64Array): void;
  sdeGmmScore(x: Float32Array, P: number, D: number, logw: Float64Array, means: Float64Array, vars: Float64Array,
    scale: Float64Array, addvar: Float64Array, out: Float32Array): void;
  sdeRk45Norm(y: Float32Array, ynew: Float32Array, ks: Float32Array[], e: Float64Array, h: number, atol: number, rtol: number): number;
}

/** The addon with the sde area's functions typed. @internal */
export function sdeNative(): SdeAddon {
  return native() as unknown as SdeAddon;
}

/**
 * Typed view of the sde area's native functions (native/bindings/sde.cc).
 * @internal
 * @packageDocumentation
 */
import { native } from '../native';
import { FloatArray } from '../validate';

type Ctl = Float64Array | null;

/** The scalar inputs of native sdeFused: model, method, sizes, steps and key (lib/sde/simulate.ts fusedArgs). @internal */
export interface SdeFusedSetup {
  /** Model parameters and time coefficients built by the model's `fused.build`. */
  par: Float64Array;
  tcoef: Float64Array;
  /** Save points: the step index of each saved state and its interpolation weight. */
  saveN0: Uint32Array;
  saveW: Float64Array;
  /** Model code (native/kernels/sde_fused.h). */
  kind: number;
  /** Method code (lib/sde/simulate.ts METHOD_CODE). */
  method: number;
  dim: number;
  m: number;
  mixture: number;
  paths: number;
  pathOffset: number;
  stepBegin: number;
  stepEnd: number;
  keyLo: number;
  keyHi: number;
  refine: number;
  h: number;
  /** 0 cpu, 1 cuda. */
  device: number;
  tcoefPerStep: boolean;
  /** The dtype of device-handle x/out (host arrays carry their own). */
  f64: boolean;
}

/** Inputs of native sdeFused: x (paths×dim) advanced in place, the saved states written to out. @internal */
export interface SdeFusedArgs extends SdeFusedSetup {
  x: FloatArray | object;
  out: FloatArray | object;
  control: Ctl;
  async: boolean;
}

/** Inputs of native sdeBrownian: the step's Brownian increments dW (and SRA1's J). @internal */
export interface SdeBrownianArgs {
  dW: FloatArray;
  J: FloatArray | null;
  paths: number;
  pathOffset: number;
  m: number;
  step: number;
  refine: number;
  stream: number;
  keyLo: number;
  keyHi: number;
  h: number;
  device: number;
}

/** Inputs of native sdeUpdate: one elementwise stage of the callback path (op codes in lib/sde/user.ts OP). @internal */
export interface SdeUpdateArgs {
  op: number;
  noise: number;
  paths: number;
  d: number;
  m: number;
  h: number;
  x: FloatArray;
  y: FloatArray;
  f1: FloatArray | null;
  f2: FloatArray | null;
  g1: FloatArray | null;
  g2: FloatArray | null;
  gdg: FloatArray | null;
  dW: FloatArray | null;
  J: FloatArray | null;
  /** 0 cpu (default), 1 cuda. */
  device?: number;
}

/** Inputs of native sdeLincomb: out = Σ coef_k·inputs_k (+ coef_K·z of the noise key), row-wise. @internal */
export interface SdeLincombArgs {
  out: Float32Array;
  inputs: Float32Array[];
  coef: Float64Array;
  noise: boolean;
  P: number;
  D: number;
  keyLo: number;
  keyHi: number;
  stream: number;
  step: number;
  sampleOffset: number;
  /** Clip the result to [−clip, clip] (absent: no clip). */
  clip?: number;
}

/** Inputs of native sdeRowStats: per row Σx², mean and variance into out (3P). @internal */
export interface SdeRowStatsArgs {
  x: Float32Array;
  P: number;
  D: number;
  out: Float64Array;
}

/** Inputs of native sdeGmmScore: the score of a Gaussian mixture at x. @internal */
export interface SdeGmmScoreArgs {
  x: Float32Array;
  P: number;
  D: number;
  logw: Float64Array;
  means: Float64Array;
  vars: Float64Array;
  scale: Float64Array;
  addvar: Float64Array;
  out: Float32Array;
}

/** Inputs of native sdeRk45Norm: the RK45 error norm of a step. @internal */
export interface SdeRk45NormArgs {
  y: Float32Array;
  ynew: Float32Array;
  ks: Float32Array[];
  e: Float64Array;
  h: number;
  atol: number;
  rtol: number;
}

/** The sde functions; each takes one options object read by name (docs/design/bindings.md). @internal */
export interface SdeAddon {
  sdeFused(o: SdeFusedArgs): Promise<void> | undefined;
  sdeBrownian(o: SdeBrownianArgs): void;
  sdeUpdate(o: SdeUpdateArgs): void;
  sdeLincomb(o: SdeLincombArgs): void;
  sdeRowStats(o: SdeRowStatsArgs): void;
  sdeGmmScore(o: SdeGmmScoreArgs): void;
  sdeRk45Norm(o: SdeRk45NormArgs): number;
}

/** The addon with the sde area's functions typed. @internal */
export function sdeNative(): SdeAddon {
  return native() as unknown as SdeAddon;
}

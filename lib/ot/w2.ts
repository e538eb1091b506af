/**
 * Sinkhorn estimate of the 2-Wasserstein distance between two point clouds, the helper samplers
 * and trainers use to compare generated and reference samples.
 * @packageDocumentation
 */
import { checkNumber, checkOptions, optionKeys } from '../validate';
import { isF64 } from './addon';
import { Points, points, sqeuclidean } from './cost';
import { Marginal, sinkhorn, sinkhornSync } from './solve';
import { SinkhornOptions, SinkhornResult } from './types';

/** Options of {@link w2}. */
export interface W2Options extends Omit<SinkhornOptions, 'reg' | 'dtype' | 'returnPlan'> {
  /**
   * Entropic regularisation in units of the squared distance (default 1e-2·max‖x−y‖²). Smaller is
   * closer to the exact W2 and slower; the bias of ⟨C,P⟩ is at most reg·(log n + log m).
   */
  reg?: number;
  /** Relative regularisation: reg = regRelative·max C (used when reg is absent; default 1e-2). */
  regRelative?: number;
  /** Point weights (default uniform); each must sum to 1. */
  a?: Marginal;
  b?: Marginal;
  /** Point dimension when x and y are flat arrays. */
  d?: number;
  /** Also return the plan (default false). */
  returnPlan?: boolean;
}

const W2_KEYS = optionKeys<W2Options>()([
  'reg', 'regRelative', 'a', 'b', 'd', 'returnPlan', 'method', 'device', 'tol', 'maxIter', 'checkEvery', 'epsScaling', 'sns', 'init',
  'roundPlan', 'overRelaxation', 'signal', 'onProgress', 'progressIntervalMs',
]);

/** The estimate and the solve behind it. */
export interface W2Result {
  /** sqrt(⟨C,P⟩) with C = ‖x_i − y_j‖² and P the entropic plan. */
  w2: number;
  /** ⟨C,P⟩, the entropic estimate of W2². */
  w2Squared: number;
  /** The regularisation used (units of C). */
  reg: number;
  /** The full solver result. */
  result: SinkhornResult<Float64Array>;
}

function setup(where: string, x: Points, y: Points, o: W2Options) {
  checkOptions(where, o, W2_KEYS);
  const px = points('x', x, o.d);
  const py = points('y', y, o.d ?? px.d);
  const X = isF64(px.data) ? px.data : Float64Array.from(px.data);
  const Y = isF64(py.data) ? py.data : Float64Array.from(py.data);
  const C = sqeuclidean({ data: X, shape: [px.n, px.d] }, { data: Y, shape: [py.n, py.d] });
  let mx = 0;
  for (let i = 0; i < C.length; i++) mx = C[i] > mx ? C[i] : mx;
  const rel = checkNumber('regRelative', o.regRelative ?? 1e-2, { min: 0, minExclusive: true });
  const reg = o.reg !== undefined ? checkNumber('reg', o.reg, { min: 0, minExclusive: true }) : rel * (mx > 0 ? mx : 1);
  const a = o.a ?? new Float64Array(px.n).fill(1 / px.n);
  const b = o.b ?? new Float64Array(py.n).fill(1 / py.n);
  const { regRelative: _r, a: _a, b: _b, d: _d, reg: _g, returnPlan, ...rest } = o;
  void _r, _a, _b, _d, _g;
  const opts: SinkhornOptions & { dtype: 'float64' } = { ...rest, reg, returnPlan: returnPlan ?? false, dtype: 'float64' };
  return { a, b, C, reg, opts };
}

function out(r: SinkhornResult<Float64Array>, reg: number): W2Result {
  const c = Math.max(r.cost, 0);
  return { w2: Math.sqrt(c), w2Squared: r.cost, reg, result: r };
}

/**
 * Entropic (Sinkhorn) W2 between point clouds x (n×d) and y (m×d), float32 or float64, uniform
 * weights unless given. Solves in float64 with SNS to marginal error 1e-9 by default.
 *
 * @example
 * ```ts
 * const { w2 } = await ot.w2({ data: xs, shape: [1000, 2] }, { data: ys, shape: [1000, 2] }, { reg: 1e-2 });
 * ```
 */
export async function w2(x: Points, y: Points, o: W2Options = {}): Promise<W2Result> {
  const s = setup('ot.w2', x, y, o);
  return out(await sinkhorn(s.a, s.b, s.C, s.opts), s.reg);
}

/** Synchronous {@link w2}. */
export function w2Sync(x: Points, y: Points, o: W2Options = {}): W2Result {
  const s = setup('ot.w2Sync', x, y, o);
  return out(sinkhornSync(s.a, s.b, s.C, s.opts), s.reg);
}

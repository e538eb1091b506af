/**
 * Ground-cost builders (docs/design/ot.md): pairwise costs between point clouds and Lp costs on a 2-D grid.
 * @packageDocumentation
 */
import { DtypeError, InvalidArgumentError, ShapeError } from '../errors';
import { runNativeSync } from '../run';
import { FloatArray, allocate, checkBacking, checkInt, checkNumber, checkOptions, describe, optionKeys } from '../validate';
import { addon, dtypeOfArray, isF32, isF64 } from './addon';
import { Tensor } from './types';

/** A point cloud: an n×d tensor, or a flat array with `d` given separately. */
export type Points<A extends FloatArray = FloatArray> = Tensor<A> | A;

/** Reads a point cloud as (data, n, d); `d` is needed only for flat arrays. */
export function points(name: string, x: Points, d?: number): { data: FloatArray; n: number; d: number } {
  if (isF32(x) || isF64(x)) {
    checkBacking(name, x);
    const dd = checkInt(`${name} dimension d`, d ?? 1, 1);
    if (x.length % dd !== 0) throw new ShapeError(`${name} has ${x.length} values, not a multiple of d = ${dd}`);
    return { data: x, n: x.length / dd, d: dd };
  }
  if (x === null || typeof x !== 'object' || !Array.isArray(x.shape) || x.shape.length !== 2) {
    throw new ShapeError(`${name} must be an n×d tensor {data, shape: [n, d]} or a flat Float32Array/Float64Array, got ${describe(x)}`);
  }
  if (!(isF32(x.data)) && !(isF64(x.data))) throw new DtypeError(`${name}.data must be a Float32Array or Float64Array`);
  checkBacking(`${name}.data`, x.data);
  const [n, dd] = x.shape;
  if (x.data.length !== n * dd) throw new ShapeError(`${name}.data has ${x.data.length} values, shape says ${n}×${dd}`);
  return { data: x.data, n, d: dd };
}

function pairwise<A extends FloatArray>(X: Points<A>, Y: Points<A>, squared: boolean, d?: number): A {
  const x = points('X', X, d);
  const y = points('Y', Y, d ?? x.d);
  if (x.d !== y.d) throw new ShapeError(`X and Y must have the same dimension (${x.d} vs ${y.d})`);
  if (dtypeOfArray(x.data) !== dtypeOfArray(y.data)) throw new DtypeError('X and Y must have the same dtype');
  for (const [name, a] of [['X', x.data], ['Y', y.data]] as const) {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) throw new InvalidArgumentError(`${name} has a non-finite value at ${i}`);
  }
  const C = allocate(dtypeOfArray(x.data), x.n * y.n, 'the cost matrix (n·m)');
  runNativeSync(() => addon().otPairwiseCost({ X: x.data, Y: y.data, n: x.n, m: y.n, d: x.d, squared, C, async: false }));
  return C as A;
}

/**
 * Squared Euclidean costs C_ij = ‖x_i − y_j‖² (n×m, the dtype of X), computed from differences so
 * that C ≥ 0 and C_ii = 0 exactly.
 * @param d - point dimension when X and Y are flat arrays
 */
export function sqeuclidean<A extends FloatArray>(X: Points<A>, Y: Points<A>, d?: number): A {
  return pairwise(X, Y, true, d);
}

/** Euclidean costs C_ij = ‖x_i − y_j‖ (n×m). */
export function euclidean<A extends FloatArray>(X: Points<A>, Y: Points<A>, d?: number): A {
  return pairwise(X, Y, false, d);
}

/** Options of {@link grid}. */
export interface GridOptions {
  /** Divide by the largest cost, so that max C = 1 (default false). */
  normalize?: boolean;
}
const GRID_KEYS = optionKeys<GridOptions>()(['normalize']);

/**
 * Cost between the pixels of an h×w grid (row-major pixel order, centres at integer (row, col)):
 * C = |Δrow|^p + |Δcol|^p, the p-th power of the Lp distance (p = 2: squared Euclidean, p = 1: L1).
 * (hw)×(hw) Float64Array; with `normalize`, divided by its maximum.
 */
export function grid(h: number, w: number, p = 2, o: GridOptions = {}): Float64Array {
  checkOptions('ot.cost.grid', o, GRID_KEYS);
  checkInt('h', h, 1, 4096);
  checkInt('w', w, 1, 4096);
  checkNumber('p', p, { min: 0, minExclusive: true });
  const N = h * w;
  if (N * N > 2 ** 31) throw new ShapeError(`grid of ${N} pixels gives a cost matrix too large (${N}² entries)`);
  const C = new Float64Array(N * N);
  runNativeSync(() => addon().otGridCost({ h, w, p, C }));
  if (o.normalize && N > 1) {
    const mx = (h - 1) ** p + (w - 1) ** p;
    if (mx > 0) for (let i = 0; i < C.length; i++) C[i] /= mx;
  }
  return C;
}

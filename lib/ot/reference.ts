/**
 * The reference problems of docs/design/ot.md, built natively from the project's Philox
 * generator (key = seed, counter = (index >> 2, 0, problem, tag)).
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { runNativeSync } from '../run';
import { checkInt, checkOptions, optionKeys, seedKey } from '../validate';
import { addon, local } from './addon';

/** Names of the reference problems. */
export type ReferenceName = 'R1' | 'R2-L2' | 'R2-L1' | 'R3';

/** Parameters of {@link referenceProblem}. */
export interface ReferenceParams {
  /** Problem size: n for R1 (default 200), n for R3 (default 400). */
  n?: number;
  /** Target size for R3 (default 300). */
  m?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Problem index p in the counter (default 0). */
  problem?: number;
}

const REFERENCE_KEYS = optionKeys<ReferenceParams>()(['n', 'm', 'seed', 'problem']);

/** A built reference problem; `reg` is the value the tests use where one is fixed (R1, R2: 1/1200). */
export interface ReferenceProblem {
  name: ReferenceName;
  n: number;
  m: number;
  C: Float64Array;
  a: Float64Array;
  b: Float64Array;
  /** R3 point clouds (n×2 and m×2), absent otherwise. */
  X?: Float64Array;
  Y?: Float64Array;
  reg?: number;
}

/**
 * Builds R1 (random assignment, C ~ U(0,1)), R2-L2 / R2-L1 (28×28 digit-like densities with a
 * grid cost of max 1) or R3 (Gaussian point clouds, squared Euclidean cost divided by its max).
 */
export function referenceProblem(name: ReferenceName, params: ReferenceParams = {}): ReferenceProblem {
  checkOptions('ot.referenceProblem', params, REFERENCE_KEYS);
  const [lo, hi] = seedKey(params.seed ?? 0);
  const problem = checkInt('problem', params.problem ?? 0, 0, 0xffffffff);
  const call = (kind: number, n: number, m: number, p: number) => {
    const r = runNativeSync(() => addon().otReference({ kind, n, m, p, keyLo: lo, keyHi: hi, problem }));
    return { C: local(r.C), a: local(r.a), b: local(r.b), X: local(r.X), Y: local(r.Y) };
  };
  if (name === 'R1') {
    const n = checkInt('n', params.n ?? 200, 1, 20000);
    const r = call(1, n, n, 0);
    return { name, n, m: n, C: r.C, a: r.a, b: r.b, reg: 1 / 1200 };
  }
  if (name === 'R2-L2' || name === 'R2-L1') {
    const r = call(2, 784, 784, name === 'R2-L2' ? 2 : 1);
    return { name, n: 784, m: 784, C: r.C, a: r.a, b: r.b, reg: 1 / 1200 };
  }
  if (name === 'R3') {
    const n = checkInt('n', params.n ?? 400, 1, 20000);
    const m = checkInt('m', params.m ?? 300, 1, 20000);
    const r = call(3, n, m, 0);
    return { name, n, m, C: r.C, a: r.a, b: r.b, X: r.X, Y: r.Y };
  }
  throw new InvalidArgumentError(`unknown reference problem '${String(name)}' (R1, R2-L2, R2-L1, R3)`);
}

// Reductions of a simulation's final state computed where the shard ran, so a shard returns a few
// numbers instead of its paths. To make the merged statistic independent of how paths were split
// and which worker ran what, every statistic is computed over fixed blocks of REDUCE_BLOCK paths,
// aligned to the run's path 0, each block in path order, and the blocks are merged in block order
// (Chan et al.'s pairwise update for moments; plain sums and integer counts otherwise). A shard
// therefore starts on a block boundary, and reduceFinal() over the whole result of one call gives
// the same bits as any sharded run.
import { InvalidArgumentError } from '../errors';

/** Paths per reduction block: shards of a reduced run are multiples of it. */
export const REDUCE_BLOCK = 1 << 16;

/** What a sharded simulation returns instead of its paths. */
export type Reduce =
  /** Mean and unbiased variance of each coordinate of the final state. */
  | { kind: 'moments' }
  /** A European payoff on coordinate `coord` (default 0): discount · mean(max(±(x − strike), 0)). */
  | { kind: 'payoff'; type: 'call' | 'put'; strike: number; coord?: number; discount?: number }
  /** Counts of coordinate `coord` in `bins` equal bins over [min, max), and quantiles read from them. */
  | { kind: 'histogram'; min: number; max: number; bins: number; coord?: number; quantiles?: number[] };

/** {@link Reduce} 'moments' result. */
export interface MomentsResult {
  kind: 'moments';
  n: number;
  mean: Float64Array;
  variance: Float64Array;
}
/** {@link Reduce} 'payoff' result: the price estimate and its standard error. */
export interface PayoffResult {
  kind: 'payoff';
  n: number;
  value: number;
  stdError: number;
}
/** {@link Reduce} 'histogram' result; quantiles interpolate linearly inside a bin (error ≤ one bin width). */
export interface HistogramResult {
  kind: 'histogram';
  n: number;
  edges: Float64Array;
  counts: Float64Array;
  below: number;
  above: number;
  quantiles?: Float64Array;
}
/** Result of a {@link Reduce}. */
export type Reduced = MomentsResult | PayoffResult | HistogramResult;

/** One block's partial statistic (plain JSON numbers, which round-trip exactly). @internal */
export type Partial =
  | { n: number; mean: number[]; m2: number[] }
  | { n: number; sum: number; sumSq: number }
  | { n: number; counts: number[]; below: number; above: number };

/** Checks a reduce option against the state dimension d. @internal */
export function checkReduce(r: Reduce, d: number): Reduce {
  if (!r || typeof r !== 'object') throw new InvalidArgumentError('reduce must be an object such as { kind: \'moments\' }');
  const coord = (r as { coord?: number }).coord ?? 0;
  if (r.kind !== 'moments' && !(Number.isInteger(coord) && coord >= 0 && coord < d)) {
    throw new InvalidArgumentError(`reduce.coord must be an integer in [0, ${d}), got ${coord}`);
  }
  if (r.kind === 'payoff') {
    if (r.type !== 'call' && r.type !== 'put') throw new InvalidArgumentError(`reduce.type must be 'call' or 'put', got ${String(r.type)}`);
    if (!Number.isFinite(r.strike)) throw new InvalidArgumentError('reduce.strike must be a finite number');
    if (r.discount !== undefined && !(Number.isFinite(r.discount) && r.discount > 0)) throw new InvalidArgumentError('reduce.discount must be finite and > 0');
  } else if (r.kind === 'histogram') {
    if (!(Number.isFinite(r.min) && Number.isFinite(r.max) && r.max > r.min)) throw new InvalidArgumentError('reduce.min and reduce.max must be finite with max > min');
    if (!(Number.isInteger(r.bins) && r.bins >= 1 && r.bins <= 1 << 20)) throw new InvalidArgumentError('reduce.bins must be an integer in [1, 2^20]');
    for (const q of r.quantiles ?? []) if (!(q >= 0 && q <= 1)) throw new InvalidArgumentError(`reduce.quantiles must lie in [0, 1], got ${q}`);
  } else if (r.kind !== 'moments') {
    throw new InvalidArgumentError(`reduce.kind must be 'moments', 'payoff' or 'histogram', got ${String((r as { kind: unknown }).kind)}`);
  }
  return r;
}

/** Partials of rows [0, rows) of a [rows, d] final state, one per REDUCE_BLOCK rows. @internal */
export function blockPartials(x: ArrayLike<number>, rows: number, d: number, r: Reduce): Partial[] {
  const out: Partial[] = [];
  for (let b0 = 0; b0 < rows; b0 += REDUCE_BLOCK) out.push(partial(x, b0, Math.min(rows, b0 + REDUCE_BLOCK), d, r));
  return out;
}

function partial(x: ArrayLike<number>, r0: number, r1: number, d: number, r: Reduce): Partial {
  const n = r1 - r0;
  if (r.kind === 'moments') {
    // Welford in path order (Knuth TAOCP vol. 2, 4.2.2)
    const mean = new Array<number>(d).fill(0);
    const m2 = new Array<number>(d).fill(0);
    for (let i = r0, k = 1; i < r1; i++, k++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        const delta = v - mean[j];
        mean[j] += delta / k;
        m2[j] += delta * (v - mean[j]);
      }
    }
    return { n, mean, m2 };
  }
  const c = r.coord ?? 0;
  if (r.kind === 'payoff') {
    let sum = 0;
    let sumSq = 0;
    const sign = r.type === 'call' ? 1 : -1;
    for (let i = r0; i < r1; i++) {
      const p = Math.max(sign * (x[i * d + c] - r.strike), 0);
      sum += p;
      sumSq += p * p;
    }
    return { n, sum, sumSq };
  }
  const counts = new Array<number>(r.bins).fill(0);
  let below = 0;
  let above = 0;
  const scale = r.bins / (r.max - r.min);
  for (let i = r0; i < r1; i++) {
    const v = x[i * d + c];
    if (!(v >= r.min)) below++;
    else if (!(v < r.max)) above++;
    else counts[Math.min(r.bins - 1, Math.floor((v - r.min) * scale))]++;
  }
  return { n, counts, below, above };
}

/** Merges block partials in the order given (block order) into the statistic. @internal */
export function mergePartials(parts: Partial[], d: number, r: Reduce): Reduced {
  if (r.kind === 'moments') {
    let n = 0;
    const mean = new Float64Array(d);
    const m2 = new Float64Array(d);
    for (const p of parts as Array<{ n: number; mean: number[]; m2: number[] }>) {
      if (p.n === 0) continue;
      const nab = n + p.n;
      for (let j = 0; j < d; j++) {
        // Chan, Golub & LeVeque (1979): pairwise combination of (n, mean, M2)
        const delta = p.mean[j] - mean[j];
        mean[j] += (delta * p.n) / nab;
        m2[j] += p.m2[j] + (delta * delta * n * p.n) / nab;
      }
      n = nab;
    }
    const variance = m2.map((v) => (n > 1 ? v / (n - 1) : NaN));
    return { kind: 'moments', n, mean, variance };
  }
  if (r.kind === 'payoff') {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (const p of parts as Array<{ n: number; sum: number; sumSq: number }>) {
      n += p.n;
      sum += p.sum;
      sumSq += p.sumSq;
    }
    const disc = r.discount ?? 1;
    const mean = sum / n;
    const variance = n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : NaN;
    return { kind: 'payoff', n, value: disc * mean, stdError: (disc * Math.sqrt(variance)) / Math.sqrt(n) };
  }
  const counts = new Float64Array(r.bins);
  let n = 0;
  let below = 0;
  let above = 0;
  for (const p of parts as Array<{ n: number; counts: number[]; below: number; above: number }>) {
    n += p.n;
    below += p.below;
    above += p.above;
    for (let k = 0; k < r.bins; k++) counts[k] += p.counts[k];
  }
  const edges = new Float64Array(r.bins + 1).map((_, k) => r.min + ((r.max - r.min) * k) / r.bins);
  const res: HistogramResult = { kind: 'histogram', n, edges, counts, below, above };
  if (r.quantiles) res.quantiles = Float64Array.from(r.quantiles, (q) => quantile(q, n, below, counts, edges));
  return res;
}

function quantile(q: number, n: number, below: number, counts: Float64Array, edges: Float64Array): number {
  const target = q * n;
  if (target < below) return -Infinity;
  let acc = below;
  for (let k = 0; k < counts.length; k++) {
    if (acc + counts[k] >= target && counts[k] > 0) return edges[k] + ((target - acc) / counts[k]) * (edges[k + 1] - edges[k]);
    acc += counts[k];
  }
  return Infinity;
}

/**
 * The statistic of a whole [rows, d] final state, computed exactly as a sharded run computes it
 * (blocks of {@link REDUCE_BLOCK} paths merged in order): equal bits to `queue.simulate(..., { reduce })`.
 */
export function reduceFinal(x: ArrayLike<number>, d: number, r: Reduce): Reduced {
  checkReduce(r, d);
  const rows = Math.floor(x.length / d);
  return mergePartials(blockPartials(x, rows, d, r), d, r);
}

// Reductions of a simulation's final state computed where the shard ran, so a shard returns a few
// numbers instead of its paths. To make the merged statistic independent of how paths were split
// and which worker ran what, every statistic is computed over fixed blocks of REDUCE_BLOCK paths,
// aligned to the run's path 0, each block's sums in a fixed order (native/stats/block_reduce.h), and
// the blocks are merged in block order (Chan et al.'s pairwise update for moments; plain sums and
// integer counts otherwise). A shard
// therefore starts on a block boundary, and reduceFinal() over the whole result of one call gives
// the same bits as any sharded run.
import { InvalidArgumentError } from '../errors';
import { native } from '../native';

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

/** Inputs of native statsBlockPartials (native/bindings/stats.cc reads these keys by name). @internal */
export interface StatsBlockPartialsArgs {
  x: Float32Array | Float64Array;
  rows: number;
  d: number;
  block: number;
  /** 0 moments, 1 payoff, 2 histogram */
  kind: 0 | 1 | 2;
  coord: number;
  sign: number;
  strike: number;
  min: number;
  max: number;
  bins: number;
}
type NativeReduceSpec = Omit<StatsBlockPartialsArgs, 'x' | 'rows' | 'd' | 'block'>;

/** The native surface of the reductions. @internal */
export interface StatsAddon {
  statsBlockPartials(o: StatsBlockPartialsArgs): Float64Array;
}

function nativeSpec(r: Reduce): NativeReduceSpec {
  const spec: NativeReduceSpec = { kind: 0, coord: 0, sign: 1, strike: 0, min: 0, max: 1, bins: 1 };
  if (r.kind === 'payoff') Object.assign(spec, { kind: 1, coord: r.coord ?? 0, sign: r.type === 'call' ? 1 : -1, strike: r.strike });
  else if (r.kind === 'histogram') Object.assign(spec, { kind: 2, coord: r.coord ?? 0, min: r.min, max: r.max, bins: r.bins });
  return spec;
}

/**
 * Partials of rows [0, rows) of a [rows, d] final state, one per REDUCE_BLOCK rows, computed by the
 * native block reduction (native/stats/block_reduce.cc: two-pass moments, payoff sums or bin counts
 * in a fixed order inside each block, blocks in parallel). @internal
 */
export function blockPartials(x: Float32Array | Float64Array, rows: number, d: number, r: Reduce): Partial[] {
  const flat = (native() as unknown as StatsAddon).statsBlockPartials({ x, rows, d, block: REDUCE_BLOCK, ...nativeSpec(r) });
  const width = r.kind === 'moments' ? 1 + 2 * d : r.kind === 'payoff' ? 3 : 3 + r.bins;
  const out: Partial[] = [];
  for (let o = 0; o < flat.length; o += width) {
    const n = flat[o];
    if (r.kind === 'moments') out.push({ n, mean: Array.from(flat.subarray(o + 1, o + 1 + d)), m2: Array.from(flat.subarray(o + 1 + d, o + width)) });
    else if (r.kind === 'payoff') out.push({ n, sum: flat[o + 1], sumSq: flat[o + 2] });
    else out.push({ n, below: flat[o + 1], above: flat[o + 2], counts: Array.from(flat.subarray(o + 3, o + width)) });
  }
  return out;
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
export function reduceFinal(x: Float32Array | Float64Array, d: number, r: Reduce): Reduced {
  checkReduce(r, d);
  const rows = Math.floor(x.length / d);
  return mergePartials(blockPartials(x, rows, d, r), d, r);
}

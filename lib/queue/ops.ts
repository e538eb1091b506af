// The shardable operations: how each splits into shard jobs (by path or draw index, so every shard
// is the same pure function of (seed, index) as in one call), what a worker runs for a shard, and
// how the shard results merge back in index order. Job data and results are plain JSON (typed
// arrays packed by codec.ts), so any worker on any machine can take any shard.
import * as fbm from '../fbm';
import * as ot from '../ot';
import { InvalidArgumentError } from '../errors';
import { normal, normalAsync } from '../rng';
import * as sde from '../sde';
import type { CirParams, GbmParams, HestonParams, OuParams, VpParams, VeParams } from '../sde/models';
import type { SimulateOptions } from '../sde/simulate';
import { type Packed, pack, unpack } from './codec';
import { REDUCE_BLOCK, type Partial, type Reduce, type Reduced, blockPartials, checkReduce, mergePartials } from './reduce';

/** A built-in model by name and parameters (what a worker rebuilds with `sde.models[kind](params)`). */
export type ModelSpec =
  | { kind: 'ou'; params: OuParams }
  | { kind: 'gbm'; params: GbmParams }
  | { kind: 'cir'; params: CirParams }
  | { kind: 'heston'; params: HestonParams }
  | { kind: 'vp' | 'subVp'; params?: VpParams }
  | { kind: 've'; params?: VeParams };

/** {@link SimulateOptions} a shard job can carry: plain data, no callbacks, signals or device arrays. */
export type ShardedSimulateOptions = Omit<SimulateOptions, 'x0' | 'device' | 'threads' | 'output' | 'signal' | 'onProgress' | 'progressIntervalMs'> & {
  /** One state row (broadcast) or one row per path ([paths, d]). */
  x0: ArrayLike<number>;
};

/** Serialisable seed: JSON has no bigint. @internal */
type WireSeed = { n: number } | { big: string };
const toWire = (s: number | bigint): WireSeed => (typeof s === 'bigint' ? { big: s.toString() } : { n: s });
const fromWire = (s: WireSeed): number | bigint => ('big' in s ? BigInt(s.big) : s.n);

/** What every shard job holds. @internal */
export interface ShardData {
  op: OpName;
  run: string;
  index: number;
  shards: number;
  spec: unknown;
}
/** What a worker runs a shard with. @internal */
export interface WorkerContext {
  device?: 'cpu' | 'cuda' | 'auto';
  threads?: number;
  signal: AbortSignal;
  progress(fraction: number): void;
}
/** Names of the shardable operations. @internal */
export type OpName = 'sde.simulate' | 'fbm.sample' | 'rng.normal' | 'ot.sinkhornBatch';

/** Splits [0, total) into `shards` contiguous ranges whose starts are multiples of `align`. @internal */
export function ranges(total: number, shards: number, align: number): Array<[number, number]> {
  const per = Math.ceil(Math.ceil(total / shards) / align) * align;
  const out: Array<[number, number]> = [];
  for (let s = 0; s < total; s += per) out.push([s, Math.min(total, s + per)]);
  return out;
}

// ----- sde.simulate ---------------------------------------------------------------------------

interface SdeSpec {
  model: ModelSpec;
  options: Record<string, unknown> & { seed: WireSeed; paths: number; pathOffset: number };
  x0: Packed;
  perPathX0: boolean;
  reduce?: Reduce;
  d: number;
}
/** A worker's answer for one simulation shard: its paths, or its reduction partials. @internal */
type SdeShardResult = { partials: Partial[] } | { final: Packed; data: Packed; times: Packed; S: number };

const MODEL_KINDS = ['ou', 'gbm', 'cir', 'heston', 'vp', 'subVp', 've'] as const;

function buildModel(m: ModelSpec): sde.Model {
  if (!m || typeof m !== 'object' || !(MODEL_KINDS as readonly string[]).includes(m.kind)) {
    throw new InvalidArgumentError(`model must be { kind, params } with kind one of ${MODEL_KINDS.join(', ')} (user models cannot travel to other machines)`);
  }
  const make = sde.models[m.kind] as (p: unknown) => sde.Model;
  return make((m as { params?: unknown }).params ?? {});
}

/** Splits a simulation into shard specs, after validating it locally (a bad call fails here, not on a worker). @internal */
export function splitSimulate(model: ModelSpec, o: ShardedSimulateOptions, shards: number, reduce?: Reduce): { specs: SdeSpec[]; d: number } {
  const built = buildModel(model);
  const x0 = Float64Array.from(o.x0 as ArrayLike<number>);
  const d = built.dim || x0.length;
  const perPath = x0.length !== d;
  if (perPath && x0.length !== o.paths * d) throw new InvalidArgumentError(`x0 must hold one row of ${d} values or ${o.paths} rows, got ${x0.length} values`);
  if (reduce) checkReduce(reduce, d);
  // one-path dry run validates every option (unknown keys, methods, save schedule) before anything is queued
  sde.simulateSync(built, { ...(o as SimulateOptions), x0: perPath ? x0.subarray(0, d) : x0, paths: 1, steps: o.steps, save: undefined });
  const { x0: _x0, seed, ...rest } = o;
  void _x0;
  const base = o.pathOffset ?? 0;
  const specs = ranges(o.paths, shards, reduce ? REDUCE_BLOCK : 1).map(([a, b]) => ({
    model,
    options: { ...(rest as Record<string, unknown>), seed: toWire(seed), paths: b - a, pathOffset: base + a },
    x0: pack(perPath ? x0.slice(a * d, b * d) : x0),
    perPathX0: perPath,
    reduce,
    d,
  }));
  return { specs, d };
}

async function runSimulateShard(spec: SdeSpec, ctx: WorkerContext): Promise<SdeShardResult> {
  const { seed, ...opts } = spec.options;
  const r = await sde.simulate(buildModel(spec.model), {
    ...(opts as unknown as SimulateOptions),
    seed: fromWire(seed),
    x0: unpack(spec.x0) as Float64Array,
    device: ctx.device,
    threads: ctx.threads,
    signal: ctx.signal,
    onProgress: (p) => ctx.progress(p.step / p.steps),
    output: 'host',
  });
  if (spec.reduce) return { partials: blockPartials(r.final, spec.options.paths, spec.d, spec.reduce) };
  return { final: pack(r.final), data: pack(r.data), times: pack(r.times), S: r.shape[0] };
}

/** Result of a sharded simulation without `reduce`: the single call's fields, paths in order. */
export interface ShardedSimResult {
  times: Float64Array;
  data: Float32Array | Float64Array;
  shape: [number, number, number];
  final: Float32Array | Float64Array;
}

/** Concatenates shard results in path order ([S, P, d] saves interleaved per save point). @internal */
export function mergeSimulate(results: SdeShardResult[], d: number, reduce?: Reduce): ShardedSimResult | Reduced {
  if (reduce) return mergePartials(results.flatMap((r) => (r as { partials: Partial[] }).partials), d, reduce);
  const parts = results as Array<{ final: Packed; data: Packed; times: Packed; S: number }>;
  const finals = parts.map((p) => unpack(p.final) as Float32Array | Float64Array);
  const datas = parts.map((p) => unpack(p.data) as Float32Array | Float64Array);
  const P = finals.reduce((s, f) => s + f.length / d, 0);
  const S = parts[0].S;
  const Ctor = finals[0].constructor as Float32ArrayConstructor | Float64ArrayConstructor;
  const final = new Ctor(P * d);
  const data = new Ctor(S * P * d);
  let row = 0;
  for (let k = 0; k < parts.length; k++) {
    const rows = finals[k].length / d;
    final.set(finals[k], row * d);
    for (let s = 0; s < S; s++) data.set(datas[k].subarray(s * rows * d, (s + 1) * rows * d), (s * P + row) * d);
    row += rows;
  }
  return { times: unpack(parts[0].times) as Float64Array, data, shape: [S, P, d], final };
}

// ----- fbm.sample -----------------------------------------------------------------------------

/** {@link fbm.SampleOptions} a shard job can carry. */
export type ShardedFbmOptions = Omit<fbm.SampleOptions, 'device' | 'output'>;

interface FbmSpec {
  options: Record<string, unknown> & { seed: WireSeed; paths: number; pathOffset: number };
}
type FbmShardResult = { paths: Packed; shape: number[]; times: Packed; brownian?: Packed; gammas?: Packed; omegas?: Packed };

/** @internal */
export function splitFbm(o: ShardedFbmOptions, shards: number): FbmSpec[] {
  fbm.sampleSync({ ...o, paths: 1 } as fbm.SampleOptions);  // validates the options here
  const { seed, ...rest } = o;
  const base = o.pathOffset ?? 0;
  return ranges(o.paths, shards, 1).map(([a, b]) => ({
    options: { ...(rest as Record<string, unknown>), gammas: o.gammas && Array.from(o.gammas), omegas: o.omegas && Array.from(o.omegas), seed: toWire(seed), paths: b - a, pathOffset: base + a },
  }));
}

async function runFbmShard(spec: FbmSpec, ctx: WorkerContext): Promise<FbmShardResult> {
  const { seed, ...opts } = spec.options;
  const r = await fbm.sample({ ...(opts as unknown as fbm.SampleOptions), seed: fromWire(seed), device: ctx.device, signal: ctx.signal, output: 'host' });
  const out: FbmShardResult = { paths: pack(r.paths), shape: r.shape, times: pack(r.times) };
  if (r.brownian) out.brownian = pack(r.brownian);
  if (r.gammas) out.gammas = pack(r.gammas);
  if (r.omegas) out.omegas = pack(r.omegas);
  return out;
}

/** Result of a sharded `fbm.sample`: the single call's fields, paths in order. */
export interface ShardedFbmResult {
  paths: Float32Array | Float64Array;
  shape: number[];
  times: Float64Array;
  brownian?: Float32Array | Float64Array;
  gammas?: Float64Array;
  omegas?: Float64Array;
}

function concat(parts: Array<Float32Array | Float64Array>): Float32Array | Float64Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new (parts[0].constructor as Float32ArrayConstructor | Float64ArrayConstructor)(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @internal */
export function mergeFbm(results: FbmShardResult[]): ShardedFbmResult {
  const paths = concat(results.map((r) => unpack(r.paths) as Float32Array));
  const shape = [...results[0].shape];
  shape[0] = results.reduce((s, r) => s + r.shape[0], 0);
  const out: ShardedFbmResult = { paths, shape, times: unpack(results[0].times) as Float64Array };
  if (results[0].brownian) out.brownian = concat(results.map((r) => unpack(r.brownian as Packed) as Float32Array));
  if (results[0].gammas) out.gammas = unpack(results[0].gammas) as Float64Array;
  if (results[0].omegas) out.omegas = unpack(results[0].omegas as Packed) as Float64Array;
  return out;
}

// ----- rng.normal -----------------------------------------------------------------------------

/** Options of a sharded `rng.normal`: the draws `offset .. offset + n − 1` of (seed, stream, path, step). */
export interface ShardedNormalOptions {
  seed: number | bigint;
  stream?: number;
  dtype?: 'float32' | 'float64';
  path?: number;
  step?: number;
  offset?: number;
}
interface NormalSpec {
  n: number;
  options: Omit<ShardedNormalOptions, 'seed'> & { seed: WireSeed; offset: number };
}

/** Normal draws are Box–Muller pairs, so shards start on even draw indices. @internal */
export function splitNormal(n: number, o: ShardedNormalOptions, shards: number): NormalSpec[] {
  if (!(Number.isInteger(n) && n >= 1)) throw new InvalidArgumentError(`n must be a positive integer, got ${n}`);
  normal(4, { ...o, offset: 0 });  // validates the options here
  const base = o.offset ?? 0;
  return ranges(n, shards, 4).map(([a, b]) => ({ n: b - a, options: { ...o, seed: toWire(o.seed), offset: base + a } }));
}

async function runNormalShard(spec: NormalSpec, ctx: WorkerContext): Promise<{ x: Packed }> {
  const { seed, ...opts } = spec.options;
  const x = await normalAsync(spec.n, { ...opts, seed: fromWire(seed), device: ctx.device, signal: ctx.signal, output: 'host' });
  return { x: pack(x) };
}

/** @internal */
export function mergeNormal(results: Array<{ x: Packed }>): Float32Array | Float64Array {
  return concat(results.map((r) => unpack(r.x) as Float32Array));
}

// ----- ot.sinkhornBatch -----------------------------------------------------------------------

/** {@link ot.SinkhornBatchOptions} a shard job can carry. */
export type ShardedSinkhornBatchOptions = Omit<ot.SinkhornBatchOptions, 'device' | 'signal' | 'onProgress' | 'progressIntervalMs'>;

interface OtSpec {
  a: Packed;
  b: Packed;
  C: Packed;
  shape: [number, number, number];  // [problems in this shard, n, m]
  sharedC: boolean;
  options: Record<string, unknown>;
}
type OtShardProblem = Omit<ot.SinkhornResult, 'f' | 'g' | 'plan'> & { f: Packed; g: Packed };
type OtShardResult = { problems: OtShardProblem[]; plan?: Packed };

/** Splits B problems into contiguous problem ranges (validated locally first). @internal */
export function splitSinkhornBatch(a: ot.Tensor<Float64Array>, b: ot.Tensor<Float64Array>, C: ot.Tensor, o: ShardedSinkhornBatchOptions, shards: number): OtSpec[] {
  const [B, n] = a.shape;
  const m = b.shape[1];
  const sharedC = C.shape[0] === 1;
  // a one-iteration dry run validates shapes, marginals and options before anything is queued
  ot.sinkhornBatchSync(a, b, C, { ...(o as ot.SinkhornBatchOptions), maxIter: 1, checkEvery: 1, returnPlan: false });
  const reg0 = typeof o.reg === 'number' ? o.reg : Array.from(o.reg as ArrayLike<number>);
  const regs = typeof reg0 === 'number' ? null : reg0;
  const nm = n * m;
  const Cd = C.data as Float32Array | Float64Array;
  return ranges(B, shards, 1).map(([p0, p1]) => ({
    a: pack(Float64Array.from(a.data.subarray(p0 * n, p1 * n))),
    b: pack(Float64Array.from(b.data.subarray(p0 * m, p1 * m))),
    C: pack(sharedC ? Cd : Cd.slice(p0 * nm, p1 * nm)),
    shape: [p1 - p0, n, m],
    sharedC,
    options: { ...(o as Record<string, unknown>), reg: regs ? regs.slice(p0, p1) : reg0 },
  }));
}

async function runSinkhornShard(spec: OtSpec, ctx: WorkerContext): Promise<OtShardResult> {
  const [P, n, m] = spec.shape;
  const C = unpack(spec.C) as Float32Array | Float64Array;
  const r = await ot.sinkhornBatch(
    { data: unpack(spec.a) as Float64Array, shape: [P, n] },
    { data: unpack(spec.b) as Float64Array, shape: [P, m] },
    { data: C, shape: [spec.sharedC ? 1 : P, n, m] },
    { ...(spec.options as unknown as ot.SinkhornBatchOptions), device: ctx.device, signal: ctx.signal },
  );
  const problems = r.problems.map(({ f, g, plan: _plan, ...rest }) => {
    void _plan;
    return { ...rest, f: pack(f), g: pack(g) };
  });
  return r.plan ? { problems, plan: pack(r.plan.data as Float64Array) } : { problems };
}

/** Result of a sharded `ot.sinkhornBatch`: per-problem results in order, and all plans. */
export interface ShardedSinkhornBatchResult {
  problems: ot.SinkhornResult[];
  plan?: ot.Tensor;
}

/** @internal */
export function mergeSinkhornBatch(results: OtShardResult[], n: number, m: number): ShardedSinkhornBatchResult {
  const plans = results.every((r) => r.plan) ? concat(results.map((r) => unpack(r.plan as Packed) as Float64Array)) : undefined;
  const problems: ot.SinkhornResult[] = [];
  for (const r of results) for (const p of r.problems) problems.push({ ...p, f: unpack(p.f) as Float64Array, g: unpack(p.g) as Float64Array } as ot.SinkhornResult);
  if (plans) problems.forEach((p, i) => (p.plan = plans.subarray(i * n * m, (i + 1) * n * m)));
  return plans ? { problems, plan: { data: plans, shape: [problems.length, n, m] } } : { problems };
}

/** Runs one shard of any operation (the worker's side). @internal */
export function runShard(data: ShardData, ctx: WorkerContext): Promise<unknown> {
  switch (data.op) {
    case 'sde.simulate':
      return runSimulateShard(data.spec as SdeSpec, ctx);
    case 'fbm.sample':
      return runFbmShard(data.spec as FbmSpec, ctx);
    case 'rng.normal':
      return runNormalShard(data.spec as NormalSpec, ctx);
    case 'ot.sinkhornBatch':
      return runSinkhornShard(data.spec as OtSpec, ctx);
    default:
      throw new InvalidArgumentError(`unknown queue operation ${String((data as { op: unknown }).op)}`);
  }
}

/**
 * itokit/queue: itokit calls sharded across processes and machines over BullMQ and Redis
 * (docs/scale-out.md). Counter-based randomness makes every path a pure function of (seed, path
 * index, step), so shards split by path index merge into exactly the single call's bits, whichever
 * worker ran which shard and however often a shard was retried. `bullmq` is an optional peer
 * dependency: `npm install bullmq`.
 *
 * @example
 * import { simulate, startWorker } from 'itokit/queue';
 * // on each worker machine: startWorker('redis://10.0.0.5:6379') or `npx itokit worker --redis redis://10.0.0.5:6379`
 * const stats = await simulate('redis://10.0.0.5:6379',
 *   { kind: 'heston', params: { mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 } },
 *   { paths: 10_000_000, x0: [100, 0.04], t1: 1, steps: 252, method: 'log-euler-ft', seed: 42 },
 *   { shards: 16, reduce: { kind: 'payoff', type: 'call', strike: 100, discount: Math.exp(-0.02) } });
 * @packageDocumentation
 */
import type { RedisConnection } from './connection';
import type { Tensor } from '../ot';
import {
  type ModelSpec, type ShardedFbmOptions, type ShardedFbmResult, type ShardedNormalOptions, type ShardedSimResult, type ShardedSimulateOptions,
  type ShardedSinkhornBatchOptions, type ShardedSinkhornBatchResult,
  mergeFbm, mergeNormal, mergeSimulate, mergeSinkhornBatch, splitFbm, splitNormal, splitSimulate, splitSinkhornBatch,
} from './ops';
import { type ShardOptions, runSharded, shardCount } from './producer';
import type { HistogramResult, MomentsResult, PayoffResult, Reduce, Reduced } from './reduce';

export type { RedisConnection } from './connection';
export type {
  ModelSpec, ShardedFbmOptions, ShardedFbmResult, ShardedNormalOptions, ShardedSimResult, ShardedSimulateOptions, ShardedSinkhornBatchOptions, ShardedSinkhornBatchResult,
} from './ops';
export type { ShardOptions } from './producer';
export { REDUCE_BLOCK, reduceFinal } from './reduce';
export type { HistogramResult, MomentsResult, PayoffResult, Reduce, Reduced } from './reduce';
export { listWorkers, startWorker } from './worker';
export type { ItokitWorker, WorkerInfo, WorkerOptions } from './worker';

/** Options of a sharded {@link simulate}: how to shard, and optionally what to reduce on the workers. */
export interface SimulateShardOptions extends ShardOptions {
  /** Reduce each shard's final state on its worker and return only the statistic (bit-identical to {@link reduceFinal} of the single call). */
  reduce?: Reduce;
}

/** The statistic a sharded {@link simulate} with `reduce: R` resolves with. */
export type ReducedFor<R extends Reduce> = R extends { kind: 'moments' } ? MomentsResult : R extends { kind: 'payoff' } ? PayoffResult : HistogramResult;

/**
 * `sde.simulate` of a built-in model, sharded by path index into BullMQ jobs. Resolves with the
 * single call's `times`, `data`, `shape` and `final` (paths in order, bit-identical), or with the
 * reduced statistic when `reduce` is given. The options are validated here before anything is
 * queued; a worker's coded error rejects with the same code; a shard whose worker died is retried.
 */
export async function simulate<R extends Reduce>(conn: RedisConnection, model: ModelSpec, options: ShardedSimulateOptions, shard: SimulateShardOptions & { reduce: R }): Promise<ReducedFor<R>>;
export async function simulate(conn: RedisConnection, model: ModelSpec, options: ShardedSimulateOptions, shard?: SimulateShardOptions & { reduce?: undefined }): Promise<ShardedSimResult>;
export async function simulate(conn: RedisConnection, model: ModelSpec, options: ShardedSimulateOptions, shard: SimulateShardOptions = {}): Promise<ShardedSimResult | Reduced> {
  const { specs, d } = splitSimulate(model, options, shardCount(options.paths, shard), shard.reduce);
  const results = await runSharded(conn, 'sde.simulate', specs, shard);
  return mergeSimulate(results as Parameters<typeof mergeSimulate>[0], d, shard.reduce);
}

/** `fbm.sample` sharded by path index: the single call's paths, bit-identical. */
export async function fbmSample(conn: RedisConnection, options: ShardedFbmOptions, shard: ShardOptions = {}): Promise<ShardedFbmResult> {
  const specs = splitFbm(options, shardCount(options.paths, shard));
  return mergeFbm((await runSharded(conn, 'fbm.sample', specs, shard)) as Parameters<typeof mergeFbm>[0]);
}

/** `rng.normal(n, options)` sharded by draw index: the single call's values, bit-identical. */
export async function normal(conn: RedisConnection, n: number, options: ShardedNormalOptions, shard: ShardOptions = {}): Promise<Float32Array | Float64Array> {
  const specs = splitNormal(n, options, shardCount(n, shard));
  return mergeNormal((await runSharded(conn, 'rng.normal', specs, shard)) as Parameters<typeof mergeNormal>[0]);
}

/**
 * `ot.sinkhornBatch` with its B problems sharded across workers (contiguous problem ranges; a
 * shared [1, n, m] cost travels to every shard). On CPU workers each problem's result equals the
 * single call's bit for bit (timings aside). `shards` or `pathsPerShard` (read as problems per
 * shard, default 2^20) set the split.
 */
export async function sinkhornBatch(conn: RedisConnection, a: Tensor<Float64Array>, b: Tensor<Float64Array>, C: Tensor, options: ShardedSinkhornBatchOptions, shard: ShardOptions = {}): Promise<ShardedSinkhornBatchResult> {
  const B = Array.isArray(a?.shape) ? a.shape[0] : NaN;
  const specs = splitSinkhornBatch(a, b, C, options, shardCount(Number.isInteger(B) && B >= 1 ? B : 1, shard));
  return mergeSinkhornBatch((await runSharded(conn, 'ot.sinkhornBatch', specs, shard)) as Parameters<typeof mergeSinkhornBatch>[0], a.shape[1], b.shape[1]);
}

// The producer side: queue a run's shard jobs, follow their progress, collect their results in
// index order, cancel them all on abort, and turn a failed shard into the coded error it carried.
import { randomUUID } from 'crypto';
import { AbortError, ItokitError, fromNative } from '../errors';
import { bullmq } from './bullmq';
import { type RedisConnection, cancelKey, plain, toConnection } from './connection';
import type { OpName, ShardData } from './ops';

/** Options of every sharded call. */
export interface ShardOptions {
  /** Number of shard jobs. Default: as many as `pathsPerShard` gives. */
  shards?: number;
  /** Paths (or draws) per shard when `shards` is not given (default 2^20). Reduced runs round it up to whole reduction blocks. */
  pathsPerShard?: number;
  /** BullMQ queue name (default 'itokit'); workers must serve the same name. */
  queueName?: string;
  /** Tries per shard when a worker dies or fails for a reason other than a coded itokit error (default 3). */
  attempts?: number;
  /** Cancels every shard: queued ones are removed, running ones abort at their next check. */
  signal?: AbortSignal;
  /** Called as shards progress: shards finished, and the mean progress of all shards in [0, 1]. */
  onProgress?: (p: { shardsDone: number; shards: number; fraction: number }) => void;
}

/** Shard count for `total` items: `shards`, else ceil(total / pathsPerShard). @internal */
export function shardCount(total: number, o: ShardOptions): number {
  if (o.shards !== undefined) {
    if (!(Number.isInteger(o.shards) && o.shards >= 1 && o.shards <= 100_000)) throw new ItokitError('ERR_ITOKIT_INVALID_ARG', `shards must be an integer in [1, 100000], got ${o.shards}`);
    return o.shards;
  }
  const per = o.pathsPerShard ?? 2 ** 20;
  if (!(Number.isInteger(per) && per >= 1)) throw new ItokitError('ERR_ITOKIT_INVALID_ARG', `pathsPerShard must be a positive integer, got ${per}`);
  return Math.max(1, Math.ceil(total / per));
}

const CODED = /^(ERR_ITOKIT_[A-Z_]+): ([\s\S]*)$/;

/** Runs shard specs as jobs of one run and resolves with their results in index order. @internal */
export async function runSharded(conn: RedisConnection, op: OpName, specs: unknown[], o: ShardOptions): Promise<unknown[]> {
  if (o.signal?.aborted) throw new AbortError('The operation was aborted', { cause: o.signal.reason });
  const { Queue, QueueEvents } = bullmq();
  const name = o.queueName ?? 'itokit';
  const connection = toConnection(conn);
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  const run = randomUUID();
  // every waiting shard listens for the connection closing: one listener per shard is expected
  queue.setMaxListeners(specs.length + 16);
  events.setMaxListeners(specs.length + 16);
  const fractions = new Float64Array(specs.length);
  let done = 0;
  const report = () => o.onProgress?.({ shardsDone: done, shards: specs.length, fraction: fractions.reduce((s, f) => s + f, 0) / specs.length });
  const index = (jobId: string) => (jobId.startsWith(`${run}-`) ? Number(jobId.slice(run.length + 1)) : -1);
  events.on('progress', ({ jobId, data }) => {
    const i = index(jobId);
    if (i >= 0 && typeof data === 'number') {
      fractions[i] = data;
      report();
    }
  });
  let onAbort: (() => void) | undefined;
  let jobs: Array<{ remove(): Promise<void> }> = [];
  let cancelling: Promise<void> | undefined;
  try {
    await events.waitUntilReady();
    const added = await queue.addBulk(
      specs.map((spec, i) => ({
        name: op,
        data: { op, run, index: i, shards: specs.length, spec } satisfies ShardData,
        opts: { jobId: `${run}-${i}`, attempts: o.attempts ?? 3, backoff: { type: 'fixed', delay: 100 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    jobs = added;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        reject(new AbortError('The operation was aborted', { cause: o.signal?.reason }));
        cancelling = cancelRun(queue, name, run);
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      // an abort while the shards were being queued fired before the listener existed
      if (o.signal?.aborted) onAbort();
    });
    const results = await Promise.race([
      Promise.all(
        added.map(async (job, i) => {
          try {
            const r = await job.waitUntilFinished(events);
            fractions[i] = 1;
            done++;
            report();
            return r;
          } catch (err) {
            throw shardError(err, i);
          }
        }),
      ),
      aborted,
    ]);
    return results;
  } finally {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    await cancelling;
    // finished and failed shards leave Redis with the run; a running one (aborted run) refuses and
    // is removed by BullMQ's retention once its worker gives it up
    await Promise.all(jobs.map((j) => j.remove().catch(() => undefined)));
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
}

async function cancelRun(queue: InstanceType<ReturnType<typeof bullmq>['Queue']>, name: string, run: string): Promise<void> {
  try {
    const client = await plain(queue.client);
    await client.set(cancelKey(name, run), '1', 'EX', 3600);  // running shards poll it and abort
  } catch {
    // the run is already rejected; cleanup is best effort
  }
}

/** A shard's failure as the coded error its worker threw (the message says which shard). */
function shardError(err: unknown, shard: number): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const m = CODED.exec(msg);
  if (m) return fromNative({ code: m[1], message: `shard ${shard}: ${m[2]}` });
  return new ItokitError('ERR_ITOKIT_QUEUE', `shard ${shard} failed after its retries: ${msg}`, { cause: err });
}

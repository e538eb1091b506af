/**
 * itokit/queue overhead: a Heston simulation with a final-state reduction run by 1, 2 and 4 worker
 * processes (`itokit worker`, 1 thread each) against one process running the same call with the
 * same total threads, and the shard size at which the queue costs under 5 %. Needs redis-server
 * (started here on a free loopback port) and bullmq; skipped with a note otherwise.
 *
 * What the queue adds per shard: one job record and its JSON result through Redis (a reduced
 * shard returns ~200 bytes per 2^16 paths), the worker's poll of the cancel key, and the
 * scheduling gap between a worker finishing one shard and taking the next (BullMQ's blocking
 * fetch, a few ms). So the overhead is a fixed cost per shard; shards of ≥ 2^20 paths × 64 steps
 * (≈ 0.3 s of work per core here) amortise it below 5 %.
 */
import { type ChildProcess, spawn } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { getThreads, sde, setThreads } from '../lib';
import * as queue from '../lib/queue';
import { packageRoot } from '../lib/native';
import { BenchOptions, BenchRow, report } from './harness';
import { type LocalRedis, hasRedisServer, startLocalRedis } from './local-redis';

const HESTON = { kind: 'heston', params: { mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 } } as const;

async function startRedis(): Promise<LocalRedis | undefined> {
  try {
    require.resolve('bullmq');
  } catch {
    return undefined;
  }
  return hasRedisServer() ? startLocalRedis() : undefined;
}

function startWorkers(url: string, n: number): Promise<ChildProcess[]> {
  const cli = path.join(packageRoot, 'dist', 'lib', 'cli', 'index.js');
  return Promise.all(
    Array.from({ length: n }, () => new Promise<ChildProcess>((resolve) => {
      const p = spawn(process.execPath, [cli, 'worker', '--redis', url, '--device', 'cpu', '--threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
      p.stdout?.once('data', () => resolve(p));
    })),
  );
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** Runs the benchmark and writes benchmarks/queue.md. */
export async function run(o: BenchOptions): Promise<void> {
  const redis = await startRedis();
  if (!redis) {
    report('queue', 'itokit/queue overhead', [], ['Skipped: needs redis-server on PATH and the bullmq package.']);
    return;
  }
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const steps = 64;
  const paths = o.quick ? 1 << 20 : 1 << 22;
  const call = { paths, x0: [100, 0.04], t1: 1, steps, method: 'log-euler-ft' as const, seed: 1 };
  const reduce = { kind: 'moments' } as const;
  const model = sde.models.heston(HESTON.params);
  const before = getThreads();
  try {
    for (const n of [1, 2, 4]) {
      setThreads(n);
      await sde.simulate(model, { ...call, paths: 1 << 16 });  // warm-up
      const local = await seconds(async () => queue.reduceFinal((await sde.simulate(model, call)).final, 2, reduce));
      setThreads(before);
      const workers = await startWorkers(redis.url, n);
      try {
        await queue.simulate(redis.url, HESTON, { ...call, paths: 1 << 16 }, { shards: n, reduce });  // warm-up
        const shards = Math.max(n, paths / (1 << 20));
        const viaQueue = await seconds(() => queue.simulate(redis.url, HESTON, call, { shards, reduce }));
        const rate = (paths * steps) / viaQueue;
        rows.push({ case: `one process, ${n} thread(s)`, value: (paths * steps) / local, unit: 'path-steps/s', ratio: '1.00x' });
        rows.push({ case: `${n} worker process(es) × 1 thread, ${shards} shards`, value: rate, unit: 'path-steps/s', ratio: `${(local / viaQueue).toFixed(2)}x`, note: `overhead ${(100 * (viaQueue / local - 1)).toFixed(1)} %` });
      } finally {
        for (const w of workers) w.kill('SIGTERM');
      }
    }
    // shard-size sweep, 2 workers × 1 thread against one process with 2 threads
    setThreads(2);
    const local2 = await seconds(async () => queue.reduceFinal((await sde.simulate(model, call)).final, 2, reduce));
    setThreads(before);
    const workers = await startWorkers(redis.url, 2);
    try {
      for (const per of [1 << 16, 1 << 18, 1 << 20]) {
        const t = await seconds(() => queue.simulate(redis.url, HESTON, call, { pathsPerShard: per, reduce }));
        rows.push({ case: `2 workers, ${per} paths per shard (${paths / per} shards)`, value: (paths * steps) / t, unit: 'path-steps/s', ratio: `${(local2 / t).toFixed(2)}x vs one process, 2 threads`, note: `overhead ${(100 * (t / local2 - 1)).toFixed(1)} %` });
      }
      if (!o.quick) {
        // the case: 1e7 Heston paths × 252 steps, 16 shards, final-state moments
        const big = { paths: 10_000_000, x0: [100, 0.04], t1: 1, steps: 252, method: 'log-euler-ft' as const, seed: 42 };
        const more = await startWorkers(redis.url, 2);
        try {
          const tq = await seconds(async () => {
            const r = await queue.simulate(redis.url, HESTON, big, { shards: 16, reduce });
            setThreads(2);
            const single = queue.reduceFinal(sde.simulateSync(model, big).final, 2, reduce);
            setThreads(before);
            notes.push(`1e7 Heston paths × 252 steps, 16 shards, 4 workers: mean/variance ${JSON.stringify(r) === JSON.stringify(single) ? 'bit-identical to' : 'DIFFERENT from'} the single call.`);
          });
          void tq;
        } finally {
          for (const w of more) w.kill('SIGTERM');
        }
      }
    } finally {
      for (const w of workers) w.kill('SIGTERM');
    }
  } finally {
    setThreads(before);
    redis.proc.kill('SIGTERM');
  }
  notes.push(`Heston log-Euler FT, ${paths} paths × ${steps} steps, final-state moments reduced on the workers; this machine has ${os.cpus().length} cores, so the 4-worker rows oversubscribe them.`);
  report('queue', 'itokit/queue: worker processes against one process with the same threads', rows, notes);
}

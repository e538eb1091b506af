// The worker side: a BullMQ worker that runs itokit shard jobs on this machine's CPU or GPU. A
// coded itokit error (bad model, bad options) fails the shard once, without retries (BullMQ's
// UnrecoverableError); anything else (a crash, a lost lock after the process died) is retried,
// possibly on another worker, which recomputes the same bits. The worker polls the run's cancel
// key while a shard runs and aborts the native call when the producer cancels.
import { randomUUID } from 'crypto';
import * as os from 'os';
import { backends } from '../backends';
import { ItokitError } from '../errors';
import { version } from '../version';
import { bullmq } from './bullmq';
import { type RedisConnection, cancelKey, plain, toConnection, workerKey } from './connection';
import { type ShardData, runShard } from './ops';

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Queue name (default 'itokit'), the producers' `queueName`. */
  queueName?: string;
  /** Device for every shard (default 'auto': CUDA when usable, else the CPU). */
  device?: 'cpu' | 'cuda' | 'auto';
  /** Shards run at once by this process (default 1; each uses the whole CPU pool unless `threads` limits it). */
  concurrency?: number;
  /** Thread budget of each shard (default: the pool). */
  threads?: number;
  /** Milliseconds a shard's lock lasts without renewal: how soon a dead worker's shard is retried elsewhere (default 10000). */
  lockDurationMs?: number;
  /** Milliseconds between checks for shards whose worker died (default 5000). */
  stalledIntervalMs?: number;
  /** Called for each finished or failed shard (for logs). */
  onShard?: (e: { run: string; index: number; op: string; ms: number; error?: string }) => void;
}

/** What a worker says about itself in Redis (see {@link listWorkers}). */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  device: string;
  cpuThreads: number;
  cudaDevices: string[];
  concurrency: number;
}

/** A running worker. */
export interface ItokitWorker {
  readonly id: string;
  readonly info: WorkerInfo;
  /** Stops taking shards, waits for the running ones and disconnects. */
  close(): Promise<void>;
}

/**
 * Starts a worker for sharded itokit calls in this process (or run `npx itokit worker --redis URL`).
 *
 * @example
 * import { startWorker } from 'itokit/queue';
 * const w = startWorker('redis://127.0.0.1:6379', { device: 'auto' });
 * process.on('SIGTERM', () => void w.close());
 */
export function startWorker(conn: RedisConnection, o: WorkerOptions = {}): ItokitWorker {
  const { Worker, UnrecoverableError } = bullmq();
  const name = o.queueName ?? 'itokit';
  const connection = toConnection(conn);
  const id = randomUUID();
  const b = backends();
  const device = o.device ?? 'auto';
  const info: WorkerInfo = {
    id, host: os.hostname(), pid: process.pid, version, device,
    cpuThreads: b.cpu.threads, cudaDevices: b.cuda.available ? b.cuda.devices.map((d) => d.name) : [], concurrency: o.concurrency ?? 1,
  };
  const worker = new Worker(
    name,
    async (job) => {
      const data = job.data as ShardData;
      const ac = new AbortController();
      const client = await plain(worker.client);
      const poll = setInterval(() => {
        client.exists(cancelKey(name, data.run)).then((n) => n && ac.abort(), () => undefined);
      }, 250);
      let last = 0;
      const t0 = Date.now();
      try {
        const r = await runShard(data, {
          device, threads: o.threads, signal: ac.signal,
          progress: (f) => {
            const now = Date.now();
            if (now - last >= 200) {
              last = now;
              void job.updateProgress(f).catch(() => undefined);
            }
          },
        });
        o.onShard?.({ run: data.run, index: data.index, op: data.op, ms: Date.now() - t0 });
        return r;
      } catch (e) {
        o.onShard?.({ run: data.run, index: data.index, op: data.op, ms: Date.now() - t0, error: String((e as Error).message) });
        // the same input fails the same way everywhere: fail once, with the code
        if (e instanceof ItokitError) throw new UnrecoverableError(`${e.code}: ${e.message}`);
        throw e;
      } finally {
        clearInterval(poll);
      }
    },
    {
      connection,
      concurrency: info.concurrency,
      lockDuration: o.lockDurationMs ?? 10_000,
      stalledInterval: o.stalledIntervalMs ?? 5_000,
      maxStalledCount: 3,
    },
  );
  worker.on('error', () => undefined);  // connection errors are retried by ioredis; never crash the host
  const announce = () => {
    plain(worker.client).then((c) => c.set(workerKey(name, id), JSON.stringify(info), 'EX', 30)).catch(() => undefined);
  };
  announce();
  const beat = setInterval(announce, 10_000);
  beat.unref();
  return {
    id,
    info,
    async close() {
      clearInterval(beat);
      await plain(worker.client).then((c) => c.del(workerKey(name, id))).catch(() => undefined);
      await worker.close();
    },
  };
}

/** The workers serving a queue now (each refreshes its record every 10 s; a dead one drops out within 30 s). */
export async function listWorkers(conn: RedisConnection, queueName = 'itokit'): Promise<WorkerInfo[]> {
  const { Queue } = bullmq();
  const q = new Queue(queueName, { connection: toConnection(conn) });
  try {
    const c = await plain(q.client);
    const keys = await c.keys(workerKey(queueName, '*'));
    const vals = keys.length ? await c.mget(...keys) : [];
    return vals.filter((v): v is string => typeof v === 'string').map((v) => JSON.parse(v) as WorkerInfo);
  } finally {
    await q.close();
  }
}

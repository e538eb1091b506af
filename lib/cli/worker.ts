/**
 * `itokit worker --redis URL`: serves sharded itokit calls (itokit/queue) from this machine until
 * SIGINT/SIGTERM, printing its capabilities at start and one line per shard.
 * @packageDocumentation
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors';
import { startWorker } from '../queue';

/** Adds the `worker` command. */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('serve sharded simulations from a BullMQ queue on Redis (npm install bullmq)')
    .requiredOption('--redis <url>', 'Redis server, e.g. redis://127.0.0.1:6379')
    .option('--queue <name>', 'queue name', 'itokit')
    .option('--device <device>', 'cpu, cuda or auto', 'auto')
    .option('--concurrency <n>', 'shards run at once', '1')
    .option('--threads <n>', 'thread budget of each shard (default: the pool)')
    .action(async (o: { redis: string; queue: string; device: string; concurrency: string; threads?: string }) => {
      if (!['cpu', 'cuda', 'auto'].includes(o.device)) throw new InvalidArgumentError(`--device must be cpu, cuda or auto, got '${o.device}'`);
      const int = (name: string, v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--${name} must be a positive integer, got '${v}'`);
        return n;
      };
      const w = startWorker(o.redis, {
        queueName: o.queue,
        device: o.device as 'cpu' | 'cuda' | 'auto',
        concurrency: int('concurrency', o.concurrency),
        threads: o.threads === undefined ? undefined : int('threads', o.threads),
        onShard: (e) => console.log(`${new Date().toISOString()} ${e.op} run ${e.run.slice(0, 8)} shard ${e.index}: ${e.error ? `failed: ${e.error}` : 'done'} in ${e.ms} ms`),
      });
      console.log(`itokit worker ${JSON.stringify(w.info)}`);
      await new Promise<void>((resolve) => {
        const stop = () => void w.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

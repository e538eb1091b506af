/**
 * A throwaway redis-server on a free loopback port, for the queue benchmark and tests
 * (test/queue.test.ts). Nothing here is part of the library: production Redis is the user's.
 */
import { type ChildProcess, execFileSync, spawn } from 'child_process';
import * as net from 'net';

/** True when `redis-server` is on PATH. */
export function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A running local Redis. */
export interface LocalRedis {
  url: string;
  port: number;
  proc: ChildProcess;
  /** Starts the server again on the same port and folder (after a shutdown). */
  restart(): Promise<void>;
}

/** Waits until the server on `port` answers PING (up to 10 s). */
export async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`redis-server on port ${port} did not answer`);
}

/**
 * Starts redis-server on a free port: in memory only, or with append-only persistence in `aofDir`
 * (so a restart keeps the queue).
 */
export async function startLocalRedis(o: { aofDir?: string } = {}): Promise<LocalRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  args.push(...(o.aofDir ? ['--dir', o.aofDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  const r: LocalRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc: spawn('redis-server', args, { stdio: 'ignore' }),
    async restart() {
      r.proc = spawn('redis-server', args, { stdio: 'ignore' });
      await waitForRedis(port);
    },
  };
  await waitForRedis(port);
  return r;
}

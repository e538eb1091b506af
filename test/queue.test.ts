// itokit/queue against a real Redis (Debian's redis-server, started here on a free loopback port)
// and real worker processes: sharded results equal the single call bit for bit, reductions equal
// reduceFinal of the single call, a coded error fails a shard once (no retry loop), a SIGKILLed
// worker's shard is retried elsewhere with the same result, and an abort cancels every shard.
// Without redis-server on PATH the suite is skipped, visibly; .ci/run installs it.
import { type ChildProcess, execFileSync, fork } from 'child_process';
import * as path from 'path';
import { backends, fbm, ot, rng, sde } from '../lib';
import * as queue from '../lib/queue';
import { type LocalRedis, hasRedisServer, startLocalRedis } from '../benchmarks/local-redis';

const hasRedis = hasRedisServer();
const describeRedis = hasRedis ? describe : describe.skip;
if (!hasRedis) console.warn('test/queue.test.ts skipped: redis-server is not installed (apt-get install redis-server)');

const WORKER = path.join(__dirname, 'fixtures', 'queue', 'worker.js');
const HESTON = { kind: 'heston', params: { mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 } } as const;
const sameBits = (a: ArrayBufferView, b: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

interface Worker {
  proc: ChildProcess;
  lines: string[];
}
function startWorkerProcess(url: string, queueName = 'itokit', device = 'cpu'): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const proc = fork(WORKER, [url, queueName, device], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    const w: Worker = { proc, lines: [] };
    let buf = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop() as string;
      for (const l of parts) {
        if (l === 'ready') resolve(w);
        else w.lines.push(l);
      }
    });
    proc.on('error', reject);
  });
}

describeRedis('itokit/queue on Redis with worker processes', () => {
  let redis: LocalRedis;
  let url: string;
  let workers: Worker[] = [];

  beforeAll(async () => {
    redis = await startLocalRedis();
    url = redis.url;
    workers = await Promise.all([0, 1, 2].map(() => startWorkerProcess(url)));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) w.proc.kill('SIGKILL');
    redis?.proc.kill('SIGKILL');
  });

  test('a sharded Heston simulation equals the single call bit for bit (final and saved grid)', async () => {
    const o = { paths: 100_003, x0: [100, 0.04], t1: 1, steps: 40, method: 'log-euler-ft' as const, seed: 42, save: { every: 10 } };
    const r = await queue.simulate(url, HESTON, o, { shards: 7 });
    const ref = sde.simulateSync(sde.models.heston(HESTON.params), o);
    expect(r.shape).toEqual(ref.shape);
    expect(sameBits(r.final, ref.final)).toBe(true);
    expect(sameBits(r.data, ref.data)).toBe(true);
  });

  test('per-path x0 and float64 shard too', async () => {
    const x0 = new Float64Array(5000).map((_, i) => 1 + i / 5000);
    const o = { paths: 5000, x0, t1: 1, steps: 20, method: 'euler' as const, seed: 3n, dtype: 'float64' as const };
    const m = { kind: 'gbm', params: { mu: 0.05, sigma: 0.2 } } as const;
    const r = await queue.simulate(url, m, o, { pathsPerShard: 1300 });
    expect(r.final).toBeInstanceOf(Float64Array);
    expect(sameBits(r.final, sde.simulateSync(sde.models.gbm(m.params), o).final)).toBe(true);
  });

  test('reductions on the workers equal reduceFinal of the single call, bit for bit', async () => {
    const o = { paths: 3 * queue.REDUCE_BLOCK + 123, x0: [100, 0.04], t1: 1, steps: 30, method: 'log-euler-ft' as const, seed: 7 };
    const ref = sde.simulateSync(sde.models.heston(HESTON.params), o).final;
    const reduces: queue.Reduce[] = [
      { kind: 'moments' },
      { kind: 'payoff', type: 'call', strike: 100, discount: Math.exp(-0.02) },
      { kind: 'histogram', min: 50, max: 150, bins: 64, quantiles: [0.05, 0.5, 0.95] },
    ];
    for (const reduce of reduces) {
      const r = await queue.simulate(url, HESTON, o, { shards: 4, reduce });
      expect(r).toEqual(queue.reduceFinal(ref, 2, reduce));
    }
    const pay = queue.reduceFinal(ref, 2, reduces[1]) as queue.PayoffResult;
    expect(pay.value).toBeGreaterThan(7);  // an at-the-money call: near its Black–Scholes value 8.9
    expect(pay.value).toBeLessThan(11);
  });

  test('fbm.sample and rng.normal shard bit-identically', async () => {
    const fo = { hurst: 0.3, n: 64, paths: 999, seed: 11, method: 'markov' as const, K: 5 };
    const f = await queue.fbmSample(url, fo, { shards: 4 });
    const fref = fbm.sampleSync(fo);
    expect(f.shape).toEqual(fref.shape);
    expect(sameBits(f.paths, fref.paths)).toBe(true);
    const z = await queue.normal(url, 10_001, { seed: 5, offset: 6 }, { shards: 3 });
    expect(sameBits(z, rng.normal(10_001, { seed: 5, offset: 6 }))).toBe(true);
  });

  test('ot.sinkhornBatch shards by problem; each problem equals the single call bit for bit', async () => {
    const B = 12, n = 24, m = 20;
    const pts = rng.normal(B * (n + m) * 2, { seed: 4, dtype: 'float64' });
    const C = new Float64Array(B * n * m);
    for (let p = 0; p < B; p++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < m; j++) {
          const x = pts.subarray(2 * (p * (n + m) + i)), y = pts.subarray(2 * (p * (n + m) + n + j));
          C[(p * n + i) * m + j] = (x[0] - y[0]) ** 2 + (x[1] - y[1]) ** 2;
        }
      }
    }
    const a = { data: new Float64Array(B * n).fill(1 / n), shape: [B, n] };
    const b = { data: new Float64Array(B * m).fill(1 / m), shape: [B, m] };
    const opts = { reg: 0.1, method: 'sinkhorn' as const };
    const r = await queue.sinkhornBatch(url, a, b, { data: C, shape: [B, n, m] }, opts, { shards: 5 });
    const ref = ot.sinkhornBatchSync(a, b, { data: C, shape: [B, n, m] }, opts);
    expect(r.problems.length).toBe(B);
    r.problems.forEach((p, i) => {
      expect(p.cost).toBe(ref.problems[i].cost);
      expect(sameBits(p.f, ref.problems[i].f)).toBe(true);
      expect(sameBits(p.plan as Float64Array, ref.problems[i].plan as Float64Array)).toBe(true);
    });
  });

  test('a coded error fails its shard once, with the code, not in a retry loop', async () => {
    if (backends().cuda.available) return;  // the poison here is CUDA on a machine without it
    const cudaWorker = await startWorkerProcess(url, 'itokit-cuda', 'cuda');
    try {
      const o = { paths: 1000, x0: [1], t1: 1, steps: 10, method: 'euler' as const, seed: 1 };
      await expect(queue.simulate(url, { kind: 'gbm', params: { mu: 0, sigma: 0.2 } }, o, { shards: 2, queueName: 'itokit-cuda', attempts: 5 }))
        .rejects.toMatchObject({ code: 'ERR_ITOKIT_DEVICE_UNAVAILABLE' });
      await new Promise((r) => setTimeout(r, 500));
      const failures = cudaWorker.lines.map((l) => JSON.parse(l) as { error?: string }).filter((e) => e.error);
      expect(failures.length).toBe(2);  // one per shard, no retries
    } finally {
      cudaWorker.proc.kill('SIGKILL');
    }
  });

  test('bad calls are rejected before anything is queued', async () => {
    const o = { paths: 1000, x0: [1], t1: 1, steps: 10, method: 'euler' as const, seed: 1 };
    await expect(queue.simulate(url, { kind: 'gbm', params: { mu: 0, sigma: -1 } }, o)).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    await expect(queue.simulate(url, { kind: 'user' } as never, o)).rejects.toThrow(/user models cannot travel/);
    await expect(queue.simulate(url, HESTON, { ...o, x0: [1, 0.04] }, { reduce: { kind: 'payoff', type: 'call', strike: 1, coord: 2 } })).rejects.toThrow(/reduce.coord/);
    await expect(queue.simulate('http://x', HESTON, o)).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
  });

  test('an abort rejects at once and cancels the shards', async () => {
    const ac = new AbortController();
    const o = { paths: 1 << 21, x0: [100, 0.04], t1: 1, steps: 252, method: 'log-euler-ft' as const, seed: 1 };
    // abort while the first shards run (and once more, at 300 ms, if no progress came by then)
    const p = queue.simulate(url, HESTON, o, { shards: 16, signal: ac.signal, reduce: { kind: 'moments' }, onProgress: () => ac.abort() });
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    await expect(p).rejects.toMatchObject({ code: 'ERR_ITOKIT_ABORTED' });
    expect(Date.now() - t0).toBeLessThan(2000);
    // the workers drop the cancelled run: a new run gets served promptly
    const t1 = Date.now();
    await queue.simulate(url, HESTON, { ...o, paths: 1000, steps: 10 }, { shards: 3 });
    expect(Date.now() - t1).toBeLessThan(10_000);
  }, 60_000);

  test('a worker SIGKILLed mid-run: the run completes with the same result, in at most twice the clean time', async () => {
    const o = { paths: 1 << 21, x0: [100, 0.04], t1: 1, steps: 160, method: 'log-euler-ft' as const, seed: 9 };
    const shard = { shards: 16, reduce: { kind: 'moments' } as const };
    let t0 = Date.now();
    const clean = await queue.simulate(url, HESTON, o, shard);
    const cleanMs = Date.now() - t0;
    t0 = Date.now();
    let killed = false;
    const victim = workers[0];
    const r = await queue.simulate(url, HESTON, o, {
      ...shard,
      onProgress: (p) => {
        if (!killed && p.shardsDone >= 2) {
          killed = true;
          victim.proc.kill('SIGKILL');
        }
      },
    });
    const killedMs = Date.now() - t0;
    console.log(JSON.stringify({ cleanMs, killedMs }));
    expect(killed).toBe(true);
    expect(r).toEqual(clean);
    expect(killedMs).toBeLessThanOrEqual(2 * cleanMs + 1500);
    workers[0] = await startWorkerProcess(url);
  }, 120_000);
});

describeRedis('itokit/queue across a Redis restart', () => {
  test('a run in flight survives a Redis restart (AOF persistence) with the same result', async () => {
    const fs = await import('fs');
    const os = await import('os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-redis-'));
    const redis = await startLocalRedis({ aofDir: dir });
    const { url, port } = redis;
    const ws = await Promise.all([0, 1].map(() => startWorkerProcess(url)));
    try {
      const o = { paths: 1 << 20, x0: [100, 0.04], t1: 1, steps: 100, method: 'log-euler-ft' as const, seed: 9 };
      const shard = { shards: 16, reduce: { kind: 'moments' } as const };
      const clean = await queue.simulate(url, HESTON, o, shard);
      let restarted = false;
      const r = await queue.simulate(url, HESTON, o, {
        ...shard,
        onProgress: (p) => {
          if (restarted || p.shardsDone < 2) return;
          restarted = true;
          try {
            execFileSync('redis-cli', ['-p', String(port), 'shutdown']);
          } catch {
            // shutdown closes the connection before answering
          }
          setTimeout(() => void redis.restart(), 500);
        },
      });
      expect(restarted).toBe(true);
      expect(r).toEqual(clean);
    } finally {
      for (const w of ws) w.proc.kill('SIGKILL');
      redis.proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

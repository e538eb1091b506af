/**
 * What a service needs from the runtime: ending a worker thread mid-call never kills the process,
 * inputs transferred or changed during an async call cannot reach the native work, small sync
 * calls do not wait behind async jobs, an aborted queued call rejects at once, and a call's
 * `threads` option never changes the process-wide pool.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { AbortError, fbm, getThreads, nn, ot, rng, sde } from '../lib';
import { latencyBoundMs } from './helpers';

const root = path.join(__dirname, '..');

describe('worker threads ended during async calls', () => {
  // The child process starts worker threads that run async calls of every area and ends each one
  // mid-call (terminate() or process.exit() inside it). Before the job runner kept completions
  // away from a closing environment, 3 of 3 runs died with SIGABRT.
  for (const mode of ['terminate', 'exit'] as const) {
    test(`${mode}: 50 tries, the process exits normally`, () => {
      const r = spawnSync(process.execPath, [path.join(root, 'test/fixtures/runtime/terminate-workers.js'), '50', mode], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-500) }).toEqual({ status: 0, signal: null, stderr: '' });
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ tries: 50 });
    }, 130_000);
  }
});

describe('inputs of async calls are copied when the call starts', () => {
  const detach = (a: ArrayBufferView): void => {
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  };

  test('ot.sinkhorn: C, a and b detached right after the call starts', async () => {
    const p = ot.referenceProblem('R3', { n: 300, m: 200 });
    const opts = { reg: 0.05, method: 'sinkhorn' as const, device: 'cpu' as const };
    const expected = ot.sinkhornSync(p.a, p.b, p.C, opts);
    const C = p.C.slice(), a = p.a.slice(), b = p.b.slice();
    const pending = ot.sinkhorn(a, b, C, opts);
    detach(C);
    detach(a);
    detach(b);
    const got = await pending;
    expect(C.byteLength).toBe(0);
    expect(got.cost).toBe(expected.cost);
    expect(got.iterations).toBe(expected.iterations);
  });

  test('nn.MLP.forwardAsync: x mutated then detached during the call', async () => {
    const net = new nn.MLP({ sizes: [3, 16, 2], activation: 'silu', dtype: 'float64', seed: 1 });
    const x = new Float64Array(3 * 500).map((_, i) => Math.sin(i));
    const expected = net.forward(x.slice()).y;
    const pending = net.forwardAsync(x);
    x.fill(NaN);
    detach(x);
    const { y } = await pending;
    expect(Array.from(y)).toEqual(Array.from(expected));
  });

  test('fbm.estimateHurst: data detached during the call', async () => {
    const { paths } = fbm.sampleSync({ hurst: 0.3, n: 512, paths: 20, seed: 3, method: 'davies-harte', dtype: 'float64' });
    const expected = fbm.estimateHurstSync(paths, { length: 513 });
    const data = paths.slice();
    const pending = fbm.estimateHurst(data, { length: 513 });
    detach(data);
    expect((await pending).mean).toBe(expected.mean);
  });
});

describe('scheduling', () => {
  test('a small sync call returns within 50 ms while async jobs occupy the CPU pool', async () => {
    const m = sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 });
    const jobs = [1, 2, 3].map((s) => sde.simulate(m, { paths: 400_000, x0: [100, 0.04], t1: 1, steps: 252, method: 'log-euler-ft', seed: s, device: 'cpu' }));
    await new Promise((r) => setTimeout(r, 30)); // let them start
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      rng.normal(100_000, { seed: i, device: 'cpu' }); // 25 chunks: a parallel region of its own
      ot.cost.sqeuclidean({ data: new Float64Array(128), shape: [64, 2] }, { data: new Float64Array(128), shape: [64, 2] });
      times.push(performance.now() - t0);
    }
    await Promise.all(jobs);
    expect(Math.max(...times)).toBeLessThan(latencyBoundMs(50));
  }, 60_000);

  test('aborting a queued call rejects within 10 ms', async () => {
    const ac = new AbortController();
    // Enough long calls to occupy every job thread, then one more that has to wait in the queue.
    const heston = sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 });
    const busy = Array.from({ length: 6 }, (_, i) =>
      sde.simulate(heston, { paths: 300_000, x0: [100, 0.04], t1: 1, steps: 252, method: 'log-euler-ft', seed: i, device: 'cpu', signal: ac.signal })
        .catch((e: unknown) => e));
    const queued = rng.normalAsync(1e6, { seed: 99, device: 'cpu', signal: ac.signal });
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    ac.abort(new Error('client went away'));
    const err = await queued.then(() => undefined, (e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).cause).toEqual(new Error('client went away'));
    expect(ms).toBeLessThan(latencyBoundMs(10));
    // A busy call either finished before the abort or was aborted (running ones at their next
    // check, queued ones dropped); nothing else.
    for (const e of await Promise.all(busy)) if (!(e instanceof AbortError)) expect(e).toHaveProperty('final');
  }, 60_000);

  test('the threads option limits one call and never resizes the pool', async () => {
    const before = getThreads();
    const m = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
    const o = { paths: 50_000, x0: [1], t1: 1, steps: 50, method: 'euler', seed: 1, device: 'cpu' } as const;
    const all = await Promise.all([1, 1, 1, 1].map((t) => sde.simulate(m, { ...o, threads: t })));
    expect(getThreads()).toBe(before);
    const ref = sde.simulateSync(m, o).final;
    for (const r of all) expect(r.final).toEqual(ref);
  });

  test('invalid ITOKIT_THREADS, ITOKIT_WORKER_NICE and ITOKIT_DEVICE are coded errors at load', () => {
    for (const [name, value] of [['ITOKIT_THREADS', '1O'], ['ITOKIT_THREADS', '0'], ['ITOKIT_WORKER_NICE', '20'], ['ITOKIT_WORKER_NICE', '-1'], ['ITOKIT_DEVICE', 'gpu']]) {
      const r = spawnSync(process.execPath, ['-e', "try { require('./').backends(); } catch (e) { console.log(e.code); process.exit(3); }"], {
        cwd: root, encoding: 'utf8', env: { ...process.env, [name]: value },
      });
      expect({ name, status: r.status, out: r.stdout.trim() }).toEqual({ name, status: 3, out: 'ERR_ITOKIT_INVALID_ARG' });
    }
    const ok = execFileSync(process.execPath, ['-e', "console.log(require('./').getThreads())"], { cwd: root, encoding: 'utf8', env: { ...process.env, ITOKIT_THREADS: '3' } });
    expect(ok.trim()).toBe('3');
  });

  // Linux: /proc/self/task/<tid>/stat field 19 is each thread's nice value
  (process.platform === 'linux' ? test : test.skip)('compute threads run ITOKIT_WORKER_NICE (default 5) below the caller', () => {
    const script = `
      const fs = require('fs');
      const { sde } = require('./');
      const m = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
      sde.simulate(m, { paths: 20000, x0: [1], t1: 1, steps: 20, method: 'euler', seed: 1, threads: 2 }).then(() => {
        const nice = fs.readdirSync('/proc/self/task').map((t) => Number(fs.readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]));
        console.log(JSON.stringify([...new Set(nice)].sort((a, b) => a - b)));
      });`;
    const run = (env: Record<string, string>) =>
      JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } }).trim()) as number[];
    const base = os.getPriority();
    expect(run({ ITOKIT_WORKER_NICE: '' })).toEqual([base, Math.min(19, base + 5)]);
    expect(run({ ITOKIT_WORKER_NICE: '0' })).toEqual([base]);
  });
});

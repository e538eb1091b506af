/**
 * Device-resident results (`output: 'device'`): the draws and trajectories left on the GPU must be
 * the same bits as the host results of the CPU, chained calls must never need the host, and the
 * compile-time-shape SDE kernels must equal the run-time-shape kernel. Skips without CUDA.
 */
import { DeviceArray, fbm, rng, sde } from '../../lib';
import { withNativeEnv } from '../helpers';
import { describeGpu as d, sameBits } from './harness';

d('output: device', () => {
  test('rng.normal / uniform / randn into a DeviceArray equal the CPU bits (aligned and unaligned offsets)', () => {
    for (const [n, offset] of [[1, 0], [7, 3], [1_000_003, 5], [1 << 20, 0]] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        const o = { seed: 99, stream: 2, path: 5, step: 11, offset, dtype };
        const z = rng.normal(n, { ...o, output: 'device' });
        expect(z).toBeInstanceOf(DeviceArray);
        expect(z.shape).toEqual([n]);
        expect(sameBits(z.toHost(), rng.normal(n, { ...o, device: 'cpu' }))).toBe(true);
        const u = rng.uniform(n, { ...o, output: 'device' });
        expect(sameBits(u.toHost(), rng.uniform(n, { ...o, device: 'cpu' }))).toBe(true);
        z.dispose();
        u.dispose();
      }
    }
    const r = rng.randn({ seed: 3, paths: 1001, dim: 5, pathOffset: 17, step: 9, output: 'device' });
    expect(r.shape).toEqual([1001, 5]);
    expect(sameBits(r.toHost(), rng.randn({ seed: 3, paths: 1001, dim: 5, pathOffset: 17, step: 9, device: 'cpu' }))).toBe(true);
  });

  test('normalAsync with output device; dispose during the call is deferred until it ends', async () => {
    const p = rng.normalAsync(1 << 22, { seed: 5, output: 'device' });
    const z = await p;
    const host = new Float32Array(z.length);
    expect(sameBits(z.toHost(host), rng.normal(1 << 22, { seed: 5, device: 'cpu' }))).toBe(true);
    z.dispose();
    expect(z.disposed).toBe(true);
    expect(() => z.toHost()).toThrow(/disposed/);
  });

  const models = [
    ['gbm euler (fixed kernel)', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'euler'],
    ['gbm exact (fixed kernel)', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'exact'],
    ['gbm milstein (fixed kernel)', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'milstein'],
    ['heston (fixed kernel)', sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
    ['cir (fixed kernel)', sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }), [0.04], 'euler-ft'],
    ['gbm 2-d correlated (run-time kernel)', sde.models.gbm({ mu: [0.05, 0.02], sigma: [0.2, 0.3], corr: [1, 0.4, 0.4, 1] }), [1, 2], 'exact'],
    ['ou d=5 (run-time kernel)', sde.models.ou({ theta: 1, mu: 0.5, sigma: 1 }), [1, 2, 3, 4, 5], 'euler'],
  ] as const;
  for (const [name, model, x0, method] of models) {
    test(`${name}: device final and saves equal the CPU bit for bit`, () => {
      const o = { paths: 30_001, x0, t1: 1, steps: 50, method, seed: 12, pathOffset: 7, save: { every: 10 } } as const;
      const c = sde.simulateSync(model, { ...o, device: 'cpu' });
      const g = sde.simulateSync(model, { ...o, output: 'device' });
      expect(g.final).toBeInstanceOf(DeviceArray);
      expect(g.final.shape).toEqual([o.paths, x0.length]);
      expect(g.data.shape).toEqual(c.shape);
      expect(sameBits(g.final.toHost(), c.final)).toBe(true);
      expect(sameBits(g.data.toHost(), c.data)).toBe(true);
      g.final.dispose();
      g.data.dispose();
    });
  }

  test('the fixed-shape kernels equal the run-time-shape kernel (ITOKIT_SDE_KERNEL=runtime)', () => {
    const m = sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 });
    const o = { paths: 50_000, x0: [100, 0.04], t1: 1, steps: 64, method: 'log-euler-ft', seed: 4, device: 'cuda' } as const;
    const fixed = sde.simulateSync(m, o).final;
    const runtime = withNativeEnv('ITOKIT_SDE_KERNEL', 'runtime', () => sde.simulateSync(m, o).final);
    expect(sameBits(runtime, fixed)).toBe(true);
  });

  test('resuming from a device final (stepRange) equals one whole call, with no host state', async () => {
    const m = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
    const base = { paths: 40_000, t1: 1, steps: 100, method: 'euler', seed: 21 } as const;
    const whole = sde.simulateSync(m, { ...base, x0: [1], device: 'cpu' }).final;
    const first = await sde.simulate(m, { ...base, x0: [1], stepRange: [0, 37], output: 'device' });
    const second = await sde.simulate(m, { ...base, x0: first.final, stepRange: [37, 100], output: 'device' });
    expect(first.final.disposed).toBe(false); // x0 was copied, not consumed
    expect(sameBits(second.final.toHost(), whole)).toBe(true);
    // A device x0 with host output is read once and gives the same bits too.
    const hostOut = sde.simulateSync(m, { ...base, x0: first.final, stepRange: [37, 100], device: 'cuda' });
    expect(sameBits(hostOut.final, whole)).toBe(true);
    for (const a of [first.final, first.data, second.final, second.data]) a.dispose();
  });

  test('bad combinations are coded errors', () => {
    expect(() => rng.normal(4, { seed: 1, output: 'device', device: 'cpu' })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    expect(() => sde.simulateSync(sde.models.gbm({ mu: 0, sigma: 1 }), { paths: 4, x0: [1], t1: 1, steps: 2, method: 'euler', seed: 1, output: 'device', device: 'cpu' }))
      .toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    const x = DeviceArray.zeros(8, 'float64');
    expect(() => sde.simulateSync(sde.models.gbm({ mu: 0, sigma: 1 }), { paths: 8, x0: x, t1: 1, steps: 2, method: 'euler', seed: 1, output: 'device' }))
      .toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    x.dispose();
  });

  test('toHost(into) checks dtype and length; copies of 256 MiB arrive intact', () => {
    const n = 1 << 26;
    const z = rng.normal(n, { seed: 8, output: 'device' });
    expect(() => z.toHost(new Float32Array(3))).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_SHAPE' }));
    const into = new Float32Array(n);
    z.toHost(into);
    const cpu = rng.normal(n, { seed: 8, device: 'cpu' });
    expect(sameBits(into, cpu)).toBe(true);
    const back = DeviceArray.fromHost(cpu);
    expect(sameBits(back.toHost(), cpu)).toBe(true);
    z.dispose();
    back.dispose();
  });
});

d('fbm.sample output: device', () => {
  test('markov paths and brownian stay on the device and equal the CPU bits', async () => {
    const o = { hurst: 0.3, n: 120, paths: 4001, dims: 2, K: 5, seed: 31, pathOffset: 3, returnBrownian: true } as const;
    const cpu = fbm.sampleSync({ ...o, device: 'cpu' });
    const g = await fbm.sample({ ...o, output: 'device' });
    expect(g.paths).toBeInstanceOf(DeviceArray);
    expect(g.paths.shape).toEqual(cpu.shape);
    expect(sameBits(g.paths.toHost(), cpu.paths)).toBe(true);
    expect(sameBits(g.brownian!.toHost(), cpu.brownian!)).toBe(true);
    g.paths.dispose();
    g.brownian!.dispose();
  });
  test('output: device with an exact generator is a coded error', () => {
    expect(() => fbm.sampleSync({ hurst: 0.3, n: 16, paths: 2, seed: 1, method: 'davies-harte', output: 'device' }))
      .toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
  });
});

d('concurrent async GPU calls', () => {
  test('four concurrent simulations and normal draws on CUDA give the same bits as the CPU', async () => {
    const m = sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 });
    const o = (seed: number) => ({ paths: 20_000, x0: [100, 0.04], t1: 1, steps: 80, method: 'log-euler-ft', seed }) as const;
    const gpu = await Promise.all([1, 2, 3, 4].map((s) => sde.simulate(m, { ...o(s), device: 'cuda' })));
    const z = await Promise.all([5, 6].map((s) => rng.normalAsync(1 << 20, { seed: s, device: 'cuda' })));
    for (let i = 0; i < 4; i++) expect(sameBits(gpu[i].final, sde.simulateSync(m, { ...o(i + 1), device: 'cpu' }).final)).toBe(true);
    for (let i = 0; i < 2; i++) expect(sameBits(z[i], rng.normal(1 << 20, { seed: 5 + i, device: 'cpu' }))).toBe(true);
  });
});

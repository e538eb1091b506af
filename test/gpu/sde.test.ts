/**
 * CUDA vs CPU for the SDE area (docs/design/sde.md §8, item 8): fused built-in trajectories in float32 must match the
 * CPU bit for bit (same ITK_HD code, separately rounded ops, own exp/log/sincos); float64 runs use
 * the platform exp and must agree to a few ulp. Skips visibly without a CUDA device.
 */
import { sde } from '../../lib';
import { describeGpu as d, firstDiff } from './harness';

d('CUDA fused SDE kernels match the CPU', () => {
  const cases = [
    ['gbm exact (corr)', sde.models.gbm({ mu: [0.05, 0.02, 0.01], sigma: [0.2, 0.3, 0.25], corr: [1, 0.5, 0.2, 0.5, 1, 0.3, 0.2, 0.3, 1] }), [1, 1, 1], 'exact'],
    ['gbm euler', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'euler'],
    ['gbm milstein', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'milstein'],
    ['cir', sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }), [0.04], 'euler-ft'],
    ['heston', sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
    ['ou exact d=7', sde.models.ou({ theta: 1, mu: 0.5, sigma: 1 }), [1, 2, 3, 4, 5, 6, 7], 'exact'],
    ['ou sra1 d=7', sde.models.ou({ theta: 1, mu: 0.5, sigma: 1 }), [1, 2, 3, 4, 5, 6, 7], 'sra1'],
    ['gmm langevin', sde.models.gmmLangevin({ weights: [0.3, 0.7], means: [-1, -1, 1, 1], vars: [0.2, 0.3] }), [0, 0], 'sra1'],
    ['vp euler', sde.models.vp(), [0.1, 0.2, 0.3, 0.4, 0.5], 'euler'],
    ['ve exact', sde.models.ve(), [0.1, 0.2, 0.3], 'exact'],
  ] as const;
  for (const [name, model, x0, method] of cases) {
    test(`${name}: float32 bit-identical, saves included; float64 within 1e-12 relative`, () => {
      const o = { paths: 20_000, x0, t1: 1, steps: 64, method, seed: 77, save: { every: 16 } } as const;
      const c = sde.simulateSync(model, { ...o, device: 'cpu' });
      const g = sde.simulateSync(model, { ...o, device: 'cuda' });
      expect(g.stats.device).toBe('cuda');
      expect(firstDiff(c.final, g.final)).toBe(-1);
      expect(firstDiff(c.data, g.data)).toBe(-1);
      const c64 = sde.simulateSync(model, { ...o, device: 'cpu', dtype: 'float64' }).final;
      const g64 = sde.simulateSync(model, { ...o, device: 'cuda', dtype: 'float64' }).final;
      let worst = 0;
      for (let i = 0; i < c64.length; i++) worst = Math.max(worst, Math.abs(c64[i] - g64[i]) / Math.max(1e-300, Math.abs(c64[i])));
      expect(worst).toBeLessThan(1e-12);
    });
  }
  test('Stepper (generic EM step and Brownian increments) on CUDA equals the CPU bit for bit', () => {
    const run = (device: 'cpu' | 'cuda'): Float32Array => {
      const st = sde.createStepper({ paths: 3000, dim: 3, noise: 'general', brownianDim: 2, seed: 8, pathOffset: 77, device });
      const x = new Float32Array(9000).map((_, i) => Math.cos(i));
      const f = new Float32Array(9000).map((_, i) => Math.sin(i));
      const g = new Float32Array(18000).map((_, i) => 0.1 + (i % 7) * 0.05);
      for (let k = 0; k < 5; k++) st.step(x, f, g, k * 0.01, 0.01);
      return x;
    };
    expect(firstDiff(run('cpu'), run('cuda'))).toBe(-1);
  });
  test('step ranges cut inside a four-step noise group, on CUDA, equal the CPU and the whole run', () => {
    // docs/design/noise-layout.md: a thread keeps a draw's four normals for a group; resuming at
    // steps 5 and 62 of 63 enters and leaves groups part-way.
    for (const [model, x0, method] of [
      [sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'euler'],
      [sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
      [sde.models.ou({ theta: 1, mu: 0.5, sigma: 1 }), [1, 2, 3, 4, 5], 'sra1'],
    ] as const) {
      const o = { paths: 5000, pathOffset: 2 ** 32 - 100, t1: 1, steps: 63, method, seed: 31 } as const;
      const whole = sde.simulateSync(model, { ...o, x0, device: 'cpu' }).final;
      let state: Float32Array | number[] = [...x0];
      for (const [a, b] of [[0, 5], [5, 62], [62, 63]] as const)
        state = sde.simulateSync(model, { ...o, x0: state, stepRange: [a, b], device: 'cuda' }).final as Float32Array;
      expect(firstDiff(state as Float32Array, whole)).toBe(-1);
      expect(firstDiff(sde.simulateSync(model, { ...o, x0, device: 'cuda' }).final, whole)).toBe(-1);
    }
  });
  test('refinement and pathOffset on CUDA equal the CPU', () => {
    const m = sde.models.gbm({ mu: 2, sigma: 1 });
    const o = { paths: 5000, pathOffset: 123456, x0: [1], t1: 1, steps: 16, noiseRefinement: 128, method: 'milstein', seed: 5 } as const;
    expect(firstDiff(sde.simulateSync(m, { ...o, device: 'cpu' }).final, sde.simulateSync(m, { ...o, device: 'cuda' }).final)).toBe(-1);
  });
});

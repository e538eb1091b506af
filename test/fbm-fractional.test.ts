/**
 * fractionalSDE: MA-fBM-driven user models on the generic SDE engine (docs/design/fbm.md §5). The
 * augmented system integrated by `sde.simulate` (Euler) must reproduce the fused fbm.simulate
 * Euler scheme on the same Brownian path, and the Stratonovich form must be accepted by Heun.
 */
import { fbm, sde } from '../lib';
import { expectCode } from './helpers';

const theta = 1.3, sigma = 0.6;
const base = sde.define({
  dim: 1, noise: 'diagonal', calculus: 'ito',
  drift: (t, x, out, n) => {
    for (let i = 0; i < n; i++) out[i] = -theta * x[i];
  },
  diffusion: (t, x, out) => {
    out.fill(sigma);
  },
  diffusionDx: (t, x, out) => {
    out.fill(0);
  },
});

describe('fbm.fractionalSDE on sde.simulate', () => {
  for (const type of ['I', 'II'] as const) {
    test(`type ${type}: Euler on the augmented system equals fbm.simulate's Euler scheme (same seed)`, () => {
      const P = 300, N = 100;
      const m = fbm.fractionalSDE(base, { hurst: 0.7, type, T: 1, interpretation: 'ito' });
      expect(m.dim).toBe(6);
      const x0 = fbm.fractionalInitialState(m, { paths: P, x0: [0.5], seed: 21 });
      const r = sde.simulateSync(m, { paths: P, x0, t1: 1, steps: N, method: 'euler', seed: 21, dtype: 'float64' });
      const ref = fbm.simulateSync(fbm.models.fou({ theta, mu: 0, sigma }), { hurst: 0.7, type, paths: P, x0: [0.5], t1: 1, steps: N, scheme: 'euler', seed: 21, dtype: 'float64', returnFactors: true });
      let worst = 0;
      for (let p = 0; p < P; p++) worst = Math.max(worst, Math.abs(r.data[p * 6] - ref.data[p]));
      expect(worst).toBeLessThan(1e-10);
      // the OU factors agree too
      for (let p = 0; p < 5; p++) for (let k = 0; k < 5; k++) expect(Math.abs(r.final[p * 6 + 1 + k] - ref.factors![p * 5 + k])).toBeLessThan(1e-10);
    });
  }
  test('Stratonovich (default) runs with Heun; with constant σ it is Euler-close and toIto gives the Euler model', () => {
    const m = fbm.fractionalSDE(base, { hurst: 0.3, type: 'II', T: 1 });
    expect(m.calculus).toBe('stratonovich');
    const x0 = fbm.fractionalInitialState(m, { paths: 200, x0: [0], seed: 2 });
    const h = sde.simulateSync(m, { paths: 200, x0, t1: 1, steps: 200, method: 'heun', seed: 2, dtype: 'float64' });
    const mi = fbm.fractionalSDE(base, { hurst: 0.3, type: 'II', T: 1, toIto: true });
    expect(mi.calculus).toBe('ito');
    const e = sde.simulateSync(mi, { paths: 200, x0, t1: 1, steps: 200, method: 'euler', seed: 2, dtype: 'float64' });
    let d = 0, s = 0;
    for (let p = 0; p < 200; p++) {
      d = Math.max(d, Math.abs(h.data[p * 6] - e.data[p * 6]));
      s += e.data[p * 6] ** 2;
    }
    expect(Number.isFinite(d)).toBe(true);
    expect(d).toBeLessThan(0.1 * Math.sqrt(s / 200)); // same W: the schemes differ by O(Δ)
    expectCode(() => sde.simulateSync(m, { paths: 2, x0: fbm.fractionalInitialState(m, { paths: 2, x0: [0], seed: 1 }), t1: 1, steps: 10, method: 'euler', seed: 1 }), 'ERR_ITOKIT_CALCULUS');
  });
  test('bad input', () => {
    expectCode(() => fbm.fractionalSDE(sde.models.ou({ theta: 1, mu: 0, sigma: 1 }), { hurst: 0.5 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => fbm.fractionalSDE(base, { hurst: 1.5 }), 'ERR_ITOKIT_INVALID_ARG');
    const noDx = sde.define({ dim: 1, noise: 'diagonal', calculus: 'ito', drift: (t, x, out) => out.fill(0), diffusion: (t, x, out) => out.fill(1) });
    expectCode(() => fbm.fractionalSDE(noDx, { hurst: 0.5, toIto: true }), 'ERR_ITOKIT_INVALID_ARG');
  });
});

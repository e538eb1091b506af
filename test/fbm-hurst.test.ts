/**
 * Hurst estimation (docs/design/fbm.md §7, §9) on exact Davies–Harte paths, n = 4096, and the MA-fBM
 * covariance approaching exact fBM as K grows.
 */
import { fbm } from '../lib';
import { covariance, estimateHurstSync, estimateHurst } from '../lib/fbm/analysis';
import { expectCode } from './helpers';

describe('estimateHurst: second-order variogram on lags 1, 2, 4, 8, 16', () => {
  for (const hurst of [0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9]) {
    test(`200 Davies–Harte paths, n = 4096, H = ${hurst}: |mean Ĥ − H| ≤ 0.005, sd ≤ 0.02`, () => {
      const n = 4096;
      const { paths } = fbm.sampleSync({ hurst, method: 'davies-harte', n, paths: 200, seed: 100 + hurst * 10, dtype: 'float64' });
      const est = estimateHurstSync(paths, { length: n + 1 });
      expect(est.hurst.length).toBe(200);
      expect(Math.abs(est.mean - hurst)).toBeLessThan(0.005);
      expect(est.sd).toBeLessThan(0.02);
      expect(est.sd).toBeGreaterThan(0.003); // a real spread, not a constant answer
    });
  }
  test('scale-free: Ĥ of c·B equals Ĥ of B; increments give the same answer as paths', async () => {
    const n = 1024;
    const { paths } = fbm.sampleSync({ hurst: 0.35, method: 'davies-harte', n, paths: 4, seed: 3, dtype: 'float64' });
    const a = estimateHurstSync(paths, { length: n + 1 });
    const scaled = paths.map((x) => 7 * x);
    const b = await estimateHurst(scaled, { length: n + 1 });
    a.hurst.forEach((h, i) => expect(Math.abs(h - b.hurst[i])).toBeLessThan(1e-12));
    const inc = new Float64Array(4 * n);
    for (let p = 0; p < 4; p++) for (let j = 0; j < n; j++) inc[p * n + j] = paths[p * (n + 1) + j + 1] - paths[p * (n + 1) + j];
    const c = estimateHurstSync(inc, { length: n, increments: true });
    a.hurst.forEach((h, i) => expect(Math.abs(h - c.hurst[i])).toBeLessThan(1e-9));
  });
  test('MA-fBM is Brownian below 1/γmax: Ĥ ≈ 0.5 at Δ = 1/4096 whatever H', () => {
    const { paths } = fbm.sampleSync({ hurst: 0.2, n: 4096, paths: 50, seed: 8, dtype: 'float64' });
    const est = estimateHurstSync(paths, { length: 4097 });
    expect(Math.abs(est.mean - 0.5)).toBeLessThan(0.02);
  });
  test('bad input: short paths, bad lags, constant path, wrong type', () => {
    expectCode(() => estimateHurstSync(new Float64Array(50)), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => estimateHurstSync(new Float64Array(200), { lags: [1] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => estimateHurstSync(new Float64Array(200), { lags: [2, 1] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => estimateHurstSync(new Float64Array(200), { length: 7 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => estimateHurstSync(new Float64Array(200)), 'ERR_ITOKIT_NUMERICAL');
    expectCode(() => estimateHurstSync([1, 2, 3] as never), 'ERR_ITOKIT_DTYPE');
  });
});

describe('MA-fBM approaches exact fBM as K grows', () => {
  test('type II, H = 0.7: sup |Cov_markov − Cov_exact| on [0, 1] shrinks with K and tracks relativeError', () => {
    const times = Array.from({ length: 41 }, (_, i) => i / 40);
    const exact = covariance({ process: 'exact', type: 'II', hurst: 0.7, times });
    const sups = [1, 2, 3, 5].map((K) => {
      const m = covariance({ process: 'markov', type: 'II', hurst: 0.7, times, K, omegaHorizon: 1 });
      let s = 0;
      m.forEach((x, i) => (s = Math.max(s, Math.abs(x - exact[i]))));
      return s;
    });
    for (let i = 1; i < sups.length; i++) expect(sups[i]).toBeLessThan(sups[i - 1]);
    expect(sups[3]).toBeLessThan(0.02);
    expect(sups[0]).toBeGreaterThan(0.05);
  });
});

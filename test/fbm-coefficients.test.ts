/**
 * MA-fBM weights (docs/design/fbm.md §3, §9): closed forms vs quadrature of the
 * defining integrals (tools/fbm_reference.py, mpmath), the tabulated relative errors
 * (50-digit reference values), reference weights, the H = ½ Brownian limit and dω/dH.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fbm } from '../lib';
import { covariance } from '../lib/fbm/analysis';
import { fbmAddon } from '../lib/fbm/addon';
import { markovMatrices } from '../lib/fbm/coefficients';
import { expectCode } from './helpers';

interface QuadCase { type: 'I' | 'II'; T: number; hurst: number; A: number[]; b: number[]; c: number }
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/fbm/quadrature.json'), 'utf8')) as {
  gammas: number[]; cases: QuadCase[]; variance: { hurst: number; V1: number; V2: number }[];
  cov2: { hurst: number; s: number; t: number; cov: number }[];
};
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('fbm.markovCoefficients: closed forms', () => {
  test('default grid is gammaByGammaMax(5, 20)', () => {
    const g = fbm.gammaByGammaMax();
    const want = [0.05, 0.223607, 1, 4.47214, 20];
    want.forEach((w, i) => expect(rel(g[i], w)).toBeLessThan(1e-5));
    expect(Array.from(fbm.gammaByGammaMax(1, 20))).toEqual([1]);
    expect(rel(fbm.gammaByRatio(3, 4)[0], 0.25)).toBeLessThan(1e-15);
  });

  test('A, b, c match quadrature of their defining integrals to 1e-9 (both types, T ∈ {1, 6})', () => {
    let worst = 0;
    for (const c of ref.cases) {
      for (const norm of ['gamma', 'unit'] as const) {
        const m = markovMatrices({ hurst: c.hurst, type: c.type, T: c.T, gammas: ref.gammas, normalization: norm });
        const V = norm === 'unit' ? fbm.gammaVariance(c.hurst, c.type) : 1;
        for (let i = 0; i < 25; i++) worst = Math.max(worst, rel(m.A[i], c.A[i]));
        for (let k = 0; k < 5; k++) worst = Math.max(worst, rel(m.b[k], c.b[k] / Math.sqrt(V)));
        worst = Math.max(worst, rel(m.c, c.c / V));
      }
    }
    expect(worst).toBeLessThan(1e-9);
  });

  test('V_I, V_II vs quadrature (1e-10) and tabulated values', () => {
    for (const v of ref.variance) {
      expect(rel(fbm.gammaVariance(v.hurst, 'I'), v.V1)).toBeLessThan(1e-10);
      expect(rel(fbm.gammaVariance(v.hurst, 'II'), v.V2)).toBeLessThan(1e-10);
    }
    expect(rel(fbm.gammaVariance(0.1, 'I'), 3.524481)).toBeLessThan(1e-6);
    expect(rel(fbm.gammaVariance(0.9, 'II'), 0.705703)).toBeLessThan(1e-6);
  });

  test('type II covariance (2F1 series and connection formula) vs quadrature to 1e-10', () => {
    for (const c of ref.cov2) {
      const m = covariance({ process: 'exact', type: 'II', hurst: c.hurst, times: [c.s, c.t], normalization: 'gamma' });
      expect(rel(m[1], c.cov)).toBeLessThan(1e-10);
    }
  });

  // Relative-error tables (docs/design/fbm.md §3), T_ω = 1, γ = gammaByGammaMax(K, 20); 1 % or 1e-12 absolute below 1e-9.
  const tableII: Record<number, (number | null)[]> = {
    0.1: [0.3947, 0.2405, 0.2397, 0.2294, 0.2142],
    0.3: [0.03120, 0.01131, 0.008447, 0.007762, 0.006377],
    0.5: [0.04638, 9.188e-5, 1.063e-6, 1.690e-11, null],
    0.7: [0.1533, 0.01242, 1.492e-4, 1.341e-4, 8.931e-5],
    0.9: [0.2717, 0.04791, 7.404e-5, 5.913e-5, 3.661e-5],
  };
  const tableI: Record<number, number[]> = {
    0.1: [0.5302, 0.3215, 0.3085, 0.3072, 0.2980, 0.2844],
    0.3: [0.1195, 0.03655, 0.01693, 0.01660, 0.01521, 0.01329],
    0.5: [0.2642, 0.01640, 0.01560, 0.01280, 0.01044, 0.008054],
    0.7: [0.6569, 0.2024, 0.1224, 0.09786, 0.08531, 0.07232],
    0.9: [0.9514, 0.7026, 0.5635, 0.5095, 0.4846, 0.4581],
  };
  const check = (got: number, want: number): void => {
    if (want < 1e-9) expect(Math.abs(got - want)).toBeLessThan(1e-12);
    else expect(rel(got, want)).toBeLessThan(0.01);
  };

  test('relative-error table, type II (K = 1, 2, 3, 5, 7)', () => {
    const Ks = [1, 2, 3, 5, 7];
    for (const [h, row] of Object.entries(tableII)) {
      row.forEach((want, i) => {
        const r = fbm.markovCoefficients({ hurst: Number(h), type: 'II', K: Ks[i] });
        if (want === null) expect(r.relativeError).toBeLessThan(1e-8);
        else check(r.relativeError, want);
        // the returned ω's true error agrees with 1 − bᵀω/c (0.5 % or 1e-12)
        expect(Math.abs(r.quadraticError - r.relativeError)).toBeLessThan(Math.max(1e-12, 0.005 * r.relativeError) + (Ks[i] === 7 ? 1e-8 : 0));
      });
    }
  });

  test('relative-error table, type I (K = 1, 2, 3, 5, 7, 10)', () => {
    const Ks = [1, 2, 3, 5, 7, 10];
    for (const [h, row] of Object.entries(tableI)) {
      row.forEach((want, i) => {
        const r = fbm.markovCoefficients({ hurst: Number(h), type: 'I', K: Ks[i] });
        check(r.relativeError, want);
        expect(Math.abs(r.quadraticError - r.relativeError)).toBeLessThan(Math.max(1e-12, 0.005 * r.relativeError));
      });
    }
  });

  test('type I, K = 5 at the paper settings (T_ω = 6, 2.4 with γmax = 10, 2)', () => {
    const H = [0.1, 0.3, 0.5, 0.7, 0.9];
    const rows: [number, number, number[]][] = [
      [20, 6, [0.2162, 0.0177, 0.0727, 0.2732, 0.7128]],
      [10, 2.4, [0.2916, 0.0210, 0.0524, 0.2234, 0.6659]],
      [20, 2, [0.2682, 0.0130, 0.0253, 0.1466, 0.5826]],
    ];
    for (const [gammaMax, T, vals] of rows) {
      vals.forEach((want, i) => {
        // 4-digit table: 1 % plus half a unit of the last printed digit
        const got = fbm.markovCoefficients({ hurst: H[i], type: 'I', K: 5, gammaMax, T }).relativeError;
        expect(Math.abs(got - want)).toBeLessThan(0.01 * want + 5e-5);
      });
    }
  });

  test('reference weights (γmax = 20, T = 1, gamma normalisation) to 1e-6 of max|ω|', () => {
    const cases: [number, 'I' | 'II', number[]][] = [
      [0.3, 'I', [0.804408, -0.111519, 0.487415, 0.0845058, 1.18733]],
      [0.7, 'I', [2.26197, -1.42064, 0.019788, -0.310698, -0.177009]],
      [0.2, 'II', [66.7362, -92.5426, 31.7018, -5.82604, 3.95327]],
      [0.7, 'II', [-0.934841, 3.26805, -1.77131, 0.115631, -0.315468]],
    ];
    for (const [hurst, type, want] of cases) {
      const w = fbm.markovCoefficients({ hurst, type, normalization: 'gamma' }).omegas;
      const scale = Math.max(...want.map(Math.abs));
      // the reference has six significant digits: allow their rounding (5e-7 relative) plus 1e-6
      want.forEach((x, i) => expect(Math.abs(w[i] - x)).toBeLessThan(1e-6 * scale + 5e-6 * Math.abs(x)));
      const u = fbm.markovCoefficients({ hurst, type, normalization: 'unit' }).omegas;
      const sv = Math.sqrt(fbm.gammaVariance(hurst, type));
      u.forEach((x, i) => expect(Math.abs(x * sv - w[i])).toBeLessThan(1e-12 * scale));
    }
  });

  test('conditioning is reported; type II K = 7 is flagged ill-conditioned', () => {
    const a = fbm.markovCoefficients({ hurst: 0.5, type: 'I', K: 5 });
    expect(rel(a.cond, 5.9e2)).toBeLessThan(0.02);
    expect(a.illConditioned).toBe(false);
    const b = fbm.markovCoefficients({ hurst: 0.5, type: 'II', K: 5 });
    expect(rel(b.cond, 1.2e7)).toBeLessThan(0.05);
    const c = fbm.markovCoefficients({ hurst: 0.5, type: 'II', K: 7 });
    expect(c.illConditioned).toBe(true);
    expect(c.ridge).toBeGreaterThanOrEqual(1e-14);
  });
});

describe('type II at H = 1/2 is Brownian motion', () => {
  test('K = 5: relativeError ≤ 1e-9, |ω̄ − 1| ≤ 2e-5, sup |Cov − min(s,t)| ≤ 1e-5', () => {
    const r = fbm.markovCoefficients({ hurst: 0.5, type: 'II', K: 5, T: 1 });
    expect(r.relativeError).toBeLessThan(1e-9);
    expect(Math.abs(r.omegas.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(2e-5);
    const times = Array.from({ length: 101 }, (_, i) => i / 100);
    const C = covariance({ process: 'markov', type: 'II', hurst: 0.5, times, gammas: r.gammas, omegas: r.omegas });
    let sup = 0;
    for (let i = 0; i < times.length; i++)
      for (let j = 0; j < times.length; j++) sup = Math.max(sup, Math.abs(C[i * times.length + j] - Math.min(times[i], times[j])));
    expect(sup).toBeLessThan(1e-5);
    expect(sup).toBeGreaterThan(1e-7); // the approximation is not trivially exact (reference value 4.05e-6)
  });
  test('K = 7: relativeError ≤ 1e-8', () => {
    expect(fbm.markovCoefficients({ hurst: 0.5, type: 'II', K: 7 }).relativeError).toBeLessThan(1e-8);
  });
  test('type I at H = 1/2 is not BM: 0.0128 at T = 1, 0.073 at T = 6', () => {
    expect(rel(fbm.markovCoefficients({ hurst: 0.5, type: 'I', T: 1 }).relativeError, 0.0128)).toBeLessThan(0.01);
    expect(rel(fbm.markovCoefficients({ hurst: 0.5, type: 'I', T: 6 }).relativeError, 0.073)).toBeLessThan(0.01);
  });
});

describe('dω/dH: differences and series vs a stencil of the full solve', () => {
  test('type I differences and type II analytic ∂P/∂a agree with a 5-point stencil (h = 1e-3) of the full solve to 1e-6', () => {
    for (const type of ['I', 'II'] as const) {
      for (const hurst of [0.05, 0.2, 0.5, 0.8, 0.95]) {
        for (const T of [1, 6]) {
          const d = fbm.markovCoefficients({ hurst, type, T, derivative: true }).dOmegaDHurst!;
          const w = (x: number): Float64Array => fbm.markovCoefficients({ hurst: x, type, T }).omegas;
          const h = 1e-3;
          const [a, b, c, e] = [w(hurst - 2 * h), w(hurst - h), w(hurst + h), w(hurst + 2 * h)];
          const scale = Math.max(...Array.from(d, Math.abs));
          for (let k = 0; k < d.length; k++) {
            const stencil = (a[k] - 8 * b[k] + 8 * c[k] - e[k]) / (12 * h);
            expect(Math.abs(d[k] - stencil)).toBeLessThan(1e-6 * scale);
          }
        }
      }
    }
  });
test('type II: the h = 1e-5 differences of b agree with the analytic series where A is well conditioned (T = 6)', () => {
    const A = fbmAddon();
    const g = fbm.gammaByGammaMax(5, 20);
    for (const hurst of [0.1, 0.5, 0.9]) {
      const d1 = A.fbmCoefficients({ type: 2, hurst, T: 6, unit: true, gammas: g, derivative: 1 }).dOmegaDHurst!;
      const d2 = A.fbmCoefficients({ type: 2, hurst, T: 6, unit: true, gammas: g, derivative: 2 }).dOmegaDHurst!;
      const scale = Math.max(...Array.from(d2, Math.abs));
      d1.forEach((x, k) => expect(Math.abs(x - d2[k])).toBeLessThan(1e-6 * scale));
    }
  });
});

describe('markovCoefficients: bad input', () => {
  test.each([
    [{ hurst: 0 }], [{ hurst: 1 }], [{ hurst: -0.2 }], [{ hurst: NaN }], [{ hurst: 0.5, K: 0 }], [{ hurst: 0.5, K: 33 }],
    [{ hurst: 0.5, T: 0 }], [{ hurst: 0.5, T: -1 }], [{ hurst: 0.5, gammaMax: 1 }], [{ hurst: 0.5, gammas: [1, 1] }],
    [{ hurst: 0.5, gammas: [0, 1] }], [{ hurst: 0.5, gammas: [1, NaN] }], [{ hurst: 0.5, type: 'III' }],
    [{ hurst: 0.5, normalization: 'std' }], [{ hurst: 0.5, K: 3, gammas: [1, 2] }],
  ])('%j throws ERR_ITOKIT_INVALID_ARG', (o) => {
    expectCode(() => fbm.markovCoefficients(o as never), 'ERR_ITOKIT_INVALID_ARG');
  });
  test('large γT does not overflow (E(a,z) from the continued fraction): γmax·T = 1e4', () => {
    const r = fbm.markovCoefficients({ hurst: 0.3, type: 'I', gammas: [0.01, 1, 100], T: 100 });
    r.omegas.forEach((w) => expect(Number.isFinite(w)).toBe(true));
    expect(r.relativeError).toBeGreaterThan(0);
    expect(r.relativeError).toBeLessThan(1);
  });
});

/**
 * MA-fBM and exact fBM sampling (docs/design/fbm.md §4, §6, §9): Monte Carlo
 * covariances within 5 standard errors of the closed forms, strong order of Euler vs the exact
 * OU step, normalisation, reproducibility across threads / batch splits, and bad input.
 */
import { fbm, rng, setThreads, getThreads } from '../lib';
import { circulantEigenvalues, covariance, fgnAutocovariance } from '../lib/fbm/analysis';
import { bitsOf, expectCode, expectRejectCode } from './helpers';
import { stepNormalRef } from './reference/philox';

type Arr = Float32Array | Float64Array;

/** Sample covariance of columns (i, j) of a [rows, len] array, and its 5·se bound given the true C. */
function mcCov(x: Arr, len: number, i: number, j: number): number {
  const rows = x.length / len;
  let s = 0;
  for (let r = 0; r < rows; r++) s += x[r * len + i] * x[r * len + j];
  return s / rows; // zero-mean processes: no centring
}
function se(Cii: number, Cjj: number, Cij: number, N: number): number {
  return Math.sqrt((Cii * Cjj + Cij * Cij) / N);
}

/** Checks Cov at grid indices `idx` against `C(i, j)` within 5·se. */
function checkCov(x: Arr, len: number, idx: number[], C: (a: number, b: number) => number): void {
  const N = x.length / len;
  for (let a = 0; a < idx.length; a++) {
    for (let b = 0; b <= a; b++) {
      const want = C(a, b);
      const got = mcCov(x, len, idx[a], idx[b]);
      expect(Math.abs(got - want)).toBeLessThan(5 * se(C(a, a), C(b, b), want, N));
    }
  }
}

/** Euler covariance recursion of B̂ = ωᵀ(Y − Y0): M = diag(1 − γΔ), P ← MPM + Δ11ᵀ, Q ← MQ. */
function eulerCov(type: 'I' | 'II', g: Float64Array, w: Float64Array, dt: number, steps: number[]): number[][] {
  const K = g.length;
  const C0 = (i: number, j: number): number => (type === 'I' ? 1 / (g[i] + g[j]) : 0);
  let P = Array.from({ length: K }, (_, i) => Array.from({ length: K }, (_, j) => C0(i, j)));
  let Q = P.map((r) => r.slice());
  const Ps: number[][][] = [];
  const Qs: number[][][] = [];
  const last = Math.max(...steps);
  for (let s = 0; s <= last; s++) {
    Ps.push(P.map((r) => r.slice()));
    Qs.push(Q.map((r) => r.slice()));
    const m = g.map((x) => 1 - x * dt);
    P = P.map((r, i) => r.map((v, j) => m[i] * v * m[j] + dt));
    Q = Q.map((r, i) => r.map((v) => m[i] * v));
  }
  return steps.map((si) =>
    steps.map((sj) => {
      const [s, t] = si <= sj ? [si, sj] : [sj, si];
      let c = 0;
      for (let i = 0; i < K; i++)
        for (let j = 0; j < K; j++) {
          // Cov(Ŷ_i(t), Ŷ_j(s)) = (1−γ_iΔ)^{t−s} P_s − Q_t − Q_sᵀ + C  (index i at the later time)
          const mi = Math.pow(1 - g[i] * dt, t - s);
          c += w[i] * w[j] * (mi * Ps[s][i][j] - Qs[t][i][j] - Qs[s][j][i] + C0(i, j));
        }
      return c;
    }),
  );
}

describe('MA-fBM Monte Carlo covariance vs the closed form: N = 2e5, K = 5, Δ = 0.01, T = 1', () => {
  const N = 200_000;
  const ts = [0.25, 0.5, 0.75, 1];
  const idx = ts.map((t) => Math.round(t * 100));
  for (const type of ['I', 'II'] as const) {
    for (const hurst of [0.3, 0.7]) {
      for (const scheme of ['exact', 'euler'] as const) {
        test(`type ${type}, H = ${hurst}, ${scheme}`, () => {
          const r = fbm.sampleSync({ hurst, type, n: 100, T: 1, paths: N, seed: 11, scheme });
          let C: (a: number, b: number) => number;
          if (scheme === 'exact') {
            const m = covariance({ process: 'markov', type, hurst, times: ts, gammas: r.gammas, omegas: r.omegas });
            C = (a, b) => m[a * ts.length + b];
          } else {
            const m = eulerCov(type, r.gammas!, r.omegas!, 0.01, idx);
            C = (a, b) => m[a][b];
          }
          checkCov(r.paths, 101, idx, C);
        });
      }
    }
  }
});

describe('exact step vs Euler on the same Brownian path', () => {
  test('type II, H = 0.7, gamma: RMS of B̂_exact(1) − B̂_Euler(1) and strong order 1', () => {
    const want = [0.0118, 0.00565, 0.00274, 0.00136];
    const rms = [50, 100, 200, 400].map((n) => {
      const o = { hurst: 0.7, type: 'II' as const, n, paths: 4000, seed: 5, normalization: 'gamma' as const, dtype: 'float64' as const };
      const a = fbm.sampleSync({ ...o, scheme: 'exact' }).paths;
      const b = fbm.sampleSync({ ...o, scheme: 'euler' }).paths;
      let s = 0;
      for (let p = 0; p < 4000; p++) s += (a[p * (n + 1) + n] - b[p * (n + 1) + n]) ** 2;
      return Math.sqrt(s / 4000);
    });
    rms.forEach((r, i) => expect(Math.abs(r / want[i] - 1)).toBeLessThan(0.15));
    for (let i = 1; i < 4; i++) {
      expect(rms[i - 1] / rms[i]).toBeGreaterThan(1.8);
      expect(rms[i - 1] / rms[i]).toBeLessThan(2.2);
    }
  });
  test('W is the per-step Brownian stream of sde.simulate: draw d of step j (independent TS model)', () => {
    // docs/design/noise-layout.md: W(t_{j+1}) − W(t_j) = √Δ·z, z = stepNormalRef(seed, 0, path, j, d);
    // float64 sums in step order. 10 steps cut the last four-step group; paths cross 2^32.
    const o = { hurst: 0.3, n: 10, paths: 3, dims: 2, seed: 77n, pathOffset: 2 ** 32 - 2, returnBrownian: true, dtype: 'float64' as const };
    for (const scheme of ['exact', 'euler'] as const) {
      const r = fbm.sampleSync({ ...o, scheme, K: 3, gammaMax: 4 });
      const sq = Math.sqrt(1 / o.n);
      for (let p = 0; p < o.paths; p++)
        for (let d = 0; d < o.dims; d++) {
          let w = 0;
          for (let j = 0; j < o.n; j++) {
            w += sq * stepNormalRef(o.seed, 0, o.pathOffset + p, j, d);
            expect(r.brownian![(p * (o.n + 1) + j + 1) * o.dims + d]).toBe(w);
          }
        }
    }
  });
  test('both schemes and returnBrownian see the same W', () => {
    const o = { hurst: 0.4, n: 64, paths: 8, seed: 9, returnBrownian: true, dtype: 'float64' as const };
    const a = fbm.sampleSync({ ...o, scheme: 'exact' });
    const b = fbm.sampleSync({ ...o, scheme: 'euler' });
    expect(Array.from(a.brownian!)).toEqual(Array.from(b.brownian!));
    const w = fbm.sampleSync({ ...o, type: 'II', hurst: 0.5, K: 5 });
    // type II at H = ½ is BM: B̂ tracks W closely (ω̄ ≈ 1, fit error ≤ 1e-9)
    let d = 0;
    w.paths.forEach((x, i) => (d = Math.max(d, Math.abs(x - w.brownian![i]))));
    expect(d).toBeLessThan(0.02);
  });
});

describe('normalisation: gamma vs unit', () => {
  test("'gamma' paths are √V × 'unit' paths (markov and exact generators)", () => {
    for (const [method, type] of [['markov', 'I'], ['markov', 'II'], ['davies-harte', 'I'], ['cholesky', 'II'], ['hosking', 'I']] as const) {
      const o = { hurst: 0.3, type, method, n: 50, paths: 6, seed: 3, dtype: 'float64' as const };
      const u = fbm.sampleSync({ ...o, normalization: 'unit' }).paths;
      const g = fbm.sampleSync({ ...o, normalization: 'gamma' }).paths;
      const sv = Math.sqrt(fbm.gammaVariance(0.3, type));
      u.forEach((x, i) => expect(Math.abs(x * sv - g[i])).toBeLessThan(1e-12 * (1 + Math.abs(g[i]))));
    }
  });
});

describe('Davies–Harte: eigenvalues, stable ρ and covariance', () => {
  test('circulant eigenvalues are ≥ 0 with the stable ρ and reproduce ρ by inverse FFT', () => {
    for (const hurst of [0.01, 0.1, 0.5, 0.9, 0.99]) {
      for (const n of [2, 3, 1000, 65536]) {
        const lam = circulantEigenvalues(hurst, n);
        const m = lam.length;
        const lmax = lam.reduce((a, b) => Math.max(a, b), -Infinity);
        const lmin = lam.reduce((a, b) => Math.min(a, b), Infinity);
        expect(lmin).toBeGreaterThanOrEqual(-1e-12 * lmax);
        const np = m / 2;
        for (const k of new Set([0, 1, 2, Math.floor(np / 3), np - 1, np, Math.min(n, np)])) {
          let s = 0;
          for (let j = 0; j < m; j++) s += lam[j] * Math.cos((2 * Math.PI * ((j * k) % m)) / m);
          expect(Math.abs(s / m - fgnAutocovariance(hurst, k))).toBeLessThan(1e-12);
        }
      }
    }
  });
  test('stable ρ(k) matches the textbook second difference where that is accurate', () => {
    for (const hurst of [0.1, 0.37, 0.75, 0.95]) {
      for (const k of [1, 7, 8, 9, 20, 100]) {
        const h2 = 2 * hurst;
        const tb = 0.5 * ((k + 1) ** h2 - 2 * k ** h2 + (k - 1) ** h2);
        expect(Math.abs(fgnAutocovariance(hurst, k) - tb)).toBeLessThan(1e-13 * k ** h2);
      }
    }
  });
  for (const hurst of [0.1, 0.5, 0.9]) {
    test(`2e5 paths at n = 256, H = ${hurst}: covariance vs R_H and Re/Im independence`, () => {
      const n = 256;
      const x = fbm.sampleSync({ hurst, method: 'davies-harte', n, paths: 200_000, seed: 21 }).paths;
      const ts = [0.25, 0.5, 0.75, 1];
      const idx = ts.map((t) => t * n);
      const R = (s: number, t: number): number => 0.5 * (s ** (2 * hurst) + t ** (2 * hurst) - Math.abs(t - s) ** (2 * hurst));
      checkCov(x, n + 1, idx, (a, b) => R(ts[a], ts[b]));
      // cross-covariance between the real (even row) and imaginary (odd row) path of each pair
      const pairs = 100_000;
      for (const a of idx) {
        for (const b of idx) {
          let s = 0;
          for (let p = 0; p < pairs; p++) s += x[2 * p * (n + 1) + a] * x[(2 * p + 1) * (n + 1) + b];
          const ta = a / n, tb = b / n;
          expect(Math.abs(s / pairs)).toBeLessThan(5 * Math.sqrt((R(ta, ta) * R(tb, tb)) / pairs));
        }
      }
    });
  }
});

describe('Cholesky and Hosking: covariance', () => {
  const ts = [0.25, 0.5, 0.75, 1];
  const n = 128;
  const idx = ts.map((t) => t * n);
  for (const [method, type, hurst] of [['cholesky', 'I', 0.2], ['hosking', 'I', 0.8], ['cholesky', 'II', 0.2], ['cholesky', 'II', 0.8]] as const) {
    test(`${method}, type ${type}, H = ${hurst}: covariance at n = 128 within 5·se (5e4 paths)`, () => {
      const x = fbm.sampleSync({ hurst, type, method, n, paths: 50_000, seed: 4 }).paths;
      const m = covariance({ process: 'exact', type, hurst, times: ts });
      checkCov(x, n + 1, idx, (a, b) => m[a * 4 + b]);
    });
  }
});

describe('reproducibility: same bits across threads, path chunks and lane groups', () => {
  const threads0 = getThreads();
  afterAll(() => setThreads(threads0));
  const cases = [
    { method: 'markov' as const, type: 'I' as const },
    { method: 'markov' as const, type: 'II' as const, scheme: 'euler' as const },
    { method: 'davies-harte' as const, type: 'I' as const },
    { method: 'hosking' as const, type: 'I' as const },
    { method: 'cholesky' as const, type: 'II' as const },
  ];
  for (const c of cases) {
    test(`${c.method} ${c.type}: same bits for 1, 2, 7 threads and for pathOffset chunks (odd offsets too)`, () => {
      const o = { ...c, hurst: 0.35, n: 60, seed: 77n, dims: 1 };
      const runs = [1, 2, 7].map((t) => {
        setThreads(t);
        return fbm.sampleSync({ ...o, paths: 37 }).paths;
      });
      expect(bitsOf(runs[1])).toEqual(bitsOf(runs[0]));
      expect(bitsOf(runs[2])).toEqual(bitsOf(runs[0]));
      setThreads(threads0);
      const a = fbm.sampleSync({ ...o, paths: 13 }).paths;
      const b = fbm.sampleSync({ ...o, paths: 11, pathOffset: 13 }).paths;
      const cc = fbm.sampleSync({ ...o, paths: 13, pathOffset: 24 }).paths;
      const joined = new Float32Array(37 * 61);
      joined.set(a, 0);
      joined.set(b, 13 * 61);
      joined.set(cc, 24 * 61);
      expect(bitsOf(joined)).toEqual(bitsOf(runs[0]));
    });
  }
  test('markov with dims = 3 and returnBrownian: 16-path lane groups equal single-path calls bit for bit', () => {
    const o = { hurst: 0.65, n: 30, seed: 4, dims: 3, returnBrownian: true, type: 'I' as const };
    const all = fbm.sampleSync({ ...o, paths: 18 });
    for (const p of [0, 7, 15, 17]) {
      const one = fbm.sampleSync({ ...o, paths: 1, pathOffset: p });
      expect(bitsOf(one.paths)).toEqual(bitsOf(all.paths.subarray(p * 93, (p + 1) * 93)));
      expect(bitsOf(one.brownian!)).toEqual(bitsOf(all.brownian!.subarray(p * 93, (p + 1) * 93)));
    }
  });
  test('exact generators draw lanes 0..n-1 of (FBM_EXACT = 34, path, step 0): Hosking at H = ½ is √Δ·cumsum(z)', () => {
    const n = 200;
    const r = fbm.sampleSync({ hurst: 0.5, method: 'hosking', n, paths: 3, seed: 12, pathOffset: 5, dtype: 'float64' });
    for (let p = 0; p < 3; p++) {
      const z = rng.normal(n, { seed: 12, stream: 34, path: 5 + p, dtype: 'float64' });
      let s = 0;
      for (let j = 0; j < n; j++) {
        s += z[j];
        expect(Math.abs(r.paths[p * (n + 1) + j + 1] - Math.sqrt(1 / n) * s)).toBeLessThan(1e-12);
      }
    }
  });
  test('different seeds give different paths; dims are independent lanes', () => {
    const a = fbm.sampleSync({ hurst: 0.6, n: 20, paths: 2, seed: 1, dims: 3 });
    const b = fbm.sampleSync({ hurst: 0.6, n: 20, paths: 2, seed: 2, dims: 3 });
    expect(a.shape).toEqual([2, 21, 3]);
    expect(bitsOf(a.paths)).not.toEqual(bitsOf(b.paths));
    expect(a.paths[3 * 5]).not.toBe(a.paths[3 * 5 + 1]);
  });
});

describe('sample: API and bad input', () => {
  test('async form with progress; abort rejects with ERR_ITOKIT_ABORTED', async () => {
    const r = await fbm.sample({ hurst: 0.5, n: 10, paths: 4, seed: 1 });
    expect(r.paths.length).toBe(44);
    const ac = new AbortController();
    ac.abort();
    await expectRejectCode(fbm.sample({ hurst: 0.5, n: 10, paths: 4, seed: 1, signal: ac.signal }), 'ERR_ITOKIT_ABORTED');
  });
  test('outputs start at 0 and times are the grid', () => {
    const r = fbm.sampleSync({ hurst: 0.5, method: 'davies-harte', n: 10, T: 2, paths: 3, seed: 1 });
    expect(r.times[10]).toBe(2);
    expect([r.paths[0], r.paths[11], r.paths[22]]).toEqual([0, 0, 0]);
  });
  const base = { hurst: 0.5, n: 10, paths: 4, seed: 1 };
  test.each([
    [{ ...base, hurst: 1 }], [{ ...base, hurst: 0 }], [{ ...base, hurst: NaN }], [{ ...base, K: 0 }], [{ ...base, T: 0 }],
    [{ ...base, T: -1 }], [{ ...base, n: 0 }], [{ ...base, paths: -1 }], [{ ...base, paths: 1.5 }],
    [{ ...base, scheme: 'euler', n: 20 }], // γmax·Δ = 20/20 = 1 ≥ 0.5
    [{ ...base, method: 'cholesky', n: 4097 }], [{ ...base, method: 'davies-harte', type: 'II' }],
    [{ ...base, method: 'hosking', type: 'II' }], [{ ...base, method: 'brownian' }], [{ ...base, seed: -1 }],
    [{ ...base, omegas: [1, 2] }], [{ ...base, method: 'davies-harte', returnBrownian: true }],
  ])('%j throws ERR_ITOKIT_INVALID_ARG', (o) => {
    expectCode(() => fbm.sampleSync(o as never), 'ERR_ITOKIT_INVALID_ARG');
  });
  test('bad dtype throws ERR_ITOKIT_DTYPE', () => {
    expectCode(() => fbm.sampleSync({ ...base, dtype: 'float16' as never }), 'ERR_ITOKIT_DTYPE');
  });
});

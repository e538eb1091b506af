/**
 * Acceptance tests of docs/design/sde.md §8 for the SDE engine: strong/weak order, OU stationary
 * variance, CIR positivity, SRA1 order, bit-reproducibility and coded errors.
 */
import { rng, sde, setThreads, getThreads } from '../lib';
import { slowTest, bitsOf as bits32, expectCode, expectRejectCode, meanVar } from './helpers';

/** Bit patterns as a short fingerprint-friendly form: index of the first differing word, or -1. */
function firstDiff(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  const x = bits32(a), y = bits32(b);
  if (x.length !== y.length) return -2;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}


/** Least-squares slope of log(err) against log(h). */
function slope(hs: number[], errs: number[]): number {
  const x = hs.map(Math.log), y = errs.map(Math.log);
  const mx = x.reduce((a, b) => a + b) / x.length, my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxy / sxx;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

describe('Brownian increments and space-time areas follow the counter layout', () => {
  test('one Euler step of dX = dW equals sqrt(h)·z from rng.randn (same path ids, step 0)', () => {
    const m = sde.define({ dim: 3, noise: 'diagonal', calculus: 'ito', drift: (_t, _x, out) => out.fill(0), diffusion: (_t, _x, out) => out.fill(1) });
    const r = sde.simulateSync(m, { paths: 5, x0: [0, 0, 0], t1: 0.25, steps: 1, method: 'euler', seed: 11, pathOffset: 7, dtype: 'float64' });
    const z = rng.randn({ seed: 11, paths: 5, dim: 3, pathOffset: 7, step: 0 });
    for (let i = 0; i < 15; i++) expect(r.final[i]).toBe(0.5 * z[i]);
  });
  test('noiseRefinement: one coarse step sums the fine increments of steps n·r + q', () => {
    const m = sde.define({ dim: 1, noise: 'diagonal', calculus: 'ito', drift: (_t, _x, out) => out.fill(0), diffusion: (_t, _x, out) => out.fill(1) });
    const r = sde.simulateSync(m, { paths: 3, x0: [0], t1: 4, steps: 2, method: 'euler', seed: 5, noiseRefinement: 4, dtype: 'float64' });
    for (let p = 0; p < 3; p++) {
      let w = 0;
      for (let q = 0; q < 8; q++) w += Math.sqrt(0.5) * rng.randn({ seed: 5, paths: 1, dim: 1, pathOffset: p, step: q })[0];
      expect(r.final[p]).toBeCloseTo(w, 12);
    }
  });
});

describe('strong order on GBM: log–log slope of the pathwise error', () => {
  const model = sde.models.gbm({ mu: 2, sigma: 1 });
  const P = 10_000, fine = 2 ** 11;
  const base = { paths: P, x0: [1], t1: 1, seed: 2024, dtype: 'float64' as const };
  // The exact solution on the same Brownian path: one exact step whose increment sums all 2^11 fine ones.
  const exact = sde.simulateSync(model, { ...base, steps: 1, noiseRefinement: fine, method: 'exact' }).final;
  const Ns = [16, 32, 64, 128, 256, 512];
  for (const [method, lo, hi] of [['euler', 0.4, 0.6], ['milstein', 0.85, 1.15]] as const) {
    test(`${method}: slope in [${lo}, ${hi}]`, () => {
      const errs = Ns.map((N) => meanAbsDiff(sde.simulateSync(model, { ...base, steps: N, noiseRefinement: fine / N, method }).final, exact));
      const s = slope(Ns.map((N) => 1 / N), errs);
      console.log(`GBM strong order ${method}: slope ${s.toFixed(3)}, errors ${errs.map((e) => e.toExponential(2)).join(' ')}`);
      expect(s).toBeGreaterThanOrEqual(lo);
      expect(s).toBeLessThanOrEqual(hi);
    });
  }
  test('exact GBM in law: E[S_T] = e^{μT} within 4 SE', () => {
    const r = sde.simulateSync(sde.models.gbm({ mu: 0.05, sigma: 0.2 }), { ...base, paths: 200_000, steps: 4, method: 'exact' });
    const { mean, variance } = meanVar(r.final);
    expect(Math.abs(mean - Math.exp(0.05))).toBeLessThan(4 * Math.sqrt(variance / 200_000));
  });
});

describe('OU: weak order and stationary variance', () => {
  slowTest('weak order of EM on OU moments: slope in [0.8, 1.2], each estimate within 4 SE of the EM recursion', () => {
    const P = 2 ** 22;
    const model = sde.models.ou({ theta: 1, mu: 0, sigma: 1 });
    const hs = [0.2, 0.1, 0.05, 0.025];
    const b1: number[] = [], b2: number[] = [];
    const m1 = Math.exp(-1), m2 = Math.exp(-2) + (1 - Math.exp(-2)) / 2;
    for (const h of hs) {
      const N = Math.round(1 / h);
      const x = sde.simulateSync(model, { paths: P, x0: [1], t1: 1, steps: N, method: 'euler', seed: 99 }).final;
      let s1 = 0, s2 = 0, s4 = 0;
      for (let i = 0; i < P; i++) {
        const v = x[i];
        s1 += v;
        s2 += v * v;
        s4 += v * v * v * v;
      }
      const e1 = s1 / P, e2 = s2 / P;
      const a = 1 - h;
      const em1 = a ** N;
      let em2 = a ** (2 * N);
      for (let k = 0; k < N; k++) em2 += h * a ** (2 * k);
      const se1 = Math.sqrt((e2 - e1 * e1) / P), se2 = Math.sqrt((s4 / P - e2 * e2) / P);
      expect(Math.abs(e1 - em1)).toBeLessThan(4 * se1);
      expect(Math.abs(e2 - em2)).toBeLessThan(4 * se2);
      b1.push(Math.abs(e1 - m1));
      b2.push(Math.abs(e2 - m2));
    }
    const s1 = slope(hs, b1), s2 = slope(hs, b2);
    console.log(`OU weak order: E[X] slope ${s1.toFixed(3)}, E[X²] slope ${s2.toFixed(3)}`);
    for (const s of [s1, s2]) {
      expect(s).toBeGreaterThanOrEqual(0.8);
      expect(s).toBeLessThanOrEqual(1.2);
    }
  });

  test('stationary variance: exact gives σ²/(2θ) = 1, EM(h = 0.1) its fixed point σ²/(θ(2 − θh))', () => {
    const P = 1_000_000;
    const model = sde.models.ou({ theta: 1, mu: 0, sigma: Math.SQRT2 });
    const o = { paths: P, x0: [0], t1: 20, seed: 3, dtype: 'float64' as const };
    for (const [method, steps, target] of [['exact', 20, 1], ['euler', 200, 2 / (2 - 0.1)]] as const) {
      const { variance } = meanVar(sde.simulateSync(model, { ...o, steps, method }).final);
      // SE of a Gaussian sample variance: σ²·sqrt(2/(P − 1)).
      expect(Math.abs(variance - target)).toBeLessThan(4 * target * Math.sqrt(2 / (P - 1)));
    }
  });

  test('heun and sra1 on OU (additive noise) match the exact mean and variance at T = 1', () => {
    const P = 200_000;
    const model = sde.models.ou({ theta: [1, 2], mu: [0.5, -1], sigma: [1, 0.5] });
    for (const method of ['heun', 'sra1'] as const) {
      const x = sde.simulateSync(model, { paths: P, x0: [1, 1], t1: 1, steps: 200, method, seed: 8, dtype: 'float64' }).final;
      for (let i = 0; i < 2; i++) {
        const th = [1, 2][i], mu = [0.5, -1][i], sg = [1, 0.5][i];
        const col = x.filter((_, k) => k % 2 === i);
        const { mean, variance } = meanVar(col);
        const tm = mu + (1 - mu) * Math.exp(-th), tv = (sg * sg * (1 - Math.exp(-2 * th))) / (2 * th);
        expect(Math.abs(mean - tm)).toBeLessThan(4 * Math.sqrt(tv / P) + 1e-3);
        expect(Math.abs(variance - tv)).toBeLessThan(4 * tv * Math.sqrt(2 / P) + 1e-3);
      }
    }
  });
});

describe('CIR full truncation: non-negative saves and the exact mean', () => {
  test('every saved value is finite and ≥ 0; mean at T = 1 within 4 SE + 0.01 of θ', () => {
    const P = 100_000;
    const r = sde.simulateSync(sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }), {
      paths: P, x0: [0.04], t1: 1, steps: 100, method: 'euler-ft', seed: 6, dtype: 'float64', save: { every: 1 },
    });
    expect(r.shape).toEqual([101, P, 1]);
    let bad = 0;
    for (let i = 0; i < r.data.length; i++) if (!(r.data[i] >= 0) || !Number.isFinite(r.data[i])) bad++;
    expect(bad).toBe(0);
    expect(r.final.some((v) => v < 0)).toBe(true); // the raw v̂ does go negative: truncation is doing work
    const last = r.data.subarray(100 * P);
    const { mean, variance } = meanVar(last);
    expect(Math.abs(mean - 0.04)).toBeLessThan(4 * Math.sqrt(variance / P) + 0.01);
  });
});

describe('SRA1 strong order on additive noise', () => {
  const P = 10_000, fine = 2 ** 11;
  const scalar = sde.define({
    dim: 1, brownianDim: 1, noise: 'additive', calculus: 'ito',
    drift: (_t, x, out) => {
      for (let i = 0; i < x.length; i++) out[i] = Math.sin(x[i]) - x[i];
    },
    diffusion: (t, _x, out) => out.fill(0.5 * (1 + t)),
  });
  const G = [0.5, 0.2, -0.1, 0.4];
  const twoD = sde.define({
    dim: 2, brownianDim: 2, noise: 'additive', calculus: 'ito',
    drift: (_t, x, out) => {
      for (let i = 0; i < x.length; i++) out[i] = Math.sin(x[i]) - x[i];
    },
    diffusion: (t, _x, out) => {
      for (let k = 0; k < 4; k++) out[k] = G[k] * (1 + t);
    },
  });
  for (const [name, model, x0] of [['d = m = 1', scalar, [0.5]], ['d = m = 2, constant 2×2 G', twoD, [0.5, -0.3]]] as const) {
    slowTest(`${name}: SRA1 slope in [1.3, 1.8], EM in [0.85, 1.15]`, () => {
      const base = { paths: P, x0, t1: 1, seed: 77, dtype: 'float64' as const };
      const ref = sde.simulateSync(model, { ...base, steps: fine, method: 'sra1' }).final;
      const Ns = [8, 16, 32, 64, 128, 256];
      const res: Record<string, number> = {};
      for (const method of ['sra1', 'euler'] as const) {
        const errs = Ns.map((N) => meanAbsDiff(sde.simulateSync(model, { ...base, steps: N, noiseRefinement: fine / N, method }).final, ref));
        res[method] = slope(Ns.map((N) => 1 / N), errs);
      }
      console.log(`SRA1 order (${name}): sra1 ${res.sra1.toFixed(3)}, euler ${res.euler.toFixed(3)}`);
      expect(res.sra1).toBeGreaterThanOrEqual(1.3);
      expect(res.sra1).toBeLessThanOrEqual(1.8);
      expect(res.euler).toBeGreaterThanOrEqual(0.85);
      expect(res.euler).toBeLessThanOrEqual(1.15);
    });
  }
});

describe('Itô/Stratonovich drift conversion with diffusionDx', () => {
  const mu = 0.5, sg = 0.5, P = 100_000;
  const loop = (f: (v: number) => number) => (_t: number, x: Float32Array | Float64Array, out: Float32Array | Float64Array): void => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  };
  test('Itô GBM solved by Heun (drift converted to Stratonovich) has E[X_T] = e^{μT}', () => {
    const m = sde.define({ dim: 1, noise: 'diagonal', calculus: 'ito', drift: loop((v) => mu * v), diffusion: loop((v) => sg * v), diffusionDx: (_t, _x, out) => out.fill(sg) });
    const { mean, variance } = meanVar(sde.simulateSync(m, { paths: P, x0: [1], t1: 1, steps: 100, method: 'heun', seed: 21, dtype: 'float64' }).final);
    expect(Math.abs(mean - Math.exp(mu))).toBeLessThan(4 * Math.sqrt(variance / P) + 2e-3);
  });
  test('Stratonovich dX = σX∘dW solved by Euler (drift converted to Itô) has E[X_T] = e^{σ²T/2}', () => {
    const m = sde.define({ dim: 1, noise: 'diagonal', calculus: 'stratonovich', drift: (_t, _x, out) => out.fill(0), diffusion: loop((v) => sg * v), diffusionDx: (_t, _x, out) => out.fill(sg) });
    const { mean, variance } = meanVar(sde.simulateSync(m, { paths: P, x0: [1], t1: 1, steps: 200, method: 'euler', seed: 22, dtype: 'float64' }).final);
    expect(Math.abs(mean - Math.exp(0.5 * sg * sg))).toBeLessThan(4 * Math.sqrt(variance / P) + 2e-3);
    // Without the conversion the Itô reading of the same callbacks has mean 1: the test can fail.
    expect(Math.abs(mean - 1)).toBeGreaterThan(0.1);
  });
});

describe('reproducibility: bit-identical across threads, path chunks, step ranges and save options', () => {
  const heston = sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 });
  const cases = [
    ['gbm corr exact', sde.models.gbm({ mu: [0.05, 0.02], sigma: [0.2, 0.3], corr: [1, 0.5, 0.5, 1] }), [1, 1], 'exact'],
    ['heston', heston, [100, 0.04], 'log-euler-ft'],
    ['ou sra1 (d = 6, chunked units)', sde.models.ou({ theta: 1, mu: 0, sigma: 1 }), [1, 2, 3, 4, 5, 6], 'sra1'],
    ['gmm langevin heun', sde.models.gmmLangevin({ weights: [0.3, 0.7], means: [-1, -1, 1, 1], vars: [0.2, 0.3] }), [0, 0], 'heun'],
    ['vp euler', sde.models.vp(), [0.3, -0.2, 0.1], 'euler'],
  ] as const;
  const threads0 = getThreads();
  afterAll(() => setThreads(threads0));
  for (const [name, model, x0, method] of cases) {
    test(`${name}: threads 1/2/7, pathOffset split, stepRange split, save options`, () => {
      const o = { paths: 3000, x0, t1: 1, steps: 64, method, seed: 12345 } as const;
      setThreads(1);
      const ref = sde.simulateSync(model, o).final;
      for (const t of [2, 7]) {
        setThreads(t);
        expect(firstDiff(sde.simulateSync(model, o).final, ref)).toBe(-1);
      }
      setThreads(threads0);
      const d = x0.length;
      const parts = [[0, 1000], [1000, 1999], [1999, 3000]].map(([a, b]) =>
        sde.simulateSync(model, { ...o, paths: b - a, pathOffset: a }).final);
      const joined = new Float32Array(3000 * d);
      let off = 0;
      for (const p of parts) {
        joined.set(p, off);
        off += p.length;
      }
      expect(firstDiff(joined, ref)).toBe(-1);
      const first = sde.simulateSync(model, { ...o, stepRange: [0, 32] });
      const second = sde.simulateSync(model, { ...o, x0: first.final, stepRange: [32, 64] });
      expect(firstDiff(second.final, ref)).toBe(-1);
      // Resuming inside a four-step noise group (docs/design/noise-layout.md): 0-5, 5-7, 7-62, 62-64.
      let state: Float32Array | number[] = [...x0];
      for (const [a, b] of [[0, 5], [5, 7], [7, 62], [62, 64]] as const)
        state = sde.simulateSync(model, { ...o, x0: state, stepRange: [a, b] }).final as Float32Array;
      expect(firstDiff(state as Float32Array, ref)).toBe(-1);
      for (const save of [{ every: 5 }, { times: [0, 0.25, 0.5, 1] }, { times: [0.1, 0.3], interpolation: 'linear' as const }]) {
        expect(firstDiff(sde.simulateSync(model, { ...o, save }).final, ref)).toBe(-1);
      }
    });
  }
  test('user-defined model: threads and pathOffset split', () => {
    const m = sde.define({ dim: 2, noise: 'diagonal', calculus: 'ito',
      drift: (_t, x, out) => { for (let i = 0; i < x.length; i++) out[i] = -x[i]; },
      diffusion: (_t, x, out) => { for (let i = 0; i < x.length; i++) out[i] = 0.3 + 0.1 * Math.cos(x[i]); } });
    const o = { paths: 2500, x0: [1, -1], t1: 1, steps: 20, method: 'milstein', seed: 4 } as const;
    setThreads(1);
    const ref = sde.simulateSync(m, o).final;
    setThreads(7);
    expect(firstDiff(sde.simulateSync(m, o).final, ref)).toBe(-1);
    setThreads(threads0);
    const a = sde.simulateSync(m, { ...o, paths: 1200 }).final;
    const b = sde.simulateSync(m, { ...o, paths: 1300, pathOffset: 1200 }).final;
    const j = new Float32Array(5000);
    j.set(a);
    j.set(b, 2400);
    expect(firstDiff(j, ref)).toBe(-1);
  });
  test('saves: every-k includes t0 and t_N; grid times match every-1; linear interpolation between grid states', () => {
    const m = sde.models.ou({ theta: 1, mu: 0, sigma: 1 });
    const o = { paths: 10, x0: [1], t1: 1, steps: 10, method: 'euler', seed: 1, dtype: 'float64' } as const;
    const all = sde.simulateSync(m, { ...o, save: { every: 1 } });
    expect(Array.from(all.times)).toEqual(Array.from({ length: 11 }, (_, n) => (n === 10 ? 1 : n * 0.1)));
    const e3 = sde.simulateSync(m, { ...o, save: { every: 3 } });
    expect(e3.shape).toEqual([5, 10, 1]);
    expect(Array.from(e3.data.subarray(40, 50))).toEqual(Array.from(all.data.subarray(100, 110)));
    const lin = sde.simulateSync(m, { ...o, save: { times: [0.25], interpolation: 'linear' } });
    for (let p = 0; p < 10; p++) expect(lin.data[p]).toBeCloseTo(0.5 * all.data[20 + p] + 0.5 * all.data[30 + p], 12);
  });
  test('Heston saves (S, v⁺) with S > 0; memoryEstimate counts state and save bytes', () => {
    const r = sde.simulateSync(heston, { paths: 2000, x0: [100, 0.04], t1: 1, steps: 50, method: 'log-euler-ft', seed: 1, save: { every: 10 } });
    for (let i = 0; i < r.data.length; i += 2) {
      expect(r.data[i]).toBeGreaterThan(0);
      expect(r.data[i + 1]).toBeGreaterThanOrEqual(0);
    }
    const est = sde.memoryEstimate(heston, { paths: 2 ** 20, x0: [100, 0.04], t1: 1, steps: 256, method: 'log-euler-ft', seed: 1, save: { every: 1 } });
    expect(est.bytes).toBe(4 * 2 ** 20 * 2 * (257 + 1));
  });
});

describe('async, abort and errors', () => {
  const gbm = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
  test('simulate (Promise) equals simulateSync and reports progress', async () => {
    const o = { paths: 50_000, x0: [1], t1: 1, steps: 100, method: 'euler', seed: 3 } as const;
    const seen: number[] = [];
    const a = await sde.simulate(gbm, { ...o, onProgress: (p) => seen.push(p.step), progressIntervalMs: 1 });
    expect(firstDiff(a.final, sde.simulateSync(gbm, o).final)).toBe(-1);
    expect(a.stats.pathSteps).toBe(5_000_000);
  });
  test('an aborted signal rejects with ERR_ITOKIT_ABORTED', async () => {
    const ac = new AbortController();
    const p = sde.simulate(gbm, { paths: 4_000_000, x0: [1], t1: 1, steps: 1000, method: 'euler', seed: 3, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expectRejectCode(p, 'ERR_ITOKIT_ABORTED');
  });
  test('bad input throws coded errors', () => {
    const o = { paths: 10, x0: [1], t1: 1, steps: 10, method: 'euler', seed: 1 } as const;
    expectCode(() => sde.simulateSync(gbm, { ...o, x0: [1, 2] }), 'ERR_ITOKIT_SHAPE');
    expectCode(() => sde.simulateSync(gbm, { ...o, t1: 0 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, steps: 0 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, x0: [NaN] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.models.gbm({ mu: NaN, sigma: 1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.models.gbm({ mu: [0, 0], sigma: [1, 1], corr: [1, 2, 2, 1] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, method: 'sra1' }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, method: 'heun' }), 'ERR_ITOKIT_CALCULUS');
    expectCode(() => sde.simulateSync(gbm, { ...o, noiseRefinement: 3 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, save: { times: [0.55] } }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, maxBytes: 10 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(gbm, { ...o, dtype: 'float16' as never }), 'ERR_ITOKIT_DTYPE');
    const general = sde.define({ dim: 2, brownianDim: 3, noise: 'general', calculus: 'ito', drift: () => {}, diffusion: () => {} });
    expectCode(() => sde.simulateSync(general, { ...o, x0: [0, 0], method: 'milstein' }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => sde.simulateSync(general, { ...o, x0: [0, 0], method: 'heun' }), 'ERR_ITOKIT_CALCULUS');
    const asyncModel = sde.define({ dim: 1, noise: 'diagonal', calculus: 'ito', drift: (async () => {}) as never, diffusion: () => {} });
    expectCode(() => sde.simulateSync(asyncModel, o), 'ERR_ITOKIT_ASYNC_CALLBACK');
    expectCode(() => sde.define({ dim: 0, noise: 'diagonal', calculus: 'ito', drift: () => {}, diffusion: () => {} }), 'ERR_ITOKIT_INVALID_ARG');
    const st = sde.createStepper({ paths: 4, dim: 2, seed: 1 });
    expectCode(() => st.step(new Float32Array(8), new Float32Array(6), new Float32Array(8), 0, 0.1), 'ERR_ITOKIT_SHAPE');
    expectCode(() => st.step(new Float32Array(8), new Float32Array(8), new Float32Array(8), 0, 0), 'ERR_ITOKIT_INVALID_ARG');
  });
  test('Stepper: in-place EM with native noise, step ids advance', () => {
    const st = sde.createStepper({ paths: 4, dim: 2, seed: 9, dtype: 'float64' });
    const x = new Float64Array(8).fill(1);
    st.step(x, new Float64Array(8).fill(2), new Float64Array(8).fill(0.5), 0, 0.01);
    const z = rng.randn({ seed: 9, paths: 4, dim: 2, step: 0 });
    for (let i = 0; i < 8; i++) expect(x[i]).toBeCloseTo(1 + 0.02 + 0.5 * 0.1 * z[i], 12);
    expect(st.stepId).toBe(1);
  });
});

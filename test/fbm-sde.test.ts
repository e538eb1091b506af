/**
 * fBM-driven SDEs (docs/design/fbm.md §5, §8): the fused simulator against the exact covariance
 * recursions of its two schemes, the MA-fBM sampler, the reference L* values, the controlled Euler
 * step of the trainer, and the rough-volatility example.
 */
import { fbm } from '../lib';
import { expectCode } from './helpers';

type M = number[][];
const mat = (n: number, f: (i: number, j: number) => number): M => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => f(i, j)));
const mul = (a: M, b: M): M => mat(a.length, (i, j) => a[i].reduce((s, x, k) => s + x * b[k][j], 0));
const tr = (a: M): M => mat(a.length, (i, j) => a[j][i]);
const add = (a: M, b: M): M => mat(a.length, (i, j) => a[i][j] + b[i][j]);

/**
 * Covariance recursion of Z = (X, Y_1..Y_K) for the fOU prior (X(0) = 0): per step Z ← MZ + noise.
 * Euler: M = I + FΔ, noise GΔW (docs/design/fbm.md §8). Exact: Y ← e^{−γΔ}Y + ξ, X ← (1−θΔ)X + σΣω(ΔY),
 * noise N ξ with Cov ξ = S. Returns P(t) at every step and M.
 */
function recursion(scheme: 'euler' | 'exact', theta: number, sigma: number, g: Float64Array, w: Float64Array, type: 'I' | 'II', dt: number, N: number): { Ps: M[]; Mx: M } {
  const K = g.length, n = K + 1;
  let Mx: M, Q: M;
  if (scheme === 'euler') {
    Mx = mat(n, (i, j) => (i === 0 ? (j === 0 ? 1 - theta * dt : -sigma * w[j - 1] * g[j - 1] * dt) : i === j ? 1 - g[i - 1] * dt : 0));
    const G = [sigma * w.reduce((a, b) => a + b, 0), ...Array(K).fill(1)];
    Q = mat(n, (i, j) => G[i] * G[j] * dt);
  } else {
    const e = Array.from(g, (x) => Math.exp(-x * dt));
    Mx = mat(n, (i, j) => (i === 0 ? (j === 0 ? 1 - theta * dt : sigma * w[j - 1] * (e[j - 1] - 1)) : i === j ? e[i - 1] : 0));
    const S = mat(K, (i, j) => -Math.expm1(-(g[i] + g[j]) * dt) / (g[i] + g[j]));
    const Nm = mat(n, (i, j) => (j >= K ? 0 : i === 0 ? sigma * w[j] : i - 1 === j ? 1 : 0)); // [n, K] padded
    const Sp = mat(n, (i, j) => (i < K && j < K ? S[i][j] : 0));
    Q = mul(mul(Nm, Sp), tr(Nm));
  }
  let P = mat(n, (i, j) => (i > 0 && j > 0 && type === 'I' ? 1 / (g[i - 1] + g[j - 1]) : 0));
  const Ps = [P];
  for (let s = 0; s < N; s++) {
    P = add(mul(mul(Mx, P), tr(Mx)), Q);
    Ps.push(P);
  }
  return { Ps, Mx };
}

function crossX(rec: { Ps: M[]; Mx: M }, s: number, t: number): number {
  // Cov(X(t), X(s)) = [M^{t−s} P(s)]_00, s ≤ t (steps)
  let A = rec.Ps[s];
  for (let k = s; k < t; k++) A = mul(rec.Mx, A);
  return A[0][0];
}

describe('fBM-driven fOU: fused simulator vs covariance recursions', () => {
  for (const scheme of ['euler', 'exact'] as const) {
    for (const [type, hurst, theta] of [['I', 0.7, 1], ['II', 0.3, 2]] as const) {
      test(`${scheme}, type ${type}, H = ${hurst}, θ = ${theta}: Cov X(t) at t = 0.5, 1, 1.5, 2 within 5·se (1e5 paths)`, () => {
        const P = 100_000, N = 200, T = 2, sigma = 0.8;
        const r = fbm.simulateSync(fbm.models.fou({ theta, mu: 0, sigma }), { hurst, type, paths: P, x0: [0], t1: T, steps: N, scheme, seed: 31, save: { every: 50 } });
        const rec = recursion(scheme, theta, sigma, r.gammas, r.omegas, type, T / N, N);
        const idx = [1, 2, 3, 4]; // save points 50, 100, 150, 200 steps
        for (const a of idx) {
          for (const b of idx.filter((x) => x <= a)) {
            const C = (i: number, j: number): number => crossX(rec, Math.min(i, j) * 50, Math.max(i, j) * 50);
            let s = 0;
            for (let p = 0; p < P; p++) s += r.data[a * P + p] * r.data[b * P + p];
            const se = Math.sqrt((C(a, a) * C(b, b) + C(a, b) ** 2) / P);
            expect(Math.abs(s / P - C(a, b))).toBeLessThan(5 * se);
          }
        }
      });
    }
  }
  test('the Euler recursion reproduces the reference L* values (T = 2, Δ = 0.01, σ_obs = 0.1, T_ω = 2)', () => {
    for (const [theta, hurst, want] of [[0, 0.7, 2.6996], [1, 0.7, 1.9455], [0, 0.3, 2.5129], [2, 0.9, 1.2108]]) {
      const c = fbm.markovCoefficients({ hurst, type: 'I', T: 2 });
      const rec = recursion('euler', theta, 1, c.gammas, c.omegas, 'I', 0.01, 200);
      const Lstar = 0.5 * Math.log(1 + rec.Ps[200][0][0] / 0.01);
      expect(Math.abs(Lstar - want)).toBeLessThan(2e-4);
    }
  });
  test('θ = 0, σ = 1, exact scheme: X − x0 is the MA-fBM path of fbm.sample (same seed)', () => {
    const o = { hurst: 0.4, type: 'I' as const, seed: 9, dtype: 'float64' as const };
    const r = fbm.simulateSync(fbm.models.fou({ theta: 0, sigma: 1 }), { ...o, paths: 20, x0: [3], t1: 1, steps: 50, save: { every: 1 } });
    const s = fbm.sampleSync({ ...o, paths: 20, n: 50, T: 1 });
    for (let j = 0; j <= 50; j++) for (let p = 0; p < 20; p++) expect(Math.abs(r.data[j * 20 + p] - 3 - s.paths[p * 51 + j])).toBeLessThan(1e-12);
  });
});

describe('controlled Euler step (trainer form: posterior under a control u)', () => {
  const model = fbm.models.fou({ theta: 0.5, mu: 0, sigma: 1 });
  const o = { hurst: 0.7, type: 'II' as const, paths: 4000, x0: [0], t1: 1, steps: 100, seed: 17 };
  test('u = 0 is the prior Euler simulation, bit for bit; KL stays 0', () => {
    const st = fbm.createControlledStepper(model, o);
    const u = new Float64Array(4000);
    for (let j = 0; j < 100; j++) st.advance(u);
    const r = fbm.simulateSync(model, { ...o, scheme: 'euler', dtype: 'float64' });
    expect(Array.from(st.x)).toEqual(Array.from(r.data));
    expect(st.kl.every((k) => k === 0)).toBe(true);
  });
  test('constant control u: KL = ½u²T and the mean shift of the Euler recursion', () => {
    const c = 0.7;
    const st = fbm.createControlledStepper(fbm.models.fou({ theta: 0, sigma: 1 }), o);
    const u = new Float64Array(4000).fill(c);
    for (let j = 0; j < 100; j++) st.advance(u);
    st.kl.forEach((k) => expect(Math.abs(k - 0.5 * c * c * 1)).toBeLessThan(1e-12));
    // E Y_k(T) = u(1 − (1−γΔ)^N)/γ, E X(T) = Σ ω_k E Y_k(T) (θ = 0, type II)
    let want = 0;
    st.gammas.forEach((g, k) => (want += st.omegas[k] * (c * (1 - (1 - g * 0.01) ** 100)) / g));
    const prior = fbm.simulateSync(fbm.models.fou({ theta: 0, sigma: 1 }), { ...o, scheme: 'euler', dtype: 'float64' });
    let m = 0, v = 0;
    st.x.forEach((x, p) => {
      const d = x - prior.data[p]; // same W: the difference is the deterministic shift
      m += d;
      v += d * d;
    });
    expect(Math.abs(m / 4000 - want)).toBeLessThan(1e-9);
    expect(v / 4000 - (m / 4000) ** 2).toBeLessThan(1e-18);
    expect(st.step).toBe(100);
    expectCode(() => st.advance(u), 'ERR_ITOKIT_INVALID_ARG');
  });
  test('bad control shape and non-finite control are coded errors', () => {
    const st = fbm.createControlledStepper(model, o);
    expectCode(() => st.advance(new Float64Array(3)), 'ERR_ITOKIT_SHAPE');
    expectCode(() => st.advance(new Float64Array(4000).fill(NaN)), 'ERR_ITOKIT_INVALID_ARG');
  });
});

describe('rough volatility (log-vol driven by MA-fBM, H = 0.1)', () => {
  test('S is a martingale (μ = 0), leverage has the sign of ρ, log-vol matches the fOU recursion', () => {
    const P = 100_000, N = 100, T = 1;
    const model = fbm.models.roughVol({ kappa: 0.5, meanLogVol: Math.log(0.2), nu: 0.8, mu: 0, rho: -0.7 });
    const x0 = [Math.log(0.2), Math.log(100)];
    const r = fbm.simulateSync(model, { hurst: 0.1, type: 'II', paths: P, x0, t1: T, steps: N, seed: 3, dtype: 'float64' });
    expect(r.shape).toEqual([1, P, 2]);
    let ms = 0, ms2 = 0, mx = 0, ml = 0, cxl = 0, vx = 0;
    for (let p = 0; p < P; p++) {
      const x = r.data[2 * p], l = r.data[2 * p + 1], s = Math.exp(l);
      ms += s; ms2 += s * s; mx += x; ml += l;
    }
    ms /= P; mx /= P; ml /= P;
    for (let p = 0; p < P; p++) {
      const dx = r.data[2 * p] - mx;
      cxl += dx * (r.data[2 * p + 1] - ml);
      vx += dx * dx;
    }
    const seS = Math.sqrt((ms2 / P - ms * ms) / P);
    expect(Math.abs(ms - 100)).toBeLessThan(5 * seS);
    expect(cxl / P).toBeLessThan(0);
    // log-vol: fOU with θ = κ, σ = ν started at its mean: Var from the exact-scheme recursion
    const rec = recursion('exact', 0.5, 0.8, r.gammas, r.omegas, 'II', T / N, N);
    const want = rec.Ps[N][0][0];
    expect(Math.abs(vx / P - want)).toBeLessThan(5 * want * Math.sqrt(2 / P));
  });
});

describe('fBM SDE: bad input', () => {
  const m = fbm.models.fou({ theta: 1, sigma: 1 });
  const base = { hurst: 0.5, paths: 4, x0: [0], t1: 1, steps: 10, seed: 1 };
  test.each([
    [{ ...base, hurst: 1.2 }], [{ ...base, steps: 0 }], [{ ...base, t1: 0 }], [{ ...base, scheme: 'euler' }],
    [{ ...base, K: 0 }], [{ ...base, save: { every: 0 } }], [{ ...base, x0: [NaN] }],
  ])('%j throws ERR_ITOKIT_INVALID_ARG', (o) => {
    expectCode(() => fbm.simulateSync(m, o as never), 'ERR_ITOKIT_INVALID_ARG');
  });
  test('shape and model errors', () => {
    expectCode(() => fbm.simulateSync(m, { ...base, x0: [0, 1] }), 'ERR_ITOKIT_SHAPE');
    expectCode(() => fbm.simulateSync({ kind: 'heston' } as never, base), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => fbm.models.roughVol({ kappa: 1, meanLogVol: 0, nu: 1, rho: 1.5 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => fbm.models.fou({ theta: [1, 2], sigma: [1, 2, 3] }), 'ERR_ITOKIT_SHAPE');
  });
});

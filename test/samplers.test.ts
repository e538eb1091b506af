/**
 * Sampler acceptance tests (docs/design/sde.md §8, items 9–13) on a 2-D Gaussian mixture with a
 * closed-form score: means (±2, ±2), variance 0.25·I, weights (0.1, 0.2, 0.3, 0.4).
 */
import { DeviceArray, backends, diffusion, ot, sde } from '../lib';
import { slowTest, bitsOf, expectCode, expectRejectCode } from './helpers';

const W = [0.1, 0.2, 0.3, 0.4];
const MEANS = [-2, -2, -2, 2, 2, -2, 2, 2];
const spec = { weights: W, means: MEANS, vars: 0.25 };
const N = 16384;
const target = diffusion.gmm(spec);
const exactA = target.sample(N, 1001);
const exactB = target.sample(N, 2002);

/** Mean within 4 SE per coordinate; nearest-mean mode weights within 4·sqrt(p(1−p)/n) + 0.01. */
function checkMixture(x: Float32Array, label: string): void {
  const n = x.length / 2;
  const tm = [0, 0], tv = [0, 0];
  for (let k = 0; k < 4; k++) for (let j = 0; j < 2; j++) tm[j] += W[k] * MEANS[2 * k + j];
  for (let j = 0; j < 2; j++) {
    let s2 = 0;
    for (let k = 0; k < 4; k++) s2 += W[k] * (0.25 + MEANS[2 * k + j] ** 2);
    tv[j] = s2 - tm[j] ** 2;
  }
  const m = [0, 0];
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    m[0] += x[2 * i] / n;
    m[1] += x[2 * i + 1] / n;
    let best = 0, bd = Infinity;
    for (let k = 0; k < 4; k++) {
      const dd = (x[2 * i] - MEANS[2 * k]) ** 2 + (x[2 * i + 1] - MEANS[2 * k + 1]) ** 2;
      if (dd < bd) {
        bd = dd;
        best = k;
      }
    }
    counts[best]++;
  }
  const weights = counts.map((c) => c / n);
  console.log(`${label}: mean ${m.map((v) => v.toFixed(3)).join(', ')}; weights ${weights.map((v) => v.toFixed(3)).join('/')}`);
  for (let j = 0; j < 2; j++) expect(Math.abs(m[j] - tm[j])).toBeLessThan(4 * Math.sqrt(tv[j] / n));
  for (let k = 0; k < 4; k++) expect(Math.abs(weights[k] - W[k])).toBeLessThan(4 * Math.sqrt((W[k] * (1 - W[k])) / n) + 0.01);
}

/** Entropic W2 on 1024-point subsamples (the dense cost of 16384² would need 2 GB). */
function w2(a: Float32Array, b: Float32Array): number {
  const n = 1024;
  return ot.w2Sync({ data: a.subarray(0, 2 * n), shape: [n, 2] }, { data: b.subarray(0, 2 * n), shape: [n, 2] }, { regRelative: 1e-2 }).w2;
}
let w2Base: number | undefined;
function checkW2(x: Float32Array, label: string): void {
  if (w2Base === undefined) w2Base = w2(exactA, exactB);
  const v = w2(x, exactA);
  console.log(`${label}: W2 ${v.toFixed(4)} (exact vs exact ${w2Base.toFixed(4)})`);
  expect(v).toBeLessThanOrEqual(1.5 * w2Base + 0.02);
}

describe('samplers on the 2-D Gaussian mixture: means, mode weights and W2 to exact samples', () => {
  const vp = sde.models.vp();
  const ve = sde.models.ve();
  const vpScore = { kind: 'score' as const, fn: diffusion.gmm({ ...spec, process: vp }).score };
  const veScore = { kind: 'score' as const, fn: diffusion.gmm({ ...spec, process: ve }).score };
  const base = { batch: N, dim: 2, seed: 7 };
  slowTest('VP reverse SDE, Euler–Maruyama, N = 1000', () => {
    const r = diffusion.pcSync({ ...base, process: vp, model: vpScore, predictor: 'euler-maruyama', corrector: 'none' });
    expect(r.nfe).toBe(1000);
    checkMixture(r.x, 'VP EM');
    checkW2(r.x, 'VP EM');
  });
  slowTest('VE predictor–corrector (reverse diffusion + Langevin, snr 0.16, batch-averaged norms)', async () => {
    // In 2-D a per-sample ‖z‖/‖s‖ is very noisy (‖s‖ ≈ 0 between modes gives huge Langevin steps),
    // so this case uses score_sde's batch-averaged norms (per-sample norms flatten the mode weights here).
    const r = await diffusion.pc({ ...base, process: ve, model: veScore, predictor: 'reverse-diffusion', corrector: 'langevin', snr: 0.16, snrNorm: 'batch' });
    expect(r.nfe).toBe(2000);
    checkMixture(r.x, 'VE PC');
  });
  test('VE with the ALD corrector, and reverse diffusion alone', () => {
    const ald = diffusion.pcSync({ ...base, batch: 4096, process: ve, model: veScore, corrector: 'ald', snr: 0.16 });
    checkMixture(ald.x, 'VE PC (ALD)');
    const per = diffusion.pcSync({ ...base, batch: 4096, process: ve, model: veScore, corrector: 'none' });
    checkMixture(per.x, 'VE reverse diffusion only');
  });
  slowTest('VP ancestral', () => {
    const r = diffusion.pcSync({ ...base, process: vp, model: vpScore, predictor: 'ancestral', corrector: 'none' });
    checkMixture(r.x, 'VP ancestral');
  });
  test('probability flow (RK45)', () => {
    const r = diffusion.probabilityFlowSync({ ...base, process: vp, model: vpScore });
    console.log(`probability flow NFE ${r.nfe}`);
    checkMixture(r.x, 'PF ODE');
    checkW2(r.x, 'PF ODE');
  });
  const { alphasCumprod } = diffusion.schedules.linearBetas();
  const epsModel = target.epsModel(alphasCumprod);
  for (const eta of [0, 1]) {
    test(`DDIM η = ${eta}, S = 100`, () => {
      const r = diffusion.ddimSync({ ...base, epsModel, alphasCumprod, steps: 100, eta });
      expect(r.nfe).toBe(100);
      checkMixture(r.x, `DDIM η=${eta}`);
      if (eta === 0) checkW2(r.x, 'DDIM η=0');
    });
  }
  const sigmas = diffusion.schedules.karras(40, 0.002, 80);
  test('Karras Euler and Heun (n = 40, σ 0.002…80)', () => {
    const e = diffusion.karras.eulerSync({ ...base, denoiser: target.denoiser, sigmas });
    checkMixture(e.x, 'Karras Euler');
    const h = diffusion.karras.heunSync({ ...base, denoiser: target.denoiser, sigmas });
    expect(h.nfe).toBe(79);
    checkMixture(h.x, 'Karras Heun');
    checkW2(h.x, 'Karras Heun');
  });
  test('DDPM ancestral (small variance) and Karras Euler ancestral', () => {
    checkMixture(diffusion.ddpmSync({ ...base, batch: 4096, epsModel, alphasCumprod }).x.slice(), 'DDPM');
    checkMixture(diffusion.karras.eulerAncestralSync({ ...base, batch: 4096, denoiser: target.denoiser, sigmas }).x, 'Euler ancestral');
  });
});

describe('determinism and round trips', () => {
  const { alphasCumprod } = diffusion.schedules.linearBetas();
  const epsModel = target.epsModel(alphasCumprod);
  test('DDIM η = 0: same x_T, different seeds → bit-identical', () => {
    const x = new Float32Array(512 * 2).map((_, i) => Math.sin(i) * 1.3);
    const a = diffusion.ddimSync({ epsModel, alphasCumprod, batch: 512, dim: 2, seed: 1, steps: 50, x });
    const b = diffusion.ddimSync({ epsModel, alphasCumprod, batch: 512, dim: 2, seed: 999, steps: 50, x });
    expect(Array.from(bitsOf(a.x))).toEqual(Array.from(bitsOf(b.x)));
    const c = diffusion.ddimSync({ epsModel, alphasCumprod, batch: 512, dim: 2, seed: 1, steps: 50, x, eta: 1 });
    expect(Array.from(bitsOf(c.x))).not.toEqual(Array.from(bitsOf(a.x)));
  });
  test('samples depend only on (seed, sampleOffset + row): a batch split in two gives the same bits', () => {
    const vp = sde.models.vp();
    const model = { kind: 'score' as const, fn: diffusion.gmm({ ...spec, process: vp }).score };
    const o = { process: vp, model, dim: 2, seed: 3, steps: 50 };
    const all = diffusion.pcSync({ ...o, batch: 300 }).x;
    const a = diffusion.pcSync({ ...o, batch: 100 }).x;
    const b = diffusion.pcSync({ ...o, batch: 200, sampleOffset: 100 }).x;
    const j = new Float32Array(600);
    j.set(a);
    j.set(b, 200);
    expect(Array.from(bitsOf(j))).toEqual(Array.from(bitsOf(all)));
  });
  test('probability-flow round trip x → z → x′ (VP, rtol = atol = 1e-5): RMS ≤ 1e-3', () => {
    const vp = sde.models.vp();
    const model = { kind: 'score' as const, fn: diffusion.gmm({ ...spec, process: vp }).score };
    const x = exactA.slice(0, 2048);
    const enc = diffusion.probabilityFlowSync({ process: vp, model, batch: 1024, dim: 2, seed: 0, direction: 'encode', x });
    const dec = diffusion.probabilityFlowSync({ process: vp, model, batch: 1024, dim: 2, seed: 0, x: enc.x });
    let s = 0;
    for (let i = 0; i < x.length; i++) s += (dec.x[i] - x[i]) ** 2;
    const rms = Math.sqrt(s / x.length);
    console.log(`PF round trip RMS ${rms.toExponential(2)}, NFE ${enc.nfe} + ${dec.nfe}`);
    expect(rms).toBeLessThanOrEqual(1e-3);
    // z is approximately N(0, I).
    let m2 = 0;
    for (let i = 0; i < enc.x.length; i++) m2 += enc.x[i] ** 2 / enc.x.length;
    expect(Math.abs(m2 - 1)).toBeLessThan(0.1);
  });
  test('eps and x0 model kinds give the same PC samples as the score kind', () => {
    const vp = sde.models.vp();
    const g = diffusion.gmm({ ...spec, process: vp });
    const o = { process: vp, batch: 256, dim: 2, seed: 5, steps: 100 };
    const viaScore = diffusion.pcSync({ ...o, model: { kind: 'score', fn: g.score } }).x;
    const epsFn = (x: Float32Array, t: Float64Array, out: Float32Array, info: { batch: number; dim: number; step: number }): void => {
      const tt = t.map((v) => v / 999);
      g.score(x, tt, out, info);
      const s = vp.std(tt[0]);
      for (let i = 0; i < out.length; i++) out[i] *= -s;
    };
    const viaEps = diffusion.pcSync({ ...o, model: { kind: 'eps', fn: epsFn } }).x;
    let maxd = 0;
    for (let i = 0; i < viaScore.length; i++) maxd = Math.max(maxd, Math.abs(viaScore[i] - viaEps[i]));
    expect(maxd).toBeLessThan(1e-2);
  });
});

describe('time shift and schedules', () => {
  const ac = new Float64Array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]); // 1 − ᾱ = 0.1 … 0.8
  test('argmin over the window, clipping at the edges, ties to the smallest τ', () => {
    const r = diffusion.shiftedAlphas(ac, new Float64Array([0.52, 0.05, 0.99, 0.45]), 3, 4);
    // window [1, 5]: 0.52 → τ = 4 (0.5); 0.05 → τ = 1 (clipped to the window's low end); 0.99 → 5.
    // 0.45 is equidistant from 0.4 (τ = 3) and 0.5 (τ = 4): the smaller τ wins.
    expect(Array.from(r.times)).toEqual([4, 1, 5, 3]);
    expect(Array.from(diffusion.shiftedAlphas(ac, new Float64Array([0.0]), 0, 6).times)).toEqual([0]);
    expect(Array.from(diffusion.shiftedAlphas(ac, new Float64Array([1.0]), 7, 6).times)).toEqual([7]);
    expect(r.alphas[0]).toBe(0.5);
  });
  test('DDIM with timeShift: no shift on the first step or below the cutoff; per-sample times reach the callback', () => {
    const { alphasCumprod } = diffusion.schedules.linearBetas();
    const g = diffusion.gmm(spec).epsModel(alphasCumprod);
    const seen: Float64Array[] = [];
    const model = (x: Float32Array, t: Float64Array, out: Float32Array, info: { batch: number; dim: number; step: number }): void => {
      seen.push(t.slice());
      g(x, t, out, info);
    };
    const o = { epsModel: model, alphasCumprod, batch: 64, dim: 2, seed: 2, steps: 10 };
    const plain = diffusion.ddimSync(o).x;
    // A cutoff above every step disables the shift: identical bits.
    const off = diffusion.ddimSync({ ...o, timeShift: { window: 30, cutoff: 2000 } }).x;
    expect(Array.from(bitsOf(off))).toEqual(Array.from(bitsOf(plain)));
    // Window 0 never moves t′: identical bits too.
    const w0 = diffusion.ddimSync({ ...o, timeShift: { window: 0, cutoff: -1 } }).x;
    expect(Array.from(bitsOf(w0))).toEqual(Array.from(bitsOf(plain)));
    seen.length = 0;
    const on = diffusion.ddimSync({ ...o, timeShift: { window: 200, cutoff: 300 } }).x;
    expect(Array.from(bitsOf(on))).not.toEqual(Array.from(bitsOf(plain)));
    expect(seen.length).toBe(10);
    for (const t of seen) expect(t.length).toBe(64);
    expect(Array.from(seen[0]).every((v) => v === 900)).toBe(true);
  });
  test('DDPM with timeShift: a window reaching past t holds the sample (no NaN); window 0 changes nothing', () => {
    const ac = diffusion.schedules.linearBetas(200).alphasCumprod;
    const g = diffusion.gmm(spec).epsModel(ac);
    const o = { epsModel: g, alphasCumprod: ac, batch: 32, dim: 2, seed: 4 };
    const plain = diffusion.ddpmSync(o).x;
    expect(Array.from(bitsOf(diffusion.ddpmSync({ ...o, timeShift: { window: 0, cutoff: -1 } }).x))).toEqual(Array.from(bitsOf(plain)));
    // τ ∈ [t′ − 10, t′ + 10] includes τ > t: β′ would be negative and σ a NaN without the hold
    for (const variance of ['small', 'large'] as const) {
      const x = diffusion.ddpmSync({ ...o, variance, timeShift: { window: 20, cutoff: -1 } }).x;
      expect(x.every(Number.isFinite)).toBe(true);
    }
  });
  test('Karras σ match the formula to 1e-12; first σ_max, last 0; VP β match linspace', () => {
    const s = diffusion.schedules.karras(40, 0.002, 80);
    expect(s.length).toBe(41);
    expect(s[0]).toBeCloseTo(80, 12);
    expect(s[40]).toBe(0);
    for (let i = 0; i < 40; i++) {
      const want = (80 ** (1 / 7) + (i / 39) * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7;
      expect(Math.abs(s[i] - want)).toBeLessThan(1e-12 * want);
    }
    expect(Math.abs(s[39] - 0.002)).toBeLessThan(1e-15);
    const { betas, alphasCumprod } = diffusion.schedules.linearBetas(1000, 1e-4, 0.02);
    expect(betas[0]).toBe(1e-4);
    expect(Math.abs(betas[999] - 0.02)).toBeLessThan(1e-15);
    expect(Math.abs(betas[500] - (1e-4 + (500 * (0.02 - 1e-4)) / 999))).toBeLessThan(1e-15);
    expect(alphasCumprod[1]).toBeCloseTo((1 - betas[0]) * (1 - betas[1]), 15);
  });
});

describe('sampler errors: abort and coded errors', () => {
  const vp = sde.models.vp();
  const g = diffusion.gmm({ ...spec, process: vp });
  test('Sync twins reject async callbacks; aborted signals reject; bad shapes throw coded errors', async () => {
    const asyncFn = async (x: Float32Array, t: Float64Array, out: Float32Array, info: { batch: number; dim: number; step: number }): Promise<void> => g.score(x, t, out, info);
    expectCode(() => diffusion.pcSync({ process: vp, model: { kind: 'score', fn: asyncFn }, batch: 4, dim: 2, seed: 1, steps: 3 }), 'ERR_ITOKIT_ASYNC_CALLBACK');
    const viaAsync = await diffusion.pc({ process: vp, model: { kind: 'score', fn: asyncFn }, batch: 4, dim: 2, seed: 1, steps: 3 });
    const viaSync = diffusion.pcSync({ process: vp, model: { kind: 'score', fn: g.score }, batch: 4, dim: 2, seed: 1, steps: 3 });
    expect(Array.from(bitsOf(viaAsync.x))).toEqual(Array.from(bitsOf(viaSync.x)));
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expectRejectCode(diffusion.pc({ process: vp, model: { kind: 'score', fn: asyncFn }, batch: 4, dim: 2, seed: 1, signal: ac.signal }), 'ERR_ITOKIT_ABORTED');
    expectCode(() => diffusion.pcSync({ process: vp, model: { kind: 'score', fn: g.score }, batch: 0, dim: 2, seed: 1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.probabilityFlowSync({ process: vp, model: { kind: 'score', fn: g.score }, batch: 4, dim: 2, seed: 1, x: new Float32Array(3) }), 'ERR_ITOKIT_SHAPE');
    expectCode(() => diffusion.ddimSync({ epsModel: g.score, batch: 4, dim: 2, seed: 1, steps: 5000 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.karras.eulerSync({ denoiser: g.denoiser, sigmas: new Float64Array([1, 2, 0]), batch: 4, dim: 2, seed: 1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.pcSync({ process: {} as never, model: { kind: 'score', fn: g.score }, batch: 4, dim: 2, seed: 1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.probabilityFlowSync({ process: vp, model: { kind: 'score', fn: g.score }, batch: 4, dim: 2, seed: 1, maxSteps: 2 }), 'ERR_ITOKIT_NUMERICAL');
  });

  test("output: an unknown value is an argument error; 'device' without CUDA says it is unavailable", () => {
    const o = { process: vp, model: { kind: 'score' as const, fn: g.score }, batch: 4, dim: 2, seed: 1, steps: 3 };
    expectCode(() => diffusion.pcSync({ ...o, output: 'gpu' as never }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.ddimSync({ epsModel: g.score, batch: 4, dim: 2, seed: 1, steps: 5, output: 'gpu' as never }), 'ERR_ITOKIT_INVALID_ARG');
    if (!backends().cuda.available) {
      const dev = (x: DeviceArray<'float32'>, t: Float64Array, out: DeviceArray<'float32'>): void => void [x, t, out];
      expectCode(() => diffusion.pcSync({ ...o, model: { kind: 'score', fn: dev }, output: 'device' }), 'ERR_ITOKIT_DEVICE_UNAVAILABLE');
      expectCode(() => diffusion.karras.eulerSync({ denoiser: dev, sigmas: diffusion.schedules.karras(5, 0.01, 10), batch: 4, dim: 2, seed: 1, output: 'device' }), 'ERR_ITOKIT_DEVICE_UNAVAILABLE');
    }
  });
});

describe('DDIM as diffusers DDIMScheduler: timesteps, float32 schedule, clip_sample', () => {
  const ac = diffusion.schedules.linearBetas(1000, 1e-4, 0.02, { float32: true }).alphasCumprod;
  test('timestep spacings equal numpy/diffusers values', () => {
    // values printed by numpy with diffusers' formulas (set_timesteps)
    expect(diffusion.ddimTimesteps(1000, 50, 'trailing').slice(0, 4)).toEqual([999, 979, 959, 939]);
    expect(diffusion.ddimTimesteps(1000, 50, 'trailing').at(-1)).toBe(19);
    expect(diffusion.ddimTimesteps(1000, 7, 'trailing')).toEqual([999, 856, 713, 570, 428, 285, 142]);
    expect(diffusion.ddimTimesteps(1000, 50, 'linspace').slice(0, 8)).toEqual([999, 979, 958, 938, 917, 897, 877, 856]);
    expect(diffusion.ddimTimesteps(1000, 7, 'linspace')).toEqual([999, 832, 666, 500, 333, 166, 0]);
    expect(diffusion.ddimTimesteps(1000, 7, 'leading', 1).slice(0, 5)).toEqual([853, 711, 569, 427, 285]);
    expect(diffusion.ddimTimesteps(1000, 3, 'uniform')).toEqual([666, 333, 0]);
    expectCode(() => diffusion.ddimTimesteps(1000, 3, 'leading', 400), 'ERR_ITOKIT_INVALID_ARG');
  });

  // ε(x, t): a smooth, t-dependent map large enough that x̂0 leaves [−1, 1] for part of the elements
  const epsModel = (x: Float32Array, t: Float64Array, out: Float32Array): void => {
    for (let i = 0; i < x.length; i++) out[i] = Math.fround(0.8 * Math.sin(1.3 * x[i] + t[0] / 300) + 0.05 * x[i]);
  };
  const f = Math.fround;
  /** One DDIMScheduler.step (η = 0) with every torch float32 op rounded, as diffusers evaluates it. */
  function diffusersStep(x: Float32Array, t: number, prev: number, clip: number | undefined): Float32Array {
    const e = new Float32Array(x.length);
    epsModel(x, Float64Array.of(t), e);
    const a = f(ac[t]), ap = prev >= 0 ? f(ac[prev]) : 1, b = f(1 - a);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let x0 = f(f(x[i] - f(f(Math.sqrt(b)) * e[i])) / f(Math.sqrt(a)));
      if (clip !== undefined) x0 = Math.min(clip, Math.max(-clip, x0));
      const dir = f(f(Math.sqrt(f(1 - ap))) * e[i]);
      out[i] = f(f(f(Math.sqrt(ap)) * x0) + dir);
    }
    return out;
  }
  const relErr = (y: Float32Array, r: Float32Array): number => {
    let n = 0, d = 0;
    for (let i = 0; i < r.length; i++) {
      n += (y[i] - r[i]) ** 2;
      d += r[i] ** 2;
    }
    return Math.sqrt(n / d);
  };

  test.each([
    ['leading', false, undefined],
    ['leading', true, 1],
    ['trailing', true, 1.5],
    ['linspace', true, 1],
  ] as const)('%s spacing, clipSample %s (range %s): every step within rel 1e-6 of diffusers', (spacing, clipSample, range) => {
    const B = 16, D = 64, N = 12;
    const xs: Float32Array[] = [], ts: number[] = [];
    const r = diffusion.ddimSync({ epsModel, alphasCumprod: ac, batch: B, dim: D, seed: 3, steps: N, timesteps: spacing, clipSample, clipSampleRange: range,
      onStep: ({ step, t, x }) => { expect(step).toBe(xs.length); xs.push(x.slice()); ts.push(t); } });
    expect(ts).toEqual(diffusion.ddimTimesteps(1000, N, spacing));
    xs.push(r.x);
    let clipped = 0;
    for (let k = 0; k < N; k++) {
      const ref = diffusersStep(xs[k], ts[k], ts[k] - Math.floor(1000 / N), clipSample ? range : undefined);
      expect(relErr(xs[k + 1], ref)).toBeLessThanOrEqual(1e-6);
      if (clipSample) clipped += Number(relErr(diffusersStep(xs[k], ts[k], ts[k] - Math.floor(1000 / N), undefined), ref) > 1e-3);
    }
    if (clipSample) expect(clipped).toBeGreaterThan(0); // the clip is exercised
  });

  test('explicit non-decreasing lists: repeated entries are identity steps; setAlphaToOne false ends at ᾱ_0', () => {
    const B = 4, D = 32;
    const xs: Float32Array[] = [];
    const list = [0, 0, 3, 10, 10, 40];
    const r = diffusion.ddimSync({ epsModel, alphasCumprod: ac, batch: B, dim: D, seed: 5, timesteps: list, onStep: ({ x }) => void xs.push(x.slice()) });
    expect(r.nfe).toBe(6);
    xs.push(r.x);
    // sampling order 40, 10, 10, 3, 0, 0: the steps 10 → 10 and 0 → 0 leave x unchanged
    expect(Array.from(bitsOf(xs[2]))).toEqual(Array.from(bitsOf(xs[1])));
    expect(Array.from(bitsOf(xs[5]))).toEqual(Array.from(bitsOf(xs[4])));
    expect(relErr(xs[1], diffusersStep(xs[0], 40, 10, undefined))).toBeLessThanOrEqual(1e-6);
    expect(relErr(xs[4], diffusersStep(xs[3], 3, 0, undefined))).toBeLessThanOrEqual(1e-6);
    const last = diffusion.ddimSync({ epsModel, alphasCumprod: ac, batch: B, dim: D, seed: 5, steps: 5, setAlphaToOne: false, x: xs[3] }).x;
    const first = diffusion.ddimSync({ epsModel, alphasCumprod: ac, batch: B, dim: D, seed: 5, steps: 5, x: xs[3] }).x;
    expect(Array.from(bitsOf(last))).not.toEqual(Array.from(bitsOf(first)));
    expectCode(() => diffusion.ddimSync({ epsModel, batch: B, dim: D, seed: 5, timesteps: [3, 2] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.ddimSync({ epsModel, batch: B, dim: D, seed: 5, timesteps: [3], stepsOffset: 1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => diffusion.ddimSync({ epsModel, batch: B, dim: D, seed: 5, onStep: async () => undefined }), 'ERR_ITOKIT_ASYNC_CALLBACK');
  });
});

/**
 * Full-size acceptance runs of the trainers (minutes of CPU): set ITOKIT_ACCEPTANCE=1 to run.
 * Results are reported in docs/train.md.
 */
import { FractionalSDE } from '../lib/trainers';
import * as fbm from '../lib/fbm';
import * as rng from '../lib/rng';
import { bridgeReference } from './reference/fou-bridge';

const run = process.env.ITOKIT_ACCEPTANCE === '1';
const d = run ? describe : describe.skip;
if (!run) console.log('train-acceptance: skipped (set ITOKIT_ACCEPTANCE=1 to run the full-size trainer acceptance runs)');

function hurstData(Htrue: number, M: number, J: number, obsSigma: number, seed: number): { times: number[]; values: Float64Array } {
  const paths = fbm.sampleSync({ hurst: Htrue, type: 'I', method: 'davies-harte', n: 200, T: 2, paths: M, seed, dtype: 'float64' }).paths;
  const noise = rng.normal(M * J, { seed: seed + 1, dtype: 'float64' });
  const values = new Float64Array(M * J);
  const every = 200 / J;
  for (let i = 0; i < M; i++) for (let j = 0; j < J; j++) values[i * J + j] = paths[i * 201 + every * (j + 1)] + obsSigma * noise[i * J + j];
  return { times: Array.from({ length: J }, (_, j) => (2 * (j + 1)) / J), values };
}

d('H recovery: exact fBM data, amortized control, learned H = sigmoid(h)', () => {
  const cfg = JSON.parse(process.env.HURST_CFG ?? '{}') as { M?: number; J?: number; iters?: number; warmup?: number; width?: number; hurstLr?: number; obsSigma?: number };
  test.each((process.env.HURST_LIST ?? '0.3,0.7').split(',').map((h) => [Number(h)]))('H = %s', (Htrue) => {
    const M = cfg.M ?? 128;
    const J = cfg.J ?? 10;
    const obsSigma = cfg.obsSigma ?? 0.2;
    const { times, values } = hurstData(Htrue, M, J, obsSigma, 21);
    const iters = cfg.iters ?? 3000;
    // Defaults = the σ_obs = 0.2 row of docs/train.md (errors +0.143 at H = 0.3, −0.087 at 0.7).
    const m = new FractionalSDE({ hurst: 0.5, learnHurst: true, type: 'I', hidden: [cfg.width ?? 64, cfg.width ?? 64], batch: 32, seed: 2, lr: 3e-3,
      lrDecayTo: 0.05, decaySteps: iters, hurstLr: cfg.hurstLr ?? 3e-3, warmup: cfg.warmup ?? 1000, observations: { times, values, sigma: obsSigma } });
    let acc = 0;
    for (let i = 0; i < iters; i++) {
      acc += m.stepSync().elbo;
      if ((i + 1) % 250 === 0) {
        console.log(`H_true ${Htrue} iter ${i + 1} elbo ${(acc / 250).toFixed(3)} H ${m.hurst.toFixed(4)}`);
        acc = 0;
      }
    }
    console.log(`H_true ${Htrue} learned ${m.hurst.toFixed(4)} error ${(m.hurst - Htrue).toFixed(4)}`);
    // The error docs/train.md reports for this configuration (the run is bit-reproducible).
    // HURST_CFG tunes the configuration (a search run): it only has to learn a valid Hurst index
    if (process.env.HURST_CFG === undefined) expect(Math.abs(m.hurst - Htrue)).toBeLessThanOrEqual(0.15);
    else expect(m.hurst > 0 && m.hurst < 1).toBe(true);
  });
});

d('fOU bridge at full size (width 128), H = 0.7 and H = 0.3, θ = 0', () => {
  test.each([[0.7], [0.3]])('H = %s: std ratios within 10%% at t = 0.5, 1, 1.5; loss ≥ L* − 3 SE (gap ≤ 0.3 for H ≥ ½)', (H) => {
    const m = new FractionalSDE({ hurst: H, theta: 0, type: 'I', hidden: [128, 128], batch: 32, seed: 1, lr: 3e-3, lrDecayTo: 0.03, decaySteps: 2000,
      observations: { times: [2], values: [0], sigma: 0.1 } });
    for (let i = 0; i < 2000; i++) m.stepSync();
    const co = m.coefficients();
    const ref = bridgeReference({ gammas: m.gammas, omegas: co.omegas, theta: 0, sigma: 1, dt: 0.01, steps: 200, type1: true, obsSigma: 0.1 });
    const P = 4096;
    const s = m.sampleSync({ paths: P });
    const ratios = [50, 100, 150].map((n) => {
      let a = 0;
      let b = 0;
      for (let p = 0; p < P; p++) {
        a += s.x[p * 201 + n];
        b += s.x[p * 201 + n] ** 2;
      }
      return Math.sqrt(b / P - (a / P) ** 2) / ref.condStd[n];
    });
    let mean = 0;
    let sq = 0;
    for (const l of s.loss) {
      mean += l;
      sq += l * l;
    }
    mean /= P;
    const se = Math.sqrt((sq / P - mean * mean) / P);
    console.log(`bridge H = ${H}: ratios ${ratios.map((r) => r.toFixed(3)).join(' / ')}, loss ${mean.toFixed(4)}, L* ${ref.optimalLoss.toFixed(4)}, gap ${(mean - ref.optimalLoss).toFixed(3)}`);
    for (const r of ratios) expect(Math.abs(r - 1)).toBeLessThanOrEqual(0.1);
    expect(mean).toBeGreaterThanOrEqual(ref.optimalLoss - 3 * se);
    if (H >= 0.5) expect(mean - ref.optimalLoss).toBeLessThanOrEqual(0.3);
  });
});

/**
 * Full-size acceptance runs of the trainers (minutes of CPU): set ITOKIT_ACCEPTANCE=1 to run.
 * Results are reported in docs/train.md.
 */
import { FractionalSDE } from '../lib/trainers';
import * as fbm from '../lib/fbm';
import * as rng from '../lib/rng';

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

d('H recovery (spec/trainers.md §2): exact fBM data, amortized control, learned H = sigmoid(h)', () => {
  const cfg = JSON.parse(process.env.HURST_CFG ?? '{}') as { M?: number; J?: number; iters?: number; warmup?: number; width?: number; hurstLr?: number; obsSigma?: number };
  test.each((process.env.HURST_LIST ?? '0.3,0.7').split(',').map((h) => [Number(h)]))('H = %s', (Htrue) => {
    const M = cfg.M ?? 128;
    const J = cfg.J ?? 10;
    const obsSigma = cfg.obsSigma ?? 0.05;
    const { times, values } = hurstData(Htrue, M, J, obsSigma, 21);
    const iters = cfg.iters ?? 3000;
    const m = new FractionalSDE({ hurst: 0.5, learnHurst: true, type: 'I', hidden: [cfg.width ?? 64, cfg.width ?? 64], batch: 32, seed: 2, lr: 3e-3,
      lrDecayTo: 0.05, decaySteps: iters, hurstLr: cfg.hurstLr ?? 5e-3, warmup: cfg.warmup ?? 500, observations: { times, values, sigma: obsSigma } });
    let acc = 0;
    for (let i = 0; i < iters; i++) {
      acc += m.stepSync().elbo;
      if ((i + 1) % 250 === 0) {
        console.log(`H_true ${Htrue} iter ${i + 1} elbo ${(acc / 250).toFixed(3)} H ${m.hurst.toFixed(4)}`);
        acc = 0;
      }
    }
    console.log(`H_true ${Htrue} learned ${m.hurst.toFixed(4)} error ${(m.hurst - Htrue).toFixed(4)}`);
    expect(Number.isFinite(m.hurst)).toBe(true);
  });
});

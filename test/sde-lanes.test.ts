// The CPU draws a step's noise for 16 paths at once (SIMD across paths) in the fused GBM, CIR and
// Heston kernels. This checks those trajectories against a step-by-step float32 emulation of
// spec/sde.md (§2.2 counter layout, §3 Euler–Maruyama) built on the independent TS RNG model, for
// path counts and offsets that leave partial groups of lanes.
import { sde } from '../lib';
import { normalRef } from './reference/philox';

const f = Math.fround;

function emulate(kind: 'gbm' | 'cir', p: number[], x0: number, o: { paths: number; pathOffset: number; steps: number; t1: number; seed: number }): Float32Array {
  const h = o.t1 / o.steps;
  const hf = f(h);
  const sqrtH = f(Math.sqrt(Math.abs(h)));
  const out = new Float32Array(o.paths);
  for (let r = 0; r < o.paths; r++) {
    let y = f(x0);
    for (let n = 0; n < o.steps; n++) {
      const dW = f(sqrtH * normalRef(BigInt(o.seed), 0, o.pathOffset + r, n, 0));
      if (kind === 'gbm') {
        const [mu, sigma] = p.map(f);
        y = f(f(y + f(f(mu * y) * hf)) + f(f(sigma * y) * dW)); // y + (μy)h + (σy)ΔW
      } else {
        const [kappa, theta, xi] = p.map(f);
        const vp = Math.max(0, y);
        const drift = f(kappa * f(theta - vp));
        const g = f(xi * f(Math.sqrt(vp)));
        y = f(f(y + f(drift * hf)) + f(g * dW));
      }
    }
    out[r] = y;
  }
  return out;
}

describe('fused kernels with path lanes equal the float32 emulation bit for bit', () => {
  const o = { paths: 37, pathOffset: 5, steps: 20, t1: 1, seed: 11 };
  test('GBM, Euler, 1 asset', () => {
    const m = sde.models.gbm({ mu: [0.3], sigma: [0.8] });
    const r = sde.simulateSync(m, { ...o, x0: [1.5], method: 'euler', dtype: 'float32' });
    expect(Array.from(r.final)).toEqual(Array.from(emulate('gbm', [0.3, 0.8], 1.5, o)));
  });

  test('CIR, full-truncation Euler', () => {
    const m = sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 });
    const r = sde.simulateSync(m, { ...o, x0: [0.04], method: 'euler-ft', dtype: 'float32' });
    expect(Array.from(r.final)).toEqual(Array.from(emulate('cir', [0.5, 0.04, 1], 0.04, o)));
  });

  test('a lane group split across calls gives the same paths', () => {
    const m = sde.models.heston({ mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 });
    const base = { x0: [100, 0.04], t1: 1, steps: 50, method: 'log-euler-ft' as const, seed: 3, dtype: 'float32' as const };
    const whole = sde.simulateSync(m, { ...base, paths: 40 });
    const a = sde.simulateSync(m, { ...base, paths: 7, pathOffset: 0 });
    const b = sde.simulateSync(m, { ...base, paths: 33, pathOffset: 7 });
    expect([...Array.from(a.final), ...Array.from(b.final)]).toEqual(Array.from(whole.final));
  });
});

// The CPU draws a step's noise for 16 paths at once (SIMD across paths) in the fused GBM, CIR,
// Heston, Gaussian-mixture Langevin and linear additive (OU, VP, sub-VP, VE) kernels. This checks those trajectories against a step-by-step float32 emulation of
// the counter layout (docs/design/randomness.md §2) and Euler–Maruyama (docs/design/sde.md §3), built on the independent TS RNG model, for
// path counts and offsets that leave partial groups of lanes.
import { createHash } from 'crypto';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { sde } from '../lib';
import { expRef, stepNormalRef } from './reference/philox';

const f = Math.fround;

function emulate(kind: 'gbm' | 'cir', p: number[], x0: number, o: { paths: number; pathOffset: number; steps: number; t1: number; seed: number }): Float32Array {
  const h = o.t1 / o.steps;
  const hf = f(h);
  const sqrtH = f(Math.sqrt(Math.abs(h)));
  const out = new Float32Array(o.paths);
  for (let r = 0; r < o.paths; r++) {
    let y = f(x0);
    for (let n = 0; n < o.steps; n++) {
      const dW = f(sqrtH * stepNormalRef(BigInt(o.seed), 0, o.pathOffset + r, n, 0));
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
  const o = { paths: 37, pathOffset: 5, steps: 23, t1: 1, seed: 11 }; // 23: whole 8-step passes, then a cut four-step group
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

  // OU dX = θ(μ − X)dt + σdW, par = [θ, θμ, σ, μ, e^{−θh}, b/√h] (b = σ√((1 − e^{−2θh})/(2θ))) cast
  // to float32, coefficient row all ones (lib/sde/models.ts); draw 0 of (path, step) as for GBM.
  // SRA1 (sde_steps.h): J = ΔW/2 + sqrt(h/12) z' with z' draw m + i, H₂ = y + (¾h)f₀ + (3/2)(G J),
  // y' = y + h(f₀/3 + 2f₁/3) + G(ΔW − J) + G J (G = B σ with B = 1 here).
  const sra1 = (y: number, f0: number, fAt: (x: number) => number, g: number, dW: number, za: number, hf: number, sqrtH12: number): number => {
    const J = f(f(0.5 * dW) + f(sqrtH12 * za));
    const h2 = f(f(y + f(f(0.75 * hf) * f0)) + f(1.5 * f(g * J)));
    const f1 = fAt(h2);
    const drift = f(hf * f(f(f(1 / 3) * f0) + f(f(2 / 3) * f1)));
    return f(f(f(y + drift) + f(g * f(dW - J))) + f(g * J));
  };
  const emulateOu = (method: 'exact' | 'euler' | 'sra1', th: number, mu: number, sg: number, x0: number): Float32Array => {
    const h = o.t1 / o.steps, hf = f(h), sq = Math.sqrt(h), sqrtH = f(sq), sqrtH12 = f(Math.sqrt(h / 12));
    const [t, k, s, m] = [f(th), f(th * mu), f(sg), f(mu)];
    const ea = f(Math.exp(-th * h)), eb = f((sg * Math.sqrt(-Math.expm1(-2 * th * h) / (2 * th))) / sq);
    const out = new Float32Array(o.paths);
    for (let r = 0; r < o.paths; r++) {
      let y = f(x0);
      for (let n = 0; n < o.steps; n++) {
        const dW = f(sqrtH * stepNormalRef(BigInt(o.seed), 0, o.pathOffset + r, n, 0));
        if (method === 'sra1') {
          const za = stepNormalRef(BigInt(o.seed), 0, o.pathOffset + r, n, 1); // area draw m + 0, m = 1
          y = sra1(y, f(1 * f(k - f(t * y))), (x) => f(1 * f(k - f(t * x))), f(1 * s), dW, za, hf, sqrtH12);
        } else if (method === 'exact') y = f(m + f(f(f(y - m) * f(ea * 1)) + f(f(eb * 1) * dW))); // μ + ((y − μ)(e_a·1) + (e_b·1)ΔW)
        else y = f(f(y + f(f(1 * f(k - f(t * y))) * hf)) + f(f(1 * s) * dW)); // y + A(κ − θy)h + (Bσ)ΔW
      }
      out[r] = y;
    }
    return out;
  };
  for (const method of ['exact', 'euler', 'sra1'] as const) {
    test(`OU, ${method}`, () => {
      const m = sde.models.ou({ theta: 1.5, mu: 0.3, sigma: 0.7 });
      const r = sde.simulateSync(m, { ...o, x0: [0.2], method, dtype: 'float32' });
      expect(Array.from(r.final)).toEqual(Array.from(emulateOu(method, 1.5, 0.3, 0.7, 0.2)));
    });
  }

  // Gaussian-mixture Langevin dX = ∇log p(X)dt + sqrt(2τ)dW (sde_fused.h gmm_score, step_coupled):
  // par = [sqrt(2τ) | c_k | μ_k | 1/v_k] cast to float32, draw i of (path, step) drives dimension i;
  // the score is a softmax with the running max subtracted, every operation rounded to float32.
  const emulateGmm = (method: 'euler' | 'heun' | 'sra1', w: number[], means: number[], vars: number[], tau: number, x0: number[]): Float32Array => {
    const K = w.length, d = x0.length;
    const tot = w.reduce((a, b) => a + b, 0);
    const c = w.map((wk, k) => {
      let ck = Math.log(wk / tot);
      for (let i = 0; i < d; i++) ck -= 0.5 * Math.log(2 * Math.PI * vars[k * d + i]);
      return f(ck);
    });
    const mu = means.map(f), iv = vars.map((v) => f(1 / v)), g = f(Math.sqrt(2 * tau));
    const h = o.t1 / o.steps, hf = f(h), sqrtH = f(Math.sqrt(h));
    const score = (x: number[]): number[] => {
      const logit: number[] = [];
      let mx = 0;
      for (let k = 0; k < K; k++) {
        let q = 0;
        for (let i = 0; i < d; i++) {
          const e = f(x[i] - mu[k * d + i]);
          q = f(q + f(f(e * e) * iv[k * d + i]));
        }
        logit.push(f(c[k] - f(0.5 * q)));
        if (k === 0 || logit[k] > mx) mx = logit[k];
      }
      let z = 0;
      for (let k = 0; k < K; k++) z = f(z + (logit[k] = expRef(f(logit[k] - mx))));
      const s = new Array<number>(d).fill(0);
      for (let k = 0; k < K; k++) {
        const r = f(logit[k] / z);
        for (let i = 0; i < d; i++) s[i] = f(s[i] + f(r * f(f(mu[k * d + i] - x[i]) * iv[k * d + i])));
      }
      return s;
    };
    const out = new Float32Array(o.paths * d);
    for (let r = 0; r < o.paths; r++) {
      let y = x0.map(f);
      for (let n = 0; n < o.steps; n++) {
        const dW = y.map((_, i) => f(sqrtH * stepNormalRef(BigInt(o.seed), 0, o.pathOffset + r, n, i)));
        const gdw = dW.map((v) => f(g * v));
        const f0 = score(y);
        if (method === 'sra1') { // areas: draws d + i; the stage is evaluated for all dimensions, then the score once
          const sqrtH12 = f(Math.sqrt(h / 12));
          const J = dW.map((v, i) => f(f(0.5 * v) + f(sqrtH12 * stepNormalRef(BigInt(o.seed), 0, o.pathOffset + r, n, d + i))));
          const h2 = y.map((yi, i) => f(f(yi + f(f(0.75 * hf) * f0[i])) + f(1.5 * f(g * J[i]))));
          const f1 = score(h2);
          y = y.map((yi, i) => f(f(f(yi + f(hf * f(f(f(1 / 3) * f0[i]) + f(f(2 / 3) * f1[i])))) + f(g * f(dW[i] - J[i]))) + f(g * J[i])));
          continue;
        }
        const yt = y.map((yi, i) => f(f(yi + f(f0[i] * hf)) + gdw[i]));
        if (method === 'euler') y = yt;
        else {
          const f1 = score(yt);
          y = y.map((yi, i) => f(f(yi + f(f(0.5 * f(f0[i] + f1[i])) * hf)) + f(0.5 * f(gdw[i] + gdw[i]))));
        }
      }
      out.set(y, r * d);
    }
    return out;
  };
  for (const method of ['euler', 'heun', 'sra1'] as const) {
    test(`Gaussian-mixture Langevin, ${method}, 2-D, 3 components`, () => {
      const p = { weights: [0.2, 0.5, 0.3], means: [-2, 0, 1, 1.5, 3, -1], vars: [0.5, 1, 0.3, 0.8, 2, 0.4], temperature: 0.7 };
      const r = sde.simulateSync(sde.models.gmmLangevin(p), { ...o, x0: [0.3, -0.4], method, dtype: 'float32' });
      expect(Array.from(r.final)).toEqual(Array.from(emulateGmm(method, p.weights, p.means, p.vars, p.temperature, [0.3, -0.4])));
    });
  }

  test('a lane group split across calls gives the same paths', () => {
    const m = sde.models.heston({ mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 });
    const base = { x0: [100, 0.04], t1: 1, steps: 50, method: 'log-euler-ft' as const, seed: 3, dtype: 'float32' as const };
    const whole = sde.simulateSync(m, { ...base, paths: 40 });
    const a = sde.simulateSync(m, { ...base, paths: 7, pathOffset: 0 });
    const b = sde.simulateSync(m, { ...base, paths: 33, pathOffset: 7 });
    expect([...Array.from(a.final), ...Array.from(b.final)]).toEqual(Array.from(whole.final));
  });

  test('lanes, per-path fixed and run-time kernels agree; step ranges cut inside a four-step noise group', () => {
    // The lanes draw whole four-step groups (one Philox block per draw, both Box–Muller pairs);
    // a range starting or ending inside a group takes part of one. Every split must give the
    // whole run's bits, and the per-path code (ITOKIT_SDE_KERNEL) the same.
    const specs = [
      [sde.models.gbm({ mu: 0.3, sigma: 0.8 }), [1.5], 'euler'],
      [sde.models.gbm({ mu: [0.05, 0.1], sigma: [0.4, 0.2], corr: [1, 0.5, 0.5, 1] }), [1, 2], 'exact'],
      [sde.models.heston({ mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
      [sde.models.ou({ theta: [1, 2, 3, 0.5, 1], mu: 0.1, sigma: 0.5 }), [0.1, 0.2, 0.3, 0.4, -0.5], 'heun'],
      [sde.models.gmmLangevin({ weights: [1, 2], means: [-1, 0, 1, 2, 0.5, -0.5], vars: 0.6 }), [0.1, 0.2, 0.3], 'heun'],
      [sde.models.ou({ theta: [1, 2, 3, 0.5, 1, 2], mu: 0.1, sigma: 0.5 }), [0.1, 0.2, 0.3, 0.4, -0.5, 0.6], 'sra1'],
    ] as const;
    const env0 = process.env.ITOKIT_SDE_KERNEL;
    try {
      for (const [m, x0, method] of specs) {
        const o = { paths: 37, pathOffset: 5, t1: 1, steps: 27, method, seed: 9, dtype: 'float32' as const };
        const whole = sde.simulateSync(m, { ...o, x0 }).final;
        let state: Float32Array | number[] = [...x0];
        for (const [a, b] of [[0, 1], [1, 6], [6, 7], [7, 26], [26, 27]] as const)
          state = sde.simulateSync(m, { ...o, x0: state, stepRange: [a, b] }).final as Float32Array;
        expect(Array.from(state)).toEqual(Array.from(whole));
        for (const k of ['fixed', 'runtime']) {
          process.env.ITOKIT_SDE_KERNEL = k;
          expect({ k, r: Array.from(sde.simulateSync(m, { ...o, x0 }).final) }).toEqual({ k, r: Array.from(whole) });
        }
        delete process.env.ITOKIT_SDE_KERNEL;
      }
    } finally {
      if (env0 === undefined) delete process.env.ITOKIT_SDE_KERNEL;
      else process.env.ITOKIT_SDE_KERNEL = env0;
    }
  });

  test('ITOKIT_CPU=avx2 and =scalar (child processes) give the default bits for every lane model', () => {
    // The instruction set is chosen once per process; the children run the AVX2 kernels and the
    // per-path code (no SIMD kernel) of the same calls.
    const specs = [
      ['ou', { theta: 1.5, mu: 0.3, sigma: 0.7 }, [0.2], 'heun'],
      ['ou', { theta: [1, 2, 3, 0, 0.5], mu: [0.1, 0.2, -0.3, 0, 1], sigma: [0.5, 1, 0.2, 0.3, 0.9] }, [0.1, 0.2, 0.3, 0.4, -0.5], 'exact'],
      ['vp', {}, [0.5, -0.2, 0.1, 0.9, 1.1, -1, 0.3], 'euler'],
      ['subVp', {}, [0.5, -0.2, 0.1], 'exact'],
      ['ve', {}, [0.5, -0.2, 0.1, 0.4, 0.2, 0.1], 'euler'],
      ['gbm', { mu: [0.05, 0.1, -0.1], sigma: [0.4, 0.2, 0.3], corr: [1, 0.5, 0.2, 0.5, 1, -0.3, 0.2, -0.3, 1] }, [1, 2, 3], 'milstein'],
      ['gbm', { mu: [0.05, 0.1, -0.1, 0, 0.2, 0.1], sigma: [0.4, 0.2, 0.3, 0.1, 0.5, 0.2] }, [1, 2, 3, 4, 5, 6], 'exact'],
      ['cir', { kappa: 0.5, theta: 0.04, xi: 1 }, [0.04], 'euler-ft'],
      ['heston', { mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 }, [100, 0.04], 'log-euler-ft'],
      ['gmmLangevin', { weights: [1, 2, 1, 3], means: [-1, 0, 1, 2], vars: [0.5, 1, 2, 0.3] }, [0.5], 'euler'],
      ['gmmLangevin', { weights: [1, 2, 1], means: [-1, 0, 1, 2, 0.5, -0.5], vars: 0.6 }, [0.1, 0.2], 'sra1'],
      ['ou', { theta: [1, 2, 3, 0.5, 1, 2], mu: 0.1, sigma: [0.5, 1, 0.2, 0.3, 0.9, 1] }, [0.1, 0.2, 0.3, 0.4, -0.5, 0.6], 'sra1'],
      ['vp', {}, [0.5, -0.2, 0.1, 0.9, 1.1], 'sra1'],
      ['gmmLangevin', { weights: [1, 2], means: [-1, 0, 1, 2, 0.5, -0.5, 1, 1], vars: 0.6, temperature: 2 }, [0.1, 0.2, 0.3, 0.4], 'heun'],
    ] as const;
    const run = `(sde, specs, hash) => specs.map(([kind, p, x0, method]) => {
      const r = sde.simulateSync(sde.models[kind](p), { paths: 37, pathOffset: 5, x0, t1: 1, steps: 23, method, seed: 4, save: { every: 5 }, dtype: 'float32', device: 'cpu' });
      return hash(r.final) + hash(r.data);
    })`;
    const hash = (a: Float32Array): string => createHash('sha1').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
    // eslint-disable-next-line no-new-func
    const want = (new Function(`return ${run}`)() as (...a: unknown[]) => string[])(sde, specs, hash);
    const script = `
      const { createHash } = require('crypto');
      const { sde } = require('./');
      const hash = (a) => createHash('sha1').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
      console.log(JSON.stringify((${run})(sde, ${JSON.stringify(specs)}, hash)));`;
    for (const cpu of ['avx2', 'scalar']) {
      const got = execFileSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, ITOKIT_CPU: cpu } });
      expect({ cpu, digests: JSON.parse(got.trim()) }).toEqual({ cpu, digests: want });
    }
  });
});

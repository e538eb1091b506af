/**
 * The CUDA kernels run the per-path code with a compile-time model shape (sde::FixedModel, fBM with
 * a compile-time K) so their state stays in registers. The same source runs on the CPU, so these
 * tests check it here, bit for bit, against the CPU's two other loops: the 16-path SIMD lanes and
 * the per-path code that reads the model at run time.
 */
import { fbm, sde } from '../lib';
import { bitsOf, withNativeEnv } from './helpers';

const withKernel = <T>(kernel: 'fixed' | 'runtime' | undefined, fn: () => T): T => withNativeEnv('ITOKIT_SDE_KERNEL', kernel, fn);

describe('SDE: compile-time-shape per-path loop = SIMD lanes = run-time-shape loop (CPU), every model with a lane kernel', () => {
  const cases = [
    ['gbm euler', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'euler'],
    ['gbm milstein', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'milstein'],
    ['gbm exact', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'exact'],
    ['heston', sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
    ['cir', sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }), [0.04], 'euler-ft'],
    // Models with lane kernels since the fBM-lanes work: OU (one element, and five per-dimension
    // elements: a 4-wide and a 1-wide unit), VP / sub-VP / VE (per-step coefficient rows), and
    // correlated GBM with 3 (one block, two pairs) and 6 assets (two blocks).
    ['ou exact', sde.models.ou({ theta: 1.5, mu: 0.3, sigma: 0.7 }), [0.2], 'exact'],
    ['ou euler', sde.models.ou({ theta: 1.5, mu: 0.3, sigma: 0.7 }), [0.2], 'euler'],
    ['ou heun', sde.models.ou({ theta: 1.5, mu: 0.3, sigma: 0.7 }), [0.2], 'heun'],
    ['ou d = 5 exact', sde.models.ou({ theta: [1, 2, 3, 0, 0.5], mu: [0.1, 0.2, -0.3, 0, 1], sigma: [0.5, 1, 0.2, 0.3, 0.9] }), [0.1, 0.2, 0.3, 0.4, -0.5], 'exact'],
    ['ou d = 5 heun', sde.models.ou({ theta: [1, 2, 3, 0, 0.5], mu: [0.1, 0.2, -0.3, 0, 1], sigma: [0.5, 1, 0.2, 0.3, 0.9] }), [0.1, 0.2, 0.3, 0.4, -0.5], 'heun'],
    ['vp d = 7 exact', sde.models.vp(), [0.5, -0.2, 0.1, 0.9, 1.1, -1, 0.3], 'exact'],
    ['vp d = 7 euler', sde.models.vp(), [0.5, -0.2, 0.1, 0.9, 1.1, -1, 0.3], 'euler'],
    ['subVp d = 3 exact', sde.models.subVp(), [0.5, -0.2, 0.1], 'exact'],
    ['subVp d = 3 euler', sde.models.subVp(), [0.5, -0.2, 0.1], 'euler'],
    ['ve d = 6 exact', sde.models.ve(), [0.5, -0.2, 0.1, 0.4, 0.2, 0.1], 'exact'],
    ['ve d = 6 euler', sde.models.ve(), [0.5, -0.2, 0.1, 0.4, 0.2, 0.1], 'euler'],
    ['gbm d = 3 corr euler', sde.models.gbm({ mu: [0.05, 0.1, -0.1], sigma: [0.4, 0.2, 0.3], corr: [1, 0.5, 0.2, 0.5, 1, -0.3, 0.2, -0.3, 1] }), [1, 2, 3], 'euler'],
    ['gbm d = 3 corr milstein', sde.models.gbm({ mu: [0.05, 0.1, -0.1], sigma: [0.4, 0.2, 0.3], corr: [1, 0.5, 0.2, 0.5, 1, -0.3, 0.2, -0.3, 1] }), [1, 2, 3], 'milstein'],
    ['gbm d = 6 exact', sde.models.gbm({ mu: [0.05, 0.1, -0.1, 0, 0.2, 0.1], sigma: [0.4, 0.2, 0.3, 0.1, 0.5, 0.2] }), [1, 2, 3, 4, 5, 6], 'exact'],
  ] as const;
  for (const [name, model, x0, method] of cases) {
    for (const refine of [1, 4]) {
      test(`${name}, noiseRefinement ${refine}: identical final and saves`, () => {
        const o = { paths: 1037, pathOffset: 11, x0, t1: 1, steps: 40, method, seed: 5, noiseRefinement: refine, save: { every: 7 }, device: 'cpu' } as const;
        const def = withKernel(undefined, () => sde.simulateSync(model, o));
        for (const k of ['fixed', 'runtime'] as const) {
          const r = withKernel(k, () => sde.simulateSync(model, o));
          expect(bitsOf(r.final)).toEqual(bitsOf(def.final));
          expect(bitsOf(r.data)).toEqual(bitsOf(def.data));
        }
      });
    }
  }
});

describe('fBM: a path is the same in any lane of any group (CPU)', () => {
  // 33 paths: two whole lane groups and a one-path group; a one-path call at pathOffset 5 computes
  // path 5 as lane 0 of its own group, to compare with lane 5 of the batch. The per-path code
  // itself is compared with the lanes in test/fbm-lanes.test.ts (ITOKIT_FBM_KERNEL=path).
  for (const K of [1, 3, 5, 8, 12]) {
    for (const type of ['I', 'II'] as const) {
      test(`K = ${K}, type ${type}, dims = 3`, () => {
        const o = { hurst: 0.3, type, n: 50, dims: 3, K, seed: 4, device: 'cpu', returnBrownian: true } as const;
        const all = fbm.sampleSync({ ...o, paths: 33 });
        const one = fbm.sampleSync({ ...o, paths: 1, pathOffset: 5 });
        const row = 51 * 3;
        expect(bitsOf(one.paths)).toEqual(bitsOf(all.paths.subarray(5 * row, 6 * row)));
        expect(bitsOf(one.brownian!)).toEqual(bitsOf(all.brownian!.subarray(5 * row, 6 * row)));
      });
    }
  }
});

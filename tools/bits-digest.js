#!/usr/bin/env node
// Prints SHA-256 digests of a fixed set of itokit outputs (random draws, SDE paths, fBM paths) as
// JSON, one line per output. Run on two machines (x64 and arm64 under qemu in CI) and compare: the
// counter-based generators and the kernels promise the same bits on every CPU, so any difference
// is a portability bug (a contracted FMA, a libm call, an uninitialised read), not noise.
//   node tools/bits-digest.js [packageDir]    (default: the checkout this file is in)
'use strict';
const crypto = require('crypto');
const path = require('path');

const itokit = require(path.resolve(process.argv[2] || path.join(__dirname, '..')));
const { rng, sde, fbm } = itokit;

const digest = (a) => crypto.createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
const cases = {
  'rng.uniform f32': () => rng.uniform(4099, { seed: 1 }),
  'rng.uniform f64': () => rng.uniform(4099, { seed: 2, dtype: 'float64' }),
  'rng.normal f32': () => rng.normal(4099, { seed: 3 }),
  'rng.normal f64': () => rng.normal(4099, { seed: 4, dtype: 'float64' }),
  'rng.bits': () => rng.bits(4099, { seed: 5 }),
  'sde ou euler f32': () => sde.simulateSync(sde.models.ou({ theta: 1.5, mu: 0.2, sigma: 0.3 }), { paths: 257, x0: [1], t1: 1, steps: 64, method: 'euler', seed: 6 }).data,
  'sde ou sra1 f64': () => sde.simulateSync(sde.models.ou({ theta: 1.5, mu: 0.2, sigma: 0.3 }), { paths: 257, x0: [1], t1: 1, steps: 64, method: 'sra1', seed: 12, dtype: 'float64' }).data,
  'sde gbm milstein f64': () => sde.simulateSync(sde.models.gbm({ mu: 0.05, sigma: 0.2 }), { paths: 257, x0: [100], t1: 1, steps: 64, method: 'milstein', seed: 7, dtype: 'float64' }).data,
  'sde heston log-euler-ft f32': () => sde.simulateSync(sde.models.heston({ mu: 0.02, kappa: 1.5, theta: 0.04, xi: 0.5, rho: -0.7 }), { paths: 257, x0: [100, 0.04], t1: 1, steps: 64, method: 'log-euler-ft', seed: 8, save: { every: 8 } }).data,
  'sde cir f64': () => sde.simulateSync(sde.models.cir({ kappa: 2, theta: 0.04, xi: 0.2 }), { paths: 257, x0: [0.05], t1: 1, steps: 64, method: 'euler-ft', seed: 9, dtype: 'float64' }).data,
  'fbm markov II f32': () => fbm.sampleSync({ hurst: 0.7, type: 'II', n: 128, T: 1, paths: 65, seed: 10 }).paths,
  // float32 runs of 37 paths: the SIMD lane kernels (AVX-512/AVX2 on x64, NEON on arm64) with a cut
  // group of lanes, which must give the per-path code's bits
  'rng.randn': () => rng.randn({ paths: 37, dim: 5, seed: 13 }),
  'sde gbm euler f32 lanes': () => sde.simulateSync(sde.models.gbm({ mu: 0.05, sigma: 0.2 }), { paths: 37, x0: [100], t1: 1, steps: 50, method: 'euler', seed: 14 }).final,
  'sde gbm correlated d=3 f32 lanes': () => sde.simulateSync(sde.models.gbm({ mu: [0.05, 0.02, 0.01], sigma: [0.2, 0.3, 0.1], corr: [1, 0.5, 0.2, 0.5, 1, 0.1, 0.2, 0.1, 1] }),
    { paths: 37, x0: [100, 50, 20], t1: 1, steps: 30, method: 'euler', seed: 15 }).final,
  'sde cir euler-ft f32 lanes': () => sde.simulateSync(sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }), { paths: 37, x0: [0.04], t1: 1, steps: 50, method: 'euler-ft', seed: 16 }).final,
  'sde ou exact f32 lanes': () => sde.simulateSync(sde.models.ou({ theta: 1.5, mu: 0.2, sigma: 0.3 }), { paths: 37, x0: [0], t1: 1, steps: 50, method: 'exact', seed: 17 }).final,
  'fbm markov f64 lanes': () => fbm.sampleSync({ hurst: 0.3, n: 200, paths: 37, seed: 18, method: 'markov', dtype: 'float64' }).paths,
  'fbm davies-harte f64': () => fbm.sampleSync({ hurst: 0.3, method: 'davies-harte', n: 256, paths: 9, seed: 11, dtype: 'float64' }).paths,
};
const out = { arch: process.arch, features: itokit.backends().cpu.features };
for (const [name, make] of Object.entries(cases)) out[name] = digest(make());
console.log(JSON.stringify(out, null, 1));

#!/usr/bin/env node
// SHA-256 digests of a fixed set of seeded outputs (RNG draws, fused SDE final states, fBM Markov
// paths), one JSON line per case. Two builds, instruction sets or architectures that
// promise the same bits print the same lines: compare with diff, e.g. x64 against arm64 under
// qemu-user, or ITOKIT_CPU=scalar against the vector path.
//   node tools/bit-digests.js [package dir, default: the repository's dist/]
'use strict';
const crypto = require('crypto');
const path = require('path');

const pkg = require(path.resolve(process.argv[2] || path.join(__dirname, '..')));
const { rng, sde, fbm } = pkg;

const digest = (a) => crypto.createHash('sha256').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
const cases = {
  'rng.normal f32': () => rng.normal(4099, { seed: 7, dtype: 'float32' }),
  'rng.normal f64': () => rng.normal(4099, { seed: 7, dtype: 'float64' }),
  'rng.uniform f32': () => rng.uniform(4099, { seed: 8, dtype: 'float32' }),
  'rng.uniform f64': () => rng.uniform(4099, { seed: 8, dtype: 'float64' }),
  'rng.bits': () => rng.bits(4099, { seed: 9 }),
  'rng.randn': () => rng.randn({ paths: 37, dim: 5, seed: 10 }),
  'sde gbm euler': () => sde.simulateSync(sde.models.gbm({ mu: [0.05], sigma: [0.2] }),
    { paths: 37, x0: [100], t1: 1, steps: 50, method: 'euler', seed: 11, dtype: 'float32' }).final,
  'sde gbm correlated d=3': () => sde.simulateSync(sde.models.gbm({ mu: [0.05, 0.02, 0.01], sigma: [0.2, 0.3, 0.1], corr: [1, 0.5, 0.2, 0.5, 1, 0.1, 0.2, 0.1, 1] }),
    { paths: 37, x0: [100, 50, 20], t1: 1, steps: 30, method: 'euler', seed: 12, dtype: 'float32' }).final,
  'sde heston log-euler-ft': () => sde.simulateSync(sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }),
    { paths: 37, x0: [100, 0.04], t1: 1, steps: 50, method: 'log-euler-ft', seed: 13, dtype: 'float32' }).final,
  'sde cir euler-ft': () => sde.simulateSync(sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }),
    { paths: 37, x0: [0.04], t1: 1, steps: 50, method: 'euler-ft', seed: 14, dtype: 'float32' }).final,
  'sde ou exact': () => sde.simulateSync(sde.models.ou({ theta: 1.5, mu: 0.2, sigma: 0.3 }),
    { paths: 37, x0: [0], t1: 1, steps: 50, method: 'exact', seed: 15, dtype: 'float32' }).final,
  'fbm markov f32': () => fbm.sampleSync({ hurst: 0.3, n: 200, paths: 37, seed: 16, method: 'markov', dtype: 'float32' }).paths,
  'fbm markov f64': () => fbm.sampleSync({ hurst: 0.7, n: 200, paths: 37, seed: 17, method: 'markov', dtype: 'float64' }).paths,
};
for (const [name, run] of Object.entries(cases)) {
  let line;
  try {
    line = { case: name, sha256: digest(run()) };
  } catch (e) {
    line = { case: name, error: `${e.code || ''} ${e.message}` };
  }
  console.log(JSON.stringify(line));
}

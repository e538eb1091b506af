#!/usr/bin/env node
// Per-call overhead of the synchronous native calls (the cost the binding convention adds or
// removes, not kernel time): small calls in a loop, wall and CPU time per call, best of `reps`.
// Usage: node tools/call-overhead.js [packageRoot=.] [reps=5] [only]   (needs dist/: npx tsc -p tsconfig.build.json)
// `only` runs just the rows whose name contains it (e.g. "native"), for runs interleaved with
// another package root's on a loaded machine (compare the best CPU time of several runs each).
'use strict';
const path = require('path');

const root = path.resolve(process.argv[2] || '.');
const reps = Number(process.argv[3] || 5);
const lib = require(path.join(root, 'dist', 'lib'));
lib.setThreads(1);

const only = process.argv[4];
function measure(name, calls, fn) {
  if (only && !name.includes(only)) return;
  for (let i = 0; i < Math.min(calls, 2000); i++) fn(i); // warm up (JIT, first-call setup)
  let best = { wall: Infinity, cpu: Infinity };
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) fn(i);
    const wall = Number(process.hrtime.bigint() - t0) / calls;
    const c = process.cpuUsage(c0);
    const cpu = ((c.user + c.system) * 1e3) / calls;
    if (wall < best.wall) best = { wall, cpu };
  }
  console.log(`${name.padEnd(44)} ${best.wall.toFixed(0).padStart(7)} ns/call wall ${best.cpu.toFixed(0).padStart(7)} ns/call cpu`);
}

// The native entry points alone (lib/native.ts's forwarder in front), one options object reused.
const addon = require(path.join(root, 'dist', 'lib', 'native')).native();
const fill = { out: new Float32Array(16), kind: 2, keyLo: 1, keyHi: 0, stream: 0, path: 0, step: 0, first: 0, device: 0, control: null, async: false };
measure('native rngFill, 11 keys, 1e5 calls', 1e5, (i) => { fill.keyLo = i; addon.rngFill(fill); });
const dW = new Float32Array(8);
const brown = { dW, J: null, paths: 4, pathOffset: 0, m: 2, step: 0, refine: 1, stream: 0, keyLo: 1, keyHi: 0, h: 0.01, device: 0 };
measure('native sdeBrownian, 12 keys, 1e5 calls', 1e5, (i) => { brown.step = i; addon.sdeBrownian(brown); });
{
  const x = new Float32Array(8), f = new Float32Array(8), g = new Float32Array(8).fill(0.1);
  measure('native sdeUpdate, 16 keys, 1e5 calls', 1e5, () =>
    addon.sdeUpdate({ op: 0, noise: 0, paths: 4, d: 2, m: 2, h: 0.01, x, y: x, f1: f, f2: null, g1: g, g2: null, gdg: null, dW, J: null, device: 0 }));
}
measure('rng.normal(16) sync, 1e5 calls', 1e5, (i) => lib.rng.normal(16, { seed: i, device: 'cpu' }));
measure('rng.randn 4x4 sync, 1e5 calls', 1e5, (i) => lib.rng.randn({ seed: i, paths: 4, dim: 4, device: 'cpu' }));
const stepper = lib.sde.createStepper({ paths: 4, dim: 2, seed: 1, device: 'cpu' });
const x = new Float32Array(8), f = new Float32Array(8), g = new Float32Array(8).fill(0.1);
measure('sde stepper step (brownian+update), 1e5', 1e5, () => stepper.step(x, f, g, 0, 0.01));
const net = new lib.nn.MLP({ sizes: [2, 8, 2], seed: 1 });
const xin = new Float32Array(2);
measure('nn.MLP forward 1 row, 5e4 calls', 5e4, () => net.forward(xin));

#!/usr/bin/env node
// Where an end-to-end call spends the time that its kernel does not: runs rng.normal(1e7) and
// fbm.sample (K = 5 type II exact, 1e4 paths x 1000 steps) on 1 thread, each alternately
//   fresh  - the public call, which returns a new output array (what the benchmarks time), and
//   reused - the same native call with the same arguments into an output that is already touched,
// and prints the minimum and median wall and CPU time (process.cpuUsage) of each. fresh - reused
// is the cost of the new output's memory (allocation, first-touch faults, kernel zeroing, the GC
// that frees the previous one) plus the JS work of the call (docs/design/cpu-rng-kernels.md
// "Fresh outputs"). CPU time is the figure to read on a shared machine.
//   node tools/fresh_output_split.js [packageDir] [reps]   (after npx tsc -p tsconfig.build.json)
'use strict';
const path = require('path');
const root = path.resolve(process.argv[2] || path.join(__dirname, '..'));
const reps = Number(process.argv[3] || 9);
const itokit = require(root);
const { native } = require(path.join(root, 'dist/lib/native'));
const { fbmAddon } = require(path.join(root, 'dist/lib/fbm/addon'));

itokit.setThreads(1);
const GHZ = 3.45;

function measure(f) {
  const c0 = process.cpuUsage();
  const s = process.hrtime.bigint();
  f();
  const wall = Number(process.hrtime.bigint() - s) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e3 };
}

function report(what, units, cases) {
  const rows = {};
  for (const k of Object.keys(cases)) cases[k]();  // warm-up
  for (let i = 0; i < reps; i++) for (const k of Object.keys(cases)) (rows[k] ||= []).push(measure(cases[k]));
  const stat = (xs) => {
    const s = xs.slice().sort((a, b) => a - b);
    return { min: s[0], med: s[Math.floor(s.length / 2)] };
  };
  const out = {};
  for (const [k, r] of Object.entries(rows)) {
    const w = stat(r.map((x) => x.wall));
    const c = stat(r.map((x) => x.cpu));
    out[k] = c.min;
    console.log(
      `${what} ${k.padEnd(6)} wall min ${w.min.toFixed(2)} med ${w.med.toFixed(2)} ms | CPU min ${c.min.toFixed(2)} med ${c.med.toFixed(2)} ms` +
        ` = ${((units / c.min) * 1e3).toExponential(2)}/CPU-s, ${((c.min / 1e3) * GHZ * 1e9 / units).toFixed(2)} cycles/unit at ${GHZ} GHz`,
    );
  }
  console.log(`${what} fresh - reused: ${(out.fresh - out.reused).toFixed(2)} ms CPU`);
}

// rng.normal(1e7): the native fill with the arguments rng.normal passes (kind 2 = float32 normals).
{
  const n = 1e7;
  const o = { seed: 1, device: 'cpu' };
  const kept = new Float32Array(n);
  const args = { out: kept, kind: 2, keyLo: 1, keyHi: 0, stream: 0, path: 0, step: 0, first: 0, device: 0, control: null, async: false };
  const ref = itokit.rng.normal(n, o);
  native().rngFill(args);
  if (Buffer.compare(Buffer.from(ref.buffer), Buffer.from(kept.buffer)) !== 0) throw new Error('replayed rngFill differs from rng.normal');
  report('rng.normal 1e7', n, { fresh: () => itokit.rng.normal(n, o), reused: () => native().rngFill(args) });
}

// fbm.sample: capture the native call's arguments once, then replay them into the captured output.
{
  const P = 1e4, N = 1000;
  const mo = { hurst: 0.3, type: 'II', n: N, paths: P, K: 5, scheme: 'exact', seed: 1, device: 'cpu' };
  const addon = fbmAddon();
  const call = addon.fbmMarkovSample;
  let args = null;
  addon.fbmMarkovSample = (a) => {
    args = a;
    return call.call(addon, a);
  };
  try {
    itokit.fbm.sampleSync(mo);
  } finally {
    addon.fbmMarkovSample = call;
  }
  report('fbm 1e4x1000 ', P * N, { fresh: () => itokit.fbm.sampleSync(mo), reused: () => call.call(addon, args) });
  const coeffs = measure(() => { for (let i = 0; i < 10; i++) itokit.fbm.markovCoefficients({ hurst: 0.3, type: 'II', K: 5 }); });
  console.log(`fbm markovCoefficients K = 5 (part of every fresh call): ${(coeffs.cpu / 10).toFixed(2)} ms CPU`);
}

#!/usr/bin/env node
// Exports itokit's reference OT problems (docs/design/ot.md §7) for the Python baselines: one
// JSON header (name, n, m, reg list) and raw little-endian float64 C, a, b per problem, so that
// Python never regenerates them. Needs the compiled package: `npx tsc -p tsconfig.build.json`.
//   node tools/ot_export.js <outdir> R3:400x300 R1:200 ...
'use strict';
const fs = require('fs');
const path = require('path');
const { ot } = require(path.join(__dirname, '..', 'dist', 'lib'));

const [outdir, ...specs] = process.argv.slice(2);
fs.mkdirSync(outdir, { recursive: true });
for (const spec of specs) {
  const [name, size = ''] = spec.split(':');
  const [n, m] = size.split('x').map(Number);
  const p = ot.referenceProblem(name, { n: n || undefined, m: m || n || undefined });
  const base = path.join(outdir, spec.replace(/[:x]/g, '_'));
  fs.writeFileSync(`${base}.json`, JSON.stringify({ name, n: p.n, m: p.m }));
  for (const k of ['C', 'a', 'b']) fs.writeFileSync(`${base}.${k}.f64`, Buffer.from(p[k].buffer, p[k].byteOffset, p[k].byteLength));
  console.log(base);
}

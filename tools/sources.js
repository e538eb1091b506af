#!/usr/bin/env node
// The one list of native sources, read by both build files: binding.gyp (CPU-only, node-gyp) and
// CMakeLists.txt (cmake-js, CUDA when found). Every .cc and every .cu under native/ is a source; an
// area's CUDA files live in native/<area>/cuda/, and files whose name ends in `cuda_stub.cc` stand in
// for them when CUDA is off (native/core/cuda_stub.cc, native/<area>/<area>_cuda_stub.cc).
//   node tools/sources.js gyp        -> CPU sources with the stub, space separated (relative)
//   node tools/sources.js cmake-cpu  -> CPU sources without the stub, ';' separated (relative)
//   node tools/sources.js cmake-stubs -> the CUDA stand-ins, ';' separated (relative)
//   node tools/sources.js cmake-cuda -> CUDA sources, ';' separated (relative)
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const isStub = (f) => f.endsWith('cuda_stub.cc');

function walk(dir, ext) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  const out = [];
  for (const e of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...walk(rel, ext));
    else if (e.name.endsWith(ext)) out.push(rel);
  }
  return out;
}

const all = walk('native', '.cc');
const cpu = all.filter((f) => !isStub(f));
const stubs = all.filter(isStub);
const cuda = walk('native', '.cu');
const which = process.argv[2] || 'gyp';
if (which === 'gyp') process.stdout.write(cpu.concat(stubs).join(' '));
else if (which === 'cmake-stubs') process.stdout.write(stubs.join(';'));
else if (which === 'cmake-cpu') process.stdout.write(cpu.join(';'));
else if (which === 'cmake-cuda') process.stdout.write(cuda.join(';'));
else {
  console.error(`unknown list ${which}`);
  process.exit(1);
}

#!/usr/bin/env node
// Produces the portable prebuilt binary prebuilds/<platform>-<arch>/itokit.napi.node, which
// node-gyp-build loads when there is no build/ folder (the production path: installs with
// --ignore-scripts need no compiler).
//   node tools/prebuild.js                     cmake-js build, CUDA for the full architecture list when nvcc exists
//   node tools/prebuild.js --from <file.node>  copy an existing build instead (CI reuses its build)
// The binary is portable because nothing is compiled with -march: hot kernels pick AVX2/AVX-512
// paths at run time.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const fromIdx = args.indexOf('--from');
let source;
if (fromIdx >= 0) {
  source = path.resolve(args[fromIdx + 1] || '');
  if (!fs.existsSync(source)) {
    console.error(`prebuild: ${source} does not exist`);
    process.exit(1);
  }
} else {
  const out = path.join(root, 'build-prebuild');
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const archs = process.env.ITOKIT_CUDA_ARCHS ? [`--CDITOKIT_CUDA_ARCHS=${process.env.ITOKIT_CUDA_ARCHS}`] : [];
  execFileSync(process.execPath, [cmakeJs, 'rebuild', '--CDITOKIT_CUDA=AUTO', ...archs, '-O', out], { cwd: root, stdio: 'inherit' });
  source = path.join(out, 'Release', 'itokit.node');
}
const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
fs.mkdirSync(dir, { recursive: true });
const target = path.join(dir, 'itokit.napi.node');
fs.copyFileSync(source, target);
console.log(`prebuild: ${path.relative(root, source)} -> ${path.relative(root, target)} (${(fs.statSync(target).size / 1e6).toFixed(1)} MB)`);

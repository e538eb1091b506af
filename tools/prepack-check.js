#!/usr/bin/env node
// `npm pack` / `npm publish` pre-hook: refuses to pack unless prebuilds/ holds, for every
// architecture package.json's `cpu` lists, one binary named the way prebuildify names it and
// node-gyp-build matches it (itokit.<libc>.node). A tarball without one would make that
// architecture's consumers compile the addon at install time, and fail outright with
// --ignore-scripts (npm 11's default for dependencies), which is never intended. A binary without a
// libc tag would be offered to musl (Alpine) hosts, where a glibc build cannot load.
// ITOKIT_PACK_ARCHS=x64 narrows the check for a local, single-architecture pack.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
const archs = process.env.ITOKIT_PACK_ARCHS ? process.env.ITOKIT_PACK_ARCHS.split(',') : pkg.cpu;
const platforms = pkg.os;
const problems = [];
const found = [];
for (const platform of platforms) {
  for (const arch of archs) {
    const rel = `prebuilds/${platform}-${arch}`;
    const dir = path.join(root, rel);
    const binaries = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
    const tagged = binaries.filter((f) => /^itokit\.(glibc|musl)\.node$/.test(f));
    if (tagged.length === 0) problems.push(`${rel}/ holds no itokit.<glibc|musl>.node${binaries.length ? ` (found ${binaries.join(', ')})` : ''}`);
    else if (tagged.length !== binaries.length) problems.push(`${rel}/ holds untagged or foreign binaries: ${binaries.filter((f) => !tagged.includes(f)).join(', ')}`);
    else found.push(...tagged.map((f) => `${rel}/${f} (${(fs.statSync(path.join(dir, f)).size / 1e6).toFixed(1)} MB)`));
  }
}
if (problems.length) {
  console.error(
    `prepack: refusing to pack:\n  ${problems.join('\n  ')}\n` +
      'Make them first:\n' +
      '  npm run build:prebuilds                         # x64 (CUDA when nvcc is found) and arm64 (needs g++-aarch64-linux-gnu)\n' +
      '  node tools/prebuild.js --arch arm64             # one architecture\n' +
      '  node tools/prebuild.js --from build/Release/itokit.node   # copy the x64 binary you already built\n' +
      'ITOKIT_PACK_ARCHS=x64 npm pack checks only the listed architectures (a local, partial tarball).',
  );
  process.exit(1);
}
// stderr: `npm pack --json` prints its JSON on stdout
console.error(`prepack: ${found.join(', ')}`);

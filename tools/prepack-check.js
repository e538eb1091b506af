#!/usr/bin/env node
// `npm pack` / `npm publish` pre-hook: refuses to pack when prebuilds/<platform>-<arch>/ holds no
// binary. A tarball without one would make every consumer compile the addon at install time (and
// fail outright with --ignore-scripts, npm 11's default for dependencies), which is never intended.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const target = `${process.platform}-${process.arch}`;
const dir = path.join(root, 'prebuilds', target);
const binaries = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
if (binaries.length === 0) {
  console.error(
    `prepack: refusing to pack: prebuilds/${target}/ holds no prebuilt binary (*.node).\n` +
      'Make one first:\n' +
      '  npm run build:prebuilds                              # cmake-js build; CUDA when nvcc is found (ITOKIT_CUDA_ARCHS to narrow)\n' +
      '  node tools/prebuild.js --from build/Release/itokit.node   # or copy the binary you already built\n',
  );
  process.exit(1);
}
console.log(`prepack: prebuilds/${target}/${binaries.join(', ')}`);

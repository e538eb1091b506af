#!/usr/bin/env bash
# The production path: `npm pack` must carry the prebuilt binary, and a consumer that installs the
# tarball with --ignore-scripts (npm 11 does not run a dependency's install scripts unless
# approved) must be able to require('itokit') with no compiler involved.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -n "$(ls prebuilds/*/itokit.napi.node 2>/dev/null)" ] || { echo "check-pack: no prebuilt binary; run npm run prebuild first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --pack-destination "$tmp" >/dev/null
tarball=$(ls "$tmp"/itokit-*.tgz)
tar -tzf "$tarball" > "$tmp/contents"
grep -q 'package/prebuilds/.*/itokit.napi.node' "$tmp/contents" || { echo "check-pack: tarball lacks the prebuilt binary" >&2; exit 1; }
grep -q 'package/dist/lib/index.js' "$tmp/contents" || { echo "check-pack: tarball lacks the compiled library" >&2; exit 1; }
mkdir "$tmp/app"
cd "$tmp/app"
npm init -y >/dev/null
# No compiler on the PATH for the consumer: a build attempt would fail loudly.
PATH_NO_CC=$(mktemp -d)
for t in cc gcc g++ c++ make; do printf '#!/bin/sh\necho "check-pack: compiler invoked" >&2; exit 1\n' > "$PATH_NO_CC/$t"; chmod +x "$PATH_NO_CC/$t"; done
PATH="$PATH_NO_CC:$PATH" npm install --silent --ignore-scripts "$tarball" >/dev/null
[ ! -e node_modules/itokit/build ] || { echo "check-pack: unexpected build/ folder in the installed package" >&2; exit 1; }
node -e "
const itokit = require('itokit');
const z = itokit.rng.normal(8, { seed: 1 });
if (z.length !== 8 || !z.every(Number.isFinite)) throw new Error('bad output');
const b = itokit.backends();
console.log('check-pack: require(\"itokit\") works from the tarball; CUDA ' + (b.cuda.compiled ? 'compiled in' : 'not compiled') + ', ' + (b.cuda.available ? 'available' : 'unavailable: ' + b.cuda.reason));
"
./node_modules/.bin/itokit info >/dev/null
echo "check-pack: ok"

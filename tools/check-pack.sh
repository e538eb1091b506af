#!/usr/bin/env bash
# The production path: `npm pack` must carry the prebuilt binary, and a consumer that installs the
# tarball with --ignore-scripts (npm 11 does not run a dependency's install scripts unless
# approved) must be able to require('itokit') with no compiler involved.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -n "$(ls prebuilds/*/itokit.napi.node 2>/dev/null)" ] || { echo "check-pack: no prebuilt binary; run 'npm run build:prebuilds' (or node tools/prebuild.js --from build/Release/itokit.node) first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --pack-destination "$tmp" >/dev/null
tarball=$(ls "$tmp"/itokit-*.tgz)
tar -tzf "$tarball" > "$tmp/contents"
grep -q 'package/prebuilds/.*/itokit.napi.node' "$tmp/contents" || { echo "check-pack: tarball lacks the prebuilt binary" >&2; exit 1; }
grep -q 'package/dist/lib/index.js' "$tmp/contents" || { echo "check-pack: tarball lacks the compiled library" >&2; exit 1; }
for f in package/LICENSE package/CHANGELOG.md package/README.md package/docs/sde.md package/benchmarks/rng.md package/benchmarks/anchors/normals.py package/dist/benchmarks/rng.bench.js; do
  grep -qx "$f" "$tmp/contents" || { echo "check-pack: tarball lacks $f" >&2; exit 1; }
done
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
./node_modules/.bin/itokit info --json | node -e "const j=JSON.parse(require('fs').readFileSync(0,'utf8')); if(!/prebuilds/.test(j.binary)) throw new Error('info --json: binary ' + j.binary + ' is not the prebuilt one'); console.log('check-pack: info --json names ' + j.binary)"
# the installed package runs its compiled benchmarks and writes only to the folder it is given
touch "$tmp/marker"
./node_modules/.bin/itokit bench rng --quick --no-anchors --json --out "$tmp/bench" > "$tmp/bench.json" 2>/dev/null
node -e "const d=require('$tmp/bench.json'); if(d.areas[0].area!=='rng'||!d.areas[0].rows.length) throw new Error('bench output');"
[ -f "$tmp/bench/rng.json" ] || { echo "check-pack: itokit bench wrote no $tmp/bench/rng.json" >&2; exit 1; }
[ -z "$(find node_modules/itokit -newer "$tmp/marker" -print -quit)" ] || { echo "check-pack: itokit bench wrote into the installed package" >&2; exit 1; }
echo "check-pack: itokit bench runs from the installed package and writes outside it"
echo "check-pack: ok"

#!/usr/bin/env bash
# The production path: `npm pack` must carry the prebuilt binary, and a consumer that installs the
# tarball with --ignore-scripts (npm 11 does not run a dependency's install scripts unless
# approved) must be able to require('itokit') with no compiler involved.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Environment: ITOKIT_EXPECT_CUDA=1 requires the x64 binary to report backends().cuda.compiled;
# ITOKIT_CHECK_ARM64=1 also loads the installed package with an arm64 Node under qemu
# (tools/arm64/node.sh) and requires its RNG/SDE/fBM output digests to equal the x64 ones.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# prepack (tools/prepack-check.js) refuses unless every architecture in package.json's cpu has its binary
npm pack --silent --pack-destination "$tmp" >/dev/null
tarball=$(ls "$tmp"/itokit-*.tgz)
bytes=$(stat -c %s "$tarball")
echo "check-pack: $(basename "$tarball") is $bytes bytes ($(awk "BEGIN{printf \"%.1f\", $bytes/1e6}") MB)"
[ "$bytes" -le 40000000 ] || { echo "check-pack: tarball over the 40 MB budget" >&2; exit 1; }
tar -tzf "$tarball" > "$tmp/contents"
for arch in x64 arm64; do
  grep -qx "package/prebuilds/linux-$arch/itokit.glibc.node" "$tmp/contents" || { echo "check-pack: tarball lacks prebuilds/linux-$arch/itokit.glibc.node" >&2; exit 1; }
done
! grep -q '^package/docs/api/' "$tmp/contents" || { echo "check-pack: the generated API reference (docs/api) is in the tarball" >&2; exit 1; }
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
if (process.env.ITOKIT_EXPECT_CUDA === '1' && !b.cuda.compiled) throw new Error('the packed x64 binary has no CUDA backend (ITOKIT_EXPECT_CUDA=1)');
"
# on musl (LIBC=musl is how node-gyp-build is told) the glibc binaries are skipped: a coded error that says so
LIBC=musl node -e "
try { require('itokit').rng.normal(2, { seed: 1 }); throw new Error('loaded a glibc binary for musl'); }
catch (e) { if (e.code !== 'ERR_ITOKIT_NATIVE_LOAD' || !/musl/.test(e.message)) throw e; }
console.log('check-pack: on musl, require(\"itokit\") fails with ERR_ITOKIT_NATIVE_LOAD naming musl');
"
if [ "${ITOKIT_CHECK_ARM64:-0}" = 1 ]; then
  # the same installed files, loaded by an arm64 Node: prebuilds/linux-arm64 must load and compute the same bits
  node "$root/tools/bits-digest.js" node_modules/itokit > "$tmp/digest-x64.json"
  "$root/tools/arm64/node.sh" "$root/tools/bits-digest.js" node_modules/itokit > "$tmp/digest-arm64.json"
  node -e "
const [a, b] = [process.argv[1], process.argv[2]].map((f) => require(f));
if (a.arch !== 'x64' || b.arch !== 'arm64') throw new Error('digest runs on ' + a.arch + ' and ' + b.arch);
const keys = Object.keys(a).filter((k) => k !== 'arch' && k !== 'features');
const diff = keys.filter((k) => a[k] !== b[k]);
if (diff.length) throw new Error('arm64 bits differ from x64: ' + diff.join(', '));
console.log('check-pack: arm64 (qemu) loads the packed binary; ' + keys.length + ' RNG/SDE/fBM output digests equal x64');
" "$tmp/digest-x64.json" "$tmp/digest-arm64.json"
fi
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

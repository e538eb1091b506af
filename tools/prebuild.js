#!/usr/bin/env node
// Makes the prebuilt binaries the npm tarball carries, named the way prebuildify names them and
// node-gyp-build finds them: prebuilds/<platform>-<arch>/itokit.<libc>.node (N-API, so one
// binary serves every Node version; the libc tag keeps a glibc binary from being offered on musl).
// docs/design/packaging.md says which step prebuildify does and why the CUDA one is done here.
//
//   node tools/prebuild.js                    the release set: linux-x64 with CUDA (cmake-js, every
//                                             architecture from sm_75, PTX for the newest) when nvcc is
//                                             found, else CPU-only with prebuildify; then linux-arm64
//                                             cross-compiled with prebuildify when the cross compiler is found
//   node tools/prebuild.js --arch x64         one architecture only (x64 or arm64)
//   node tools/prebuild.js --cpu-only         x64 with prebuildify/node-gyp even when nvcc exists
//   node tools/prebuild.js --from <file.node> copy (and strip) a binary already built for this machine
//
// ITOKIT_CUDA_ARCHS narrows the CUDA list (CI builds 75-real only). build/ is moved aside while
// prebuildify runs (node-gyp rebuild deletes it) and put back afterwards. Nothing is compiled with
// -march: x64 kernels pick AVX2/AVX-512 paths at run time, arm64 runs the scalar paths.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

// The cross toolchains prebuildify drives for a foreign architecture (Debian package names).
const CROSS = {
  arm64: { triple: 'aarch64-linux-gnu', apt: 'g++-aarch64-linux-gnu' },
};

function hostLibc() {
  if (process.platform !== 'linux') return undefined;
  // node-gyp-build decides the same way (LIBC, else musl on Alpine); the report tells glibc from musl elsewhere.
  if (process.env.LIBC) return process.env.LIBC;
  const header = process.report && process.report.getReport().header;
  return header && header.glibcVersionRuntime ? 'glibc' : 'musl';
}

/** prebuildify 6's file name for an N-API build: <package name>[.<libc>].node (no runtime or ABI tag: any Node with N-API 8 loads it). */
function prebuildName(libc) {
  return [pkg.name, libc].filter(Boolean).join('.') + '.node';
}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

/** node-gyp as npm ships it: prebuildify looks for node_modules/.bin/node-gyp, which the project does not install. */
function nodeGypPath() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const npmRoot = path.resolve(path.dirname(fs.realpathSync(which('npm') || '/usr/bin/npm')), '..');
    const p = path.join(npmRoot, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (!fs.existsSync(p)) throw new Error('prebuild: node-gyp not found (neither a dependency nor bundled with npm)');
    return p;
  }
}

function targetDir(arch) {
  return path.join(root, 'prebuilds', `${process.platform}-${arch}`);
}

function clearTarget(arch) {
  const dir = targetDir(arch);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.node')) fs.rmSync(path.join(dir, f));
  return dir;
}

function strip(file, arch) {
  if (process.platform !== 'linux') return;
  const tool = arch === process.arch ? 'strip' : `${CROSS[arch].triple}-strip`;
  execFileSync(tool, ['--strip-all', file], { stdio: 'inherit' });
}

function report(file) {
  console.log(`prebuild: ${path.relative(root, file)} (${(fs.statSync(file).size / 1e6).toFixed(1)} MB)`);
}

/** Runs prebuildify (node-gyp, CPU backend) for `arch`, keeping an existing build/ folder. */
function withPrebuildify(arch) {
  const env = { ...process.env, npm_config_nodedir: process.env.npm_config_nodedir || (fs.existsSync('/usr/include/node/node_api.h') ? '/usr' : '') };
  if (!env.npm_config_nodedir) delete env.npm_config_nodedir;
  env.npm_config_jobs = env.npm_config_jobs || process.env.JOBS || '2';
  const flags = ['--napi', '--strip', '--tag-libc', '--arch', arch, '--node-gyp', nodeGypPath()];
  if (arch !== process.arch) {
    const cross = CROSS[arch];
    if (!cross) throw new Error(`prebuild: no cross toolchain known for ${arch}`);
    if (!which(`${cross.triple}-g++`)) throw new Error(`prebuild: ${cross.triple}-g++ not found (apt-get install ${cross.apt})`);
    Object.assign(env, { CC: `${cross.triple}-gcc`, CXX: `${cross.triple}-g++`, AR: `${cross.triple}-ar`, LINK: `${cross.triple}-g++` });
    flags.push('--strip-bin', `${cross.triple}-strip`);
  }
  const build = path.join(root, 'build');
  const saved = path.join(root, 'build.prebuild-saved');
  const hadBuild = fs.existsSync(build);
  if (hadBuild) {
    fs.rmSync(saved, { recursive: true, force: true });
    fs.renameSync(build, saved);
  }
  clearTarget(arch);
  try {
    execFileSync(process.execPath, [require.resolve('prebuildify/bin.js'), ...flags], { cwd: root, env, stdio: 'inherit' });
  } finally {
    fs.rmSync(build, { recursive: true, force: true });
    if (hadBuild) fs.renameSync(saved, build);
  }
  const file = path.join(targetDir(arch), prebuildName(arch === process.arch ? hostLibc() : 'glibc'));
  if (!fs.existsSync(file)) throw new Error(`prebuild: prebuildify did not produce ${path.relative(root, file)}`);
  report(file);
}

/** cmake-js with CUDA (static runtime): prebuildify only drives node-gyp, so this step names the file itself. */
function withCmakeCuda() {
  const out = path.join(root, 'build-prebuild');
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const archs = process.env.ITOKIT_CUDA_ARCHS ? [`--CDITOKIT_CUDA_ARCHS=${process.env.ITOKIT_CUDA_ARCHS}`] : [];
  execFileSync(process.execPath, [cmakeJs, 'rebuild', '--CDITOKIT_CUDA=ON', ...archs, '-O', out, '-p', process.env.JOBS || '2'], { cwd: root, stdio: 'inherit' });
  install(path.join(out, 'Release', 'itokit.node'), process.arch);
}

/** Copies a finished binary for this machine into the prebuilds folder under prebuildify's name, stripped. */
function install(source, arch) {
  const target = path.join(clearTarget(arch), prebuildName(hostLibc()));
  fs.copyFileSync(source, target);
  strip(target, arch);
  report(target);
}

function main() {
  const from = opt('--from');
  if (from) {
    const source = path.resolve(from);
    if (!fs.existsSync(source)) throw new Error(`prebuild: ${source} does not exist`);
    install(source, process.arch);
    return;
  }
  const only = opt('--arch');
  if (only && only !== process.arch && !CROSS[only]) throw new Error(`prebuild: --arch must be ${process.arch} or one of ${Object.keys(CROSS).join(', ')}`);
  const arches = only ? [only] : [process.arch, ...Object.keys(CROSS).filter((a) => a !== process.arch)];
  for (const arch of arches) {
    if (arch === process.arch) {
      if (!args.includes('--cpu-only') && which('nvcc')) withCmakeCuda();
      else withPrebuildify(arch);
    } else if (only || which(`${CROSS[arch].triple}-g++`)) {
      withPrebuildify(arch);
    } else {
      console.warn(`prebuild: skipping ${arch}: ${CROSS[arch].triple}-g++ not found (apt-get install ${CROSS[arch].apt})`);
    }
  }
}

try {
  main();
} catch (err) {
  console.error(err.message);
  process.exit(1);
}

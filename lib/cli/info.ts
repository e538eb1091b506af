/**
 * `itokit info`: version, backends, threads and CPU features.
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends } from '../backends';
import { nativeBinaryPath, packageRoot } from '../native';
import { version } from '../version';

/** How the loaded binary was built, as far as the files beside it tell. */
export interface BuildInfo {
  /** 'node-gyp' or 'cmake-js' (a build/ folder), 'prebuilt' (prebuilds/), 'override' (ITOKIT_NATIVE_PATH) or 'unknown'. */
  builder: 'node-gyp' | 'cmake-js' | 'prebuilt' | 'override' | 'unknown';
  /** Compiler flags and build options when known (node-gyp: binding.gyp; cmake-js: CMakeCache.txt). */
  flags?: Record<string, string | string[]>;
}

/** What `itokit info --json` prints. */
export interface InfoJson {
  itokit: string;
  node: string;
  platform: string;
  /** The loaded addon file. */
  binary: string | undefined;
  build: BuildInfo;
  /** N-API: the version the runtime offers and the one the addon is compiled against. */
  napi: { runtime: number; binary: number | undefined };
  cpu: { model: string; cores: number; threads: number; arch: string; features: string[] };
  cuda: ReturnType<typeof backends>['cuda'];
}

function readCMakeCache(file: string): Record<string, string> {
  const want = ['CMAKE_BUILD_TYPE', 'CMAKE_CXX_COMPILER', 'CMAKE_CXX_FLAGS', 'CMAKE_CXX_FLAGS_RELEASE', 'ITOKIT_CUDA', 'ITOKIT_CUDA_ARCHS', 'ITOKIT_SANITIZE', 'CMAKE_CUDA_COMPILER'];
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Za-z_]+):[A-Z]+=(.*)$/.exec(line);
    if (m && want.includes(m[1])) out[m[1]] = m[2];
  }
  return out;
}

/** Build details of `binary` from the files around it (best effort; never throws). */
export function buildInfo(binary: string | undefined): BuildInfo {
  try {
    if (!binary) return { builder: 'unknown' };
    if (process.env.ITOKIT_NATIVE_PATH) return { builder: 'override' };
    if (binary.includes(`${path.sep}prebuilds${path.sep}`)) return { builder: 'prebuilt', flags: { file: path.basename(binary), note: process.arch === 'x64' ? 'portable build (tools/prebuild.js): no -march, AVX2/AVX-512 kernels chosen at run time' : 'portable build (tools/prebuild.js): scalar kernels (no NEON paths yet)' } };
    const buildDir = path.resolve(path.dirname(binary), '..');
    const cache = path.join(buildDir, 'CMakeCache.txt');
    if (fs.existsSync(cache)) return { builder: 'cmake-js', flags: readCMakeCache(cache) };
    if (fs.existsSync(path.join(buildDir, 'config.gypi'))) {
      const gyp = JSON.parse(fs.readFileSync(path.join(packageRoot, 'binding.gyp'), 'utf8')) as { targets: { defines?: string[]; cflags_cc?: string[] }[] };
      return { builder: 'node-gyp', flags: { cflags_cc: gyp.targets[0].cflags_cc ?? [], defines: gyp.targets[0].defines ?? [] } };
    }
  } catch {
    // fall through: unknown
  }
  return { builder: 'unknown' };
}

/** The addon's N-API version: the NAPI_VERSION it is compiled with (package.json binary.napi_versions). */
function binaryNapi(): number | undefined {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { binary?: { napi_versions?: number[] } };
    return pkg.binary?.napi_versions?.[0];
  } catch {
    return undefined;
  }
}

/** Machine-readable summary of the installation (`itokit info --json`). */
export function infoJson(): InfoJson {
  const b = backends(); // loads the addon
  const binary = nativeBinaryPath();
  return {
    itokit: version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    binary,
    build: buildInfo(binary),
    napi: { runtime: Number(process.versions.napi), binary: binaryNapi() },
    cpu: { model: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, threads: b.cpu.threads, arch: b.cpu.arch, features: b.cpu.features },
    cuda: b.cuda,
  };
}

/** Human-readable summary of the installation. */
export function infoText(): string {
  const b = backends();
  const lines = [
    `itokit ${version} (Node ${process.version}, ${process.platform}-${process.arch})`,
    `binary: ${nativeBinaryPath() ?? 'unknown'} (${buildInfo(nativeBinaryPath()).builder})`,
    `CPU: ${os.cpus()[0]?.model ?? 'unknown'}; pool ${b.cpu.threads} thread(s); features: ${b.cpu.features.join(' ') || 'baseline'}`,
  ];
  if (b.cuda.available) {
    lines.push(`CUDA: available (runtime ${b.cuda.runtimeVersion}, driver ${b.cuda.driverVersion})`);
    for (const d of b.cuda.devices) {
      lines.push(`  [${d.index}] ${d.name}, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, compute ${d.computeCapability}, ${d.multiprocessors} SMs`);
    }
  } else {
    lines.push(`CUDA: unavailable (${b.cuda.compiled ? 'compiled in' : 'not compiled in'}): ${b.cuda.reason ?? 'unknown reason'}`);
  }
  return lines.join('\n');
}

/**
 * The only file that loads the native addon. Everything else imports {@link native}.
 * @internal
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { InvalidArgumentError, NativeLoadError } from './errors';

/** Control block of a call (lib/run.ts), or null for the job's own. */
type Control = Float64Array | null;

/** Inputs of native philox4x32 (native/bindings/rng.cc). @internal */
export interface PhiloxArgs {
  counter: Uint32Array;
  key: Uint32Array;
  rounds: number;
  out: Uint32Array;
}

/** Inputs of native rngFill: draws `first ..` of (key, stream, path, step) into `out` (native/bindings/rng.cc). @internal */
export interface RngFillArgs {
  /** TypedArray of the kind's element type, or a device handle. */
  out: Float32Array | Float64Array | Uint32Array | object;
  /** 0 uniform32, 1 uniform64, 2 normal32, 3 normal64, 4 bits. */
  kind: number;
  keyLo: number;
  keyHi: number;
  stream: number;
  path: number;
  step: number;
  first: number;
  /** 0 cpu, 1 cuda. */
  device: number;
  control: Control;
  async: boolean;
}

/** Inputs of native rngRandn: a paths × dim block of step normals (native/bindings/rng.cc). @internal */
export interface RngRandnArgs {
  out: Float32Array | object;
  paths: number;
  dim: number;
  keyLo: number;
  keyHi: number;
  stream: number;
  pathOffset: number;
  step: number;
  device: number;
  control: Control;
  async: boolean;
}

/** Inputs of native setThreads (native/bindings/core.cc). @internal */
export interface SetThreadsArgs {
  threads: number;
}

/** Inputs of native jobCancel: drops the queued call owning this control block (native/bindings/core.cc). @internal */
export interface JobCancelArgs {
  control: Float64Array;
}

/** Inputs of native deviceAlloc (native/bindings/device.cc). @internal */
export interface DeviceAllocArgs {
  bytes: number;
}
/** Inputs of native deviceFree. @internal */
export interface DeviceFreeArgs {
  handle: object;
}
/** Inputs of native deviceUpload. @internal */
export interface DeviceUploadArgs {
  handle: object;
  src: ArrayBufferView;
}
/** Inputs of native deviceDownload. @internal */
export interface DeviceDownloadArgs {
  handle: object;
  dst: ArrayBufferView;
}
/** Inputs of native deviceCopy. @internal */
export interface DeviceCopyArgs {
  dst: object;
  src: object;
  bytes: number;
}
/** Inputs of native deviceBroadcastRows: `row` copied into each of `rows` rows of the handle. @internal */
export interface DeviceBroadcastRowsArgs {
  handle: object;
  row: Float32Array | Float64Array;
  rows: number;
}
/** Inputs of native devicePinnedCopySeconds. @internal */
export interface DevicePinnedCopySecondsArgs {
  bytes: number;
}

/**
 * Raw native surface of the core, rng and device areas; arguments are validated by the TypeScript
 * callers before they get here. Every entry point takes one options object whose keys the C++
 * side reads by name (docs/design/bindings.md); test/binding-keys.test.ts checks both sides agree.
 */
export interface NativeAddon {
  backends(): BackendsRaw;
  getThreads(): number;
  setThreads(o: SetThreadsArgs): void;
  philox4x32(o: PhiloxArgs): void;
  rngFill(o: RngFillArgs): Promise<void> | undefined;
  rngRandn(o: RngRandnArgs): Promise<void> | undefined;
  jobCancel(o: JobCancelArgs): boolean;
  deviceAlloc(o: DeviceAllocArgs): object;
  deviceFree(o: DeviceFreeArgs): void;
  deviceUpload(o: DeviceUploadArgs): void;
  deviceDownload(o: DeviceDownloadArgs): void;
  deviceCopy(o: DeviceCopyArgs): void;
  deviceBroadcastRows(o: DeviceBroadcastRowsArgs): void;
  devicePinnedCopySeconds(o: DevicePinnedCopySecondsArgs): number;
  [name: string]: unknown;
}

/** @internal */
export interface BackendsRaw {
  cpu: { threads: number; arch: string; features: string[]; isa: 'scalar' | 'avx2' | 'avx512' | 'neon'; kernels: { rng: string; ot: string; qdot: string; fgemm: string; unetElem: string } };
  cuda: {
    compiled: boolean; available: boolean; reason?: string; runtimeVersion: number; driverVersion: number;
    devices: { index: number; name: string; totalMemory: number; computeCapability: string; multiprocessors: number }[];
  };
}

/** Package root: the nearest folder above this file holding itokit's package.json (lib/ under ts-jest, dist/lib/ once compiled). */
export const packageRoot = findPackageRoot(__dirname);

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && fs.existsSync(path.join(dir, 'binding.gyp'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(start, '..');
  }
}

let cached: NativeAddon | undefined;
let loadedFrom: string | undefined;

/** The file the addon was loaded from (undefined before the first load). @internal */
export function nativeBinaryPath(): string | undefined {
  return loadedFrom;
}

/** A JS Error with the code C++ gives a malformed call (lib/errors.ts fromNative maps it). */
function notOneObject(): Error {
  return Object.assign(new Error('a native call takes one options object'), { code: 'ERR_ITOKIT_INVALID_ARG' });
}

/** True for a plain options object (not an array, typed array, null or primitive). */
function isOptions(o: unknown): boolean {
  return typeof o === 'object' && o !== null && !Array.isArray(o) && !ArrayBuffer.isView(o);
}

/**
 * The calling convention's wire (docs/design/bindings.md): each native entry point registered with
 * `bind<F>` (native/bindings/napi_util.h) carries its key table as `f.keys` and takes the values
 * positionally in that order; this puts `(o) => f(o.k0, o.k1, …)` in front of it, so callers pass
 * one options object and the property reads happen here, in JIT-compiled code with inline caches,
 * instead of one Node-API lookup per key. The forwarder is generated as source so that every read
 * is a monomorphic named load (a shared loop over `o[key]` would be megamorphic); where code
 * generation is disabled (`--disallow-code-generation-from-strings`) a loop takes its place.
 */
function forwarder(name: string, f: (...a: unknown[]) => unknown, keys: readonly string[]): (o: unknown) => unknown {
  if (!keys.every((k) => /^[A-Za-z_$][\w$]*$/.test(k)) || !/^\w+$/.test(name)) throw new Error(`native ${name}: bad key table`);
  if (keys.length === 0) return () => f(); // an entry point without inputs is called with none
  try {
    const body =
      `return function ${name}(o) { if (!isOptions(o)) throw notOneObject(); ` +
      `return f(${keys.map((k) => `o.${k}`).join(', ')}); };`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function('f', 'isOptions', 'notOneObject', body)(f, isOptions, notOneObject) as (o: unknown) => unknown;
  } catch {
    return (o: unknown) => {
      if (!isOptions(o)) throw notOneObject();
      const r = o as Record<string, unknown>;
      return f(...keys.map((k) => r[k]));
    };
  }
}

/** The addon with a forwarder in front of every entry point that has a key table (also in `testing`). */
function withForwarders(raw: NativeAddon): NativeAddon {
  const wrap = (obj: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...obj };
    for (const [name, f] of Object.entries(out)) {
      const keys = typeof f === 'function' ? (f as { keys?: unknown }).keys : undefined;
      if (Array.isArray(keys)) out[name] = forwarder(name, f as (...a: unknown[]) => unknown, keys as string[]);
    }
    return out;
  };
  const out = wrap(raw as unknown as Record<string, unknown>);
  if (typeof out.testing === 'object' && out.testing !== null) out.testing = wrap(out.testing as Record<string, unknown>);
  return out as unknown as NativeAddon;
}

/** Loads the addon once (build/Release, then prebuilds/<platform>-<arch>) and returns it. */
export function native(): NativeAddon {
  if (cached) return cached;
  checkEnvironment();
  const override = process.env.ITOKIT_NATIVE_PATH;
  try {
    if (override) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = withForwarders(require(path.resolve(override)) as NativeAddon);
      loadedFrom = require.resolve(path.resolve(override));
    } else {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const load = require('node-gyp-build') as ((dir: string) => NativeAddon) & { path(dir: string): string };
      const file = load.path(packageRoot);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = withForwarders(require(file) as NativeAddon);
      loadedFrom = file;
    }
    return cached;
  } catch (err) {
    if (!override) {
      const libc = hostLibc();
      if (libc === 'musl' && !fs.existsSync(path.join(packageRoot, 'build', 'Release', 'itokit.node'))) {
        throw new NativeLoadError(
          `itokit ships prebuilt binaries for glibc Linux only (${prebuiltTuples().join(', ') || 'none in this package'}); ` +
            `this host uses musl libc (Alpine or similar), where they cannot load.\n` +
            'Fix: use a glibc-based image (Debian, Ubuntu, RHEL: e.g. node:20-bookworm-slim instead of node:20-alpine), ' +
            'or compile the CPU addon for musl in the installed package: `apk add build-base python3` then ' +
            '`npm rebuild itokit` (CUDA is not available on musl).',
          { cause: err },
        );
      }
    }
    const tried = [
      override ? `ITOKIT_NATIVE_PATH=${override}` : undefined,
      path.join(packageRoot, 'build', 'Release', 'itokit.node') + existsNote(path.join(packageRoot, 'build', 'Release', 'itokit.node')),
      path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`) +
        existsNote(path.join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`)),
    ].filter(Boolean);
    throw new NativeLoadError(
      `itokit could not load its native addon (${(err as Error).message}).\n` +
        `Tried:\n  ${tried.join('\n  ')}\n` +
        'Fix: where itokit is installed as a dependency, run `npm rebuild itokit`: it compiles the CPU ' +
        'addon with node-gyp (needs a C++17 compiler, make and Python 3), or install a release that ships ' +
        `a prebuilt binary for ${process.platform}-${process.arch}. In a git checkout of itokit, run ` +
        '`npm run build:cpu` (node-gyp) or `npm run build` (cmake-js; adds CUDA when nvcc is found); ' +
        'those scripts need the devDependencies and do not work inside an installed package.',
      { cause: err },
    );
  }
}

/**
 * The environment variables itokit reads must hold valid values: a typo must not silently fall
 * back to a default (ITOKIT_THREADS=1O would otherwise use every core).
 */
function checkEnvironment(): void {
  const threads = process.env.ITOKIT_THREADS;
  if (threads !== undefined && threads !== '' && (!/^[1-9][0-9]{0,3}$/.test(threads) || Number(threads) > 1024)) {
    throw new InvalidArgumentError(`ITOKIT_THREADS must be an integer in [1, 1024], got '${threads}'`);
  }
  const nice = process.env.ITOKIT_WORKER_NICE;
  if (nice !== undefined && nice !== '' && !/^(1?[0-9])$/.test(nice)) {
    throw new InvalidArgumentError(`ITOKIT_WORKER_NICE must be an integer in [0, 19], got '${nice}'`);
  }
  const device = process.env.ITOKIT_DEVICE;
  if (device !== undefined && device !== '' && !['auto', 'cpu', 'cuda'].includes(device)) {
    throw new InvalidArgumentError(`ITOKIT_DEVICE must be 'cpu', 'cuda' or 'auto', got '${device}'`);
  }
}

/**
 * The host's C library as node-gyp-build sees it when it picks a prebuilt binary: `LIBC` when set,
 * else musl on Alpine; otherwise the process report tells (musl builds of Node carry no glibc version).
 */
function hostLibc(): 'glibc' | 'musl' | undefined {
  if (process.platform !== 'linux') return undefined;
  if (process.env.LIBC === 'musl' || process.env.LIBC === 'glibc') return process.env.LIBC;
  if (fs.existsSync('/etc/alpine-release')) return 'musl';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header && !header.glibcVersionRuntime ? 'musl' : 'glibc';
}

/** The <platform>-<arch> folders the package carries binaries for. */
function prebuiltTuples(): string[] {
  try {
    return fs.readdirSync(path.join(packageRoot, 'prebuilds'));
  } catch {
    return [];
  }
}

function existsNote(p: string): string {
  return fs.existsSync(p) ? ' (present)' : ' (missing)';
}

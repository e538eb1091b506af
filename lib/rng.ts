/**
 * Counter-based random numbers: Philox4x32-10 keyed by the seed, counter = (draw block, step,
 * path, stream). The same seed gives the same bits on every thread count, chunking and device.
 * Layout and transforms: docs/design/randomness.md
 * @packageDocumentation
 */
import { DeviceOption, deviceCode, resolveDevice } from './backends';
import { DeviceArray, OutputOption, checkOutput, deviceForOutput } from './device-array';
import { DtypeError, InvalidArgumentError } from './errors';
import { native } from './native';
import { RUN_KEYS, RunOptions, runNative, runNativeSync } from './run';
import { Dtype, FloatArray, Seed, allocate, checkBacking, checkDtype, checkFloatArray, checkInt, checkOptions, describe, dtypeOf, optionKeys, seedKey } from './validate';

/** Named noise streams (docs/design/randomness.md; family streams from 32); any integer below 65536 is a valid stream. */
export const streams = {
  BROWNIAN: 0,
  PRIOR: 1,
  PREDICTOR: 2,
  CORRECTOR: 3,
  RESAMPLE: 4,
  PROBE: 5,
  USER: 6,
  /** fBM: normals of the exact OU step of the Markov approximation. */
  FBM_OU: 32,
  /** fBM: the type I initial state. */
  FBM_INIT: 33,
  /** fBM: the exact generators (Davies–Harte, Cholesky, Hosking). */
  FBM_EXACT: 34,
} as const;

/** Which draws to take: draws `offset .. offset+n-1` of (seed, stream, path, step). */
export interface DrawOptions<D extends Dtype = Dtype> {
  /** Seed: non-negative safe integer or bigint below 2^64. */
  seed: Seed;
  /** Stream id in [0, 65536) (default 0, see {@link streams}). */
  stream?: number;
  /** Element type of the result (default 'float32'). float64 normals are widened float32 normals. */
  dtype?: D;
  /** Where to generate (default 'auto'); both devices give identical bits. */
  device?: DeviceOption;
  /** Path id in [0, 2^48) (default 0). */
  path?: number;
  /** Step id in [0, 2^32) (default 0). */
  step?: number;
  /** Index of the first draw (default 0), so a long sequence can be produced in pieces. */
  offset?: number;
  /**
   * Where the result stays (default 'host'): 'device' returns a {@link DeviceArray} generated on
   * the GPU and never copied to the host (needs CUDA; `device` must not be 'cpu').
   */
  output?: OutputOption;
}

const DRAW_KEYS = optionKeys<DrawOptions>()(['seed', 'stream', 'dtype', 'device', 'path', 'step', 'offset', 'output']);
const BITS_KEYS = optionKeys<Omit<DrawOptions, 'dtype' | 'output'>>()(['seed', 'stream', 'device', 'path', 'step', 'offset']);
const FILL_KEYS = BITS_KEYS;
const DRAW_RUN_KEYS = [...DRAW_KEYS, ...RUN_KEYS];

/** {@link DrawOptions} asking for a device-resident result. */
export type DeviceDrawOptions<D extends Dtype = Dtype> = DrawOptions<D> & { output: 'device' };
/** {@link DrawOptions} asking for a host result. */
export type HostDrawOptions<D extends Dtype = Dtype> = DrawOptions<D> & { output?: 'host' };

/** The host array a draw of dtype `D` returns: Float64Array for `float64`, else Float32Array. */
export type ArrayFor<D extends Dtype> = D extends 'float64' ? Float64Array : Float32Array;

/**
 * Philox4x32 block function: encrypts a 128-bit counter under a 64-bit key.
 * @param counter - four 32-bit words
 * @param key - two 32-bit words
 * @param rounds - round count, 10 for Philox4x32-10 (default)
 * @returns the four output words
 */
export function philox4x32(counter: Uint32Array, key: Uint32Array, rounds = 10): Uint32Array {
  if (!(counter instanceof Uint32Array) || counter.length !== 4) {
    throw new DtypeError(`counter must be a Uint32Array of length 4, got ${describe(counter)}`);
  }
  checkBacking('counter', counter);
  if (!(key instanceof Uint32Array) || key.length !== 2) {
    throw new DtypeError(`key must be a Uint32Array of length 2, got ${describe(key)}`);
  }
  checkBacking('key', key);
  checkInt('rounds', rounds, 0, 16);
  const out = new Uint32Array(4);
  runNativeSync(() => native().philox4x32({ counter, key, rounds, out }));
  return out;
}

const KIND = { uniform32: 0, uniform64: 1, normal32: 2, normal64: 3, bits: 4 } as const;

interface Prepared {
  out: FloatArray | Uint32Array | DeviceArray;
  args: [number, number, number, number, number, number, number, number];
}

/**
 * Validates a draw; `where` names the public function and `allowed` its option keys. `into` is the
 * caller's array of the *Into functions: its length is the count and its type the dtype.
 */
function prepare(where: string, allowed: readonly string[], what: 'uniform' | 'normal' | 'bits', n: unknown, o: DrawOptions, into?: FloatArray): Prepared {
  checkOptions(where, o, allowed);
  const count = checkInt(into ? 'out.length' : 'n', n, 0, 2 ** 31 - 1);
  const dtype = into ? dtypeOf(into) : checkDtype(o.dtype);
  const [lo, hi] = seedKey(o.seed);
  const stream = checkInt('stream', o.stream ?? 0, 0, 0xffff);
  const path = checkInt('path', o.path ?? 0, 0, 2 ** 48 - 1);
  const step = checkInt('step', o.step ?? 0, 0, 0xffffffff);
  const offset = checkInt('offset', o.offset ?? 0, 0, 2 ** 34 - count);
  const output = checkOutput(o.output);
  if (output === 'device' && what === 'bits') throw new InvalidArgumentError("output: 'device' holds float draws; bits are host-only");
  const device = output === 'device' ? deviceForOutput(o.device) : resolveDevice(o.device, count);
  const out = into ?? (output === 'device' ? DeviceArray.allocate(dtype, [count]) : what === 'bits' ? new Uint32Array(count) : allocate(dtype, count));
  const kind =
    what === 'bits' ? KIND.bits : what === 'uniform' ? (dtype === 'float64' ? KIND.uniform64 : KIND.uniform32) : dtype === 'float64' ? KIND.normal64 : KIND.normal32;
  return { out, args: [kind, lo, hi, stream, path, step, offset, deviceCode(device)] };
}

function fillSync(p: Prepared): void {
  const [kind, keyLo, keyHi, stream, path, step, first, device] = p.args;
  const out = p.out instanceof DeviceArray ? p.out.live() : p.out;
  runNativeSync(() => native().rngFill({ out, kind, keyLo, keyHi, stream, path, step, first, device, control: null, async: false }));
}

async function fillAsync(p: Prepared, run: RunOptions): Promise<void> {
  const [kind, keyLo, keyHi, stream, path, step, first, device] = p.args;
  const start = (out: object) => runNative(run, (control) => native().rngFill({ out, kind, keyLo, keyHi, stream, path, step, first, device, control, async: true }));
  if (p.out instanceof DeviceArray) await p.out.using(start);
  else await start(p.out);
}

/**
 * Uniform variates strictly inside (0, 1). float32: ((x >> 8) | 1)·2^-24; float64: (x + 0.5)·2^-32.
 * @param n - how many
 * @example `rng.uniform(4, { seed: 42 })`
 */
export function uniform<D extends Dtype = 'float32'>(n: number, o: DeviceDrawOptions<D>): DeviceArray<D>;
export function uniform<D extends Dtype = 'float32'>(n: number, o: HostDrawOptions<D>): ArrayFor<D>;
export function uniform<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D>): ArrayFor<D> | DeviceArray<D>;
export function uniform<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D>): ArrayFor<D> | DeviceArray<D> {
  const p = prepare('rng.uniform', DRAW_KEYS, 'uniform', n, o);
  fillSync(p);
  return p.out as ArrayFor<D> | DeviceArray<D>;
}

/**
 * Standard normal variates by Box–Muller with the project's own log and sin/cos, identical on
 * CPU and CUDA.
 * @param n - how many
 * @example `rng.normal(1e6, { seed: 7n, dtype: 'float64' })`
 */
export function normal<D extends Dtype = 'float32'>(n: number, o: DeviceDrawOptions<D>): DeviceArray<D>;
export function normal<D extends Dtype = 'float32'>(n: number, o: HostDrawOptions<D>): ArrayFor<D>;
export function normal<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D>): ArrayFor<D> | DeviceArray<D>;
export function normal<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D>): ArrayFor<D> | DeviceArray<D> {
  const p = prepare('rng.normal', DRAW_KEYS, 'normal', n, o);
  fillSync(p);
  return p.out as ArrayFor<D> | DeviceArray<D>;
}

/** Options of {@link normalInto} and {@link uniformInto}: {@link DrawOptions} less `dtype` (the array's type) and `output` (the host). */
export type FillOptions = Omit<DrawOptions, 'dtype' | 'output'>;

/** Validates the caller's array of a *Into function. */
function intoArray(where: string, out: unknown): FloatArray {
  return checkFloatArray(`${where}: out`, out);
}

/**
 * {@link normal} into an array you own: fills `out` with draws `offset .. offset + out.length − 1`,
 * the same bits `rng.normal(out.length, { ...o, dtype })` returns, and returns `out`. A
 * Float32Array gets float32 draws and a Float64Array widened ones. Reusing one array across calls
 * skips the cost of fresh memory, which on some hosts exceeds the draws themselves
 * (docs/design/cpu-rng-kernels.md "Fresh outputs"). Synchronous only: an async call must not
 * write into memory the caller can transfer meanwhile (docs/design/runtime.md §7).
 * @param out - the destination (not a SharedArrayBuffer view)
 * @example
 * ```ts
 * const z = new Float32Array(1e7);
 * for (let batch = 0; batch < 10; batch++) rng.normalInto(z, { seed: 7, offset: batch * z.length });
 * ```
 */
export function normalInto<A extends FloatArray>(out: A, o: FillOptions): A {
  const into = intoArray('rng.normalInto', out);
  fillSync(prepare('rng.normalInto', FILL_KEYS, 'normal', into.length, o, into));
  return out;
}

/** {@link uniform} into an array you own (see {@link normalInto}); returns `out`. */
export function uniformInto<A extends FloatArray>(out: A, o: FillOptions): A {
  const into = intoArray('rng.uniformInto', out);
  fillSync(prepare('rng.uniformInto', FILL_KEYS, 'uniform', into.length, o, into));
  return out;
}

/** Raw Philox output words (draw j is word j & 3 of block j >> 2). */
export function bits(n: number, o: Omit<DrawOptions, 'dtype' | 'output'>): Uint32Array {
  const p = prepare('rng.bits', BITS_KEYS, 'bits', n, o);
  fillSync(p);
  return p.out as Uint32Array;
}

/** {@link uniform} off the event loop, with AbortSignal and progress. */
export async function uniformAsync<D extends Dtype = 'float32'>(n: number, o: DeviceDrawOptions<D> & RunOptions): Promise<DeviceArray<D>>;
export async function uniformAsync<D extends Dtype = 'float32'>(n: number, o: HostDrawOptions<D> & RunOptions): Promise<ArrayFor<D>>;
export async function uniformAsync<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D> & RunOptions): Promise<ArrayFor<D> | DeviceArray<D>>;
export async function uniformAsync<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D> & RunOptions): Promise<ArrayFor<D> | DeviceArray<D>> {
  const p = prepare('rng.uniformAsync', DRAW_RUN_KEYS, 'uniform', n, o);
  await fillAsync(p, o);
  return p.out as ArrayFor<D> | DeviceArray<D>;
}

/** {@link normal} off the event loop, with AbortSignal and progress. */
export async function normalAsync<D extends Dtype = 'float32'>(n: number, o: DeviceDrawOptions<D> & RunOptions): Promise<DeviceArray<D>>;
export async function normalAsync<D extends Dtype = 'float32'>(n: number, o: HostDrawOptions<D> & RunOptions): Promise<ArrayFor<D>>;
export async function normalAsync<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D> & RunOptions): Promise<ArrayFor<D> | DeviceArray<D>>;
export async function normalAsync<D extends Dtype = 'float32'>(n: number, o: DrawOptions<D> & RunOptions): Promise<ArrayFor<D> | DeviceArray<D>> {
  const p = prepare('rng.normalAsync', DRAW_RUN_KEYS, 'normal', n, o);
  await fillAsync(p, o);
  return p.out as ArrayFor<D> | DeviceArray<D>;
}

/** Options of {@link randn}. */
export interface RandnOptions {
  /** Seed: non-negative safe integer or bigint below 2^64. */
  seed: Seed;
  /** Number of rows (paths). */
  paths: number;
  /** Draws per row. */
  dim: number;
  /** Path id of row 0 (default 0): rows are paths pathOffset .. pathOffset+paths-1. */
  pathOffset?: number;
  /** Step id (default 0). */
  step?: number;
  /** Stream (default {@link streams}.BROWNIAN). */
  stream?: number;
  /** Where to generate (default 'auto'). */
  device?: DeviceOption;
  /** Where the result stays (default 'host'); 'device' returns a [paths, dim] {@link DeviceArray}. */
  output?: OutputOption;
}

const RANDN_KEYS = optionKeys<RandnOptions>()(['seed', 'paths', 'dim', 'pathOffset', 'step', 'stream', 'device', 'output']);

/**
 * The standard normals a simulation step sees: a paths × dim Float32Array whose row p holds draws
 * 0..dim-1 of path (pathOffset + p) at `step`, in the per-step layout that `sde.simulate` and
 * `fbm.sample` draw their Brownian increments from (draw j of steps 4g..4g+3 is one Philox block,
 * docs/design/noise-layout.md). One call of 1000 rows equals three calls of 333/333/334 rows
 * with offsets 0/333/666, bit for bit.
 */
export function randn(o: RandnOptions & { output: 'device' }): DeviceArray<'float32'>;
export function randn(o: RandnOptions & { output?: 'host' }): Float32Array;
export function randn(o: RandnOptions): Float32Array | DeviceArray<'float32'>;
export function randn(o: RandnOptions): Float32Array | DeviceArray<'float32'> {
  checkOptions('rng.randn', o, RANDN_KEYS);
  const paths = checkInt('paths', o.paths, 0, 2 ** 31 - 1);
  const dim = checkInt('dim', o.dim, 0, 2 ** 31 - 1);
  if (paths * dim > 2 ** 31 - 1) throw new InvalidArgumentError('paths*dim must be below 2^31');
  const [lo, hi] = seedKey(o.seed);
  const stream = checkInt('stream', o.stream ?? streams.BROWNIAN, 0, 0xffff);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - 1 - paths);
  const step = checkInt('step', o.step ?? 0, 0, 0xffffffff);
  const output = checkOutput(o.output);
  const device = output === 'device' ? deviceForOutput(o.device) : resolveDevice(o.device, paths * dim);
  const out = output === 'device' ? DeviceArray.allocate('float32', [paths, dim]) : new Float32Array(paths * dim);
  const target = out instanceof DeviceArray ? out.live() : out;
  runNativeSync(() =>
    native().rngRandn({ out: target, paths, dim, keyLo: lo, keyHi: hi, stream, pathOffset, step, device: deviceCode(device), control: null, async: false }),
  );
  return out;
}

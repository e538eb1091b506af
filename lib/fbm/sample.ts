/**
 * fBM path sampling (docs/design/fbm.md): MA-fBM by exact OU steps or Euler (CPU pool or CUDA),
 * and the exact generators Davies–Harte (type I), Cholesky (type I/II, n ≤ 4096), Hosking (type I).
 * @packageDocumentation
 */
import { DeviceOption, deviceCode, resolveDevice } from '../backends';
import { DeviceArray, OutputOption, checkOutput, deviceForOutput } from '../device-array';
import { InvalidArgumentError } from '../errors';
import { RUN_KEYS, RunOptions, runNative, runNativeSync } from '../run';
import { Dtype, FloatArray, Seed, allocate, checkDtype, checkInt, checkOneOf, checkOptions, optionKeys, seedKey } from '../validate';
import { fbmAddon } from './addon';
import { markovCoefficients, resolveGammas } from './coefficients';
import { FbmType, Normalization, checkHorizon, checkHurst, checkNormalization, checkOmegas, checkType, typeCode } from './options';

/** Sampling method: MA-fBM ('markov') or an exact generator. */
export type SampleMethod = 'markov' | 'davies-harte' | 'cholesky' | 'hosking';

/** Options of {@link sample}. */
export interface SampleOptions<D extends Dtype = Dtype> {
  /** Hurst index H ∈ (0, 1). */
  hurst: number;
  /** 'I' (default) or 'II'. */
  type?: FbmType;
  /** 'markov' (default), 'davies-harte' (type I), 'cholesky' (type I or II, n ≤ 4096), 'hosking' (type I). */
  method?: SampleMethod;
  /** Number of steps; paths have n+1 points t_j = jT/n. */
  n: number;
  /** Horizon (default 1). */
  T?: number;
  /** Number of paths. */
  paths: number;
  /** Independent dimensions per path (markov only, default 1). */
  dims?: number;
  /** OU processes (markov, default 5). */
  K?: number;
  /** Largest speed of the default grid (markov, default 20). */
  gammaMax?: number;
  /** Own speeds (markov). */
  gammas?: ArrayLike<number>;
  /** Own weights (markov): skip the optimal-weight solve. Must match the speeds in length. */
  omegas?: ArrayLike<number>;
  /** 'exact' (default, exact-in-distribution OU step) or 'euler' (needs γmax·Δ < 0.5). Markov only. */
  scheme?: 'exact' | 'euler';
  /** Window the weights are fitted on (default T). */
  omegaHorizon?: number;
  /** 'unit' (default) or 'gamma'. */
  normalization?: Normalization;
  /** Seed of the counter-based generator. */
  seed: Seed;
  /** Path id of row 0 (default 0): rows are paths pathOffset.. of the same infinite stream. */
  pathOffset?: number;
  /** Path precision (default 'float32'); B̂ is accumulated in float64 either way. */
  dtype?: D;
  /** 'cpu', 'cuda' or 'auto' (default). CUDA serves the markov method only. */
  device?: DeviceOption;
  /** Also return the driving Brownian motion W on the grid (markov only). */
  returnBrownian?: boolean;
  /**
   * Where `paths` (and `brownian`) stay (default 'host'). 'device' runs the markov method on CUDA
   * and returns {@link DeviceArray}s, with no copy to the host.
   */
  output?: OutputOption;
}

const SAMPLE_KEYS = optionKeys<SampleOptions>()([
  'hurst', 'type', 'method', 'n', 'T', 'paths', 'dims', 'K', 'gammaMax', 'gammas', 'omegas', 'scheme', 'omegaHorizon', 'normalization', 'seed',
  'pathOffset', 'dtype', 'device', 'returnBrownian', 'output',
]);
const SAMPLE_RUN_KEYS = [...SAMPLE_KEYS, ...RUN_KEYS];

/** The host array a sample of dtype `D` holds: Float64Array for `float64`, else Float32Array. */
export type ArrayFor<D extends Dtype> = D extends 'float64' ? Float64Array : Float32Array;

/** Result of {@link sample}; `A` is a host typed array, or a {@link DeviceArray} with `output: 'device'`. */
export interface FbmPaths<A extends FloatArray | DeviceArray = FloatArray> {
  /** Row-major [paths, n+1] (or [paths, n+1, dims]); B(0) = 0. */
  paths: A;
  /** Shape of `paths`. */
  shape: number[];
  /** Grid t_j = jT/n, j = 0..n. */
  times: Float64Array;
  /** W on the grid, same shape (markov with returnBrownian). */
  brownian?: A;
  /** Speeds and weights used (markov). */
  gammas?: Float64Array;
  omegas?: Float64Array;
  /** Davies–Harte met a negative circulant eigenvalue and used Hosking instead. */
  fellBackToHosking?: boolean;
}

interface Plan {
  method: SampleMethod;
  out: FloatArray | DeviceArray;
  bro: FloatArray | DeviceArray | null;
  res: FbmPaths<FloatArray | DeviceArray>;
  call: (control: Float64Array | null, async: boolean) => Promise<unknown> | unknown;
}

const EXACT_CODE = { 'davies-harte': 0, cholesky: 1, hosking: 2 } as const;

function plan(o: SampleOptions, where: string, allowed: readonly string[]): Plan {
  checkOptions(where, o, allowed);
  const hurst = checkHurst(o.hurst);
  const type = checkType(o.type);
  const method = o.method === undefined ? 'markov' : checkOneOf('method', o.method, ['markov', 'davies-harte', 'cholesky', 'hosking'] as const);
  const n = checkInt('n', o.n, 1, 2 ** 31 - 2);
  const T = checkHorizon('T', o.T, 1);
  const paths = checkInt('paths', o.paths, 0, 2 ** 31 - 1);
  const dims = o.dims === undefined ? 1 : checkInt('dims', o.dims, 1, 1 << 20);
  const norm = checkNormalization(o.normalization);
  const dtype = checkDtype(o.dtype);
  const [lo, hi] = seedKey(o.seed);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - 1 - paths);
  const total = paths * (n + 1) * dims;
  if (total > 2 ** 31 - 1) throw new InvalidArgumentError(`paths*(n+1)*dims = ${total} exceeds 2^31 - 1 values`);
  const times = new Float64Array(n + 1);
  for (let j = 0; j <= n; j++) times[j] = (j * T) / n;
  const shape = dims === 1 ? [paths, n + 1] : [paths, n + 1, dims];
  const output = checkOutput(o.output);
  if (output === 'device' && method !== 'markov') throw new InvalidArgumentError(`output: 'device' serves the markov method only, not '${method}'`);
  if (method === 'markov') {
    const scheme = o.scheme === undefined ? 'exact' : checkOneOf('scheme', o.scheme, ['exact', 'euler'] as const);
    const gammas = resolveGammas(o);
    let omegas: Float64Array;
    if (o.omegas !== undefined) {
      omegas = checkOmegas(o.omegas, gammas.length);
    } else {
      omegas = markovCoefficients({ hurst, type, gammas, T: checkHorizon('omegaHorizon', o.omegaHorizon, T), normalization: norm }).omegas;
    }
    if (scheme === 'euler' && !((gammas[gammas.length - 1] * T) / n < 0.5)) {
      throw new InvalidArgumentError(`scheme 'euler' needs gammaMax*dt < 0.5, got ${(gammas[gammas.length - 1] * T) / n}; use more steps or scheme 'exact'`);
    }
    const onDevice = output === 'device';
    const device = deviceCode(onDevice ? deviceForOutput(o.device) : resolveDevice(o.device, paths * dims * n * (gammas.length + 1)));
    const buffer = () => (onDevice ? DeviceArray.allocate(dtype, shape) : allocate(dtype, total));
    const out = buffer();
    const bro = o.returnBrownian ? buffer() : null;
    const res: FbmPaths<FloatArray | DeviceArray> = { paths: out, shape, times, gammas, omegas };
    if (bro) res.brownian = bro;
    const arg = (a: FloatArray | DeviceArray | null) => (a instanceof DeviceArray ? a.live() : a);
    return {
      method, out, bro, res,
      call: (control, async) => fbmAddon().fbmMarkovSample({
        out: arg(out)!, brownian: arg(bro), paths, dims, n, T, type: typeCode(type), exact: scheme === 'exact',
        gammas, omegas, keyLo: lo, keyHi: hi, pathOffset, device, control, async, f64: dtype === 'float64',
      }),
    };
  }
  const out = allocate(dtype, total);
  if (o.returnBrownian) throw new InvalidArgumentError('returnBrownian is available for the markov method only');
  if (dims !== 1) throw new InvalidArgumentError('dims > 1 is available for the markov method only');
  if (o.scheme !== undefined) throw new InvalidArgumentError('scheme applies to the markov method only');
  if (type === 'II' && method !== 'cholesky') throw new InvalidArgumentError(`method '${method}' generates type I fBM only; use 'cholesky' for type II`);
  if (method === 'cholesky' && n > 4096) throw new InvalidArgumentError(`cholesky is limited to n <= 4096 steps, got ${n}`);
  if (method === 'hosking' && n > 65536) throw new InvalidArgumentError(`hosking is limited to n <= 65536 steps, got ${n}`);
  if (method === 'davies-harte' && n > 2 ** 24) throw new InvalidArgumentError(`davies-harte is limited to n <= 2^24 steps, got ${n}`);
  if (o.device === 'cuda') throw new InvalidArgumentError(`method '${method}' runs on the CPU only; device 'cuda' serves the markov method`);
  resolveDevice(o.device);
  const scale = norm === 'unit' ? 1 : Math.sqrt(fbmAddon().fbmVariance({ type: typeCode(type), hurst }));
  const res: FbmPaths = { paths: out, shape, times };
  return {
    method, out, bro: null, res,
    call: (control, async) => fbmAddon().fbmExactSample({
      out, method: EXACT_CODE[method], type: typeCode(type), hurst, n, T, scale, paths, keyLo: lo, keyHi: hi, pathOffset, control, async,
    }),
  };
}

function finish(p: Plan, r: unknown): FbmPaths<FloatArray | DeviceArray> {
  if (p.method === 'davies-harte') p.res.fellBackToHosking = r === true;
  return p.res;
}

/**
 * Samples fBM paths. `'markov'` simulates MA-fBM (K OU processes sharing one Brownian motion,
 * optimal weights); the exact generators give true fBM for comparison. Same seed ⇒ same bits on
 * any thread count, batch split (`pathOffset`) and device.
 * @example
 * ```ts
 * const { paths } = fbm.sampleSync({ hurst: 0.3, n: 1000, paths: 64, seed: 1 });
 * ```
 */
export function sampleSync<D extends Dtype = 'float32'>(o: SampleOptions<D> & { output: 'device' }): FbmPaths<DeviceArray<D>>;
export function sampleSync<D extends Dtype = 'float32'>(o: SampleOptions<D> & { output?: 'host' }): FbmPaths<ArrayFor<D>>;
export function sampleSync<D extends Dtype = 'float32'>(o: SampleOptions<D>): FbmPaths<ArrayFor<D>> | FbmPaths<DeviceArray<D>>;
export function sampleSync<D extends Dtype = 'float32'>(o: SampleOptions<D>): FbmPaths<ArrayFor<D>> | FbmPaths<DeviceArray<D>> {
  const p = plan(o, 'fbm.sampleSync', SAMPLE_KEYS);
  const r = runNativeSync(() => p.call(null, false));
  return finish(p, r) as FbmPaths<ArrayFor<D>>;
}

/** {@link sampleSync} off the event loop, with AbortSignal and progress. */
export async function sample<D extends Dtype = 'float32'>(o: SampleOptions<D> & RunOptions & { output: 'device' }): Promise<FbmPaths<DeviceArray<D>>>;
export async function sample<D extends Dtype = 'float32'>(o: SampleOptions<D> & RunOptions & { output?: 'host' }): Promise<FbmPaths<ArrayFor<D>>>;
export async function sample<D extends Dtype = 'float32'>(o: SampleOptions<D> & RunOptions): Promise<FbmPaths<ArrayFor<D>> | FbmPaths<DeviceArray<D>>>;
export async function sample<D extends Dtype = 'float32'>(o: SampleOptions<D> & RunOptions): Promise<FbmPaths<ArrayFor<D>> | FbmPaths<DeviceArray<D>>> {
  const p = plan(o, 'fbm.sample', SAMPLE_RUN_KEYS);
  const held = [p.out, p.bro].map((a) => (a instanceof DeviceArray ? a : null));
  const r = await DeviceArray.holding(held, () => runNative(o, (control) => p.call(control, true) as Promise<unknown>));
  return finish(p, r) as FbmPaths<ArrayFor<D>>;
}

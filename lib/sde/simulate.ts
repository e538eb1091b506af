/**
 * `simulate` / `simulateSync`: many paths of an SDE in one call (docs/design/sde.md). Built-in
 * models run as one fused native kernel per call; user models (`define`) call their vectorised
 * drift/diffusion once per stage on the whole batch while noise and updates run natively.
 * @packageDocumentation
 */
import { DeviceOption, deviceCode, resolveDevice } from '../backends';
import type { Plan } from './plan';
import { UserRunner } from './user';
import { DeviceArray, HostArrayFor, OutputOption, checkOutput, deviceForOutput } from '../device-array';
import { InvalidArgumentError, ItokitError, ShapeError } from '../errors';
import { AbortSignalLike, RunOptions, runNative, runNativeSync, threadControl, throwIfAborted } from '../run';
import {
  Dtype, FloatArray, Seed, allocate, checkBacking, checkDtype, checkInt, checkNumber, checkOneOf, checkOptions, checkSize, describe,
  newArray, optionKeys, seedKey,
} from '../validate';
import { SdeFusedSetup, sdeNative } from './addon';
import { native } from '../native';
import { METHOD_CODE, Method, Model, Vec } from './models';

/** When to save the state: final only, every k-th step (t0 and t_N included), or at given grid times. */
export type SaveAt = 'final' | { every: number } | { times: Vec; interpolation?: 'none' | 'linear' };

const SAVE_EVERY_KEYS = optionKeys<Extract<SaveAt, { every: number }>>()(['every']);
const SAVE_TIMES_KEYS = optionKeys<Extract<SaveAt, { times: Vec }>>()(['times', 'interpolation']);

/** Progress of a simulation. */
export interface SimProgress { step: number; steps: number; t: number; nfe?: number }

/**
 * Options of {@link simulate}. `D` is the element type: `dtype: 'float64'` makes `data` and `final`
 * Float64Array (or `DeviceArray<'float64'>`), anything else Float32Array.
 */
export interface SimulateOptions<D extends Dtype = Dtype> {
  /** Number of paths P (rows of this call). */
  paths: number;
  /**
   * Initial state: d values (shared by all paths) or P·d values (row-major); a {@link DeviceArray}
   * of P·d values (e.g. a previous device `final`) is read on the GPU without a host copy.
   */
  x0: Vec | FloatArray | DeviceArray;
  /**
   * State dimension of a dimension-free model (OU with scalar parameters, VP/sub-VP/VE). Default: a
   * typed-array x0 of P·k values means d = k, any other x0 holds one state of d = x0.length.
   */
  dim?: number;
  /** Start time (default 0). */
  t0?: number;
  /** End time; t1 < t0 integrates backward in time (increments then use |h|). */
  t1: number;
  /** Number of steps N of the whole grid; h = (t1 − t0)/N. */
  steps: number;
  method: Method;
  seed: Seed;
  /** Path id of row 0 (default 0): rows are paths pathOffset .. pathOffset+P−1. */
  pathOffset?: number;
  /** Run only global steps [a, b) of the N-step grid, starting from x0 = state after a steps. */
  stepRange?: [number, number];
  /** Fine Brownian steps per step (a power of two, default 1): every resolution samples one path. */
  noiseRefinement?: number;
  save?: SaveAt;
  /** Element type of the state and results (default 'float32'). */
  dtype?: D;
  /** Refuse to start when the estimate of {@link memoryEstimate} exceeds this many bytes. */
  maxBytes?: number;
  device?: DeviceOption;
  /**
   * CPU threads for this call of a built-in model (default: the whole pool). It limits this call
   * only, never the process-wide pool; results never depend on it. User-defined models use the pool.
   */
  threads?: number;
  /**
   * Where `data` and `final` stay (default 'host'). 'device' runs on CUDA and returns
   * {@link DeviceArray}s: nothing is copied to the host, and `final` can be the next call's `x0`.
   */
  output?: OutputOption;
  /** Cancels the call (see {@link RunOptions}). */
  signal?: AbortSignalLike;
  /** Called with the steps done so far, at most every `progressIntervalMs` (see {@link SimProgress}). */
  onProgress?: (p: SimProgress) => void;
  progressIntervalMs?: number;
}

const SIMULATE_KEYS = optionKeys<SimulateOptions>()([
  'paths', 'x0', 'dim', 't0', 't1', 'steps', 'method', 'seed', 'pathOffset', 'stepRange', 'noiseRefinement', 'save', 'dtype',
  'maxBytes', 'device', 'threads', 'output', 'signal', 'onProgress', 'progressIntervalMs',
]);

/**
 * What {@link simulate} returns. `A` is the array type of `data` and `final`: host typed arrays by
 * default, {@link DeviceArray}s with `output: 'device'`.
 */
export interface SimResult<A = FloatArray> {
  /** Times of the save points. */
  times: Float64Array;
  /** Saved states, shape [S, P, d] row-major. CIR and Heston save v̂⁺. */
  data: A;
  shape: [number, number, number];
  /** The raw state after the last simulated step ([P, d]); feed it as x0 to resume. */
  final: A;
  stats: { pathSteps: number; wallMs: number; device: 'cpu' | 'cuda' };
}

/** {@link SimulateOptions} asking for device-resident results. */
export type DeviceSimulateOptions<D extends Dtype = Dtype> = SimulateOptions<D> & { output: 'device' };
/** {@link SimulateOptions} asking for host results. */
export type HostSimulateOptions<D extends Dtype = Dtype> = SimulateOptions<D> & { output?: 'host' };

function calculusError(msg: string): ItokitError {
  return new ItokitError('ERR_ITOKIT_CALCULUS', msg);
}

/**
 * Builds the save schedule (sorted entries: state after n0 steps, weight w toward n0 + 1), keeping
 * the entries inside the simulated range [a, b]. `rowElems` (P·d) sizes each save: the count is
 * known before anything is built, so an oversized `{ every }` fails here instead of exhausting memory.
 */
function schedule(where: string, save: SaveAt | undefined, N: number, t0: number, h: number, a: number, b: number, rowElems: number): { n0: Uint32Array; w: Float64Array } {
  const sized = (count: number): { n0: Uint32Array; w: Float64Array } => {
    checkSize('the saved states (saves·paths·dim)', count * Math.max(rowElems, 1));
    return { n0: newArray(Uint32Array, count, 'the save schedule'), w: newArray(Float64Array, count, 'the save schedule') };
  };
  if (save === undefined || save === 'final') {
    const out = sized(b === N ? 1 : 0);
    if (b === N) out.n0[0] = N;
    return out;
  }
  if (typeof save === 'object' && save !== null && 'every' in save) {
    checkOptions(`${where} save`, save, SAVE_EVERY_KEYS);
    const k = checkInt('save.every', save.every, 1, 2 ** 32);
    // Multiples of k in [a, min(b, N − 1)], then N itself when b = N.
    const first = Math.ceil(a / k) * k;
    const last = Math.min(b, N - 1);
    const multiples = first > last ? 0 : Math.floor((last - first) / k) + 1;
    const out = sized(multiples + (b === N ? 1 : 0));
    for (let i = 0; i < multiples; i++) out.n0[i] = first + i * k;
    if (b === N) out.n0[multiples] = N;
    return out;
  }
  if (typeof save === 'object' && save !== null && 'times' in save) {
    checkOptions(`${where} save`, save, SAVE_TIMES_KEYS);
    const interp = checkOneOf('save.interpolation', save.interpolation ?? 'none', ['none', 'linear'] as const);
    const ts = save.times;
    if (!ts || typeof ts.length !== 'number' || ts.length === 0) throw new InvalidArgumentError('save.times must be a non-empty list');
    checkBacking('save.times', ts);
    const tol = 1e-9 * N;
    let prev = -1;
    const n0: number[] = [];
    const w: number[] = [];
    for (let i = 0; i < ts.length; i++) {
      const t = checkNumber(`save.times[${i}]`, ts[i]);
      const s = (t - t0) / h;
      if (s < -tol || s > N + tol) throw new InvalidArgumentError(`save.times[${i}] = ${t} lies outside [t0, t1]`);
      const r = Math.round(s);
      let nn: number, ww: number;
      if (Math.abs(s - r) <= tol) {
        nn = Math.min(N, Math.max(0, r));
        ww = 0;
      } else if (interp === 'linear') {
        nn = Math.floor(s);
        ww = s - nn;
      } else {
        throw new InvalidArgumentError(`save.times[${i}] = ${t} is not a grid point (h = ${h}); use interpolation: 'linear'`);
      }
      if (nn + ww < prev) throw new InvalidArgumentError('save.times must be ordered from t0 toward t1');
      prev = nn + ww;
      if (nn < a || nn > b || (ww > 0 && nn >= b)) continue;
      n0.push(nn);
      w.push(ww);
    }
    const out = sized(n0.length);
    out.n0.set(n0);
    out.w.set(w);
    return out;
  }
  throw new InvalidArgumentError(`save must be 'final', { every } or { times }, got ${describe(save)}`);
}

/**
 * Validates options against a model. @internal
 * @param where - the public function, for messages
 */
export function plan(model: Model, o: SimulateOptions, where = 'sde.simulate'): Plan {
  if (model === null || typeof model !== 'object' || !Array.isArray(model.methods)) throw new InvalidArgumentError('model must come from sde.models.* or sde.define');
  checkOptions(where, o, SIMULATE_KEYS);
  const method = checkOneOf('method', o.method, ['euler', 'milstein', 'heun', 'sra1', 'exact', 'euler-ft', 'log-euler-ft'] as const);
  if (!model.methods.includes(method)) {
    // Heun solves Stratonovich SDEs, the others Itô; they coincide only for additive noise (docs/design/sde.md).
    const strat = model.calculus === 'stratonovich';
    if (model.noise !== 'additive' && ((method === 'heun' && !strat) || (['euler', 'milstein', 'sra1'].includes(method) && strat))) {
      throw calculusError(`'${method}' solves ${strat ? 'Itô' : 'Stratonovich'} SDEs but this ${model.kind} model is ${model.calculus} with ${model.noise} noise; use one of ${model.methods.join(', ')}`);
    }
    throw new InvalidArgumentError(`method '${method}' is not available for ${model.kind} with ${model.noise} noise; use one of ${model.methods.join(', ')}`);
  }
  const P = checkInt('paths', o.paths, 0, 2 ** 40);
  const N = checkInt('steps', o.steps, 1, 2 ** 32 - 1);
  const t0 = checkNumber('t0', o.t0 ?? 0);
  const t1 = checkNumber('t1', o.t1);
  if (t1 === t0) throw new InvalidArgumentError('t1 must differ from t0 (dt would be 0)');
  const h = (t1 - t0) / N;
  if (method === 'exact' && h < 0) throw new InvalidArgumentError('exact transitions need t1 > t0');
  const dtype = checkDtype(o.dtype);
  const key = seedKey(o.seed);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - 1);
  if (pathOffset + P > 2 ** 48) throw new InvalidArgumentError('path ids must stay below 2^48');
  const refine = checkInt('noiseRefinement', o.noiseRefinement ?? 1, 1, 2 ** 30);
  if ((refine & (refine - 1)) !== 0) throw new InvalidArgumentError(`noiseRefinement must be a power of two, got ${refine}`);
  if (N * refine > 2 ** 32) throw new InvalidArgumentError('steps × noiseRefinement must stay below 2^32 (step ids are 32-bit)');
  let a = 0, b = N;
  if (o.stepRange !== undefined) {
    if (!Array.isArray(o.stepRange) || o.stepRange.length !== 2) throw new InvalidArgumentError('stepRange must be [begin, end)');
    a = checkInt('stepRange[0]', o.stepRange[0], 0, N);
    b = checkInt('stepRange[1]', o.stepRange[1], a, N);
  }
  const output = checkOutput(o.output);
  if (o.threads !== undefined) checkInt('threads', o.threads, 1, 1024);
  if (output === 'device' && model.user) throw new InvalidArgumentError("output: 'device' is for built-in models (user-defined models run on the CPU)");
  // Dimension: from the model, or from x0 for "any dim" models.
  let x0 = o.x0;
  if (x0 === null || typeof x0 !== 'object' || typeof (x0 as Vec).length !== 'number') throw new InvalidArgumentError(`x0 must be an array of numbers, got ${describe(x0)}`);
  checkBacking('x0', x0);
  if (x0 instanceof DeviceArray) {
    if (x0.dtype !== checkDtype(o.dtype)) throw new InvalidArgumentError(`x0 is a ${x0.dtype} DeviceArray but dtype is ${checkDtype(o.dtype)}`);
    // A device x0 stays on the device when the result does; for a host result it is read once.
    if (output === 'host') x0 = x0.toHost();
  }
  let d = model.dim;
  if (o.dim !== undefined) {
    const od = checkInt('dim', o.dim, 1, 2 ** 30);
    if (d !== 0 && od !== d) throw new ShapeError(`dim ${od} does not match the model's dim ${d}`);
    d = od;
  }
  // Dimension-free models: a typed array of P·k values is a [P, k] state (e.g. a previous `final`);
  // a plain list is one state broadcast to every path.
  if (d === 0) d = (ArrayBuffer.isView(x0) || x0 instanceof DeviceArray) && P > 1 && x0.length % P === 0 ? x0.length / P : x0.length;
  if (d === 0) throw new ShapeError('x0 must not be empty');
  if (x0.length !== d && x0.length !== P * d) throw new ShapeError(`x0 must hold d = ${d} or paths·d = ${P * d} values, has ${x0.length} (dim mismatch)`);
  const m = model.brownianDim === 0 ? d : model.brownianDim;
  checkSize('the state (paths·dim)', P * d);
  // Everything proportional to the save count is sized before the state is built.
  const sch = schedule(where, o.save, N, t0, h, a, b, P * d);
  let deviceX0: Plan['deviceX0'];
  let x: FloatArray;
  if (output === 'device') {
    // The state is built on the GPU: from one host row (broadcast there), a host P·d array
    // (uploaded) or a device array (copied device to device, so the caller's x0 is untouched).
    x = allocate(dtype, 0);
    if (x0 instanceof DeviceArray && x0.length === P * d) {
      deviceX0 = { array: x0 };
    } else {
      if (x0 instanceof DeviceArray) x0 = x0.toHost(); // one shared row of d values
      const host = allocate(dtype, x0.length);
      host.set(x0 as ArrayLike<number>);
      for (let i = 0; i < host.length; i++) if (!Number.isFinite(host[i])) throw new InvalidArgumentError(`x0[${i}] is not finite`);
      deviceX0 = x0.length === d ? { row: host } : { all: host };
    }
  } else {
    x = allocate(dtype, P * d, 'the state (paths·dim)');
  }
  if (output === 'device') {
    // x0 handled above.
  } else if (x0 instanceof DeviceArray) {
    throw new InvalidArgumentError('internal: device x0 with host output');
  } else if (x0.length === d) {
    for (let i = 0; i < d; i++) {
      if (!Number.isFinite(x0[i])) throw new InvalidArgumentError(`x0[${i}] is not finite`);
    }
    // Broadcast by doubling (log2 P native copies, not P small ones: 52 ms → ~1 ms at 1e6 paths).
    if (P > 0) x.set(x0 as ArrayLike<number>, 0);
    for (let filled = d; filled < P * d; filled *= 2) x.copyWithin(filled, 0, Math.min(filled, P * d - filled));
  } else {
    x.set(x0 as ArrayLike<number>);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new InvalidArgumentError(`x0[${i}] is not finite`);
  }
  const times = newArray(Float64Array, sch.n0.length, 'the save times');
  sch.n0.forEach((n, i) => (times[i] = n === N && sch.w[i] === 0 ? t1 : t0 + (n + sch.w[i]) * h));
  if (model.user && o.device === 'cuda') throw new InvalidArgumentError("user-defined models run on the CPU (device 'cuda' is for built-in models)");
  const device = model.user ? 'cpu' : output === 'device' ? deviceForOutput(o.device) : resolveDevice(o.device, P * d * (b - a));
  if (model.user && sch.w.some((w) => w > 0)) throw new InvalidArgumentError("interpolated save times are available for built-in models only");
  const pl: Plan = {
    model, method, P, d, m, N, t0, t1, h, a, b, refine, dtype, key, pathOffset,
    saveN0: sch.n0, saveW: sch.w, times, x, device, deviceX0,
  };
  if (o.maxBytes !== undefined) {
    const est = estimate(pl).bytes;
    if (est > checkNumber('maxBytes', o.maxBytes, { min: 0 })) throw new InvalidArgumentError(`simulation needs about ${est} bytes, above maxBytes = ${o.maxBytes}`);
  }
  return pl;
}

const EXTRA: Record<Method, number> = { euler: 1, milstein: 2, heun: 3, sra1: 3, exact: 0, 'euler-ft': 0, 'log-euler-ft': 0 };

function estimate(p: Plan): { bytes: number; breakdown: Record<string, number> } {
  const b = p.dtype === 'float64' ? 8 : 4;
  const breakdown: Record<string, number> = {
    state: b * p.P * p.d,
    saves: b * p.P * p.d * p.saveN0.length,
  };
  if (p.model.user) {
    breakdown.workspace = b * p.P * p.d * EXTRA[p.method];
    breakdown.noise = b * p.P * p.m * (p.method === 'sra1' ? 2 : 1);
  }
  return { bytes: Object.values(breakdown).reduce((s, v) => s + v, 0), breakdown };
}

/** Bytes a simulation would allocate: b·P·d·(S + 1 + k) + b·P·m on the callback path (docs/design/sde.md). */
export function memoryEstimate(model: Model, o: SimulateOptions): { bytes: number; breakdown: Record<string, number> } {
  checkOptions('sde.memoryEstimate', o, SIMULATE_KEYS);
  return estimate(plan(model, { ...o, maxBytes: undefined }, 'sde.memoryEstimate'));
}

/** @internal */
export function fusedArgs(p: Plan): { setup: SdeFusedSetup; out: FloatArray } {
  const f = p.model.fused!;
  const built = f.build(p.d, p.h, p.t0, p.t1, p.N, p.method);
  const setup: SdeFusedSetup = {
    par: built.par, tcoef: built.tcoef, saveN0: p.saveN0, saveW: p.saveW, kind: f.code, method: METHOD_CODE[p.method], dim: p.d, m: p.m,
    mixture: f.mixture, paths: p.P, pathOffset: p.pathOffset, stepBegin: p.a, stepEnd: p.b, keyLo: p.key[0], keyHi: p.key[1],
    refine: p.refine, h: p.h, device: deviceCode(p.device), tcoefPerStep: built.perStep, f64: p.dtype === 'float64',
  };
  const outLen = p.deviceX0 ? 0 : p.saveN0.length * p.P * p.d;
  return { setup, out: allocate(p.dtype, outLen, 'the saved states') };
}

/** The device-resident state ([P, d], becomes `final`) and saves ([S, P, d]) of a device-output call. */
function deviceBuffers(p: Plan): { x: DeviceArray; out: DeviceArray } {
  const src = p.deviceX0!;
  let x: DeviceArray;
  if ('array' in src) {
    x = src.array.clone();
  } else if ('all' in src) {
    x = DeviceArray.fromHost(src.all, [p.P, p.d]);
  } else {
    x = DeviceArray.allocate(p.dtype, [p.P, p.d]);
    runNativeSync(() => native().deviceBroadcastRows({ handle: x.live(), row: src.row, rows: p.P }));
  }
  return { x, out: DeviceArray.allocate(p.dtype, [p.saveN0.length, p.P, p.d]) };
}

function result<A>(p: Plan, out: A, final: A, wallMs: number): SimResult<A> {
  return {
    times: p.times, data: out, shape: [p.saveN0.length, p.P, p.d], final,
    stats: { pathSteps: p.P * (p.b - p.a), wallMs, device: p.device },
  };
}


/** Simulates synchronously (blocks the event loop). See {@link simulate}. */
export function simulateSync<D extends Dtype = 'float32'>(model: Model, o: DeviceSimulateOptions<D>): SimResult<DeviceArray<D>>;
export function simulateSync<D extends Dtype = 'float32'>(model: Model, o: HostSimulateOptions<D>): SimResult<HostArrayFor<D>>;
export function simulateSync(model: Model, o: SimulateOptions): SimResult | SimResult<DeviceArray>;
export function simulateSync(model: Model, o: SimulateOptions): SimResult | SimResult<DeviceArray> {
  const p = plan(model, o, 'sde.simulateSync');
  const start = performance.now();
  const threads = threadControl(o.threads);
  {
    if (model.user) {
      const out = allocate(p.dtype, p.saveN0.length * p.P * p.d);
      runUser(p, out, o);
      return result(p, out, p.x, performance.now() - start);
    }
    const f = fusedArgs(p);
    if (p.deviceX0) {
      const d = deviceBuffers(p);
      try {
        runNativeSync(() => sdeNative().sdeFused({ ...f.setup, x: d.x.live(), out: d.out.live(), control: threads, async: false }));
      } catch (e) {
        d.x.dispose();
        d.out.dispose();
        throw e;
      }
      return result(p, d.out, d.x, performance.now() - start);
    }
    runNativeSync(() => sdeNative().sdeFused({ ...f.setup, x: p.x, out: f.out, control: threads, async: false }));
    return result(p, f.out, p.x, performance.now() - start);
  }
}

/**
 * Simulates `paths` paths of `model` from t0 to t1 in `steps` steps, off the event loop. Path i's
 * noise depends only on (seed, pathOffset + i, step), never on batch size, threads or device.
 * @example
 * ```ts
 * const r = await sde.simulate(sde.models.gbm({ mu: 0.05, sigma: 0.2 }),
 *   { paths: 1e6, x0: [100], t1: 1, steps: 252, method: 'exact', seed: 1 });
 * ```
 */
export async function simulate<D extends Dtype = 'float32'>(model: Model, o: DeviceSimulateOptions<D>): Promise<SimResult<DeviceArray<D>>>;
export async function simulate<D extends Dtype = 'float32'>(model: Model, o: HostSimulateOptions<D>): Promise<SimResult<HostArrayFor<D>>>;
export async function simulate(model: Model, o: SimulateOptions): Promise<SimResult | SimResult<DeviceArray>>;
export async function simulate(model: Model, o: SimulateOptions): Promise<SimResult | SimResult<DeviceArray>> {
  const p = plan(model, o);
  const start = performance.now();
  {
    if (model.user) {
      const out = allocate(p.dtype, p.saveN0.length * p.P * p.d);
      await runUserAsync(p, out, o);
      return result(p, out, p.x, performance.now() - start);
    }
    const f = fusedArgs(p);
    const onProgress = o.onProgress;
    const run: RunOptions = {
      signal: o.signal, progressIntervalMs: o.progressIntervalMs,
      onProgress: onProgress && ((q) => {
        const step = p.a + Math.round((q.done / q.total) * (p.b - p.a));
        onProgress({ step, steps: p.N, t: p.t0 + step * p.h });
      }),
    };
    if (p.deviceX0) {
      const d = deviceBuffers(p);
      try {
        await DeviceArray.holding([d.x, d.out], () =>
          runNative(run, (control) => sdeNative().sdeFused({ ...f.setup, x: d.x.live(), out: d.out.live(), control, async: true }), o.threads));
      } catch (e) {
        d.x.dispose();
        d.out.dispose();
        throw e;
      }
      return result(p, d.out, d.x, performance.now() - start);
    }
    await runNative(run, (control) => sdeNative().sdeFused({ ...f.setup, x: p.x, out: f.out, control, async: true }), o.threads);
    return result(p, f.out, p.x, performance.now() - start);
  }
}

// ---- callback path -------------------------------------------------------------------------

function runUser(p: Plan, out: FloatArray, o: SimulateOptions): void {
  const r = new UserRunner(p, out);
  for (let n = p.a; n < p.b; n++) {
    r.step(n);
    if (o.onProgress) o.onProgress({ step: n + 1, steps: p.N, t: r.time(n + 1) });
  }
}

async function runUserAsync(p: Plan, out: FloatArray, o: SimulateOptions): Promise<void> {
  const r = new UserRunner(p, out);
  let last = Date.now();
  const every = Math.max(1, o.progressIntervalMs ?? 100);
  for (let n = p.a; n < p.b; n++) {
    throwIfAborted(o.signal);
    r.step(n);
    if (Date.now() - last >= 20) {
      await new Promise((res) => setImmediate(res));
      last = Date.now();
    }
    if (o.onProgress && (Date.now() - last >= every || n + 1 === p.b)) o.onProgress({ step: n + 1, steps: p.N, t: r.time(n + 1) });
  }
  throwIfAborted(o.signal);
}

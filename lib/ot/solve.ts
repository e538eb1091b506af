/**
 * ot.sinkhorn / ot.sinkhornBatch: argument checks, defaults and result shaping around the native
 * solvers (native/ot/). Design: docs/design/ot.md
 * @packageDocumentation
 */
import { deviceCode, resolveDevice } from '../backends';
import { DtypeError, InvalidArgumentError, ShapeError } from '../errors';
import { RUN_KEYS, RunOptions, ownedInput, runNative, runNativeSync } from '../run';
import { Dtype, FloatArray, allocate, checkBacking, checkFinite, checkInt, checkNumber, checkOneOf, checkOptions, describe, optionKeys } from '../validate';
import { OtSolveTail, OtSolverOptions, RawResult, addon, dtypeOfArray, isF32, isF64, local } from './addon';
import { Points, points } from './cost';
import { HistoryEntry, OtMethod, OtStage, OtStatus, PlanArray, PointCost, SinkhornOptions, SinkhornResult, SnsOptions, Tensor } from './types';

/** Options every solve takes (single, batched and, through w2, point clouds). */
const SOLVER_KEYS = optionKeys<Omit<SinkhornOptions, 'reg' | 'init' | keyof RunOptions>>()([
  'method', 'dtype', 'device', 'tol', 'maxIter', 'checkEvery', 'epsScaling', 'sns', 'returnPlan', 'roundPlan', 'overRelaxation',
]);
const SINKHORN_KEYS = optionKeys<SinkhornOptions>()(['reg', 'init', ...SOLVER_KEYS, ...RUN_KEYS]);
const SNS_KEYS = optionKeys<SnsOptions>()([
  'warmupIters', 'lambda0', 'lambdaMax', 'badRatio', 'maxNewton', 'cgMaxIter', 'cgTol', 'shiftMax', 'armijoC1',
  'maxBacktracks', 'fallbackIters', 'fallbackRatio',
]);
const INIT_KEYS = optionKeys<NonNullable<SinkhornOptions['init']>>()(['f', 'g']);
const STATUS: OtStatus[] = ['converged', 'maxIter', 'stalled'];
const STAGES: OtStage[] = ['sinkhorn', 'warmup', 'newton', 'fallback', 'epsScaling'];
/** Method names in native code order (native/ot/solver.h enum Method). */
const METHODS = ['sinkhorn', 'sns', 'kernel-scaling', 'auto'] as const;
const POINT_KEYS = optionKeys<PointCost>()(['X', 'Y', 'cost', 'd']);

/** A marginal as accepted by the API. */
export type Marginal = Float64Array | Float32Array | number[];

function toF64(name: string, x: unknown): Float64Array {
  checkBacking(name, x);
  if (isF64(x)) return x;
  if (isF32(x) || (Array.isArray(x) && x.every((v) => typeof v === 'number'))) return Float64Array.from(x as ArrayLike<number>);
  throw new DtypeError(`${name} must be a Float64Array, Float32Array or number[], got ${describe(x)}`);
}

/** Checks a marginal: finite, > 0, and returns its sum. */
function checkMarginal(name: string, x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`${name}[${i}] must be finite and > 0 (got ${v}); drop zero-mass points`);
    s += v;
  }
  return s;
}

function checkMass(sa: number, sb: number): void {
  if (Math.abs(sa - 1) > 1e-6 || Math.abs(sb - 1) > 1e-6) {
    throw new InvalidArgumentError(`marginals must each sum to 1 within 1e-6 (got Σa=${sa}, Σb=${sb})`);
  }
}

function cost(name: string, C: unknown): FloatArray {
  const data = C !== null && typeof C === 'object' && 'data' in (C as object) ? (C as Tensor).data : C;
  if (!(isF64(data)) && !(isF32(data))) {
    throw new DtypeError(`${name} must be a Float64Array or Float32Array (or a tensor of one), got ${describe(data)}`);
  }
  checkBacking(name, data);
  return data;
}

function castTo(dtype: Dtype, x: FloatArray): FloatArray {
  if (dtypeOfArray(x) === dtype) return x;
  return dtype === 'float64' ? Float64Array.from(x) : Float32Array.from(x);
}

interface Prepared {
  C: FloatArray;
  dtype: Dtype;
  options: OtSolverOptions;
  device: 'cpu' | 'cuda';
  returnPlan: boolean;
  initF: Float64Array | null;
  initG: Float64Array | null;
}

/**
 * Validates the options common to single and batched solves (the caller has checked the keys);
 * n, m are the problem size.
 */
function prepareOptions(where: string, o: SinkhornOptions, C: FloatArray, n: number, m: number, regForPacking: number): Prepared {
  const sns = o.sns === undefined ? {} : o.sns;
  checkOptions(`${where} sns`, sns, SNS_KEYS);
  const method = checkOneOf('method', o.method ?? 'auto', METHODS);
  if (method === 'kernel-scaling' && o.device === 'cuda') {
    throw new InvalidArgumentError("method 'kernel-scaling' runs on the CPU only (use 'auto', 'sns' or 'sinkhorn' on CUDA)");
  }
  const dtype: Dtype = o.dtype === undefined ? dtypeOfArray(C) : o.dtype === 'float32' || o.dtype === 'float64' ? o.dtype : (() => {
    throw new DtypeError(`dtype must be 'float32' or 'float64', got ${describe(o.dtype)}`);
  })();
  const device = resolveDevice(o.device, n * m * 200);
  const tol = checkNumber('tol', o.tol ?? (dtype === 'float64' ? 1e-9 : 1e-5), { min: 0 });
  const maxIter = checkInt('maxIter', o.maxIter ?? 10000, 0, 2 ** 40);
  const checkEvery = checkInt('checkEvery', o.checkEvery ?? (device === 'cuda' ? 10 : 1), 1, 2 ** 30);
  const pos = (name: string, v: number | undefined, dflt: number): number =>
    v === undefined ? dflt : checkNumber(`sns.${name}`, v, { min: 0, minExclusive: true });
  const int = (name: string, v: number | undefined, dflt: number, min = 0): number => (v === undefined ? dflt : checkInt(`sns.${name}`, v, min, 2 ** 40));
  const options: OtSolverOptions = {
    reg: regForPacking,
    method: METHODS.indexOf(method),
    tol,
    maxIter,
    checkEvery,
    epsScaling: !!o.epsScaling,
    returnPlan: o.returnPlan !== false,
    roundPlan: !!o.roundPlan,
    stallWindow: 500,
    warmupIters: int('warmupIters', sns.warmupIters, 20),
    lambda0: sns.lambda0 === undefined ? -1 : checkNumber('sns.lambda0', sns.lambda0, { min: 0, max: 1, minExclusive: true }),
    lambdaMax: sns.lambdaMax === undefined ? -1 : checkNumber('sns.lambdaMax', sns.lambdaMax, { min: 0, max: 1, minExclusive: true }),
    badRatio: pos('badRatio', sns.badRatio, 0.25),
    maxNewton: int('maxNewton', sns.maxNewton, 200),
    cgMaxIter: int('cgMaxIter', sns.cgMaxIter, -1, 1),
    cgRtol: sns.cgTol === undefined ? -1 : checkNumber('sns.cgTol', sns.cgTol, { min: 0, minExclusive: true }),
    shiftMax: sns.shiftMax === undefined ? 1e-3 : checkNumber('sns.shiftMax', sns.shiftMax, { min: 0 }),
    armijoC1: pos('armijoC1', sns.armijoC1, 1e-4),
    maxBacktracks: int('maxBacktracks', sns.maxBacktracks, 30, 1),
    fallbackIters: int('fallbackIters', sns.fallbackIters, 20, 1),
    fallbackRatio: pos('fallbackRatio', sns.fallbackRatio, 0.9),
    relax: o.overRelaxation === undefined ? -1 : o.overRelaxation === true ? 1 : o.overRelaxation === false ? 0 : (() => {
      throw new InvalidArgumentError(`overRelaxation must be a boolean, got ${describe(o.overRelaxation)}`);
    })(),
  };
  let initF: Float64Array | null = null;
  let initG: Float64Array | null = null;
  if (o.init !== undefined) {
    checkOptions(`${where} init`, o.init, INIT_KEYS);
    if (o.init.f !== undefined) {
      initF = toF64('init.f', o.init.f);
      if (initF.length !== n) throw new ShapeError(`init.f must have length ${n}, has ${initF.length}`);
      checkFinite('init.f', initF);
    }
    if (o.init.g !== undefined) {
      initG = toF64('init.g', o.init.g);
      if (initG.length !== m) throw new ShapeError(`init.g must have length ${m}, has ${initG.length}`);
      checkFinite('init.g', initG);
    }
  }
  return { C: castTo(dtype, C), dtype, options, device, returnPlan: o.returnPlan !== false, initF, initG };
}

function shape<A extends FloatArray>(r: RawResult, plan: A | undefined): SinkhornResult<A> {
  const history: HistoryEntry[] = [];
  for (let k = 0; k < r.history.length; k += 4) {
    history.push({ iteration: r.history[k], stage: STAGES[r.history[k + 1]], error: r.history[k + 2], ms: r.history[k + 3] });
  }
  const status = STATUS[r.status];
  return {
    f: local(r.f),
    g: local(r.g),
    ...(plan ? { plan } : {}),
    cost: r.cost,
    regularizedCost: r.regularizedCost,
    dualValue: r.dualValue,
    marginalError: r.marginalError,
    converged: status === 'converged',
    status,
    iterations: r.sinkhornIters + r.newtonIters,
    sinkhornIters: r.sinkhornIters,
    newtonIters: r.newtonIters,
    cgIters: r.cgIters,
    lineSearchEvals: r.lineSearchEvals,
    densePasses: r.densePasses,
    history,
    lambdaFinal: r.lambdaFinal,
    timeMs: r.timeMs,
    method: METHODS[r.method] as Exclude<OtMethod, 'auto'>,
    absorptions: r.absorptions,
  };
}

interface Single extends Prepared {
  a: Float64Array;
  b: Float64Array;
  n: number;
  m: number;
  plan: FloatArray | null;
  /** Point clouds (cost formed on the fly): X n×d, Y m×d in the working dtype. */
  pts?: { X: FloatArray; Y: FloatArray; d: number };
}

function isPointCost(x: unknown): x is PointCost {
  return x !== null && typeof x === 'object' && ('X' in (x as object) || 'Y' in (x as object) || 'cost' in (x as object));
}

/** Reads `{ X, Y, cost: 'sqeuclidean' }`: same dimension and dtype, finite coordinates. */
function pointCloud(pc: PointCost, n: number, m: number) {
  checkOptions('point cost', pc, POINT_KEYS);
  if (pc.cost !== 'sqeuclidean') throw new InvalidArgumentError(`cost must be 'sqeuclidean', got ${describe(pc.cost)}`);
  const x = points('X', pc.X as Points, pc.d);
  const y = points('Y', pc.Y as Points, pc.d ?? x.d);
  if (x.d !== y.d) throw new ShapeError(`X and Y must have the same dimension (${x.d} vs ${y.d})`);
  if (dtypeOfArray(x.data) !== dtypeOfArray(y.data)) throw new DtypeError('X and Y must have the same dtype');
  if (x.n !== n || y.n !== m) throw new ShapeError(`X has ${x.n} points and Y ${y.n}, but a has ${n} and b ${m} entries`);
  checkFinite('X', x.data);
  checkFinite('Y', y.data);
  return { X: x.data, Y: y.data, d: x.d };
}

function prepareSingle(where: string, aIn: Marginal, bIn: Marginal, CIn: FloatArray | Tensor | PointCost, o: SinkhornOptions): Single {
  checkOptions(where, o, SINKHORN_KEYS);
  const a = toF64('a', aIn);
  const b = toF64('b', bIn);
  const n = a.length;
  const m = b.length;
  if (n < 1 || m < 1) throw new ShapeError('a and b must be non-empty');
  if (isPointCost(CIn)) {
    const pc = pointCloud(CIn, n, m);
    if (o.method === 'sns' || o.method === 'kernel-scaling') {
      throw new InvalidArgumentError(`point clouds run the online log-domain Sinkhorn ('auto' or 'sinkhorn'); method '${o.method}' needs a cost matrix (ot.cost.sqeuclidean)`);
    }
    const reg = checkNumber('reg', o.reg, { min: 0, minExclusive: true });
    checkMass(checkMarginal('a', a), checkMarginal('b', b));
    // Point clouds return no plan unless asked (it is the only n×m array of the solve).
    const p = prepareOptions(where, { ...o, returnPlan: o.returnPlan === true }, pc.X, n, m, reg);
    const plan = p.returnPlan ? allocate(p.dtype, n * m) : null;
    return { ...p, C: p.C, a, b, n, m, plan, pts: { X: castTo(p.dtype, pc.X), Y: castTo(p.dtype, pc.Y), d: pc.d } };
  }
  const C = cost('C', CIn);
  const tshape = CIn !== null && typeof CIn === 'object' && 'shape' in CIn ? (CIn as Tensor).shape : undefined;
  if (tshape && (tshape.length !== 2 || tshape[0] !== n || tshape[1] !== m)) {
    throw new ShapeError(`C has shape [${tshape.join(', ')}], expected [${n}, ${m}] from a and b`);
  }
  if (C.length !== n * m) throw new ShapeError(`C must hold n·m = ${n}·${m} = ${n * m} values (n = a.length, m = b.length), has ${C.length}`);
  const reg = checkNumber('reg', o.reg, { min: 0, minExclusive: true });
  checkMass(checkMarginal('a', a), checkMarginal('b', b));
  const p = prepareOptions(where, o, C, n, m, reg);
  const plan = p.returnPlan ? allocate(p.dtype, n * m) : null;
  return { ...p, a, b, n, m, plan };
}

/** The native call of a prepared single solve. */
function callSingle(p: Single, control: Float64Array | null, async: boolean): RawResult | Promise<RawResult> {
  const own = async ? (x: ArrayBufferView | null) => ownedInput(x) : (x: ArrayBufferView | null) => x;
  const [ain, bin, f0, g0] = [p.a, p.b, p.initF, p.initG].map(own) as [Float64Array, Float64Array, Float64Array | null, Float64Array | null];
  const tail: OtSolveTail = { initF: f0, initG: g0, plan: p.plan, device: deviceCode(p.device), control, async };
  if (p.pts) {
    const [X, Y] = [p.pts.X, p.pts.Y].map(own) as FloatArray[];
    return addon().otSolvePoints({ ...p.options, X, Y, n: p.n, m: p.m, d: p.pts.d, a: ain, b: bin, ...tail });
  }
  return addon().otSolve({ ...p.options, C: own(p.C) as FloatArray, n: p.n, m: p.m, a: ain, b: bin, ...tail });
}

/**
 * Entropic optimal transport between a (n) and b (m) with cost C (n×m), or between two point
 * clouds with the squared Euclidean cost formed on the fly (`{ X, Y, cost: 'sqeuclidean' }`,
 * memory O(n + m), no plan unless `returnPlan: true`), off the event loop. Argument order follows
 * POT's `ot.sinkhorn(a, b, M, reg)`; `reg` is in units of C. The default method 'auto' picks
 * kernel-scaling Sinkhorn, SNS or log-domain Sinkhorn (docs/design/ot.md); `result.method` says which ran.
 *
 * @example
 * ```ts
 * const C = ot.cost.sqeuclidean(X, Y);                 // n×m Float64Array
 * const r = await ot.sinkhorn(a, b, C, { reg: 1e-2 });  // method 'auto', float64, tol 1e-9
 * console.log(r.cost, r.status, r.method, r.iterations);
 * const big = await ot.sinkhorn(a2, b2, { X: { data: xs, shape: [20000, 2] }, Y: { data: ys, shape: [20000, 2] }, cost: 'sqeuclidean' }, { reg: 1e-2 });
 * ```
 * @throws InvalidArgumentError (`ERR_ITOKIT_INVALID_ARG`) for reg ≤ 0, NaN in C or in the points,
 * an unknown cost name, non-positive or unbalanced marginals, unknown options; ShapeError for
 * mismatched sizes or dimensions; DtypeError for wrong array types; DeviceUnavailableError for
 * device 'cuda' without CUDA.
 */
export async function sinkhorn<A extends FloatArray = Float64Array, D extends Dtype | undefined = undefined>(a: Marginal, b: Marginal, C: A | Tensor<A> | PointCost<A>, o: SinkhornOptions & { dtype?: D }): Promise<SinkhornResult<PlanArray<A, D>>> {
  const p = prepareSingle('ot.sinkhorn', a, b, C, o);
  const raw = await runNative<RawResult>(o as RunOptions, (control) => callSingle(p, control, true) as Promise<RawResult>);
  return shape(raw, (p.plan ?? undefined) as PlanArray<A, D> | undefined);
}

/** Synchronous {@link sinkhorn} (blocks the event loop; no signal or progress). */
export function sinkhornSync<A extends FloatArray = Float64Array, D extends Dtype | undefined = undefined>(a: Marginal, b: Marginal, C: A | Tensor<A> | PointCost<A>, o: SinkhornOptions & { dtype?: D }): SinkhornResult<PlanArray<A, D>> {
  const p = prepareSingle('ot.sinkhornSync', a, b, C, o);
  const raw = runNativeSync(() => callSingle(p, null, false) as RawResult);
  return shape(raw, (p.plan ?? undefined) as PlanArray<A, D> | undefined);
}

/** Options of {@link sinkhornBatch}: `reg` may be one value per problem. */
export interface SinkhornBatchOptions extends Omit<SinkhornOptions, 'reg' | 'init'> {
  /** One regularisation for all problems, or B values. */
  reg: number | ArrayLike<number>;
}

const BATCH_KEYS = optionKeys<SinkhornBatchOptions>()(['reg', ...SOLVER_KEYS, ...RUN_KEYS]);

/** Result of {@link sinkhornBatch}. */
export interface SinkhornBatchResult<A extends FloatArray = FloatArray> {
  /** Per-problem results; each `plan` is a view into {@link SinkhornBatchResult.plan}. */
  problems: SinkhornResult<A>[];
  /** All plans, [B, n, m] (absent with returnPlan: false). */
  plan?: Tensor<A>;
}

interface Batch extends Prepared {
  a: Float64Array;
  b: Float64Array;
  reg: Float64Array;
  B: number;
  n: number;
  m: number;
  shared: boolean;
  plan: FloatArray | null;
}

function prepareBatch(where: string, a: Tensor<Float64Array>, b: Tensor<Float64Array>, CIn: Tensor, o: SinkhornBatchOptions): Batch {
  // init is absent from the batch keys: warm starts are not supported for batches.
  checkOptions(where, o, BATCH_KEYS);
  const dims = (name: string, t: Tensor, rank: number): number[] => {
    if (t === null || typeof t !== 'object' || !Array.isArray(t.shape) || t.shape.length !== rank) {
      throw new ShapeError(`${name} must be a tensor of rank ${rank} ({data, shape})`);
    }
    return t.shape;
  };
  const [B, n] = dims('a', a, 2);
  const [B2, m] = dims('b', b, 2);
  const [Bc, n2, m2] = dims('C', CIn, 3);
  if (B2 !== B || n2 !== n || m2 !== m || (Bc !== B && Bc !== 1)) {
    throw new ShapeError(`shapes do not fit: a [${a.shape}], b [${b.shape}], C [${CIn.shape}] (want [B, n], [B, m], [B or 1, n, m])`);
  }
  if (!(B >= 1 && n >= 1 && m >= 1)) throw new ShapeError('B, n and m must be at least 1');
  const aD = toF64('a', a.data);
  const bD = toF64('b', b.data);
  const C = cost('C', CIn);
  if (aD.length !== B * n || bD.length !== B * m || C.length !== Bc * n * m) throw new ShapeError('tensor data lengths do not match their shapes');
  const regs = typeof o.reg === 'number' ? new Float64Array(B).fill(o.reg) : toF64('reg', o.reg);
  if (regs.length !== B) throw new ShapeError(`reg must be a number or have B = ${B} values`);
  regs.forEach((r, p) => checkNumber(`reg[${p}]`, r, { min: 0, minExclusive: true }));
  for (let p = 0; p < B; p++) {
    checkMass(checkMarginal(`a[${p}]`, aD.subarray(p * n, (p + 1) * n)), checkMarginal(`b[${p}]`, bD.subarray(p * m, (p + 1) * m)));
  }
  const p = prepareOptions(where, { ...o, reg: regs[0] }, C, n, m, regs[0]);
  const plan = p.returnPlan ? allocate(p.dtype, B * n * m) : null;
  return { ...p, a: aD, b: bD, reg: regs, B, n, m, shared: Bc === 1 && B > 1, plan };
}

function shapeBatch<A extends FloatArray>(raw: RawResult[], q: Batch): SinkhornBatchResult<A> {
  const nm = q.n * q.m;
  const problems = raw.map((r, p) => shape(r, q.plan ? (q.plan.subarray(p * nm, (p + 1) * nm) as A) : undefined));
  return q.plan ? { problems, plan: { data: q.plan as A, shape: [q.B, q.n, q.m] } } : { problems };
}

/**
 * B independent problems of one size (minibatch OT, docs/design/ot.md): a [B, n], b [B, m], C [B, n, m] or a
 * shared [1, n, m]. On the CPU the results are bit-identical to B calls of {@link sinkhorn}.
 */
export async function sinkhornBatch<A extends FloatArray = Float64Array, D extends Dtype | undefined = undefined>(a: Tensor<Float64Array>, b: Tensor<Float64Array>, C: Tensor<A>, o: SinkhornBatchOptions & { dtype?: D }): Promise<SinkhornBatchResult<PlanArray<A, D>>> {
  const q = prepareBatch('ot.sinkhornBatch', a, b, C, o);
  const [Cin, ain, bin] = [q.C, q.a, q.b].map((x) => ownedInput(x as ArrayBufferView));
  const raw = await runNative<RawResult[]>(o as RunOptions, (control) =>
    addon().otSolveBatch({
      ...q.options, C: Cin as typeof q.C, shared: q.shared, B: q.B, n: q.n, m: q.m, a: ain as typeof q.a, b: bin as typeof q.b, regs: q.reg,
      plan: q.plan, device: deviceCode(q.device), control, async: true,
    }) as Promise<RawResult[]>,
  );
  return shapeBatch<PlanArray<A, D>>(raw, q);
}

/** Synchronous {@link sinkhornBatch}. */
export function sinkhornBatchSync<A extends FloatArray = Float64Array, D extends Dtype | undefined = undefined>(a: Tensor<Float64Array>, b: Tensor<Float64Array>, C: Tensor<A>, o: SinkhornBatchOptions & { dtype?: D }): SinkhornBatchResult<PlanArray<A, D>> {
  const q = prepareBatch('ot.sinkhornBatchSync', a, b, C, o);
  const raw = runNativeSync(() => addon().otSolveBatch({
    ...q.options, C: q.C, shared: q.shared, B: q.B, n: q.n, m: q.m, a: q.a, b: q.b, regs: q.reg, plan: q.plan, device: deviceCode(q.device), control: null, async: false,
  }) as RawResult[]);
  return shapeBatch<PlanArray<A, D>>(raw, q);
}

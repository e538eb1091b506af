/**
 * Bad arguments across the public API (every namespace of lib/index.ts but unet, which its own
 * suites cover): each case must throw (or reject with) an ItokitError with a specific code. Cases
 * are rows of one table; options objects get generated rows (null, a number, an array, undefined
 * where options are required, and a misspelt key whose "did you mean" suggestion is checked).
 */
import { DeviceArray, ErrorCode, ItokitError, diffusion, fbm, nn, ot, rng, sde, setThreads, train } from '../lib';

const INVALID: ErrorCode = 'ERR_ITOKIT_INVALID_ARG';
const SHAPE: ErrorCode = 'ERR_ITOKIT_SHAPE';
const DTYPE: ErrorCode = 'ERR_ITOKIT_DTYPE';

interface Case {
  what: string;
  code: ErrorCode;
  run: () => unknown;
  /** Checked against the message when given. */
  message?: RegExp;
}
const cases: Case[] = [];

function bad(what: string, code: ErrorCode, run: () => unknown, message?: RegExp): void {
  cases.push({ what, code, run, message });
}

// The table mixes every API's option types: rows pass deliberately wrong values, so they are untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Rows for one options parameter: not an object (null, a number, an array, and undefined unless the
 * parameter is optional), and `typo` — a misspelt key next to the valid options — which must be
 * named, with the key it was meant to be.
 */
function options(where: string, call: (o: Loose) => unknown, valid: Record<string, unknown>, typo: [string, string], optional = false): void {
  bad(`${where}: null options`, INVALID, () => call(null), /got null/);
  bad(`${where}: options is a number`, INVALID, () => call(42));
  bad(`${where}: options is an array`, INVALID, () => call([]));
  if (!optional) bad(`${where}: undefined options`, INVALID, () => call(undefined));
  misspelt(where, call, valid, typo);
}

/** A row for a misspelt key `wrong` next to valid options: the message must name it and suggest `meant`. */
function misspelt(where: string, call: (o: Loose) => unknown, valid: Record<string, unknown>, [wrong, meant]: [string, string]): void {
  bad(`${where}: unknown option '${wrong}'`, INVALID, () => call({ ...valid, [wrong]: valid[meant] ?? 1 }),
    new RegExp(`unknown option '${esc(wrong)}' of ${esc(where)} \\(did you mean '${esc(meant)}'\\?\\)`));
}

/** A typed array over a SharedArrayBuffer. */
function shared<A extends Float32Array | Float64Array | Uint32Array>(Ctor: new (b: SharedArrayBuffer) => A, n: number, fill = 0.5): A {
  const a = new Ctor(new SharedArrayBuffer(n * (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT));
  a.fill(fill);
  return a;
}

/** A typed array whose ArrayBuffer was transferred away (its view reads as empty). */
function detached<A extends Float32Array | Float64Array | Uint32Array>(Ctor: new (n: number) => A, n: number): A {
  const a = new Ctor(n);
  structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
  return a;
}

// ---- top level --------------------------------------------------------------------------------

for (const v of [0, 1.5, NaN, '4', 1025]) bad(`setThreads(${String(v)})`, INVALID, () => setThreads(v as number));
bad('DeviceArray.zeros(-1)', INVALID, () => DeviceArray.zeros(-1));
bad('DeviceArray.zeros(1.5)', INVALID, () => DeviceArray.zeros(1.5));
bad('DeviceArray.zeros([2, -1])', INVALID, () => DeviceArray.zeros([2, -1]));
bad('DeviceArray.zeros(4, int8)', DTYPE, () => DeviceArray.zeros(4, 'int8' as Loose));
bad('DeviceArray.fromHost(number[])', DTYPE, () => DeviceArray.fromHost([1, 2] as Loose));
bad('DeviceArray.fromHost(shared)', DTYPE, () => DeviceArray.fromHost(shared(Float32Array, 4)), /SharedArrayBuffer/);
bad('DeviceArray.fromHost(detached)', INVALID, () => DeviceArray.fromHost(detached(Float32Array, 4)), /detached/);

// ---- rng --------------------------------------------------------------------------------------

const draw = { seed: 1 };
for (const [name, fn] of [['normal', rng.normal], ['uniform', rng.uniform], ['bits', rng.bits], ['normalAsync', rng.normalAsync], ['uniformAsync', rng.uniformAsync]] as const) {
  const call = fn as (n: number, o: Loose) => unknown;
  options(`rng.${name}`, (o) => call(4, o), draw, ['sed', 'seed']);
  for (const n of [-1, 1.5, NaN, Infinity, '4', 2 ** 31]) bad(`rng.${name}(n = ${String(n)})`, INVALID, () => call(n as number, draw));
}
misspelt('rng.normal', (o) => rng.normal(4, o), { seed: 1, stream: 2 }, ['streem', 'stream']);
options('rng.randn', (o) => rng.randn(o), { seed: 1, paths: 2, dim: 2 }, ['dims', 'dim']);
for (const seed of [-1, 1.5, NaN, 2n ** 64n, '1', null]) bad(`rng.normal(seed = ${String(seed)})`, INVALID, () => rng.normal(4, { seed: seed as number }));
bad('rng.normal without a seed', INVALID, () => rng.normal(4, {} as Loose));
bad('rng.normal dtype int8', DTYPE, () => rng.normal(4, { seed: 1, dtype: 'int8' as Loose }));
bad('rng.normal stream 65536', INVALID, () => rng.normal(4, { seed: 1, stream: 65536 }));
bad('rng.normal path -1', INVALID, () => rng.normal(4, { seed: 1, path: -1 }));
bad('rng.normal step 2^32', INVALID, () => rng.normal(4, { seed: 1, step: 2 ** 32 }));
bad('rng.normal offset 1.5', INVALID, () => rng.normal(4, { seed: 1, offset: 1.5 }));
bad('rng.normal device gpu', INVALID, () => rng.normal(4, { seed: 1, device: 'gpu' as Loose }));
bad('rng.normal output disk', INVALID, () => rng.normal(4, { seed: 1, output: 'disk' as Loose }));
bad('rng.bits with a dtype', INVALID, () => rng.bits(4, { seed: 1, dtype: 'float32' } as Loose), /unknown option 'dtype' of rng.bits/);
bad('rng.randn paths 1e10', INVALID, () => rng.randn({ seed: 1, paths: 1e10, dim: 1 }));
bad('rng.randn paths·dim above 2^31', INVALID, () => rng.randn({ seed: 1, paths: 2 ** 16, dim: 2 ** 16 }));
bad('rng.randn dim NaN', INVALID, () => rng.randn({ seed: 1, paths: 2, dim: NaN }));
bad('rng.philox4x32 Float32Array counter', DTYPE, () => rng.philox4x32(new Float32Array(4) as Loose, new Uint32Array(2)));
bad('rng.philox4x32 shared counter', DTYPE, () => rng.philox4x32(shared(Uint32Array, 4, 1), new Uint32Array(2)), /SharedArrayBuffer/);
bad('rng.philox4x32 detached key', DTYPE, () => rng.philox4x32(new Uint32Array(4), detached(Uint32Array, 2)));
bad('rng.philox4x32 rounds 17', INVALID, () => rng.philox4x32(new Uint32Array(4), new Uint32Array(2), 17));

// ---- sde --------------------------------------------------------------------------------------

const ouModel = sde.models.ou({ theta: 1, mu: 0, sigma: 1 });
const sim = { paths: 2, x0: [0], t1: 1, steps: 2, method: 'exact', seed: 1 } as const;
const simSync = (o: Loose): unknown => sde.simulateSync(ouModel, o);
options('sde.simulateSync', simSync, sim, ['step', 'steps']);
options('sde.simulate', (o) => sde.simulate(ouModel, o), sim, ['sead', 'seed']);
options('sde.memoryEstimate', (o) => sde.memoryEstimate(ouModel, o), sim, ['pahts', 'paths']);
misspelt('sde.simulateSync', simSync, { ...sim, output: 'host' }, ['outptu', 'output']);
for (const paths of [-1, 1.5, NaN, 1e10, 2 ** 41]) bad(`sde.simulateSync paths ${paths}`, INVALID, () => simSync({ ...sim, paths }));
bad('sde.memoryEstimate paths 1e10', INVALID, () => sde.memoryEstimate(ouModel, { ...sim, paths: 1e10 }));
bad('sde.simulate paths 1e10', INVALID, () => sde.simulate(ouModel, { ...sim, paths: 1e10 }));
for (const steps of [0, 1.5, Infinity, 2 ** 32]) bad(`sde.simulateSync steps ${steps}`, INVALID, () => simSync({ ...sim, steps }));
bad('sde.simulateSync save every 1 over 2^32-1 steps', INVALID, () => simSync({ ...sim, paths: 1, steps: 2 ** 32 - 1, save: { every: 1 } }), /more than one array can hold/);
bad('sde.simulateSync 2^31 saves of 4 paths', INVALID, () => simSync({ ...sim, paths: 4, steps: 2 ** 31, method: 'euler', save: { every: 1 } }));
bad('sde.simulateSync no paths, 2^32-1 saves', INVALID, () => simSync({ ...sim, paths: 0, steps: 2 ** 32 - 1, save: { every: 1 } }));
bad('sde.simulateSync save every 0', INVALID, () => simSync({ ...sim, save: { every: 0 } }));
bad('sde.simulateSync save with an unknown key', INVALID, () => simSync({ ...sim, save: { every: 1, evry: 2 } }), /unknown option 'evry' of sde.simulateSync save \(did you mean 'every'\?\)/);
bad('sde.simulateSync save times with an unknown key', INVALID, () => simSync({ ...sim, save: { times: [1], interp: 'linear' } }));
bad("sde.simulateSync save 'all'", INVALID, () => simSync({ ...sim, save: 'all' }));
bad('sde.simulateSync save times shared', DTYPE, () => simSync({ ...sim, save: { times: shared(Float64Array, 1, 1) } }));
bad('sde.simulateSync t1 NaN', INVALID, () => simSync({ ...sim, t1: NaN }));
bad('sde.simulateSync t1 = t0', INVALID, () => simSync({ ...sim, t1: 0 }));
bad("sde.simulateSync method 'rk4'", INVALID, () => simSync({ ...sim, method: 'rk4' }));
bad('sde.simulateSync seed -1', INVALID, () => simSync({ ...sim, seed: -1 }));
bad('sde.simulateSync dtype float16', DTYPE, () => simSync({ ...sim, dtype: 'float16' }));
bad('sde.simulateSync x0 shared', DTYPE, () => simSync({ ...sim, x0: shared(Float64Array, 1) }), /x0 is backed by a SharedArrayBuffer/);
bad('sde.simulateSync x0 detached', INVALID, () => simSync({ ...sim, x0: detached(Float64Array, 2) }), /detached/);
bad('sde.simulateSync x0 a string', INVALID, () => simSync({ ...sim, x0: 'abc' }));
bad('sde.simulateSync x0 of the wrong length', SHAPE, () => simSync({ ...sim, x0: [0], dim: 2 }));
bad('sde.simulateSync x0 with NaN', INVALID, () => simSync({ ...sim, x0: [NaN] }));
bad('sde.simulateSync stepRange backwards', INVALID, () => simSync({ ...sim, stepRange: [2, 1] }));
bad('sde.simulateSync noiseRefinement 3', INVALID, () => simSync({ ...sim, noiseRefinement: 3 }));
bad('sde.simulateSync above maxBytes', INVALID, () => simSync({ ...sim, maxBytes: 1 }));
bad("sde.simulateSync device 'gpu'", INVALID, () => simSync({ ...sim, device: 'gpu' }));
bad("sde.simulateSync output 'disk'", INVALID, () => simSync({ ...sim, output: 'disk' }));
bad('sde.simulateSync model null', INVALID, () => sde.simulateSync(null as Loose, sim));
bad('sde.simulateSync threads 0', INVALID, () => simSync({ ...sim, threads: 0 }));

options('sde.models.ou', (p) => sde.models.ou(p), { theta: 1, mu: 0, sigma: 1 }, ['sgima', 'sigma']);
bad('sde.models.ou theta NaN', INVALID, () => sde.models.ou({ theta: NaN, mu: 0, sigma: 1 }));
bad('sde.models.ou theta -1', INVALID, () => sde.models.ou({ theta: -1, mu: 0, sigma: 1 }));
bad('sde.models.ou theta shared', DTYPE, () => sde.models.ou({ theta: shared(Float64Array, 2), mu: 0, sigma: 1 }));
bad('sde.models.ou lengths differ', SHAPE, () => sde.models.ou({ theta: [1, 2], mu: [1, 2, 3], sigma: 1 }));
options('sde.models.gbm', (p) => sde.models.gbm(p), { mu: 0, sigma: 1 }, ['corrr', 'corr']);
bad('sde.models.gbm sigma -1', INVALID, () => sde.models.gbm({ mu: 0, sigma: -1 }));
bad('sde.models.gbm corr not positive definite', INVALID, () => sde.models.gbm({ mu: [0, 0], sigma: 1, corr: [1, 2, 2, 1] }));
options('sde.models.cir', (p) => sde.models.cir(p), { kappa: 1, theta: 1, xi: 1 }, ['kapa', 'kappa']);
options('sde.models.heston', (p) => sde.models.heston(p), { mu: 0, kappa: 1, theta: 1, xi: 1, rho: 0 }, ['roh', 'rho']);
bad('sde.models.heston rho 2', INVALID, () => sde.models.heston({ mu: 0, kappa: 1, theta: 1, xi: 1, rho: 2 }));
options('sde.models.gmmLangevin', (p) => sde.models.gmmLangevin(p), { weights: [1], means: [0], vars: 1 }, ['temprature', 'temperature']);
bad('sde.models.gmmLangevin weights 0', INVALID, () => sde.models.gmmLangevin({ weights: [0], means: [0], vars: 1 }));
options('sde.models.vp', (p) => sde.models.vp(p), {}, ['betamin', 'betaMin'], true);
options('sde.models.subVp', (p) => sde.models.subVp(p), {}, ['betaMx', 'betaMax'], true);
options('sde.models.ve', (p) => sde.models.ve(p), {}, ['sigma_min', 'sigmaMin'], true);
bad('sde.models.ve sigmaMin 0', INVALID, () => sde.models.ve({ sigmaMin: 0 }));

const userSpec = { dim: 1, noise: 'diagonal', calculus: 'ito', drift: () => undefined, diffusion: () => undefined } as const;
options('sde.define', (s) => sde.define(s), userSpec, ['drif', 'drift']);
bad('sde.define drift not a function', INVALID, () => sde.define({ ...userSpec, drift: 1 as Loose }));
bad('sde.define dim 0', INVALID, () => sde.define({ ...userSpec, dim: 0 }));

const stepperOpts = { paths: 2, dim: 1, seed: 1 };
options('sde.createStepper', (o) => sde.createStepper(o), stepperOpts, ['dims', 'dim']);
bad('sde.createStepper paths 0', INVALID, () => sde.createStepper({ ...stepperOpts, paths: 0 }));
bad("sde.createStepper noise 'full'", INVALID, () => sde.createStepper({ ...stepperOpts, noise: 'full' as Loose }));
bad('sde.createStepper general noise too large', INVALID, () => sde.createStepper({ ...stepperOpts, paths: 2 ** 20, dim: 2 ** 12, noise: 'general', brownianDim: 2 ** 12 }));
const stepper = sde.createStepper(stepperOpts);
const f32 = (n: number): Float32Array => new Float32Array(n);
bad('Stepper.step x shared', DTYPE, () => stepper.step(shared(Float32Array, 2), f32(2), f32(2), 0, 0.1));
bad('Stepper.step drift detached', INVALID, () => stepper.step(f32(2), detached(Float32Array, 2), f32(2), 0, 0.1));
bad('Stepper.step Float64Array x', DTYPE, () => stepper.step(new Float64Array(2), f32(2), f32(2), 0, 0.1));
bad('Stepper.step dt 0', INVALID, () => stepper.step(f32(2), f32(2), f32(2), 0, 0));
bad('Stepper.step diffusion of the wrong length', SHAPE, () => stepper.step(f32(2), f32(2), f32(3), 0, 0.1));

// ---- ot ---------------------------------------------------------------------------------------

const a2 = new Float64Array([0.5, 0.5]);
const C22 = new Float64Array([0, 1, 1, 0]);
options('ot.sinkhornSync', (o) => ot.sinkhornSync(a2, a2, C22, o), { reg: 0.1 }, ['regg', 'reg']);
options('ot.sinkhorn', (o) => ot.sinkhorn(a2, a2, C22, o), { reg: 0.1 }, ['maxIters', 'maxIter']);
options('ot.sinkhornSync sns', (sns) => ot.sinkhornSync(a2, a2, C22, { reg: 0.1, sns }), {}, ['warmupIter', 'warmupIters'], true);
options('ot.sinkhornSync init', (init) => ot.sinkhornSync(a2, a2, C22, { reg: 0.1, init }), {}, ['ff', 'f'], true);
for (const reg of [0, -1, NaN, '0.1']) bad(`ot.sinkhornSync reg ${String(reg)}`, INVALID, () => ot.sinkhornSync(a2, a2, C22, { reg: reg as number }));
bad('ot.sinkhornSync marginal with a zero', INVALID, () => ot.sinkhornSync(new Float64Array([1, 0]), a2, C22, { reg: 0.1 }));
bad('ot.sinkhornSync a shared', DTYPE, () => ot.sinkhornSync(shared(Float64Array, 2), a2, C22, { reg: 0.1 }), /a is backed by a SharedArrayBuffer/);
bad('ot.sinkhornSync C shared', DTYPE, () => ot.sinkhornSync(a2, a2, shared(Float64Array, 4), { reg: 0.1 }));
bad('ot.sinkhornSync C detached', INVALID, () => ot.sinkhornSync(a2, a2, detached(Float64Array, 4), { reg: 0.1 }));
bad('ot.sinkhornSync C Int32Array', DTYPE, () => ot.sinkhornSync(a2, a2, new Int32Array(4) as Loose, { reg: 0.1 }));
bad('ot.sinkhornSync C of the wrong size', SHAPE, () => ot.sinkhornSync(a2, a2, new Float64Array(3), { reg: 0.1 }));
bad("ot.sinkhornSync method 'lp'", INVALID, () => ot.sinkhornSync(a2, a2, C22, { reg: 0.1, method: 'lp' as Loose }));
bad('ot.sinkhornSync dtype int8', DTYPE, () => ot.sinkhornSync(a2, a2, C22, { reg: 0.1, dtype: 'int8' as Loose }));
// Point clouds in place of C.
const P2 = new Float64Array([0, 0, 1, 1]); // two points in 2-D
const pts = (o: Loose): Loose => ({ X: { data: P2, shape: [2, 2] }, Y: { data: P2, shape: [2, 2] }, cost: 'sqeuclidean', ...o });
bad('ot.sinkhornSync points: unknown cost name', INVALID, () => ot.sinkhornSync(a2, a2, pts({ cost: 'cosine' }), { reg: 0.1 }), /cost must be 'sqeuclidean'/);
bad('ot.sinkhornSync points: mismatched dimensions', SHAPE, () => ot.sinkhornSync(a2, a2, pts({ Y: { data: new Float64Array(6), shape: [2, 3] } }), { reg: 0.1 }), /same dimension/);
bad('ot.sinkhornSync points: NaN coordinate', INVALID, () => ot.sinkhornSync(a2, a2, pts({ X: { data: new Float64Array([0, NaN, 1, 1]), shape: [2, 2] } }), { reg: 0.1 }), /X\[1\] is not finite/);
bad('ot.sinkhornSync points: count differs from a', SHAPE, () => ot.sinkhornSync(new Float64Array([1]), a2, pts({}), { reg: 0.1 }));
bad('ot.sinkhornSync points: mixed dtypes', DTYPE, () => ot.sinkhornSync(a2, a2, pts({ Y: { data: new Float32Array(4), shape: [2, 2] } }), { reg: 0.1 }));
bad('ot.sinkhornSync points: Int32Array', DTYPE, () => ot.sinkhornSync(a2, a2, pts({ X: { data: new Int32Array(4), shape: [2, 2] } }), { reg: 0.1 }));
bad('ot.sinkhornSync points: flat array not a multiple of d', SHAPE, () => ot.sinkhornSync(a2, a2, pts({ X: new Float64Array(5), Y: new Float64Array(5), d: 2 }), { reg: 0.1 }));
bad('ot.sinkhornSync points: unknown key', INVALID, () => ot.sinkhornSync(a2, a2, pts({ metric: 'l2' }), { reg: 0.1 }), /unknown option 'metric'/);
bad("ot.sinkhornSync points: method 'sns' needs C", INVALID, () => ot.sinkhornSync(a2, a2, pts({}), { reg: 0.1, method: 'sns' }));
bad("ot.sinkhornSync method 'kernel-scaling' on cuda", INVALID, () => ot.sinkhornSync(a2, a2, C22, { reg: 0.1, method: 'kernel-scaling', device: 'cuda' }));
bad('ot.sinkhornSync overRelaxation not a boolean', INVALID, () => ot.sinkhornSync(a2, a2, C22, { reg: 0.1, overRelaxation: 1 as Loose }));
const batch = { a: { data: a2, shape: [1, 2] }, C: { data: C22, shape: [1, 2, 2] } };
options('ot.sinkhornBatchSync', (o) => ot.sinkhornBatchSync(batch.a, batch.a, batch.C, o), { reg: 0.1 }, ['reg_', 'reg']);
options('ot.sinkhornBatch', (o) => ot.sinkhornBatch(batch.a, batch.a, batch.C, o), { reg: 0.1 }, ['tl', 'tol']);
bad('ot.sinkhornBatchSync init (single solves only)', INVALID, () => ot.sinkhornBatchSync(batch.a, batch.a, batch.C, { reg: 0.1, init: {} } as Loose), /unknown option 'init'/);
bad('ot.sinkhornBatchSync C shared', DTYPE, () => ot.sinkhornBatchSync(batch.a, batch.a, { data: shared(Float64Array, 4), shape: [1, 2, 2] }, { reg: 0.1 }));
bad('ot.sinkhornBatchSync shapes do not fit', SHAPE, () => ot.sinkhornBatchSync(batch.a, batch.a, { data: C22, shape: [1, 4, 1] }, { reg: 0.1 }));
bad('ot.cost.sqeuclidean X shared', DTYPE, () => ot.cost.sqeuclidean(shared(Float64Array, 4), new Float64Array(4), 2));
bad('ot.cost.sqeuclidean Y detached', INVALID, () => ot.cost.sqeuclidean(new Float64Array(4), detached(Float64Array, 4), 2));
bad('ot.cost.sqeuclidean X a string', SHAPE, () => ot.cost.sqeuclidean('x' as Loose, new Float64Array(4)));
bad('ot.cost.sqeuclidean d 0', INVALID, () => ot.cost.sqeuclidean(new Float64Array(4), new Float64Array(4), 0));
bad('ot.cost.euclidean tensor of Int8Array', DTYPE, () => ot.cost.euclidean({ data: new Int8Array(4) as Loose, shape: [2, 2] }, new Float64Array(4), 2));
bad('ot.cost.euclidean dimensions differ', SHAPE, () => ot.cost.euclidean({ data: new Float64Array(4), shape: [2, 2] }, { data: new Float64Array(3), shape: [1, 3] }));
options('ot.cost.grid', (o) => ot.cost.grid(2, 2, 2, o), {}, ['normalise', 'normalize'], true);
bad('ot.cost.grid h 0', INVALID, () => ot.cost.grid(0, 2));
bad('ot.cost.grid p NaN', INVALID, () => ot.cost.grid(2, 2, NaN));
options('ot.referenceProblem', (o) => ot.referenceProblem('R1', o), { n: 4 }, ['seeds', 'seed'], true);
bad("ot.referenceProblem 'R9'", INVALID, () => ot.referenceProblem('R9' as Loose));
bad('ot.referenceProblem n 0', INVALID, () => ot.referenceProblem('R1', { n: 0 }));
const cloud = { data: new Float64Array([0, 0, 1, 1]), shape: [2, 2] };
options('ot.w2Sync', (o) => ot.w2Sync(cloud, cloud, o), {}, ['regRel', 'regRelative'], true);
options('ot.w2', (o) => ot.w2(cloud, cloud, o), {}, ['retrunPlan', 'returnPlan'], true);
bad('ot.w2Sync x shared', DTYPE, () => ot.w2Sync({ data: shared(Float64Array, 4), shape: [2, 2] }, cloud));
bad('ot.w2Sync reg 0', INVALID, () => ot.w2Sync(cloud, cloud, { reg: 0 }));

// ---- fbm --------------------------------------------------------------------------------------

bad('fbm.gammaByGammaMax K 0', INVALID, () => fbm.gammaByGammaMax(0, 20));
bad('fbm.gammaByGammaMax gammaMax 1', INVALID, () => fbm.gammaByGammaMax(5, 1));
bad('fbm.gammaByRatio r 0.5', INVALID, () => fbm.gammaByRatio(5, 0.5));
bad('fbm.gammaVariance hurst 0', INVALID, () => fbm.gammaVariance(0));
bad("fbm.gammaVariance type 'III'", INVALID, () => fbm.gammaVariance(0.5, 'III' as Loose));
options('fbm.markovCoefficients', (o) => fbm.markovCoefficients(o), { hurst: 0.7 }, ['hurts', 'hurst']);
bad('fbm.markovCoefficients hurst 1', INVALID, () => fbm.markovCoefficients({ hurst: 1 }));
bad('fbm.markovCoefficients gammas shared', DTYPE, () => fbm.markovCoefficients({ hurst: 0.7, gammas: shared(Float64Array, 3, 1) }));
bad('fbm.markovCoefficients gammas detached', INVALID, () => fbm.markovCoefficients({ hurst: 0.7, gammas: detached(Float64Array, 3) }));
bad('fbm.markovCoefficients gammas decreasing', INVALID, () => fbm.markovCoefficients({ hurst: 0.7, gammas: [2, 1] }));
const fbmSample = { hurst: 0.7, n: 4, paths: 2, seed: 1 };
options('fbm.sampleSync', (o) => fbm.sampleSync(o), fbmSample, ['path', 'paths']);
options('fbm.sample', (o) => fbm.sample(o), fbmSample, ['methd', 'method']);
misspelt('fbm.sampleSync', (o) => fbm.sampleSync(o), { ...fbmSample, output: 'host' }, ['ouput', 'output']);
for (const n of [0, -1, 1.5, NaN]) bad(`fbm.sampleSync n ${n}`, INVALID, () => fbm.sampleSync({ ...fbmSample, n }));
bad('fbm.sampleSync paths 1e10', INVALID, () => fbm.sampleSync({ ...fbmSample, paths: 1e10 }));
bad('fbm.sampleSync omegas shared', DTYPE, () => fbm.sampleSync({ ...fbmSample, K: 2, omegas: shared(Float64Array, 2) }));
bad('fbm.sampleSync omegas of the wrong length', INVALID, () => fbm.sampleSync({ ...fbmSample, K: 2, omegas: [1, 2, 3] }));
bad('fbm.sampleSync dtype int8', DTYPE, () => fbm.sampleSync({ ...fbmSample, dtype: 'int8' as Loose }));
bad("fbm.sampleSync method 'fft'", INVALID, () => fbm.sampleSync({ ...fbmSample, method: 'fft' as Loose }));
options('fbm.covariance', (o) => fbm.covariance(o), { process: 'exact', hurst: 0.7, times: [0.5, 1] }, ['time', 'times']);
bad('fbm.covariance times shared', DTYPE, () => fbm.covariance({ process: 'exact', hurst: 0.7, times: shared(Float64Array, 2) }));
bad('fbm.covariance times a string', INVALID, () => fbm.covariance({ process: 'exact', hurst: 0.7, times: 'abc' as Loose }));
bad('fbm.covariance times missing', INVALID, () => fbm.covariance({ process: 'exact', hurst: 0.7 } as Loose));
bad('fbm.fgnAutocovariance k NaN', INVALID, () => fbm.fgnAutocovariance(0.5, NaN));
bad('fbm.circulantEigenvalues n 0', INVALID, () => fbm.circulantEigenvalues(0.5, 0));
const path = new Float64Array(129);
options('fbm.estimateHurstSync', (o) => fbm.estimateHurstSync(path, o), {}, ['lag', 'lags'], true);
options('fbm.estimateHurst', (o) => fbm.estimateHurst(path, o), {}, ['lenght', 'length'], true);
bad('fbm.estimateHurstSync paths shared', DTYPE, () => fbm.estimateHurstSync(shared(Float64Array, 129)));
bad('fbm.estimateHurstSync paths detached', INVALID, () => fbm.estimateHurstSync(detached(Float64Array, 129)));
bad('fbm.estimateHurstSync paths number[]', DTYPE, () => fbm.estimateHurstSync([1, 2, 3] as Loose));
bad('fbm.estimateHurstSync length 0', INVALID, () => fbm.estimateHurstSync(path, { length: 0 }));
const fou = fbm.models.fou({ theta: 1 });
options('fbm.models.fou', (p) => fbm.models.fou(p), { theta: 1 }, ['thetta', 'theta']);
options('fbm.models.roughVol', (p) => fbm.models.roughVol(p), { kappa: 1, meanLogVol: 0, nu: 1 }, ['kapa', 'kappa']);
bad('fbm.models.fou theta -1', INVALID, () => fbm.models.fou({ theta: -1 }));
bad('fbm.models.fou theta shared', DTYPE, () => fbm.models.fou({ theta: shared(Float64Array, 2) }));
const fsim = { hurst: 0.7, paths: 2, x0: [0], t1: 1, steps: 100, seed: 1 };
options('fbm.simulateSync', (o) => fbm.simulateSync(fou, o), fsim, ['x_0', 'x0']);
options('fbm.simulate', (o) => fbm.simulate(fou, o), fsim, ['step', 'steps']);
bad('fbm.simulateSync x0 shared', DTYPE, () => fbm.simulateSync(fou, { ...fsim, x0: shared(Float64Array, 1) }));
bad('fbm.simulateSync x0 missing', INVALID, () => fbm.simulateSync(fou, { ...fsim, x0: undefined } as Loose));
bad('fbm.simulateSync save with an unknown key', INVALID, () => fbm.simulateSync(fou, { ...fsim, save: { every: 1, evry: 1 } as Loose }));
bad('fbm.simulateSync steps 0', INVALID, () => fbm.simulateSync(fou, { ...fsim, steps: 0 }));
bad('fbm.simulateSync model null', INVALID, () => fbm.simulateSync(null as Loose, fsim));
options('fbm.createControlledStepper', (o) => fbm.createControlledStepper(fou, o), fsim, ['gammamax', 'gammaMax']);
bad('fbm.createControlledStepper paths 0', INVALID, () => fbm.createControlledStepper(fou, { ...fsim, paths: 0 }));
const controlled = fbm.createControlledStepper(fou, fsim);
bad('ControlledStepper.advance u shared', DTYPE, () => controlled.advance(shared(Float64Array, 2)));
bad('ControlledStepper.advance u Float32Array', SHAPE, () => controlled.advance(new Float32Array(2) as Loose));
const base = sde.define(userSpec);
const fmodel = fbm.fractionalSDE(base, { hurst: 0.7 });
options('fbm.fractionalSDE', (o) => fbm.fractionalSDE(base, o), { hurst: 0.7 }, ['interpretaton', 'interpretation']);
bad('fbm.fractionalSDE of a built-in model', INVALID, () => fbm.fractionalSDE(ouModel, { hurst: 0.7 }));
options('fbm.fractionalInitialState', (o) => fbm.fractionalInitialState(fmodel, o), { paths: 2, x0: [0], seed: 1 }, ['pathOfset', 'pathOffset']);
bad('fbm.fractionalInitialState x0 shared', DTYPE, () => fbm.fractionalInitialState(fmodel, { paths: 2, x0: shared(Float64Array, 1), seed: 1 }));
bad('fbm.fractionalInitialState paths 2^31', INVALID, () => fbm.fractionalInitialState(fmodel, { paths: 2 ** 31, x0: [0], seed: 1 }));

// ---- diffusion --------------------------------------------------------------------------------

const vp = sde.models.vp();
const g = diffusion.gmm({ weights: [1], means: [0, 0], vars: 1, process: vp });
const scoreModel = { kind: 'score' as const, fn: g.score };
const cont = { process: vp, model: scoreModel, batch: 2, dim: 2, seed: 1, steps: 2 };
options('diffusion.pcSync', (o) => diffusion.pcSync(o), cont, ['stepz', 'steps']);
options('diffusion.pc', (o) => diffusion.pc(o), cont, ['corector', 'corrector']);
options('diffusion.pcSync model', (model) => diffusion.pcSync({ ...cont, model }), scoreModel, ['timescale', 'timeScale']);
bad('diffusion.pcSync batch 0', INVALID, () => diffusion.pcSync({ ...cont, batch: 0 }));
bad("diffusion.pcSync model.kind 'v'", INVALID, () => diffusion.pcSync({ ...cont, model: { kind: 'v' as Loose, fn: g.score } }));
bad('diffusion.pcSync process not a diffusion', INVALID, () => diffusion.pcSync({ ...cont, process: ouModel as Loose }));
options('diffusion.probabilityFlowSync', (o) => diffusion.probabilityFlowSync(o), cont, ['rtoll', 'rtol']);
options('diffusion.probabilityFlow', (o) => diffusion.probabilityFlow(o), cont, ['directon', 'direction']);
bad('diffusion.probabilityFlowSync x shared', DTYPE, () => diffusion.probabilityFlowSync({ ...cont, x: shared(Float32Array, 4) }));
bad('diffusion.probabilityFlowSync x Float64Array', DTYPE, () => diffusion.probabilityFlowSync({ ...cont, x: new Float64Array(4) as Loose }));
const epsModel = g.epsModel(diffusion.schedules.linearBetas().alphasCumprod);
const disc = { epsModel, batch: 2, dim: 2, seed: 1, steps: 2 };
options('diffusion.ddimSync', (o) => diffusion.ddimSync(o), disc, ['etta', 'eta']);
options('diffusion.ddim', (o) => diffusion.ddim(o), disc, ['clipsample', 'clipSample']);
options('diffusion.ddimSync timeShift', (timeShift) => diffusion.ddimSync({ ...disc, timeShift }), { window: 2, cutoff: 0 }, ['windw', 'window'], true);
bad('diffusion.ddimSync alphasCumprod shared', DTYPE, () => diffusion.ddimSync({ ...disc, alphasCumprod: shared(Float64Array, 10) }));
bad('diffusion.ddimSync alphasCumprod Float32Array', DTYPE, () => diffusion.ddimSync({ ...disc, alphasCumprod: new Float32Array(10) as Loose }));
bad('diffusion.ddimSync x detached', INVALID, () => diffusion.ddimSync({ ...disc, x: detached(Float32Array, 4) }));
bad('diffusion.ddimSync epsModel missing', INVALID, () => diffusion.ddimSync({ ...disc, epsModel: undefined as Loose }));
options('diffusion.ddpmSync', (o) => diffusion.ddpmSync(o), { ...disc, steps: 1000 }, ['varience', 'variance']);
options('diffusion.ddpm', (o) => diffusion.ddpm(o), { ...disc, steps: 1000 }, ['sampleOfset', 'sampleOffset']);
bad('diffusion.ddpmSync steps 5', INVALID, () => diffusion.ddpmSync({ ...disc, steps: 5 }));
const sigmas = diffusion.schedules.karras(2, 0.1, 10);
const kar = { denoiser: g.denoiser, sigmas, batch: 2, dim: 2, seed: 1 };
options('diffusion.karras.eulerSync', (o) => diffusion.karras.eulerSync(o), kar, ['sChrun', 'sChurn']);
options('diffusion.karras.euler', (o) => diffusion.karras.euler(o), kar, ['sigma', 'sigmas']);
options('diffusion.karras.heunSync', (o) => diffusion.karras.heunSync(o), kar, ['snoise', 'sNoise']);
options('diffusion.karras.heun', (o) => diffusion.karras.heun(o), kar, ['denoise', 'denoiser']);
options('diffusion.karras.eulerAncestralSync', (o) => diffusion.karras.eulerAncestralSync(o), kar, ['etaa', 'eta']);
options('diffusion.karras.eulerAncestral', (o) => diffusion.karras.eulerAncestral(o), kar, ['btach', 'batch']);
bad('diffusion.karras.eulerSync sigmas shared', DTYPE, () => diffusion.karras.eulerSync({ ...kar, sigmas: shared(Float64Array, 3) }));
bad('diffusion.karras.eulerSync sigmas number[]', DTYPE, () => diffusion.karras.eulerSync({ ...kar, sigmas: [1, 0] as Loose }));
bad('diffusion.karras.eulerSync batch·dim above 2^31', SHAPE, () => diffusion.karras.eulerSync({ ...kar, batch: 2 ** 20, dim: 2 ** 12 }));
bad('diffusion.schedules.karras n 0', INVALID, () => diffusion.schedules.karras(0, 0.1, 10));
options('diffusion.schedules.linearBetas', (o) => diffusion.schedules.linearBetas(10, 1e-4, 0.02, o), {}, ['Float32', 'float32'], true);
bad('diffusion.schedules.linearBetas T 0', INVALID, () => diffusion.schedules.linearBetas(0));
bad('diffusion.ddimTimesteps steps 0', INVALID, () => diffusion.ddimTimesteps(10, 0));
bad('diffusion.shiftedAlphas Float32Array', DTYPE, () => diffusion.shiftedAlphas(new Float32Array(4) as Loose, new Float64Array(2), 1, 2));
bad('diffusion.shiftedAlphas window NaN', INVALID, () => diffusion.shiftedAlphas(new Float64Array(4), new Float64Array(2), 1, NaN));
options('diffusion.gmm', (p) => diffusion.gmm(p), { weights: [1], means: [0], vars: 1 }, ['mean', 'means']);
bad('Gmm.score x shared', DTYPE, () => g.score(shared(Float32Array, 4), new Float64Array(2), f32(4), { batch: 2, dim: 2, step: 0 }));
bad('Gmm.logpdf x detached', INVALID, () => g.logpdf(detached(Float32Array, 4)));
bad('Gmm.sample n -1', INVALID, () => g.sample(-1, 1));

// ---- nn ---------------------------------------------------------------------------------------

options('nn.MLP', (o) => new nn.MLP(o), { sizes: [2, 1] }, ['size', 'sizes']);
bad('nn.MLP sizes a string', INVALID, () => new nn.MLP({ sizes: 'abc' as Loose }));
bad('nn.MLP dtype int8', DTYPE, () => new nn.MLP({ sizes: [2, 1], dtype: 'int8' as Loose }));
const net = new nn.MLP({ sizes: [2, 1] });
const x2 = new Float32Array(2);
options('nn.MLP.forward', (o) => net.forward(x2, o), {}, ['devce', 'device'], true);
options('nn.MLP.forwardAsync', (o) => net.forwardAsync(x2, o), {}, ['sigal', 'signal'], true);
options('nn.MLP.predict', (o) => net.predict(x2, o), {}, ['Device', 'device'], true);
const { tape } = net.forward(x2);
options('nn.MLP.backward', (o) => net.backward(tape, new Float32Array(1), o), {}, ['inputgrad', 'inputGrad'], true);
options('nn.MLP.backwardAsync', (o) => net.backwardAsync(tape, new Float32Array(1), o), {}, ['inputGrads', 'inputGrad'], true);
bad('nn.MLP.forward x shared', DTYPE, () => net.forward(shared(Float32Array, 2)), /SharedArrayBuffer/);
bad('nn.MLP.forward x detached', INVALID, () => net.forward(detached(Float32Array, 2)));
bad('nn.MLP.forward x number[]', DTYPE, () => net.forward([1, 2] as Loose));
bad('nn.MLP.backward dy shared', DTYPE, () => net.backward(tape, shared(Float32Array, 1)));
bad('nn.MLP.backward tape null', INVALID, () => net.backward(null as Loose, new Float32Array(1)));
options('nn.MLP.fromSafetensors', (o) => nn.MLP.fromSafetensors(net.toSafetensors(), o), {}, ['sizez', 'sizes'], true);
bad('nn.MLP.fromSafetensors a string', DTYPE, () => nn.MLP.fromSafetensors('abc' as Loose));
bad('nn.MLP.loadSync path 42', INVALID, () => nn.MLP.loadSync(42 as Loose));
bad('nn.MLP.load path null', INVALID, () => nn.MLP.load(null as Loose));
bad('nn.MLP.saveSync path undefined', INVALID, () => net.saveSync(undefined as Loose));
options('nn.Adam', (o) => new nn.Adam(new Float32Array(2), o), {}, ['betta1', 'beta1'], true);
bad('nn.Adam unknown option with no near key', INVALID, () => new nn.Adam(new Float32Array(2), { learning_rate: 1 } as Loose), /unknown option 'learning_rate' of nn.Adam \(allowed: lr, beta1, /);
bad('nn.Adam params a string', DTYPE, () => new nn.Adam('x' as Loose));
bad('nn.Adam params shared', DTYPE, () => new nn.Adam(shared(Float32Array, 2)));
bad("nn.Adam kind 'sgd'", INVALID, () => new nn.Adam(new Float32Array(2), { kind: 'sgd' as Loose }));
bad('nn.Adam.step grad shared', DTYPE, () => new nn.Adam(new Float32Array(2)).step(shared(Float32Array, 2)));
bad('nn.Adam.step grad of the wrong length', SHAPE, () => new nn.Adam(new Float32Array(2)).step(new Float32Array(3)));
bad('nn.gradNorm number[]', DTYPE, () => nn.gradNorm([1, 2] as Loose));
bad('nn.gradNorm shared', DTYPE, () => nn.gradNorm(shared(Float32Array, 2)));

// ---- train ------------------------------------------------------------------------------------

bad("train.toy 'spiral'", INVALID, () => train.toy('spiral' as Loose, 10, 1));
bad('train.toy n 0', INVALID, () => train.toy('gmm8', 0, 1));
const data = new Float64Array([0, 0, 1, 1]);
const gen = { data, iterations: 1, batch: 2, hidden: [4] };
options('train.scoreMatchingSync', (o) => train.scoreMatchingSync(o), gen, ['iteration', 'iterations']);
options('train.scoreMatching', (o) => train.scoreMatching(o), gen, ['teps', 'tEps']);
options('train.flowMatchingSync', (o) => train.flowMatchingSync(o), gen, ['couplings', 'coupling']);
options('train.flowMatching', (o) => train.flowMatching(o), gen, ['otreg', 'otReg']);
options('train.scoreMatchingSync process', (process) => train.scoreMatchingSync({ ...gen, process }), { kind: 'vp' }, ['betamax', 'betaMax'], true);
options('train.ScoreModel process', (process) => new train.ScoreModel({ hidden: [4], process }), { kind: 've' }, ['sigmamin', 'sigmaMin'], true);
bad('train.scoreMatchingSync data shared', DTYPE, () => train.scoreMatchingSync({ ...gen, data: shared(Float64Array, 4) }));
bad('train.scoreMatchingSync data detached', INVALID, () => train.scoreMatchingSync({ ...gen, data: detached(Float64Array, 4) }));
bad('train.scoreMatchingSync batch 0', INVALID, () => train.scoreMatchingSync({ ...gen, batch: 0 }));
options('train.TimeModel', (o) => new train.TimeModel(o), { hidden: [4] }, ['hiden', 'hidden'], true);
options('train.ScoreModel', (o) => new train.ScoreModel(o), { hidden: [4] }, ['procss', 'process'], true);
options('train.FlowModel', (o) => new train.FlowModel(o), { hidden: [4] }, ['frequencys', 'frequencies'], true);
const tm = new train.ScoreModel({ hidden: [4] });
const fm = new train.FlowModel({ hidden: [4] });
bad('train.TimeModel.evalSync x shared', DTYPE, () => tm.evalSync(shared(Float32Array, 2), 0.5));
bad('train.TimeModel.evalSync t NaN', INVALID, () => tm.evalSync(new Float32Array(2), NaN));
bad('train.TimeModel.evalSync out of the wrong length', SHAPE, () => tm.evalSync(new Float32Array(2), 0.5, 0, 1, new Float32Array(3)));
options('train.ScoreModel.sampleSync', (o) => tm.sampleSync(o), { n: 2, steps: 2 }, ['methd', 'method']);
options('train.ScoreModel.sample', (o) => tm.sample(o), { n: 2, steps: 2 }, ['seeed', 'seed']);
options('train.FlowModel.sampleSync', (o) => fm.sampleSync(o), { n: 2, steps: 2 }, ['step', 'steps']);
bad('train.marginal t NaN', INVALID, () => train.marginal({ kind: 'vp', betaMin: 0.1, betaMax: 20 }, NaN));
bad("train.marginal kind 'xx'", INVALID, () => train.marginal({ kind: 'xx' } as Loose, 0.5));
options('train.w2Sync', (o) => train.w2Sync(data, data, o), {}, ['dims', 'dim'], true);
bad('train.w2Sync x shared', DTYPE, () => train.w2Sync(shared(Float64Array, 4), data));
bad('train.w2Sync x of odd length', SHAPE, () => train.w2Sync(new Float64Array(3), data));
const obs = { times: [2], values: [0], sigma: 0.1 };
const fsde = { observations: obs, hidden: [4], batch: 2, steps: 200 };
options('train.FractionalSDE', (o) => new train.FractionalSDE(o), fsde, ['hurts', 'hurst']);
options('train.FractionalSDE observations', (observations) => new train.FractionalSDE({ ...fsde, observations }), obs, ['time', 'times']);
options('train.fractionalSDESync', (o) => train.fractionalSDESync(o), { ...fsde, iterations: 1 }, ['iteration', 'iterations']);
options('train.fractionalSDE', (o) => train.fractionalSDE(o), { ...fsde, iterations: 1 }, ['onIterations', 'onIteration']);
bad('train.FractionalSDE observations.values shared', DTYPE, () => new train.FractionalSDE({ ...fsde, observations: { ...obs, values: shared(Float64Array, 1) } }));
bad('train.FractionalSDE hurst 1.2', INVALID, () => new train.FractionalSDE({ ...fsde, hurst: 1.2 }));
const fs = new train.FractionalSDE(fsde);
options('train.FractionalSDE.lossAndGradient', (o) => fs.lossAndGradient(o), {}, ['btach', 'batch'], true);
options('train.FractionalSDE.step', (o) => fs.step(o), {}, ['signl', 'signal'], true);
options('train.FractionalSDE.sampleSync', (o) => fs.sampleSync(o), { paths: 2 }, ['sequenceOfset', 'sequenceOffset']);
options('train.FractionalSDE.sample', (o) => fs.sample(o), { paths: 2 }, ['pathOffest', 'pathOffset']);
bad('train.FractionalSDE.sampleSync paths·steps too large', INVALID, () => new train.FractionalSDE({ ...fsde, steps: 1_000_000, gammaMax: 1.5, T: 1e5 }).sampleSync({ paths: 1 << 24 }));

// ---- the table --------------------------------------------------------------------------------

describe('bad arguments', () => {
  beforeAll(() => {
    const byCode = new Map<string, number>();
    for (const c of cases) byCode.set(c.code, (byCode.get(c.code) ?? 0) + 1);
    console.log(`bad-argument cases: ${cases.length} (${[...byCode].map(([code, n]) => `${code} ${n}`).join(', ')})`);
  });

  test('the table holds at least 200 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    expect(new Set(cases.map((c) => c.what)).size).toBe(cases.length);
  });

  test.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    let caught: unknown;
    try {
      await c.run();
    } catch (e) {
      caught = e;
    }
    if (!(caught instanceof ItokitError)) throw new Error(`expected an ItokitError ${c.code}, got ${caught === undefined ? 'no error' : String(caught)}`);
    expect(caught.code).toBe(c.code);
    if (c.message) expect(caught.message).toMatch(c.message);
  });
});

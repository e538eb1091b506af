/**
 * Types and pieces shared by the continuous-time samplers: score-model conversion (docs/design/sde.md
 * "Model kinds"), the prior draw and option validation.
 * @packageDocumentation
 */
import { InvalidArgumentError, ShapeError } from '../errors';
import { streams } from '../rng';
import { DiffusionProcess, isDiffusionProcess } from '../sde/models';
import { Seed, checkInt, checkNumber, checkOneOf, checkOptions, optionKeys, seedKey } from '../validate';
import { Call, Coef, NoiseRef, SAMPLER_RUN_KEYS, SamplerRun, lincomb } from './ops';

/**
 * A model callback: x is [batch, dim] row-major, t holds one time per sample, the model writes its
 * output (score, ε or x̂₀) into out. It may return a Promise (Promise forms only).
 */
export type ScoreFn = (x: Float32Array, t: Float64Array, out: Float32Array,
  info: { batch: number; dim: number; step: number }) => void | Promise<void>;

/** What the model predicts, and the time scale it expects (default N − 1 = 999 for ε-models, else 1). */
export interface ScoreModel { kind: 'score' | 'eps' | 'x0'; fn: ScoreFn; timeScale?: number }
const MODEL_KEYS = optionKeys<ScoreModel>()(['kind', 'fn', 'timeScale']);

/** Options shared by the continuous-time samplers. */
export interface SampleOptions extends SamplerRun {
  process: DiffusionProcess;
  model: ScoreModel;
  batch: number;
  dim: number;
  seed: Seed;
  /** Sample id of row 0 (default 0): noise of row p depends only on (seed, sampleOffset + p, step). */
  sampleOffset?: number;
  /** Number of steps N (default 1000). */
  steps?: number;
  /** Smallest time (default 1e-3 VP/sub-VP, 1e-5 VE). */
  eps?: number;
  /** Return the noise-free mean of the last step (default true for pc). */
  denoise?: boolean;
}

/** @internal Keys of {@link SampleOptions}, extended by each sampler's own. */
export const SAMPLE_KEYS = optionKeys<SampleOptions>()([
  ...SAMPLER_RUN_KEYS, 'process', 'model', 'batch', 'dim', 'seed', 'sampleOffset', 'steps', 'eps', 'denoise',
]);

/** Result of a sampler. */
export interface SampleResult { x: Float32Array; nfe: number }

/** @internal */
export interface Ctx {
  P: number; D: number; key: [number, number]; offset: number; proc: DiffusionProcess; model: ScoreModel; timeScale: number;
  buf: Float32Array; tArr: Float64Array; nfe: number;
}

/**
 * @internal Validates the shared options.
 * @param where - the public function; `allowed` its option keys
 */
export function context(o: SampleOptions, where: string, allowed: readonly string[]): Ctx {
  checkOptions(where, o, allowed);
  if (!isDiffusionProcess(o.process)) throw new InvalidArgumentError('process must be sde.models.vp(), subVp() or ve()');
  const m = o.model;
  checkOptions(`${where} model`, m, MODEL_KEYS);
  if (typeof m.fn !== 'function') throw new InvalidArgumentError('model.fn must be a function');
  checkOneOf('model.kind', m.kind, ['score', 'eps', 'x0'] as const);
  const P = checkInt('batch', o.batch, 1, 2 ** 31 - 1);
  const D = checkInt('dim', o.dim, 1, 2 ** 31 - 1);
  if (P * D > 2 ** 31 - 1) throw new ShapeError('batch·dim must be below 2^31');
  const timeScale = checkNumber('model.timeScale', m.timeScale ?? (m.kind === 'eps' ? o.process.N - 1 : 1), { min: 0, minExclusive: true });
  const offset = checkInt('sampleOffset', o.sampleOffset ?? 0, 0, 2 ** 48 - P);
  return { P, D, key: seedKey(o.seed), offset, proc: o.process, model: m, timeScale, buf: new Float32Array(P * D), tArr: new Float64Array(P), nfe: 0 };
}

/** Noise reference of (stream, step). @internal */
export function noiseRef(c: Ctx, stream: number, step: number): NoiseRef {
  return { key: c.key, stream, step, offset: c.offset };
}

/** x ~ prior N(0, σ_T² I) from the PRIOR stream. @internal */
export function prior(c: Ctx, std: number): Float32Array {
  const x = new Float32Array(c.P * c.D);
  lincomb(x, c.P, c.D, [], [std, noiseRef(c, streams.PRIOR, 0)]);
  return x;
}

/**
 * Coefficients (a, b) with score = a·x + b·out for the model kind at time t (docs/design/sde.md):
 * score: (0, 1); eps: s = −ε/std; x0: s = (m·x̂₀ − x)/std².
 * @internal
 */
export function scoreCoefs(c: Ctx, t: number): [number, number] {
  const std = c.proc.std(t);
  if (c.model.kind === 'score') return [0, 1];
  if (c.model.kind === 'eps') return [0, -1 / std];
  return [-1 / (std * std), c.proc.mean(t) / (std * std)];
}

/** Yields one model call at time t (all samples), leaving the raw output in c.buf. @internal */
export function* callModel(c: Ctx, x: Float32Array, t: number, step: number): Generator<Call, void, void> {
  c.tArr.fill(t * c.timeScale);
  const fn = c.model.fn, buf = c.buf, tArr = c.tArr, info = { batch: c.P, dim: c.D, step };
  yield () => fn(x, tArr, buf, info);
  c.nfe++;
  if (!Number.isFinite(buf[0])) throw new InvalidArgumentError('the model returned a non-finite value');
}

/** out = α·x + β·score(x, t) after one model call. @internal */
export function* scoreCombo(c: Ctx, out: Float32Array, x: Float32Array, t: number, step: number, alpha: Coef, beta: number,
  noise?: [Coef, NoiseRef]): Generator<Call, void, void> {
  yield* callModel(c, x, t, step);
  const [a, b] = scoreCoefs(c, t);
  const ax = typeof alpha === 'number' ? alpha + beta * a : alpha.map((v) => v + beta * a);
  lincomb(out, c.P, c.D, [[x, ax], [c.buf, beta * b]], noise);
}

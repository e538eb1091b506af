/**
 * Types and pieces shared by the continuous-time samplers: score-model conversion (docs/design/sde.md
 * "Model kinds"), the prior draw and option validation.
 * @packageDocumentation
 */
import { DeviceArray, OutputOption, checkOutput, deviceForOutput } from '../device-array';
import { InvalidArgumentError, ShapeError } from '../errors';
import { streams } from '../rng';
import { DiffusionProcess, isDiffusionProcess } from '../sde/models';
import { Seed, checkInt, checkNumber, checkOneOf, checkOptions, optionKeys, seedKey } from '../validate';
import { Call, Coef, NoiseRef, SAMPLER_RUN_KEYS, SampleBuffer, SamplerRun, allocBuffer, lincomb } from './ops';

/**
 * A model callback: x is [batch, dim] row-major, t holds one time per sample, the model writes its
 * output (score, ε or x̂₀) into out. It may return a Promise (Promise forms only). With
 * `output: 'device'` x and out are float32 {@link DeviceArray}s of shape [batch, dim] (B =
 * `DeviceArray<'float32'>`), so a GPU model (e.g. a CUDA UNet's `predict`) never copies to the host.
 */
export type ScoreFn<B extends SampleBuffer = Float32Array> = (x: B, t: Float64Array, out: B,
  info: { batch: number; dim: number; step: number }) => void | Promise<void>;

/** What the model predicts, and the time scale it expects (default N − 1 = 999 for ε-models, else 1). */
export interface ScoreModel<B extends SampleBuffer = Float32Array> { kind: 'score' | 'eps' | 'x0'; fn: ScoreFn<B>; timeScale?: number }
const MODEL_KEYS = optionKeys<ScoreModel>()(['kind', 'fn', 'timeScale']);

/** Options shared by the continuous-time samplers; B is the state's buffer type (see `output`). */
export interface SampleOptions<B extends SampleBuffer = Float32Array> extends SamplerRun {
  process: DiffusionProcess;
  model: ScoreModel<B>;
  /**
   * Where the state lives (default 'host'): 'device' keeps it in float32 DeviceArrays on the GPU,
   * runs every update there (bit-identical to the host updates), hands the model DeviceArrays, and
   * returns `x` as a DeviceArray. The model's output is then not checked for non-finite values.
   */
  output?: OutputOption;
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
  ...SAMPLER_RUN_KEYS, 'process', 'model', 'batch', 'dim', 'seed', 'sampleOffset', 'steps', 'eps', 'denoise', 'output',
]);

/** Result of a sampler: the samples [batch, dim] (a DeviceArray with `output: 'device'`). */
export interface SampleResult<B extends SampleBuffer = Float32Array> { x: B; nfe: number }

/** A sampler's options with its state on the GPU. */
export type OnDevice<O> = O & { output: 'device' };

/** @internal Whether a sampler call keeps its state on the device (and checks that it can). */
export function onDevice(output: unknown): boolean {
  if (checkOutput(output) === 'host') return false;
  deviceForOutput('cuda');
  return true;
}

/** @internal */
export interface Ctx {
  P: number; D: number; key: [number, number]; offset: number; proc: DiffusionProcess; model: ScoreModel<SampleBuffer>; timeScale: number;
  device: boolean; buf: SampleBuffer; tArr: Float64Array; nfe: number;
}

/**
 * @internal Validates the shared options.
 * @param where - the public function; `allowed` its option keys
 */
export function context(o: SampleOptions | SampleOptions<DeviceArray<'float32'>>, where: string, allowed: readonly string[]): Ctx {
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
  const device = onDevice(o.output);
  return { P, D, key: seedKey(o.seed), offset, proc: o.process, model: m as unknown as ScoreModel<SampleBuffer>, timeScale, device, buf: allocBuffer(device, P, D), tArr: new Float64Array(P), nfe: 0 };
}

/** Noise reference of (stream, step). @internal */
export function noiseRef(c: Ctx, stream: number, step: number): NoiseRef {
  return { key: c.key, stream, step, offset: c.offset };
}

/** x ~ prior N(0, σ_T² I) from the PRIOR stream. @internal */
export function prior(c: Ctx, std: number): SampleBuffer {
  const x = allocBuffer(c.device, c.P, c.D);
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
export function* callModel(c: Ctx, x: SampleBuffer, t: number, step: number): Generator<Call, void, void> {
  c.tArr.fill(t * c.timeScale);
  const fn = c.model.fn, buf = c.buf, tArr = c.tArr, info = { batch: c.P, dim: c.D, step };
  yield () => fn(x, tArr, buf, info);
  c.nfe++;
  checkModelOutput(buf);
}

/** @internal A host model output whose first value is not finite is an error (a cheap guard). */
export function checkModelOutput(out: SampleBuffer): void {
  if (!(out instanceof DeviceArray) && !Number.isFinite(out[0])) throw new InvalidArgumentError('the model returned a non-finite value');
}

/** out = α·x + β·score(x, t) after one model call. @internal */
export function* scoreCombo(c: Ctx, out: SampleBuffer, x: SampleBuffer, t: number, step: number, alpha: Coef, beta: number,
  noise?: [Coef, NoiseRef]): Generator<Call, void, void> {
  yield* callModel(c, x, t, step);
  const [a, b] = scoreCoefs(c, t);
  const ax = typeof alpha === 'number' ? alpha + beta * a : alpha.map((v) => v + beta * a);
  lincomb(out, c.P, c.D, [[x, ax], [c.buf, beta * b]], noise);
}

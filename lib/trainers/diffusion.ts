/**
 * Generative-model trainers on low-dimensional data (docs/design/trainers.md):
 * denoising score matching under VP / VE (ε-parameterisation, λ(t) = σ_t²; Song et al. 2021),
 * sampled with the SDE area's steppers, and conditional flow matching with independent or
 * minibatch-OT coupling (Tong et al. 2024) through the OT area's Sinkhorn. The model is an MLP on
 * [x, sin(2π f_j t), cos(2π f_j t)]. Each iteration is one native call for the batch's
 * forward, loss and backward, then one native Adam step.
 * @packageDocumentation
 */
import { InvalidArgumentError, ShapeError } from '../errors';
import { Activation, Adam, MLP } from '../nn';
import * as ot from '../ot';
import * as rng from '../rng';
import { RUN_KEYS, RunOptions, runNative, runNativeSync, throwIfAborted } from '../run';
import * as sde from '../sde';
import {
  Dtype, FloatArray, Seed, allocate, checkBacking, checkDtype, checkFloatArray, checkInt, checkNumber, checkOneOf, checkOptions, optionKeys, pick,
  seedKey,
} from '../validate';
import { trainAddon } from './addon';

/** Forward process of score matching: VP (β_min, β_max) or VE (σ_min, σ_max). */
export type ForwardProcess = { kind: 'vp'; betaMin?: number; betaMax?: number } | { kind: 've'; sigmaMin?: number; sigmaMax?: number };

/** Architecture of the time-conditioned MLP. */
export interface TimeModelOptions<D extends Dtype = Dtype> {
  /** Data dimension (default 2). */
  dim?: number;
  /** Hidden widths (default [128, 128, 128]). */
  hidden?: readonly number[];
  /** Hidden activation (default 'silu'). */
  activation?: Activation;
  /** Number of Fourier frequencies of t, geometric from 0.25 to 16 cycles per unit time (default 16). */
  frequencies?: number;
  /** Element type (default 'float32'). */
  dtype?: D;
  /** Seed of the init and of every training draw (default 0). */
  seed?: Seed;
}

const TIME_MODEL_KEYS = optionKeys<TimeModelOptions>()(['dim', 'hidden', 'activation', 'frequencies', 'dtype', 'seed']);
const PROCESS_KEYS = {
  vp: optionKeys<Extract<ForwardProcess, { kind: 'vp' }>>()(['kind', 'betaMin', 'betaMax']),
  ve: optionKeys<Extract<ForwardProcess, { kind: 've' }>>()(['kind', 'sigmaMin', 'sigmaMax']),
};

/** Geometric Fourier frequencies f_j = 0.25·64^{j/(F−1)}. @internal */
export function fourierFrequencies(F: number): Float64Array {
  return Float64Array.from({ length: F }, (_, j) => (F === 1 ? 1 : 0.25 * 64 ** (j / (F - 1))));
}

/** An MLP g(x, t) on [x, Fourier features of t] with D outputs, evaluated natively. */
export class TimeModel<D extends Dtype = Dtype> {
  /** @internal Option keys the constructor accepts (subclasses with more options override it). */
  static readonly optionKeys: readonly string[] = TIME_MODEL_KEYS;
  readonly net: MLP<D>;
  readonly freqs: Float64Array;
  readonly dim: number;

  constructor(o: TimeModelOptions<D>) {
    checkOptions(`train.${new.target.name}`, o, (new.target as typeof TimeModel).optionKeys);
    this.dim = checkInt('dim', o.dim ?? 2, 1, 64);
    const F = checkInt('frequencies', o.frequencies ?? 16, 0, 256);
    this.freqs = fourierFrequencies(F);
    this.net = new MLP<D>({ sizes: [this.dim + 2 * F, ...(o.hidden ?? [128, 128, 128]), this.dim], activation: o.activation ?? 'silu', dtype: checkDtype(o.dtype) as D, seed: o.seed ?? 0 });
  }

  /** The network's element type: 'float32' or 'float64'. */
  get dtype(): D {
    return this.net.dtype;
  }

  private rows(x: FloatArray): number {
    checkFloatArray('x', x, this.dtype);
    if (x.length % this.dim !== 0) throw new ShapeError(`x length ${x.length} is not a multiple of dim ${this.dim}`);
    return x.length / this.dim;
  }

  /**
   * α·x + β·g(x, t) for a batch x [n, dim] at time t (one number or one per row); α = 0, β = 1
   * (default) gives g itself.
   */
  evalSync(x: FloatArray, t: number | Float64Array, alpha = 0, beta = 1, out?: FloatArray): FloatArray {
    const n = this.rows(x);
    const tt = typeof t === 'number' ? new Float64Array([checkNumber('t', t)]) : checkFloatArray('t', t, 'float64');
    if (tt.length !== 1 && tt.length !== n) throw new ShapeError('t must hold one value or one per row');
    checkNumber('alpha', alpha);
    checkNumber('beta', beta);
    const o = out === undefined ? allocate(this.dtype, n * this.dim) : checkFloatArray('out', out, this.dtype);
    if (o.length !== n * this.dim) throw new ShapeError(`out must hold ${n * this.dim} values, has ${o.length}`);
    runNativeSync(() => trainAddon().trainModelEval({ layout: this.net.layout, params: this.net.params, freqs: this.freqs, D: this.dim, x, t: tt, alpha, beta, out: o, control: null, async: false }));
    return o;
  }
}

/** m_t and σ_t of the forward process (docs/design/sde.md): VP m = exp(−¼t²Δβ − ½tβ_min), σ² = 1 − m²; VE m = 1, σ = σ_min(σ_max/σ_min)^t. */
export function marginal(p: Required<ForwardProcess>, t: number): { mean: number; std: number } {
  return marginalOf(fullProcess(p, 'train.marginal'), checkNumber('t', t, { min: 0 }));
}

/** {@link marginal} of a validated process (the per-step form, without checks). */
function marginalOf(p: Required<ForwardProcess>, t: number): { mean: number; std: number } {
  if (p.kind === 've') return { mean: 1, std: p.sigmaMin * (p.sigmaMax / p.sigmaMin) ** t };
  const lm = -0.25 * t * t * (p.betaMax - p.betaMin) - 0.5 * t * p.betaMin;
  return { mean: Math.exp(lm), std: Math.sqrt(-Math.expm1(2 * lm)) };
}

/** Validates a forward process and fills in its defaults; `where` names the caller. */
function fullProcess(p: ForwardProcess | 'vp' | 've' | undefined, where: string): Required<ForwardProcess> {
  const q = p === undefined ? { kind: 'vp' as const } : typeof p === 'string' ? { kind: p } : p;
  if (q === null || typeof q !== 'object') throw new InvalidArgumentError(`process must be 'vp', 've' or { kind, ... }, got ${String(q)}`);
  const kind = checkOneOf('process.kind', q.kind, ['vp', 've'] as const);
  checkOptions(where, q, PROCESS_KEYS[kind]);
  if (kind === 'vp') {
    const v = q as { betaMin?: number; betaMax?: number };
    return { kind, betaMin: checkNumber('betaMin', v.betaMin ?? 0.1, { min: 0 }), betaMax: checkNumber('betaMax', v.betaMax ?? 20, { min: 0, minExclusive: true }) };
  }
  const v = q as { sigmaMin?: number; sigmaMax?: number };
  return { kind, sigmaMin: checkNumber('sigmaMin', v.sigmaMin ?? 0.01, { min: 0, minExclusive: true }), sigmaMax: checkNumber('sigmaMax', v.sigmaMax ?? 50, { min: 0, minExclusive: true }) };
}

/** Options of {@link ScoreModel}. */
export interface ScoreModelOptions<D extends Dtype = Dtype> extends TimeModelOptions<D> {
  /** Forward process (default VP with β ∈ [0.1, 20]). */
  process?: ForwardProcess | 'vp' | 've';
  /** Smallest time (default 1e-3 for VP, 1e-5 for VE). */
  tEps?: number;
}
const SCORE_MODEL_KEYS = optionKeys<ScoreModelOptions>()([...TIME_MODEL_KEYS, 'process', 'tEps']);

/** Options of {@link ScoreModel.sampleSync}. */
export interface ScoreSampleOptions {
  /** Number of samples. */
  n: number;
  /** Steps from t = 1 to t_eps (default 500). */
  steps?: number;
  /** Seed of the prior draw and of the reverse-SDE noise (default 1). */
  seed?: Seed;
  /** 'reverse-sde' (Euler–Maruyama, default) or 'probability-flow' (Euler on the ODE). */
  method?: 'reverse-sde' | 'probability-flow';
}
const SCORE_SAMPLE_KEYS = optionKeys<ScoreSampleOptions>()(['n', 'steps', 'seed', 'method']);

/** A trained ε-model of a VP or VE forward process: s(x, t) = −ε_θ(x, t)/σ_t. */
export class ScoreModel<D extends Dtype = Dtype> extends TimeModel<D> {
  /** @internal */
  static override readonly optionKeys: readonly string[] = SCORE_MODEL_KEYS;
  readonly process: Required<ForwardProcess>;
  readonly tEps: number;

  constructor(o: ScoreModelOptions<D>) {
    super(o);
    this.process = fullProcess(o.process, `train.${new.target.name} process`);
    this.tEps = checkNumber('tEps', o.tEps ?? (this.process.kind === 'vp' ? 1e-3 : 1e-5), { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  }

  /** The score s(x, t) = −ε_θ(x, t)/σ_t at one time t. */
  scoreSync(x: FloatArray, t: number): FloatArray {
    return this.evalSync(x, t, 0, -1 / marginalOf(this.process, checkNumber('t', t, { min: 0 })).std);
  }

  /** The model in the shape the diffusion samplers take (`{ kind: 'eps', fn }`, docs/design/sde.md). */
  asDiffusionModel(): {
    /** ε-prediction. */
    kind: 'eps';
    /** Writes ε_θ(x, t) for the rows of `x` (row i at time t[i]) into `out`. */
    fn: (x: FloatArray, t: Float64Array, out: FloatArray) => void;
  } {
    return { kind: 'eps', fn: (x, t, out) => void this.evalSync(x, t, 0, 1, out) };
  }

  /** f(x,t) = a(t)x and g(t)² of the forward SDE. */
  private coefficients(t: number): { a: number; g2: number; std: number } {
    const p = this.process;
    const { std } = marginalOf(p, t);
    if (p.kind === 'vp') {
      const beta = p.betaMin + t * (p.betaMax - p.betaMin);
      return { a: -0.5 * beta, g2: beta, std };
    }
    return { a: 0, g2: 2 * std * std * Math.log(p.sigmaMax / p.sigmaMin), std };
  }

  /**
   * Samples by integrating the reverse-time SDE dx = [f − g²s]dt + g dW̄ (or the probability-flow
   * ODE dx = [f − ½g²s]dt) from t = 1 to t_eps with the SDE area's Euler–Maruyama stepper
   * (`sde.simulate` with t1 < t0). The drift is one native model evaluation per step.
   */
  sampleSync(o: ScoreSampleOptions): FloatArray {
    const { model, opts } = this.sampler('train.ScoreModel.sampleSync', o, SCORE_SAMPLE_KEYS);
    return sde.simulateSync(model, { ...opts, output: 'host' }).final;
  }

  /** {@link sampleSync} off the event loop. */
  async sample(o: ScoreSampleOptions & RunOptions): Promise<FloatArray> {
    const { model, opts } = this.sampler('train.ScoreModel.sample', o, [...SCORE_SAMPLE_KEYS, ...RUN_KEYS]);
    return (await sde.simulate(model, { ...opts, output: 'host', signal: o.signal })).final;
  }

  private sampler(where: string, o: ScoreSampleOptions, allowed: readonly string[]) {
    checkOptions(where, o, allowed);
    const n = checkInt('n', o.n, 1, 1 << 24);
    const steps = checkInt('steps', o.steps ?? 500, 1, 1e7);
    const ode = checkOneOf('method', o.method ?? 'reverse-sde', ['reverse-sde', 'probability-flow'] as const) === 'probability-flow';
    const seed = o.seed ?? 1;
    const prior = rng.normal(n * this.dim, { seed, stream: rng.streams.PRIOR, dtype: this.dtype });
    const s0 = this.process.kind === 'vp' ? 1 : marginalOf(this.process, 1).std;
    if (s0 !== 1) for (let i = 0; i < prior.length; i++) prior[i] *= s0; // one-time scaling of the prior draw
    const D = this.dim;
    const model = sde.define({
      dim: D,
      noise: 'diagonal',
      calculus: 'ito',
      // f − c·g²·s = a·x + c·g²·ε_θ/σ, c = 1 (SDE) or ½ (ODE): one native affine evaluation.
      drift: (t, x, out) => {
        const c = this.coefficients(t);
        this.evalSync(x, t, c.a, ((ode ? 0.5 : 1) * c.g2) / c.std, out);
      },
      diffusion: (t, _x, out) => {
        out.fill(ode ? 0 : Math.sqrt(this.coefficients(t).g2));
      },
    });
    const opts: sde.SimulateOptions = { paths: n, x0: prior, t0: 1, t1: this.tEps, steps, method: 'euler', seed, save: 'final', dtype: this.dtype };
    return { model, opts };
  }
}

/** Options of {@link FlowModel.sampleSync}. */
export interface FlowSampleOptions {
  /** Number of samples. */
  n: number;
  /** Euler steps from t = 0 to 1 (default 100). */
  steps?: number;
  /** Seed of the prior draw (default 1). */
  seed?: Seed;
}
const FLOW_SAMPLE_KEYS = optionKeys<FlowSampleOptions>()(['n', 'steps', 'seed']);

/** A trained velocity field v(x, t) of flow matching: samples by Euler steps of dx/dt = v from t = 0 to 1. */
export class FlowModel<D extends Dtype = Dtype> extends TimeModel<D> {
  /** n samples from N(0, I) pushed through `steps` Euler steps (one native call per step). */
  sampleSync(o: FlowSampleOptions): FloatArray {
    checkOptions('train.FlowModel.sampleSync', o, FLOW_SAMPLE_KEYS);
    const n = checkInt('n', o.n, 1, 1 << 24);
    const steps = checkInt('steps', o.steps ?? 100, 1, 1e7);
    let x: FloatArray = rng.normal(n * this.dim, { seed: o.seed ?? 1, stream: rng.streams.PRIOR, dtype: this.dtype });
    let y = allocate(this.dtype, x.length);
    const h = 1 / steps;
    for (let k = 0; k < steps; k++) {
      this.evalSync(x, k * h, 1, h, y);
      [x, y] = [y, x];
    }
    return x;
  }
}

/** Common trainer options. */
export interface GenerativeTrainOptions<D extends Dtype = Dtype> extends TimeModelOptions<D>, RunOptions {
  /** Training data [n, dim] row-major. */
  data: FloatArray | readonly number[];
  /** Iterations (default 2000). */
  iterations?: number;
  /** Batch size (default 256). */
  batch?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Gradient clipping by global norm (default none). */
  maxGradNorm?: number;
  /** Called after every iteration with the batch loss. */
  onIteration?: (info: { iteration: number; loss: number }) => void;
}

const GENERATIVE_KEYS = optionKeys<GenerativeTrainOptions>()([
  ...TIME_MODEL_KEYS, ...RUN_KEYS, 'data', 'iterations', 'batch', 'lr', 'maxGradNorm', 'onIteration',
]);

/** What the generative trainers return. */
export interface GenerativeTrainResult<M> {
  model: M;
  /** Batch loss per iteration. */
  loss: Float64Array;
}

function prepareData(data: FloatArray | readonly number[], dim: number, dtype: Dtype): { data: FloatArray; M: number } {
  if (!data || typeof (data as ArrayLike<number>).length !== 'number') throw new InvalidArgumentError('data must be an array of points');
  checkBacking('data', data);
  if (data.length === 0 || data.length % dim !== 0) throw new ShapeError(`data length ${data.length} is not a positive multiple of dim ${dim}`);
  const out = allocate(dtype, data.length);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new InvalidArgumentError(`data[${i}] is not finite`);
    out[i] = data[i];
  }
  return { data: out, M: data.length / dim };
}

interface Loop {
  iterations: number;
  net: MLP;
  opt: Adam;
  step(i: number, grad: FloatArray, result: Float64Array, control: Float64Array | null, async: boolean): Promise<void> | undefined;
}

function loopSetup(o: GenerativeTrainOptions, net: MLP): { iterations: number; opt: Adam } {
  return {
    iterations: checkInt('iterations', o.iterations ?? 2000, 0, 1e9),
    opt: new Adam(net.params, { lr: o.lr ?? 1e-3, maxGradNorm: o.maxGradNorm }),
  };
}

function runLoopSync(l: Loop, o: GenerativeTrainOptions): Float64Array {
  const loss = new Float64Array(l.iterations);
  const result = new Float64Array(1);
  for (let i = 0; i < l.iterations; i++) {
    runNativeSync(() => l.step(i, l.net.grad, result, null, false));
    l.opt.step(l.net.grad);
    loss[i] = result[0];
    o.onIteration?.({ iteration: i + 1, loss: result[0] });
  }
  return loss;
}

async function runLoop(l: Loop, o: GenerativeTrainOptions): Promise<Float64Array> {
  const loss = new Float64Array(l.iterations);
  const result = new Float64Array(1);
  for (let i = 0; i < l.iterations; i++) {
    throwIfAborted(o.signal);
    await runNative({ signal: o.signal }, (c) => l.step(i, l.net.grad, result, c, true));
    l.opt.step(l.net.grad);
    loss[i] = result[0];
    o.onIteration?.({ iteration: i + 1, loss: result[0] });
    o.onProgress?.({ done: i + 1, total: l.iterations });
  }
  return loss;
}

/** Options of {@link scoreMatching}. */
export interface ScoreMatchingOptions<D extends Dtype = Dtype> extends GenerativeTrainOptions<D> {
  /** Forward process (default VP with β ∈ [0.1, 20]). */
  process?: ForwardProcess | 'vp' | 've';
  /** t ~ U(t_eps, 1) (default 1e-3 for VP, 1e-5 for VE). */
  tEps?: number;
}
const SCORE_MATCHING_KEYS = optionKeys<ScoreMatchingOptions>()([...GENERATIVE_KEYS, 'process', 'tEps']);

function scoreLoop<D extends Dtype>(where: string, o: ScoreMatchingOptions<D>): { model: ScoreModel<D>; loop: Loop } {
  checkOptions(where, o, SCORE_MATCHING_KEYS);
  fullProcess(o.process, `${where} process`); // the model checks it again, but would name itself
  const model = new ScoreModel<D>(pick(o, SCORE_MODEL_KEYS));
  const { data, M } = prepareData(o.data, model.dim, model.dtype);
  const B = checkInt('batch', o.batch ?? 256, 1, 1 << 20);
  const [lo, hi] = seedKey(o.seed ?? 0);
  const p = model.process;
  const a = p.kind === 'vp' ? p.betaMin : p.sigmaMin;
  const b = p.kind === 'vp' ? p.betaMax : p.sigmaMax;
  const step = { mode: p.kind === 'vp' ? 0 : 1, B, D: model.dim, a, b, tEps: model.tEps, sigmaFm: 0, keyLo: lo, keyHi: hi, M, freqs: model.freqs, data, x0: null, pair: null };
  const { iterations, opt } = loopSetup(o, model.net);
  const net = model.net;
  return {
    model,
    loop: {
      iterations, net, opt,
      step: (i, grad, result, control, async) => {
        // step i: the Philox step of this iteration's draws
        return trainAddon().trainDiffusionStep({ ...step, layout: net.layout, params: net.params, step: i, grad, result, control, async });
      },
    },
  };
}

/**
 * Denoising score matching: minimises E‖ε_θ(m_t x₀ + σ_t ε, t) − ε‖²/D over t ~ U(t_eps, 1),
 * x₀ from the data, ε ~ N(0, I). Sample the result with {@link ScoreModel.sampleSync}.
 * @example
 * ```ts
 * const data = train.toy('gmm8', 20000, 1);
 * const { model } = await train.scoreMatching({ data, process: 'vp', iterations: 3000, seed: 2 });
 * const x = model.sampleSync({ n: 2000, steps: 500 });
 * ```
 */
export async function scoreMatching<D extends Dtype = 'float32'>(o: ScoreMatchingOptions<D>): Promise<GenerativeTrainResult<ScoreModel<D>>> {
  const { model, loop } = scoreLoop('train.scoreMatching', o);
  return { model, loss: await runLoop(loop, o) };
}

/** {@link scoreMatching} on the calling thread. */
export function scoreMatchingSync<D extends Dtype = 'float32'>(o: ScoreMatchingOptions<D>): GenerativeTrainResult<ScoreModel<D>> {
  const { model, loop } = scoreLoop('train.scoreMatchingSync', o);
  return { model, loss: runLoopSync(loop, o) };
}

/** Options of {@link flowMatching}. */
export interface FlowMatchingOptions<D extends Dtype = Dtype> extends GenerativeTrainOptions<D> {
  /** 'independent' (I-CFM) or 'ot' (OT-CFM, minibatch entropic OT by Sinkhorn; default). */
  coupling?: 'independent' | 'ot';
  /** Entropic regularisation relative to the batch's mean squared distance (default 0.01). */
  otReg?: number;
  /** Pairs from the plan: 'sample' a column per row (default) or take the row's 'argmax'. */
  pairing?: 'sample' | 'argmax';
  /** σ of the path noise, x_t = (1−t)x₀ + t x₁ + σε (default 0.01). */
  sigmaMin?: number;
}

const FLOW_MATCHING_KEYS = optionKeys<FlowMatchingOptions>()([...GENERATIVE_KEYS, 'coupling', 'otReg', 'pairing', 'sigmaMin']);

function flowLoop<D extends Dtype>(where: string, o: FlowMatchingOptions<D>): { model: FlowModel<D>; loop: Loop } {
  checkOptions(where, o, FLOW_MATCHING_KEYS);
  const model = new FlowModel<D>(pick(o, TIME_MODEL_KEYS));
  const { data, M } = prepareData(o.data, model.dim, model.dtype);
  const D = model.dim;
  const B = checkInt('batch', o.batch ?? 256, 1, 1 << 16);
  const [lo, hi] = seedKey(o.seed ?? 0);
  const coupling = checkOneOf('coupling', o.coupling ?? 'ot', ['independent', 'ot'] as const);
  const argmax = checkOneOf('pairing', o.pairing ?? 'sample', ['sample', 'argmax'] as const) === 'argmax';
  const otReg = checkNumber('otReg', o.otReg ?? 0.01, { min: 0, minExclusive: true });
  const sigma = checkNumber('sigmaMin', o.sigmaMin ?? 0.01, { min: 0 });
  const fixed = { mode: 2, B, D, a: 0, b: 0, tEps: 0, sigmaFm: sigma, keyLo: lo, keyHi: hi, M, freqs: model.freqs, data };
  const x0 = allocate(model.dtype, B * D);
  const x1 = allocate(model.dtype, B * D);
  const idx = new Int32Array(B);
  const pair = new Int32Array(B);
  const uniform = new Float64Array(B).fill(1 / B);
  const { iterations, opt } = loopSetup(o, model.net);
  const net = model.net;
  const addon = trainAddon();
  return {
    model,
    loop: {
      iterations, net, opt,
      step: (i, grad, result, control, async) => {
        addon.trainDrawBatch({ data, M, D, B, keyLo: lo, keyHi: hi, step: i, x0, x1, idx });
        if (coupling === 'ot') {
          const C = ot.cost.sqeuclidean({ data: Float64Array.from(x0), shape: [B, D] }, { data: Float64Array.from(x1), shape: [B, D] });
          let mean = 0;
          for (let k = 0; k < C.length; k += B + 1) mean += C[k]; // diagonal = independent pairs: an unbiased scale
          const reg = (otReg * mean) / B;
          const r = ot.sinkhornSync(uniform, uniform, { data: C, shape: [B, B] }, { reg, method: 'sns', maxIter: 1000, tol: 1e-4 });
          addon.trainPlanPairs({ plan: r.plan as Float64Array, B, idx, argmax, keyLo: lo, keyHi: hi, step: i, pair });
        } else {
          pair.set(idx);
        }
        return addon.trainDiffusionStep({ ...fixed, layout: net.layout, params: net.params, step: i, x0, pair, grad, result, control, async });
      },
    },
  };
}

/**
 * Conditional flow matching: minimises E‖v_θ(x_t, t) − (x₁ − x₀)‖²/D with x_t = (1−t)x₀ + t x₁ + σε,
 * x₀ ~ N(0, I) and x₁ from the data, coupled independently or by minibatch OT (Sinkhorn on the
 * B×B squared-distance cost, pairs drawn from the plan). Sample with {@link FlowModel.sampleSync}.
 */
export async function flowMatching<D extends Dtype = 'float32'>(o: FlowMatchingOptions<D>): Promise<GenerativeTrainResult<FlowModel<D>>> {
  const { model, loop } = flowLoop('train.flowMatching', o);
  return { model, loss: await runLoop(loop, o) };
}

/** {@link flowMatching} on the calling thread. */
export function flowMatchingSync<D extends Dtype = 'float32'>(o: FlowMatchingOptions<D>): GenerativeTrainResult<FlowModel<D>> {
  const { model, loop } = flowLoop('train.flowMatchingSync', o);
  return { model, loss: runLoopSync(loop, o) };
}

/** Options of {@link w2Sync}. */
export interface W2SyncOptions {
  /** Point dimension (default 2). */
  dim?: number;
  /** Regularisation relative to the largest squared distance (default 1e-3). */
  regRelative?: number;
  /** Marginal tolerance (default 1e-4). */
  tol?: number;
}
const W2_SYNC_KEYS = optionKeys<W2SyncOptions>()(['dim', 'regRelative', 'tol']);

/**
 * Entropic W2 between generated samples and held-out data (both [n, dim]) with the OT area's
 * Sinkhorn: regularisation 1e-3 of the largest squared distance and marginal tolerance 1e-4
 * unless given (the entropic bias then sits near the two-sample noise floor at n = 1000–2000).
 */
export function w2Sync(x: FloatArray, y: FloatArray, o: W2SyncOptions = {}): number {
  checkOptions('train.w2Sync', o, W2_SYNC_KEYS);
  const dim = checkInt('dim', o.dim ?? 2, 1, 2 ** 20);
  for (const [name, a] of [['x', x], ['y', y]] as const) {
    checkFloatArray(name, a);
    if (a.length % dim !== 0) throw new ShapeError(`${name} length ${a.length} is not a multiple of dim ${dim}`);
  }
  return ot.w2Sync({ data: Float64Array.from(x), shape: [x.length / dim, dim] }, { data: Float64Array.from(y), shape: [y.length / dim, dim] },
    { regRelative: o.regRelative ?? 1e-3, tol: o.tol ?? 1e-4 }).w2;
}

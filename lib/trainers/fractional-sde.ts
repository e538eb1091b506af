/**
 * Variational inference for SDEs driven by fractional noise (docs/design/trainers.md and
 * docs/design/fbm.md; Daems, Opper, Crevecoeur, Birdal, ICLR 2024). The prior
 * dX = −θX dt + σ dB̂_H runs as the Markov system Z = (X, Y_1..Y_K) of MA-fBM; the posterior adds
 * a control u(Z, t) (an MLP) to the shared Brownian motion, and training maximises
 * ELBO = E[log p(obs | X)] − E[½∫u² dt]. Each iteration is one native call: Euler rollout with the
 * trajectory stored, loss, and the adjoint pass over the whole trajectory for the whole batch.
 * H = sigmoid(h) is learned through ω(H): ∂L/∂H = (∂L/∂ω)ᵀ dω/dH with dω/dH = A⁻¹ db/dH.
 * @packageDocumentation
 */
import { InvalidArgumentError, ShapeError } from '../errors';
import { Activation, Adam, MLP } from '../nn';
import { RUN_KEYS, RunOptions, runNative, runNativeSync, throwIfAborted } from '../run';
import {
  Dtype, FloatArray, Seed, allocate, checkBacking, checkDtype, checkInt, checkNumber, checkOneOf, checkOptions, checkSize, optionKeys, pick, seedKey,
} from '../validate';
import { gammaByGammaMax } from '../fbm';
import { TrainFsdeArgs, trainAddon } from './addon';

/** The scalar configuration of a trainFsde call. */
type FsdeConfig = Pick<TrainFsdeArgs, 'K' | 'N' | 'dt' | 'sigma' | 'theta' | 'x0' | 'type1' | 'obsSigma' | 'seqOffset' | 'amortized' | 'keyLo' | 'keyHi' | 'pathOffset'>;

/** Observations of X at grid times: M sequences of J values, Gaussian noise σ_obs. */
export interface Observations {
  /** Observation times (multiples of T/steps, in (0, T]). */
  times: readonly number[];
  /** Values, M·J numbers row-major [M, J] (M = 1 for a single series). */
  values: ArrayLike<number>;
  /** Standard deviation of the Gaussian observation noise. */
  sigma: number;
}
const OBSERVATION_KEYS = optionKeys<Observations>()(['times', 'values', 'sigma']);

/** Options of {@link fractionalSDE} and {@link FractionalSDE}. */
export interface FractionalSDEOptions<D extends Dtype = Dtype> {
  /** Horizon (default 2). */
  T?: number;
  /** Euler steps (default 200). */
  steps?: number;
  /** Initial (or fixed) Hurst index in (0, 1) (default 0.5). */
  hurst?: number;
  /** Learn H = sigmoid(h) (default false). */
  learnHurst?: boolean;
  /** MA-fBM type (default 'I', as in the paper's bridge). */
  type?: 'I' | 'II';
  /** Number of OU processes (default 5). */
  K?: number;
  /** Fastest OU speed (default 20; γ from 1/γmax to γmax). γmax·Δ must stay below 0.5. */
  gammaMax?: number;
  /** Horizon ω is fitted on (default T). */
  omegaHorizon?: number;
  /** Normalisation of B̂ (default 'unit': Var B(1) = 1). */
  normalization?: 'unit' | 'gamma';
  /** Diffusion scale σ (default 1). */
  sigma?: number;
  /** Prior drift −θX (default θ = 0). */
  theta?: number;
  /** Learn θ too (default false). */
  learnTheta?: boolean;
  /** X(0) (default 0). */
  x0?: number;
  observations: Observations;
  /**
   * Amortize over the M sequences: the control also sees (o_next, t_next − t), the value and time
   * to go of the path's next observation (default: true when M > 1).
   */
  amortized?: boolean;
  /** Hidden widths of the control MLP (default [128, 128]). */
  hidden?: readonly number[];
  /** Hidden activation (default 'tanh'). */
  activation?: Activation;
  /** Element type of the network and the trajectories (default 'float32'). */
  dtype?: D;
  /** Paths per iteration (default 32). */
  batch?: number;
  /** Adam learning rate of the control (default 1e-3). */
  lr?: number;
  /**
   * Cosine decay of both learning rates to this fraction of their initial value over
   * `decaySteps` iterations (default: no decay).
   */
  lrDecayTo?: number;
  /** Length of the cosine decay (default 2000). */
  decaySteps?: number;
  /**
   * Iterations that train only the control before h (and θ) start to move (default 0). The
   * gradient in H is only informative once the posterior is close to optimal: with u ≈ 0 the
   * ELBO is E_prior log p(obs|X), which rewards the H with the smallest prior variance.
   */
  warmup?: number;
  /** Adam learning rate of h (and θ) (default 1e-2). */
  hurstLr?: number;
  /** Clip the control's gradient to this global norm (default none). */
  maxGradNorm?: number;
  /** Seed of the initialisation and of the Brownian increments. */
  seed?: Seed;
}

const FSDE_KEYS = optionKeys<FractionalSDEOptions>()([
  'T', 'steps', 'hurst', 'learnHurst', 'type', 'K', 'gammaMax', 'omegaHorizon', 'normalization', 'sigma', 'theta', 'learnTheta', 'x0',
  'observations', 'amortized', 'hidden', 'activation', 'dtype', 'batch', 'lr', 'lrDecayTo', 'decaySteps', 'warmup', 'hurstLr', 'maxGradNorm',
  'seed',
]);

/** What one iteration reports. */
export interface IterationInfo {
  iteration: number;
  /** −(mean loss): E log p(obs|X) − KL, up to the Gaussian constant. */
  elbo: number;
  /** Mean ½∫u² dt (the KL of posterior and prior path measures). */
  kl: number;
  /** Mean −log p(obs | X) without the Gaussian constant. */
  nll: number;
  hurst: number;
  theta: number;
}

/** Gradients of one batch (see {@link FractionalSDE.lossAndGradient}). */
export interface FsdeGradient {
  loss: number;
  nll: number;
  kl: number;
  /** ∂L/∂(control parameters), mean over paths. */
  grad: FloatArray;
  /** ∂L/∂ω_k. */
  dOmega: Float64Array;
  /** ∂L/∂H (through ω(H)). */
  dHurst: number;
  /** ∂L/∂θ. */
  dTheta: number;
}

/** Posterior sample paths. */
export interface FsdeSamples {
  /** X along the grid, [paths, steps+1]. */
  x: FloatArray;
  /** The control along the grid, [paths, steps]. */
  u: FloatArray;
  /** Per-path loss (−log p(obs|X) + ½∫u²). */
  loss: Float64Array;
  /** Grid times. */
  times: Float64Array;
}

function sigmoid(h: number): number {
  return 1 / (1 + Math.exp(-h));
}

/**
 * A variational fBM-SDE model: the control network, h (H = sigmoid h) and θ, with their Adam
 * states. {@link fractionalSDE} builds one and trains it; use the class directly to step by hand.
 */
export class FractionalSDE<D extends Dtype = Dtype> {
  readonly control: MLP<D>;
  readonly T: number;
  readonly steps: number;
  readonly dt: number;
  readonly type: 'I' | 'II';
  readonly gammas: Float64Array;
  readonly batch: number;
  /** Iterations taken. */
  iteration = 0;
  /** Logit of H. */
  h: number;
  theta: number;
  private readonly opt: Adam;
  private readonly extra: Float64Array;
  private readonly extraGrad: Float64Array;
  private readonly extraOpt: Adam;
  private readonly learnHurst: boolean;
  private readonly learnTheta: boolean;
  private readonly obsIdx: Int32Array;
  private readonly obs: FloatArray;
  private readonly M: number;
  private readonly cfgBase: FsdeConfig;
  private readonly key: [number, number];
  private readonly omegaHorizon: number;
  private readonly unit: boolean;
  private readonly lr0: number;
  private readonly hurstLr0: number;
  private readonly decayTo: number;
  private readonly decaySteps: number;
  private readonly warmup: number;

  constructor(o: FractionalSDEOptions<D>) {
    checkOptions('train.FractionalSDE', o, FSDE_KEYS);
    this.T = checkNumber('T', o.T ?? 2, { min: 0, minExclusive: true });
    this.steps = checkInt('steps', o.steps ?? 200, 1, 1_000_000);
    this.dt = this.T / this.steps;
    const H = checkNumber('hurst', o.hurst ?? 0.5, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
    this.h = Math.log(H / (1 - H));
    this.type = checkOneOf('type', o.type ?? 'I', ['I', 'II'] as const);
    const K = checkInt('K', o.K ?? 5, 1, 32);
    const gmax = checkNumber('gammaMax', o.gammaMax ?? 20, { min: 1, minExclusive: true });
    this.gammas = gammaByGammaMax(K, gmax);
    if (this.gammas[K - 1] * this.dt >= 0.5) throw new InvalidArgumentError(`gammaMax·Δ = ${this.gammas[K - 1] * this.dt} must be below 0.5 (Euler stability)`);
    this.omegaHorizon = checkNumber('omegaHorizon', o.omegaHorizon ?? this.T, { min: 0, minExclusive: true });
    this.unit = checkOneOf('normalization', o.normalization ?? 'unit', ['unit', 'gamma'] as const) === 'unit';
    const sigma = checkNumber('sigma', o.sigma ?? 1, { min: 0, minExclusive: true });
    this.theta = checkNumber('theta', o.theta ?? 0);
    const x0 = checkNumber('x0', o.x0 ?? 0);
    this.learnHurst = o.learnHurst ?? false;
    this.learnTheta = o.learnTheta ?? false;
    const dtype = checkDtype(o.dtype) as D;
    // Observations.
    const ob = o.observations;
    checkOptions('train.FractionalSDE observations', ob, OBSERVATION_KEYS);
    if (!Array.isArray(ob.times) && !ArrayBuffer.isView(ob.times)) throw new InvalidArgumentError('observations.times must be an array of times');
    checkBacking('observations.times', ob.times);
    checkBacking('observations.values', ob.values);
    const J = ob.times?.length ?? 0;
    if (J < 1) throw new InvalidArgumentError('observations.times must hold at least one time');
    const obsSigma = checkNumber('observations.sigma', ob.sigma, { min: 0, minExclusive: true });
    this.obsIdx = Int32Array.from(ob.times, (t, j) => {
      checkNumber(`observations.times[${j}]`, t, { min: 0, max: this.T, minExclusive: true });
      const n = Math.round(t / this.dt);
      if (Math.abs(n * this.dt - t) > 1e-9 * this.T) throw new InvalidArgumentError(`observations.times[${j}] = ${t} is not on the grid of step ${this.dt}`);
      return n;
    });
    if (new Set(this.obsIdx).size !== J) throw new InvalidArgumentError('observation times must be distinct');
    if (!ob.values || typeof ob.values.length !== 'number' || ob.values.length % J !== 0 || ob.values.length === 0) {
      throw new ShapeError(`observations.values must hold M·${J} numbers`);
    }
    this.M = ob.values.length / J;
    this.obs = allocate(dtype, ob.values.length);
    for (let i = 0; i < ob.values.length; i++) {
      if (!Number.isFinite(ob.values[i])) throw new InvalidArgumentError(`observations.values[${i}] is not finite`);
      this.obs[i] = ob.values[i];
    }
    const amortized = o.amortized ?? this.M > 1;
    // Control network on [sin t, cos t, X, Y_1..Y_K (, o_next, t_next − t)], last layer zero (u ≡ 0 at start).
    const hidden = o.hidden ?? [128, 128];
    const inDim = 3 + K + (amortized ? 2 : 0);
    const seed = o.seed ?? 0;
    this.control = new MLP<D>({ sizes: [inDim, ...hidden, 1], activation: o.activation ?? 'tanh', dtype, seed, zeroLastLayer: true });
    this.batch = checkInt('batch', o.batch ?? 32, 1, 1 << 20);
    this.opt = new Adam(this.control.params, { lr: o.lr ?? 1e-3, maxGradNorm: o.maxGradNorm });
    this.lr0 = this.opt.lr;
    this.decayTo = checkNumber('lrDecayTo', o.lrDecayTo ?? 1, { min: 0, max: 1 });
    this.decaySteps = checkInt('decaySteps', o.decaySteps ?? 2000, 1, 1e9);
    this.extra = new Float64Array([this.h, this.theta]);
    this.extraGrad = new Float64Array(2);
    this.extraOpt = new Adam(this.extra, { lr: o.hurstLr ?? 1e-2 });
    this.hurstLr0 = this.extraOpt.lr;
    this.warmup = checkInt('warmup', o.warmup ?? 0, 0, 1e9);
    this.key = seedKey(seed);
    this.cfgBase = {
      K, N: this.steps, dt: this.dt, sigma, theta: this.theta, x0, type1: this.type === 'I', obsSigma, seqOffset: 0, amortized: !!amortized,
      keyLo: this.key[0], keyHi: this.key[1], pathOffset: 0,
    };
  }

  /** Current Hurst index sigmoid(h). */
  get hurst(): number {
    return sigmoid(this.h);
  }

  /** ω(H), dω/dH and the type I initial-covariance root at the current H. */
  coefficients(): { omegas: Float64Array; dOmegaDHurst: Float64Array; cholC: Float64Array; relativeError: number } {
    return runNativeSync(() => trainAddon().trainFsdeCoefficients({ type1: this.type === 'I', hurst: this.hurst, horizon: this.omegaHorizon, unit: this.unit, gammas: this.gammas }));
  }

  private cfg(pathOffset: number, seqOffset: number, key: [number, number] = this.key): FsdeConfig {
    return { ...this.cfgBase, theta: this.theta, seqOffset, keyLo: key[0], keyHi: key[1], pathOffset };
  }

  private call(
    co: ReturnType<FractionalSDE['coefficients']>, B: number, backward: boolean, cfg: FsdeConfig,
    outs: { grad?: FloatArray; dOmega?: Float64Array; x?: FloatArray; u?: FloatArray; loss?: Float64Array; result: Float64Array },
    control: Float64Array | null, async: boolean,
  ): Promise<void> | undefined {
    return trainAddon().trainFsde({
      ...cfg, layout: this.control.layout, params: this.control.params, gammas: this.gammas, omegas: co.omegas,
      cholC: this.type === 'I' ? co.cholC : null, obsIdx: this.obsIdx, obs: this.obs, M: this.M, B, backward, grad: outs.grad ?? null,
      dOmega: outs.dOmega ?? null, xPaths: outs.x ?? null, uPaths: outs.u ?? null, pathLoss: outs.loss ?? null, result: outs.result, control, async,
    });
  }

  /**
   * Loss and gradients of one batch with fixed noise: paths pathOffset .. pathOffset+batch−1 of
   * the seed, observing sequences (pathOffset + p) mod M. Does not change the model.
   */
  lossAndGradient(o: LossOptions = {}): FsdeGradient {
    checkOptions('train.FractionalSDE.lossAndGradient', o, LOSS_KEYS);
    const B = checkInt('batch', o.batch ?? this.batch, 1, 1 << 20);
    const off = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 47);
    const co = this.coefficients();
    const grad = allocate(this.control.dtype, this.control.numParams);
    const dOmega = new Float64Array(this.gammas.length);
    const result = new Float64Array(4);
    runNativeSync(() => this.call(co, B, true, this.cfg(off, off), { grad, dOmega, result }, null, false));
    let dHurst = 0;
    for (let k = 0; k < dOmega.length; k++) dHurst += dOmega[k] * co.dOmegaDHurst[k];
    return { loss: result[0], nll: result[1], kl: result[2], grad, dOmega, dHurst, dTheta: result[3] };
  }

  private applyStep(co: ReturnType<FractionalSDE['coefficients']>, dOmega: Float64Array, result: Float64Array, H: number): IterationInfo {
    if (this.decayTo < 1) {
      const f = Math.min(1, this.iteration / this.decaySteps);
      const s = this.decayTo + (1 - this.decayTo) * 0.5 * (1 + Math.cos(Math.PI * f));
      this.opt.lr = this.lr0 * s;
      this.extraOpt.lr = this.hurstLr0 * s;
    }
    this.opt.step(this.control.grad);
    if ((this.learnHurst || this.learnTheta) && this.iteration >= this.warmup) {
      let dH = 0;
      for (let k = 0; k < dOmega.length; k++) dH += dOmega[k] * co.dOmegaDHurst[k];
      this.extraGrad[0] = this.learnHurst ? dH * H * (1 - H) : 0; // dH/dh = H(1 − H)
      this.extraGrad[1] = this.learnTheta ? result[3] : 0;
      this.extra[0] = this.h;
      this.extra[1] = this.theta;
      this.extraOpt.step(this.extraGrad);
      if (this.learnHurst) this.h = this.extra[0];
      if (this.learnTheta) this.theta = this.extra[1];
    }
    this.iteration += 1;
    return { iteration: this.iteration, elbo: -result[0], kl: result[2], nll: result[1], hurst: this.hurst, theta: this.theta };
  }

  /** One training iteration (rollout, adjoint, Adam), synchronously. */
  stepSync(): IterationInfo {
    const H = this.hurst;
    const co = this.coefficients();
    const dOmega = new Float64Array(this.gammas.length);
    const result = new Float64Array(4);
    const off = this.iteration * this.batch;
    runNativeSync(() => this.call(co, this.batch, true, this.cfg(off, off), { grad: this.control.grad, dOmega, result }, null, false));
    return this.applyStep(co, dOmega, result, H);
  }

  /** {@link stepSync} off the event loop. */
  async step(run: RunOptions = {}): Promise<IterationInfo> {
    checkOptions('train.FractionalSDE.step', run, RUN_KEYS);
    const H = this.hurst;
    const co = this.coefficients();
    const dOmega = new Float64Array(this.gammas.length);
    const result = new Float64Array(4);
    const off = this.iteration * this.batch;
    await runNative({ signal: run.signal }, (c) => this.call(co, this.batch, true, this.cfg(off, off), { grad: this.control.grad, dOmega, result }, c, true));
    return this.applyStep(co, dOmega, result, H);
  }

  /**
   * Posterior paths under the current control. Noise comes from `seed` (default: the training
   * seed with paths from 2^46 on, disjoint from every training batch); path p observes sequence
   * (sequenceOffset + p) mod M.
   */
  sampleSync(o: SampleOptions): FsdeSamples {
    const p = this.prepareSample('train.FractionalSDE.sampleSync', o, SAMPLE_KEYS);
    runNativeSync(() => this.call(p.co, p.B, false, p.cfg, p.out, null, false));
    return p.samples;
  }

  /** {@link sampleSync} off the event loop. */
  async sample(o: SampleOptions & RunOptions): Promise<FsdeSamples> {
    const p = this.prepareSample('train.FractionalSDE.sample', o, [...SAMPLE_KEYS, ...RUN_KEYS]);
    await runNative(o, (c) => this.call(p.co, p.B, false, p.cfg, p.out, c, true));
    return p.samples;
  }

  private prepareSample(where: string, o: SampleOptions, allowed: readonly string[]) {
    checkOptions(where, o, allowed);
    const B = checkInt('paths', o.paths, 1, 1 << 24);
    checkSize('the sampled paths (paths·(steps+1))', B * (this.steps + 1));
    const off = checkInt('pathOffset', o.pathOffset ?? 2 ** 46, 0, 2 ** 47);
    const seq = checkInt('sequenceOffset', o.sequenceOffset ?? 0, 0, 2 ** 47);
    const key = o.seed === undefined ? this.key : seedKey(o.seed);
    const co = this.coefficients();
    const x = allocate(this.control.dtype, B * (this.steps + 1), 'the sampled paths (paths·(steps+1))');
    const u = allocate(this.control.dtype, B * this.steps, 'the controls (paths·steps)');
    const loss = new Float64Array(B);
    const times = Float64Array.from({ length: this.steps + 1 }, (_, n) => n * this.dt);
    return { co, B, cfg: this.cfg(off, seq, key), out: { x, u, loss, result: new Float64Array(4) }, samples: { x, u, loss, times } };
  }
}

/** Options of {@link FractionalSDE.sample}. */
export interface SampleOptions {
  /** Number of posterior paths. */
  paths: number;
  /** Seed of the Brownian increments (default: the training seed). */
  seed?: Seed;
  /** First path id (default 2^46, disjoint from the training batches). */
  pathOffset?: number;
  /** Path p observes sequence (sequenceOffset + p) mod M (default 0). */
  sequenceOffset?: number;
}
const SAMPLE_KEYS = optionKeys<SampleOptions>()(['paths', 'seed', 'pathOffset', 'sequenceOffset']);

/** Options of {@link FractionalSDE.lossAndGradient}. */
export interface LossOptions {
  /** Paths of the batch (default: the model's batch). */
  batch?: number;
  /** First path id (default 0). */
  pathOffset?: number;
}
const LOSS_KEYS = optionKeys<LossOptions>()(['batch', 'pathOffset']);

/** Options of the training loop. */
export interface TrainLoopOptions extends RunOptions {
  /** Iterations (default 2000). */
  iterations?: number;
  /** Called after every iteration with ELBO, KL and H. */
  onIteration?: (info: IterationInfo) => void;
}
const TRAIN_LOOP_KEYS = optionKeys<TrainLoopOptions>()(['iterations', 'onIteration', ...RUN_KEYS]);

/** Result of {@link fractionalSDE}. */
export interface FractionalSDEResult<D extends Dtype = Dtype> {
  model: FractionalSDE<D>;
  /** Per-iteration history. */
  history: { elbo: Float64Array; kl: Float64Array; nll: Float64Array; hurst: Float64Array; theta: Float64Array };
}

function newHistory(n: number): FractionalSDEResult['history'] {
  return { elbo: new Float64Array(n), kl: new Float64Array(n), nll: new Float64Array(n), hurst: new Float64Array(n), theta: new Float64Array(n) };
}

function record(h: FractionalSDEResult['history'], i: number, info: IterationInfo): void {
  h.elbo[i] = info.elbo;
  h.kl[i] = info.kl;
  h.nll[i] = info.nll;
  h.hurst[i] = info.hurst;
  h.theta[i] = info.theta;
}

/**
 * Trains a variational fBM-SDE posterior (and optionally H and θ) by Adam on the ELBO.
 * Each iteration runs natively off the event loop; `onIteration` receives ELBO, KL and H.
 *
 * @example
 * ```ts
 * // The fractional OU bridge of Daems et al.: X(0) = 0, observe X(2) = 0 with noise 0.1.
 * const { model } = await train.fractionalSDE({
 *   hurst: 0.7, observations: { times: [2], values: [0], sigma: 0.1 }, iterations: 2000, seed: 1,
 *   onIteration: (i) => { if (i.iteration % 100 === 0) console.log(i.elbo, i.kl, i.hurst); },
 * });
 * const post = model.sampleSync({ paths: 1024 });
 * ```
 */
export async function fractionalSDE<D extends Dtype = 'float32'>(o: FractionalSDEOptions<D> & TrainLoopOptions): Promise<FractionalSDEResult<D>> {
  checkOptions('train.fractionalSDE', o, [...FSDE_KEYS, ...TRAIN_LOOP_KEYS]);
  const model = new FractionalSDE<D>(pick(o, FSDE_KEYS));
  const iters = checkInt('iterations', o.iterations ?? 2000, 0, 1e9);
  const history = newHistory(iters);
  for (let i = 0; i < iters; i++) {
    throwIfAborted(o.signal);
    const info = await model.step({ signal: o.signal });
    record(history, i, info);
    o.onIteration?.(info);
    o.onProgress?.({ done: i + 1, total: iters });
  }
  return { model, history };
}

/** {@link fractionalSDE} on the calling thread. */
export function fractionalSDESync<D extends Dtype = 'float32'>(o: FractionalSDEOptions<D> & { iterations?: number; onIteration?: (info: IterationInfo) => void }): FractionalSDEResult<D> {
  checkOptions('train.fractionalSDESync', o, [...FSDE_KEYS, 'iterations', 'onIteration']);
  const model = new FractionalSDE<D>(pick(o, FSDE_KEYS));
  const iters = checkInt('iterations', o.iterations ?? 2000, 0, 1e9);
  const history = newHistory(iters);
  for (let i = 0; i < iters; i++) {
    const info = model.stepSync();
    record(history, i, info);
    o.onIteration?.(info);
  }
  return { model, history };
}

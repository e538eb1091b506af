/**
 * Predictor–corrector sampling of the reverse-time SDE (Song et al. 2021; docs/design/sde.md): predictors
 * euler-maruyama, reverse-diffusion, ancestral; Langevin corrector (snr) or ALD.
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import { streams } from '../rng';
import { DiffusionProcess } from '../sde/models';
import { checkInt, checkNumber, checkOneOf, optionKeys } from '../validate';
import { DeviceArray } from '../device-array';
import { Call, SampleBuffer, allocBuffer, copyBuffer, drive, driveSync, lincomb, normals, progress, rowStats } from './ops';
import { Ctx, OnDevice, SAMPLE_KEYS, SampleOptions, SampleResult, context, noiseRef, prior, scoreCombo } from './common';

/** Options of {@link pc}. */
export interface PcOptions<B extends SampleBuffer = Float32Array> extends SampleOptions<B> {
  /** Default: 'reverse-diffusion' for VE, 'euler-maruyama' otherwise. */
  predictor?: 'euler-maruyama' | 'reverse-diffusion' | 'ancestral' | 'none';
  /** Default: 'langevin' for VE, 'none' otherwise. */
  corrector?: 'langevin' | 'ald' | 'none';
  /** Signal-to-noise ratio of the corrector (default 0.16). */
  snr?: number;
  /** Corrector steps M per predictor step (default 1). */
  correctorSteps?: number;
  /** Norms per sample (default) or averaged over the batch as score_sde does. */
  snrNorm?: 'sample' | 'batch';
}
const PC_KEYS = optionKeys<PcOptions>()([...SAMPLE_KEYS, 'predictor', 'corrector', 'snr', 'correctorSteps', 'snrNorm']);

/** Discrete forms (docs/design/sde.md): VP β_i = linspace(β_min/N, β_max/N, N); VE σ_i = geometric. @internal */
export function discrete(proc: DiffusionProcess, N: number, t: number): { i: number; beta: number; alpha: number; sigma: number; sigmaPrev: number } {
  const i = Math.floor((t * (N - 1)) / proc.T);
  const lin = (a: number, b: number): number => (N === 1 ? a : a + ((b - a) * i) / (N - 1));
  if (proc.kind === 've') {
    const s0 = proc.params.sigmaMin, s1 = proc.params.sigmaMax;
    const sig = (k: number): number => Math.exp(Math.log(s0) + (N === 1 ? 0 : ((Math.log(s1) - Math.log(s0)) * k) / (N - 1)));
    return { i, beta: 0, alpha: 1, sigma: sig(i), sigmaPrev: i === 0 ? 0 : sig(i - 1) };
  }
  const beta = lin(proc.params.betaMin / N, proc.params.betaMax / N);
  return { i, beta, alpha: 1 - beta, sigma: 0, sigmaPrev: 0 };
}

function* pcGen(o: PcOptions | PcOptions<DeviceArray<'float32'>>, where: string): Generator<Call, SampleResult<SampleBuffer>, void> {
  const c: Ctx = context(o, where, PC_KEYS);
  const proc = c.proc;
  const N = checkInt('steps', o.steps ?? 1000, 1, 2 ** 24);
  const eps = checkNumber('eps', o.eps ?? proc.eps, { min: 0, max: proc.T, maxExclusive: true });
  const ve = proc.kind === 've';
  const predictor = checkOneOf('predictor', o.predictor ?? (ve ? 'reverse-diffusion' : 'euler-maruyama'), ['euler-maruyama', 'reverse-diffusion', 'ancestral', 'none'] as const);
  const corrector = checkOneOf('corrector', o.corrector ?? (ve ? 'langevin' : 'none'), ['langevin', 'ald', 'none'] as const);
  if (predictor === 'ancestral' && proc.kind === 'subVp') throw new InvalidArgumentError('the ancestral predictor exists for VP and VE only');
  const snr = checkNumber('snr', o.snr ?? 0.16, { min: 0 });
  const M = checkInt('correctorSteps', o.correctorSteps ?? 1, 0, 1000);
  const snrNorm = checkOneOf('snrNorm', o.snrNorm ?? 'sample', ['sample', 'batch'] as const);
  const denoise = o.denoise ?? true;
  const { P, D } = c;
  const report = progress(o, N);
  let x = prior(c, proc.priorStd);
  const s = allocBuffer(c.device, P, D), z = allocBuffer(c.device, P, D);
  let xbar = allocBuffer(c.device, P, D);
  const dt = -proc.T / N;
  for (let i = 0; i < N; i++) {
    const t = N === 1 ? proc.T : proc.T + ((eps - proc.T) * i) / (N - 1); // linspace(T, eps, N)
    const dsc = discrete(proc, N, t);
    if (corrector !== 'none') {
      const alpha = proc.kind === 've' ? 1 : dsc.alpha;
      for (let k = 0; k < M; k++) {
        yield* scoreCombo(c, s, x, t, i, 0, 1);
        normals(z, P, D, noiseRef(c, streams.CORRECTOR, i * M + k));
        let step: number | Float64Array;
        if (corrector === 'ald') {
          step = 2 * alpha * (snr * proc.std(t)) ** 2;
        } else {
          const zs = rowStats(z, P, D).sumSq, ss = rowStats(s, P, D).sumSq;
          if (snrNorm === 'batch') {
            let zn = 0, sn = 0;
            for (let p = 0; p < P; p++) {
              zn += Math.sqrt(zs[p]);
              sn += Math.sqrt(ss[p]);
            }
            step = 2 * alpha * ((snr * zn) / Math.max(sn, 1e-30)) ** 2;
          } else {
            step = zs.map((v, p) => 2 * alpha * ((snr * Math.sqrt(v)) / Math.max(Math.sqrt(ss[p]), 1e-30)) ** 2);
          }
        }
        const noiseC = typeof step === 'number' ? Math.sqrt(2 * step) : step.map((e) => Math.sqrt(2 * e));
        lincomb(x, P, D, [[x, 1], [s, step], [z, noiseC]]);
      }
    }
    const last = i === N - 1;
    const noise = (g: number): [number, ReturnType<typeof noiseRef>] | undefined =>
      last && denoise ? undefined : [g, noiseRef(c, streams.PREDICTOR, i)];
    const fc = proc.driftCoef(t), g2 = proc.g2(t);
    switch (predictor) {
      case 'euler-maruyama': // x̄ = x + (f − g²s)dt; x = x̄ + g sqrt(−dt) z
        yield* scoreCombo(c, xbar, x, t, i, 1 + fc * dt, -g2 * dt, noise(Math.sqrt(g2 * -dt)));
        break;
      case 'reverse-diffusion': {
        let a: number, b: number, G: number;
        if (proc.kind === 've') {
          a = 1;
          b = dsc.sigma ** 2 - dsc.sigmaPrev ** 2;
          G = Math.sqrt(b);
        } else if (proc.kind === 'vp') {
          a = 2 - Math.sqrt(1 - dsc.beta); // x − f_i, f_i = (sqrt(1 − β_i) − 1)x
          b = dsc.beta;
          G = Math.sqrt(dsc.beta);
        } else {
          a = 1 - fc / N;
          b = g2 / N;
          G = Math.sqrt(g2 / N);
        }
        yield* scoreCombo(c, xbar, x, t, i, a, b, noise(G));
        break;
      }
      case 'ancestral':
        if (proc.kind === 've') {
          const dv = dsc.sigma ** 2 - dsc.sigmaPrev ** 2;
          yield* scoreCombo(c, xbar, x, t, i, 1, dv, noise(Math.sqrt((dsc.sigmaPrev ** 2 * dv) / dsc.sigma ** 2)));
        } else {
          const r = 1 / Math.sqrt(1 - dsc.beta);
          yield* scoreCombo(c, xbar, x, t, i, r, dsc.beta * r, noise(Math.sqrt(dsc.beta)));
        }
        break;
      default:
        copyBuffer(xbar, x);
        break;
    }
    [x, xbar] = [xbar, x];
    report(i + 1, t, c.nfe);
  }
  return { x, nfe: c.nfe };
}

/** Predictor–corrector sampler (Promise form; the model may be async). NFE = N(M + 1). */
export function pc(o: OnDevice<PcOptions<DeviceArray<'float32'>>>): Promise<SampleResult<DeviceArray<'float32'>>>;
export function pc(o: PcOptions): Promise<SampleResult>;
export function pc(o: PcOptions | PcOptions<DeviceArray<'float32'>>): Promise<SampleResult<SampleBuffer>> {
  return drive(pcGen(o, 'diffusion.pc'), o);
}
/** {@link pc}, blocking; the model must be synchronous. */
export function pcSync(o: OnDevice<PcOptions<DeviceArray<'float32'>>>): SampleResult<DeviceArray<'float32'>>;
export function pcSync(o: PcOptions): SampleResult;
export function pcSync(o: PcOptions | PcOptions<DeviceArray<'float32'>>): SampleResult<SampleBuffer> {
  return driveSync(pcGen(o, 'diffusion.pcSync'));
}

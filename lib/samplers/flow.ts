/**
 * Probability-flow ODE dx/dt = f − ½g²s solved with adaptive Dormand–Prince RK45 (docs/design/sde.md, as
 * SciPy's RK45): FSAL, error norm = RMS over all B·D elements in float64 (one shared step size),
 * factor 0.9·norm^(−1/5) clipped to [0.2, 10], Hairer's initial step.
 * @packageDocumentation
 */
import { InvalidArgumentError, ItokitError, ShapeError } from '../errors';
import { runNativeSync } from '../run';
import { sdeNative } from '../sde/addon';
import { checkFloatArray, checkInt, checkNumber, checkOneOf, optionKeys } from '../validate';
import { Ctx, SAMPLE_KEYS, SampleOptions, SampleResult, context, prior, scoreCombo } from './common';
import { Call, drive, driveSync, lincomb, progress } from './ops';
import { discrete } from './pc';

/** Options of {@link probabilityFlow}. */
export interface FlowOptions extends SampleOptions {
  /** 'sample' integrates T → eps from the prior (default); 'encode' integrates eps → T from `x`. */
  direction?: 'sample' | 'encode';
  /** Start state ([batch, dim]); required for 'encode', optional for 'sample'. */
  x?: Float32Array;
  rtol?: number;
  atol?: number;
  /** Maximum accepted + rejected steps (default 10 000). */
  maxSteps?: number;
}
const FLOW_KEYS = optionKeys<FlowOptions>()([...SAMPLE_KEYS, 'direction', 'x', 'rtol', 'atol', 'maxSteps']);

const C = [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1];
const A = [[], [1 / 5], [3 / 40, 9 / 40], [44 / 45, -56 / 15, 32 / 9], [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
  [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]];
const B = [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84];
const E = new Float64Array([-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40]);

function* flowGen(o: FlowOptions, where: string): Generator<Call, SampleResult, void> {
  const c: Ctx = context(o, where, FLOW_KEYS);
  const proc = c.proc;
  const { P, D } = c;
  const eps = checkNumber('eps', o.eps ?? proc.eps, { min: 0, max: proc.T, maxExclusive: true });
  const dir = checkOneOf('direction', o.direction ?? 'sample', ['sample', 'encode'] as const);
  const rtol = checkNumber('rtol', o.rtol ?? 1e-5, { min: 0, minExclusive: true });
  const atol = checkNumber('atol', o.atol ?? 1e-5, { min: 0, minExclusive: true });
  const maxSteps = checkInt('maxSteps', o.maxSteps ?? 10_000, 1, 2 ** 31);
  let y: Float32Array;
  if (o.x !== undefined) {
    checkFloatArray('x', o.x, 'float32');
    if (o.x.length !== P * D) throw new ShapeError(`x must hold batch·dim = ${P * D} values`);
    y = o.x.slice();
  } else if (dir === 'encode') {
    throw new InvalidArgumentError("direction 'encode' needs x");
  } else {
    y = prior(c, proc.priorStd);
  }
  const [t0, tEnd] = dir === 'sample' ? [proc.T, eps] : [eps, proc.T];
  const sgn = Math.sign(tEnd - t0);
  const n = P * D;
  const k = Array.from({ length: 7 }, () => new Float32Array(n));
  const ys = new Float32Array(n), ynew = new Float32Array(n);
  let step = 0;
  // f(t, y) = driftCoef(t)·y − ½g²(t)·s(y, t) into out.
  const f = (out: Float32Array, t: number, x: Float32Array): Generator<Call, void, void> =>
    scoreCombo(c, out, x, t, step, proc.driftCoef(t), -0.5 * proc.g2(t));
  const norm = (a: Float32Array, b: Float32Array, ks: Float32Array[], e: Float64Array, h: number): number =>
    runNativeSync(() => sdeNative().sdeRk45Norm({ y: a, ynew: b, ks, e, h, atol, rtol }));
  let t = t0;
  yield* f(k[0], t, y);
  // Initial step (Hairer, Nørsett & Wanner; SciPy select_initial_step).
  const d0 = norm(y, y, [y], new Float64Array([1]), 1);
  const d1 = norm(y, y, [k[0]], new Float64Array([1]), 1);
  let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
  h0 = Math.min(h0, Math.abs(tEnd - t0));
  lincomb(ys, P, D, [[y, 1], [k[0], sgn * h0]]);
  yield* f(k[1], t + sgn * h0, ys);
  const d2 = norm(y, y, [k[1], k[0]], new Float64Array([1, -1]), 1 / h0);
  const h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / 5);
  let h = Math.min(100 * h0, h1);
  let rejected = false;
  const report = progress(o, maxSteps);
  let attempts = 0;
  while (sgn * (tEnd - t) > 0) {
    if (++attempts > maxSteps) throw new ItokitError('ERR_ITOKIT_NUMERICAL', `probability flow needed more than maxSteps = ${maxSteps} steps`);
    const ulp = 10 * Math.abs(Math.abs(t) * Number.EPSILON || Number.MIN_VALUE);
    if (h < ulp) throw new ItokitError('ERR_ITOKIT_STEP_TOO_SMALL', `RK45 step ${h} fell below 10 ulp of t = ${t}`);
    let hs = sgn * h;
    if (sgn * (t + hs - tEnd) > 0) hs = tEnd - t;
    for (let s = 1; s < 6; s++) {
      lincomb(ys, P, D, [[y, 1], ...A[s].map((a, j) => [k[j], hs * a] as [Float32Array, number])]);
      yield* f(k[s], t + C[s] * hs, ys);
    }
    lincomb(ynew, P, D, [[y, 1], ...B.map((b, j) => [k[j], hs * b] as [Float32Array, number]).filter(([, v]) => v !== 0)]);
    yield* f(k[6], t + hs, ynew);
    const err = norm(y, ynew, k, E, Math.abs(hs));
    if (err <= 1) {
      t = Math.abs(tEnd - (t + hs)) < 1e-15 ? tEnd : t + hs;
      y.set(ynew);
      k[0].set(k[6]);
      step++;
      const fac = err === 0 ? 10 : Math.min(10, 0.9 * err ** -0.2);
      h = Math.abs(hs) * (rejected ? Math.min(1, fac) : fac);
      rejected = false;
      report(step, t, c.nfe);
    } else {
      h = Math.abs(hs) * Math.max(0.2, 0.9 * err ** -0.2);
      rejected = true;
    }
  }
  if (dir === 'sample' && (o.denoise ?? false)) {
    // One reverse-diffusion predictor mean at eps (score_sde's denoising step).
    const dsc = discrete(proc, proc.N, eps);
    if (proc.kind === 've') yield* scoreCombo(c, y, y, eps, step, 1, dsc.sigma ** 2 - dsc.sigmaPrev ** 2);
    else if (proc.kind === 'vp') yield* scoreCombo(c, y, y, eps, step, 2 - Math.sqrt(1 - dsc.beta), dsc.beta);
    else yield* scoreCombo(c, y, y, eps, step, 1 - proc.driftCoef(eps) / proc.N, proc.g2(eps) / proc.N);
  }
  return { x: y, nfe: c.nfe };
}

/** Probability-flow ODE sampler / encoder (Promise form). */
export function probabilityFlow(o: FlowOptions): Promise<SampleResult> {
  return drive(flowGen(o, 'diffusion.probabilityFlow'), o);
}
/** {@link probabilityFlow}, blocking; the model must be synchronous. */
export function probabilityFlowSync(o: FlowOptions): SampleResult {
  return driveSync(flowGen(o, 'diffusion.probabilityFlowSync'));
}

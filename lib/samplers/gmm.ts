/**
 * A diagonal Gaussian mixture with closed-form diffused scores: the reference target of the
 * sampler tests. Diffused to time t of a process, component k is N(m(t)μ_k, m(t)²v_k + std(t)²).
 * Scores are evaluated natively (native/sde/sde_ops.cc); sample/logpdf are small host helpers.
 * @packageDocumentation
 */
import { ShapeError } from '../errors';
import { normal, streams, uniform } from '../rng';
import { runNativeSync } from '../run';
import { sdeNative } from '../sde/addon';
import { DiffusionProcess, MIXTURE_KEYS, MixtureParams, mixture } from '../sde/models';
import { Seed, checkFloatArray, checkInt, checkNumber, checkOptions, optionKeys } from '../validate';
import { ScoreFn } from './common';

/** What {@link gmm} returns. */
export interface Gmm {
  K: number;
  dim: number;
  /** Score ∇log p_t(x) of the mixture diffused by `process` (the data score when absent). */
  score: ScoreFn;
  /** ε-model for a discrete schedule: ε = −sqrt(1 − ᾱ_t)·∇log p_t, x_t = sqrt(ᾱ_t)x₀ + sqrt(1 − ᾱ_t)ε. */
  epsModel(alphasCumprod: Float64Array): ScoreFn;
  /** Denoiser D(x, σ) = x + σ²∇log p_σ(x) of the mixture plus N(0, σ²I) (Karras/VE form). */
  denoiser(x: Float32Array, sigma: Float64Array, out: Float32Array): void;
  /** n exact samples ([n, dim]) from the data distribution. */
  sample(n: number, seed: Seed): Float32Array;
  /** log density of the mixture diffused to time t (t = 0 or absent: the data). */
  logpdf(x: Float32Array, t?: number): Float64Array;
}

/** Parameters of {@link gmm}. */
export interface GmmParams extends MixtureParams {
  /** Forward process the scores are diffused by (absent: the data score). */
  process?: DiffusionProcess;
}
const GMM_KEYS = optionKeys<GmmParams>()([...MIXTURE_KEYS, 'process']);

/** Builds the mixture helper. */
export function gmm(p: GmmParams): Gmm {
  checkOptions('diffusion.gmm', p, GMM_KEYS);
  const mx = mixture(p);
  const { K, d } = mx;
  const logw = mx.weights.map(Math.log);
  const proc = p.process;
  // The helpers are public (a user may call score or denoiser directly), so their arrays are checked.
  const scoreAt = (x: Float32Array, scale: Float64Array, addvar: Float64Array, out: Float32Array): void => {
    checkFloatArray('x', x, 'float32');
    checkFloatArray('out', out, 'float32');
    const P = scale.length;
    runNativeSync(() => sdeNative().sdeGmmScore({ x, P, D: d, logw, means: mx.means, vars: mx.vars, scale, addvar, out }));
  };
  const score: ScoreFn = (x, t, out) => {
    const P = checkFloatArray('t', t, 'float64').length;
    const scale = new Float64Array(P).fill(1), addvar = new Float64Array(P);
    if (proc) {
      for (let b = 0; b < P; b++) {
        scale[b] = proc.mean(t[b]);
        addvar[b] = proc.std(t[b]) ** 2;
      }
    }
    scoreAt(x, scale, addvar, out);
  };
  const logpdf = (x: Float32Array, t = 0): Float64Array => {
    checkFloatArray('x', x, 'float32');
    checkNumber('t', t, { min: 0 });
    if (x.length % d !== 0) throw new ShapeError(`x length ${x.length} is not a multiple of dim ${d}`);
    const n = x.length / d;
    const s = proc && t > 0 ? proc.mean(t) : 1, a = proc && t > 0 ? proc.std(t) ** 2 : 0;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let mxl = -Infinity;
      const l = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        let q = logw[k];
        for (let j = 0; j < d; j++) {
          const v = s * s * mx.vars[k * d + j] + a;
          q -= 0.5 * (Math.log(2 * Math.PI * v) + (x[i * d + j] - s * mx.means[k * d + j]) ** 2 / v);
        }
        l[k] = q;
        mxl = Math.max(mxl, q);
      }
      out[i] = mxl + Math.log(l.reduce((acc, q) => acc + Math.exp(q - mxl), 0));
    }
    return out;
  };
  return {
    K, dim: d, score, logpdf,
    epsModel(ac) {
      checkFloatArray('alphasCumprod', ac, 'float64');
      return (x, t, out) => {
        const P = checkFloatArray('t', t, 'float64').length;
        const scale = new Float64Array(P), addvar = new Float64Array(P);
        for (let b = 0; b < P; b++) {
          const a = ac[Math.round(t[b])];
          scale[b] = Math.sqrt(a);
          addvar[b] = 1 - a;
        }
        scoreAt(x, scale, addvar, out);
        for (let b = 0; b < P; b++) {
          const c = -Math.sqrt(addvar[b]);
          for (let j = 0; j < d; j++) out[b * d + j] *= c;
        }
      };
    },
    denoiser(x, sigma, out) {
      const P = checkFloatArray('sigma', sigma, 'float64').length;
      scoreAt(x, new Float64Array(P).fill(1), sigma.map((s) => s * s), out);
      for (let b = 0; b < P; b++) {
        const s2 = sigma[b] * sigma[b];
        for (let j = 0; j < d; j++) out[b * d + j] = x[b * d + j] + s2 * out[b * d + j];
      }
    },
    sample(n, seed) {
      checkInt('n', n, 0, 2 ** 31 - 1);
      const u = uniform(n, { seed, stream: streams.USER, dtype: 'float64' });
      const z = normal(n * d, { seed, stream: streams.USER, path: 1 });
      const out = new Float32Array(n * d);
      const cum = new Float64Array(K);
      mx.weights.reduce((acc, w, k) => (cum[k] = acc + w), 0);
      for (let i = 0; i < n; i++) {
        let k = 0;
        while (k < K - 1 && u[i] > cum[k]) k++;
        for (let j = 0; j < d; j++) out[i * d + j] = mx.means[k * d + j] + Math.sqrt(mx.vars[k * d + j]) * z[i * d + j];
      }
      return out;
    },
  };
}

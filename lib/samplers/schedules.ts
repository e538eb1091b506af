/**
 * Noise schedules (docs/design/sde.md): the Karras et al. (2022) σ schedule and DDPM's linear β schedule.
 * @packageDocumentation
 */
import { checkInt, checkNumber, checkOptions, optionKeys } from '../validate';

/**
 * Karras σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for i < n, and σ_n = 0
 * (n + 1 values, the first σ_max).
 */
export function karras(n: number, sigmaMin: number, sigmaMax: number, rho = 7): Float64Array {
  checkInt('n', n, 1, 2 ** 24);
  checkNumber('sigmaMin', sigmaMin, { min: 0, minExclusive: true });
  checkNumber('sigmaMax', sigmaMax, { min: sigmaMin });
  checkNumber('rho', rho, { min: 0, minExclusive: true });
  const a = sigmaMax ** (1 / rho), b = sigmaMin ** (1 / rho);
  const s = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) s[i] = (a + (n === 1 ? 0 : i / (n - 1)) * (b - a)) ** rho;
  s[n] = 0;
  return s;
}

/** Options of {@link linearBetas}. */
export interface LinearBetasOptions {
  /** Follow diffusers' float32 arithmetic bit for bit (default false: exact float64). */
  float32?: boolean;
}
const LINEAR_BETAS_KEYS = optionKeys<LinearBetasOptions>()(['float32']);

/**
 * DDPM's β_t = linspace(start, end, T) and ᾱ_t = Π_{s≤t}(1 − β_s) (defaults T = 1000, 1e-4, 0.02).
 * With `float32: true` both follow diffusers bit for bit (docs/design/unet.md): β from
 * torch.linspace in float32 (start + i·step, step = (end − start)/(T − 1) rounded to float32) and
 * the cumulative product rounded to float32 after every factor; the values are returned widened
 * to float64. The default is the exact float64 schedule.
 */
export function linearBetas(T = 1000, start = 1e-4, end = 0.02, o: LinearBetasOptions = {}): { betas: Float64Array; alphasCumprod: Float64Array } {
  checkOptions('diffusion.schedules.linearBetas', o, LINEAR_BETAS_KEYS);
  checkInt('T', T, 1, 2 ** 24);
  checkNumber('start', start, { min: 0, max: 1, maxExclusive: true });
  checkNumber('end', end, { min: 0, max: 1, maxExclusive: true });
  const f = o.float32 ? Math.fround : (v: number): number => v;
  const betas = new Float64Array(T);
  const alphasCumprod = new Float64Array(T);
  const step = f((end - start) / Math.max(T - 1, 1));
  let c = 1;
  for (let t = 0; t < T; t++) {
    betas[t] = T === 1 ? f(start) : o.float32 ? f(f(start) + t * step) : start + (t * (end - start)) / (T - 1);
    c = f(c * f(1 - betas[t]));
    alphasCumprod[t] = c;
  }
  return { betas, alphasCumprod };
}

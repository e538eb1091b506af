/**
 * The callback path of `simulate` for user-defined models: per step, native Brownian increments
 * for the whole batch, one vectorised drift/diffusion call per stage, then a native update
 * (docs/design/sde.md §6). Nothing here loops over elements.
 * @internal
 * @packageDocumentation
 */
import { ItokitError } from '../errors';
import { runNativeSync } from '../run';
import { FloatArray, allocate } from '../validate';
import { SdeBrownianArgs, sdeNative } from './addon';
import { NoiseType } from './models';
import type { Plan } from './plan';

/** Native noise-type codes (native/kernels/sde_generic.h). @internal */
export const NOISE_CODE: Record<NoiseType, number> = { diagonal: 0, additive: 1, scalar: 2, general: 3 };
/** Native update ops (native/kernels/sde_generic.h `GenericOp`). @internal */
export const OP = { euler: 0, milstein: 1, heun: 2, sra1Stage: 3, sra1Final: 4, probe: 5, gdg: 6, milsteinDx: 7, calculus: 8 } as const;

/** Size of the diffusion buffer for a noise type (docs/design/sde.md §1 table). @internal */
export function diffusionSize(noise: NoiseType, P: number, d: number, m: number): number {
  if (noise === 'additive') return d * m;
  if (noise === 'general') return P * d * m;
  return P * d;
}

function checkSync(v: unknown, what: string): void {
  if (v !== undefined && v !== null && typeof (v as Promise<unknown>).then === 'function') {
    throw new ItokitError('ERR_ITOKIT_ASYNC_CALLBACK', `${what} returned a Promise; model callbacks must be synchronous`);
  }
}

/** @internal */
export class UserRunner {
  private readonly f1: FloatArray;
  private readonly f2: FloatArray;
  private readonly g1: FloatArray;
  private readonly g2: FloatArray;
  private readonly tmp: FloatArray;
  private readonly dW: FloatArray;
  private readonly J: FloatArray | null;
  private readonly gdg: FloatArray | null;
  private readonly brownian: SdeBrownianArgs;
  private readonly dx: FloatArray | null;
  /** Drift conversion coefficient: −½ (Itô model, Stratonovich method), +½ (the reverse), 0 none. */
  private readonly conv: number;
  private sp = 0;

  constructor(private readonly p: Plan, private readonly out: FloatArray) {
    const { P, d, m, dtype, method, model } = p;
    const gs = diffusionSize(model.noise, P, d, m);
    this.f1 = allocate(dtype, P * d);
    this.f2 = allocate(dtype, method === 'heun' || method === 'sra1' ? P * d : 0);
    this.g1 = allocate(dtype, gs);
    this.g2 = allocate(dtype, method === 'heun' || method === 'sra1' || method === 'milstein' ? gs : 0);
    this.tmp = allocate(dtype, method === 'euler' ? 0 : P * d);
    this.dW = allocate(dtype, P * m);
    this.J = method === 'sra1' ? allocate(dtype, P * m) : null;
    this.gdg = method === 'milstein' ? allocate(dtype, P * d) : null;
    this.brownian = {
      dW: this.dW, J: this.J, paths: P, pathOffset: p.pathOffset, m, step: 0, refine: p.refine, stream: 0, keyLo: p.key[0], keyHi: p.key[1], h: p.h, device: 0,
    };
    const stratMethod = method === 'heun';
    this.conv = model.noise === 'additive' || (model.calculus === 'stratonovich') === stratMethod ? 0 : stratMethod ? -0.5 : 0.5;
    this.dx = this.conv !== 0 ? allocate(dtype, P * d) : null;
    this.save(p.a);
  }

  /** t_n = t0 + n·h, t_N = t1 (never accumulated). */
  time(n: number): number {
    return n === this.p.N ? this.p.t1 : this.p.t0 + n * this.p.h;
  }

  private save(n: number): void {
    const { saveN0, P, d } = this.p;
    while (this.sp < saveN0.length && saveN0[this.sp] === n) {
      this.out.set(this.p.x, this.sp * P * d);
      this.sp++;
    }
  }

  private drift(t: number, x: FloatArray, out: FloatArray): void {
    checkSync(this.p.model.user!.drift(t, x, out, this.p.P), 'drift');
  }
  /** Drift and diffusion at (t, x), the drift converted to the method's calculus when needed. */
  private fg(t: number, x: FloatArray, f: FloatArray, g: FloatArray): void {
    this.drift(t, x, f);
    this.diffusion(t, x, g);
    if (this.conv !== 0) {
      checkSync(this.p.model.user!.diffusionDx!(t, x, this.dx!, this.p.P), 'diffusionDx');
      const { P, d, m, model } = this.p;
      runNativeSync(() =>
        sdeNative().sdeUpdate({
          op: OP.calculus, noise: NOISE_CODE[model.noise], paths: P, d, m, h: this.conv, x: f, y: f, f1: null, f2: null, g1: g, g2: null, gdg: this.dx, dW: null, J: null,
        }),
      );
    }
  }
  private diffusion(t: number, x: FloatArray, out: FloatArray): void {
    checkSync(this.p.model.user!.diffusion(t, x, out, this.p.P), 'diffusion');
  }

  private update(op: number, x: FloatArray, y: FloatArray, f1: FloatArray | null, f2: FloatArray | null, g1: FloatArray | null,
    g2: FloatArray | null, gdg: FloatArray | null): void {
    const { P, d, m, h, model } = this.p;
    runNativeSync(() => sdeNative().sdeUpdate({ op, noise: NOISE_CODE[model.noise], paths: P, d, m, h, x, y, f1, f2, g1, g2, gdg, dW: this.dW, J: this.J }));
  }

  /** Advances the state from step n to n + 1. */
  step(n: number): void {
    const { x, h, method, model } = this.p;
    const t = this.time(n);
    this.brownian.step = n;
    runNativeSync(() => sdeNative().sdeBrownian(this.brownian));
    const user = model.user!;
    switch (method) {
      case 'euler':
        this.fg(t, x, this.f1, this.g1);
        this.update(OP.euler, x, x, this.f1, null, this.g1, null, null);
        break;
      case 'milstein':
        this.fg(t, x, this.f1, this.g1);
        if (user.diffusionDx) {
          checkSync(user.diffusionDx(t, x, this.gdg!, this.p.P), 'diffusionDx');
          this.update(OP.milsteinDx, x, x, this.f1, null, this.g1, null, this.gdg);
        } else {
          // Derivative-free (torchsde grad_free): ȳ = y + f h + g√h; g ∂g/∂x ≈ (g(ȳ) − g(y))/√h.
          this.update(OP.probe, this.tmp, x, this.f1, null, this.g1, null, null);
          this.diffusion(t, this.tmp, this.g2);
          this.update(OP.gdg, this.gdg!, x, null, null, this.g1, this.g2, null);
          this.update(OP.milstein, x, x, this.f1, null, this.g1, null, this.gdg);
        }
        break;
      case 'heun':
        this.fg(t, x, this.f1, this.g1);
        this.update(OP.euler, this.tmp, x, this.f1, null, this.g1, null, null);
        this.fg(t + h, this.tmp, this.f2, this.g2);
        this.update(OP.heun, x, x, this.f1, this.f2, this.g1, this.g2, null);
        break;
      case 'sra1':
        this.drift(t, x, this.f1);
        this.diffusion(t + h, x, this.g1); // G(t+h)
        this.diffusion(t, x, this.g2); // G(t)
        this.update(OP.sra1Stage, this.tmp, x, this.f1, null, this.g1, null, null);
        this.drift(t + 0.75 * h, this.tmp, this.f2);
        this.update(OP.sra1Final, x, x, this.f1, this.f2, this.g1, this.g2, null);
        break;
      default:
        throw new ItokitError('ERR_ITOKIT_INVALID_ARG', `method ${method} is not available for user models`);
    }
    this.save(n + 1);
  }
}

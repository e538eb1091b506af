/**
 * The low-level Stepper: an in-place Euler–Maruyama step with native noise for samplers that
 * compute the drift elsewhere (a UNet, a score network). Step ids advance by one per call, so a
 * path's noise depends only on (seed, pathOffset + row, step id).
 * @packageDocumentation
 */
import { DeviceOption, deviceCode, resolveDevice } from '../backends';
import { InvalidArgumentError, ShapeError } from '../errors';
import { runNativeSync } from '../run';
import {
  Dtype, FloatArray, Seed, allocate, checkDtype, checkFloatArray, checkInt, checkNumber, checkOneOf, checkOptions, checkSize, optionKeys, seedKey,
} from '../validate';
import { SdeBrownianArgs, sdeNative } from './addon';
import { NoiseType } from './models';
import { NOISE_CODE, OP, diffusionSize } from './user';

/** Options of {@link createStepper}. */
export interface StepperOptions {
  /** Rows (paths) per call. */
  paths: number;
  /** State dimension d. */
  dim: number;
  /** Noise type of the diffusion buffers given to `step` (default 'diagonal'). */
  noise?: NoiseType;
  /** Brownian dimension m (default d for diagonal, 1 for scalar). */
  brownianDim?: number;
  seed: Seed;
  /** Path id of row 0 (default 0). */
  pathOffset?: number;
  /** Noise stream (default 0, BROWNIAN). */
  stream?: number;
  /** First step id (default 0). */
  firstStep?: number;
  dtype?: Dtype;
  /**
   * Where noise and update run (default 'cpu'). 'cuda' copies the buffers per call (float32 only);
   * it exists to check the device step against the CPU, not for speed.
   */
  device?: DeviceOption;
}

const STEPPER_KEYS = optionKeys<StepperOptions>()(['paths', 'dim', 'noise', 'brownianDim', 'seed', 'pathOffset', 'stream', 'firstStep', 'dtype', 'device']);

/** An in-place Euler–Maruyama stepper. */
export interface Stepper {
  /**
   * x ← x + drift·dt + G·ΔW in place, ΔW = sqrt|dt|·z from the next step id. `diffusion` follows
   * the noise type's layout (docs/design/sde.md); `t` is recorded for symmetry with the model callbacks.
   */
  step(x: FloatArray, drift: FloatArray, diffusion: FloatArray, t: number, dt: number): void;
  /** Step id the next call uses. */
  readonly stepId: number;
}

/** Creates a {@link Stepper}. */
export function createStepper(o: StepperOptions): Stepper {
  checkOptions('sde.createStepper', o, STEPPER_KEYS);
  const P = checkInt('paths', o.paths, 1, 2 ** 40);
  const d = checkInt('dim', o.dim, 1, 2 ** 30);
  const noise = checkOneOf('noise', o.noise ?? 'diagonal', ['diagonal', 'additive', 'scalar', 'general'] as const);
  const m = checkInt('brownianDim', o.brownianDim ?? (noise === 'scalar' ? 1 : d), 1, 2 ** 30);
  if ((noise === 'diagonal' && m !== d) || (noise === 'scalar' && m !== 1)) throw new ShapeError('brownianDim does not fit the noise type');
  const dtype = checkDtype(o.dtype);
  const key = seedKey(o.seed);
  const pathOffset = checkInt('pathOffset', o.pathOffset ?? 0, 0, 2 ** 48 - P);
  const stream = checkInt('stream', o.stream ?? 0, 0, 0xffff);
  let n = checkInt('firstStep', o.firstStep ?? 0, 0, 2 ** 32 - 1);
  const device = o.device === undefined ? 'cpu' : resolveDevice(o.device, P * d);
  if (device === 'cuda' && dtype !== 'float32') throw new InvalidArgumentError("the CUDA stepper is float32");
  const dev = deviceCode(device);
  checkSize('x (paths·dim)', P * d);
  const gs = checkSize(`the ${noise} diffusion buffer`, diffusionSize(noise, P, d, m));
  const dW = allocate(dtype, P * m, 'the Brownian increments (paths·brownianDim)');
  const brownian: SdeBrownianArgs = { dW, J: null, paths: P, pathOffset, m, step: 0, refine: 1, stream, keyLo: key[0], keyHi: key[1], h: 0, device: dev };
  return {
    get stepId() {
      return n;
    },
    step(x, drift, diffusion, t, dt) {
      checkFloatArray('x', x, dtype);
      checkFloatArray('drift', drift, dtype);
      checkFloatArray('diffusion', diffusion, dtype);
      if (x.length !== P * d || drift.length !== P * d) throw new ShapeError(`x and drift must hold paths·dim = ${P * d} values`);
      if (diffusion.length !== gs) throw new ShapeError(`diffusion must hold ${gs} values for ${noise} noise`);
      checkNumber('t', t);
      checkNumber('dt', dt);
      if (dt === 0) throw new InvalidArgumentError('dt must not be 0');
      if (n > 2 ** 32 - 1) throw new InvalidArgumentError('step ids exhausted (2^32)');
      brownian.step = n;
      brownian.h = dt;
      runNativeSync(() => {
        sdeNative().sdeBrownian(brownian);
        sdeNative().sdeUpdate({
          op: OP.euler, noise: NOISE_CODE[noise], paths: P, d, m, h: dt, x, y: x, f1: drift, f2: null, g1: diffusion, g2: null, gdg: null, dW, J: null, device: dev,
        });
      });
      n++;
    },
  };
}

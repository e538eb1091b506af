/**
 * itokit: native-accelerated stochastic simulation for Node.js.
 *
 * @example
 * ```ts
 * import { rng, backends } from 'itokit';
 * const z = rng.normal(1_000_000, { seed: 42 });
 * console.log(backends().cuda.available);
 * ```
 * @packageDocumentation
 */
export * as rng from './rng';
export * as sde from './sde';
export * as diffusion from './samplers';
export * as ot from './ot';
export * as fbm from './fbm';
export * as unet from './unet';
export * as nn from './nn';
export * as train from './trainers';
export { backends, getThreads, setThreads } from './backends';
export type { BackendsInfo, DeviceOption } from './backends';
export { DeviceArray } from './device-array';
export type { HostArrayFor, OutputOption } from './device-array';
export type { AbortSignalLike, RunOptions } from './run';
export type { Dtype, FloatArray, Seed } from './validate';
// fromNative (native error → ItokitError) stays internal: only the error classes and codes are API.
export {
  AbortError, DeviceError, DeviceUnavailableError, DtypeError, InvalidArgumentError, ItokitError, ModelFormatError,
  NativeLoadError, NumericalError, OutOfMemoryError, ShapeError,
} from './errors';
export type { ErrorCode } from './errors';
export { version } from './version';

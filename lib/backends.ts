/**
 * Backend discovery, device selection and the CPU thread pool.
 * @packageDocumentation
 */
import { DeviceUnavailableError, InvalidArgumentError } from './errors';
import { native } from './native';
import { checkInt } from './validate';

/** Where a call runs. `'auto'` picks CUDA when it is available and the work is large enough. */
export type DeviceOption = 'cpu' | 'cuda' | 'auto';

/** What {@link backends} reports. */
export interface BackendsInfo {
  /**
   * The CPU backend: pool size, architecture, the instruction-set extensions detected at run time,
   * the instruction-set level the kernels run at (the CPU's, capped by ITOKIT_CPU=scalar|avx2|avx512)
   * and the table each kernel family chose at that level.
   */
  cpu: {
    threads: number; arch: string; features: string[]; isa: 'scalar' | 'avx2' | 'avx512' | 'neon';
    /**
     * rng: Philox/Box–Muller fills and SDE/fBM lanes; ot: Sinkhorn rows; qdot: UNet integer dot
     * products; fgemm: UNet FP32 GEMM; unetElem: UNet GroupNorm/SiLU/quantizer/softmax spans.
     */
    kernels: { rng: string; ot: string; qdot: string; fgemm: string; unetElem: string };
  };
  /** The CUDA backend: whether this binary has it, whether a device is usable, and why not. */
  cuda: {
    compiled: boolean;
    available: boolean;
    /** Why CUDA is unavailable (absent when available). */
    reason?: string;
    runtimeVersion: number;
    driverVersion: number;
    devices: { index: number; name: string; totalMemory: number; computeCapability: string; multiprocessors: number }[];
  };
}

/** Reports the CPU and CUDA backends of the loaded binary. */
export function backends(): BackendsInfo {
  return native().backends();
}

/** Number of threads the CPU backend uses. */
export function getThreads(): number {
  return native().getThreads();
}

/**
 * Resizes the CPU thread pool. Results never depend on the thread count: work is cut into
 * fixed chunks whatever the pool size.
 * @param n - threads, an integer in [1, 1024]
 */
export function setThreads(n: number): void {
  native().setThreads({ threads: checkInt('threads', n, 1, 1024) });
}

let cudaAvailable: boolean | undefined;

/** True when CUDA is compiled in and a device is usable. */
export function cudaIsAvailable(): boolean {
  if (cudaAvailable === undefined) cudaAvailable = backends().cuda.available;
  return cudaAvailable;
}

/**
 * Resolves a device option to a concrete device. `ITOKIT_DEVICE` (cpu|cuda) overrides `'auto'`.
 * `'auto'` chooses CUDA only when it is available and `work` is at least `autoThreshold`.
 * @internal
 */
export function resolveDevice(device: unknown, work = Infinity, autoThreshold = 1e7): 'cpu' | 'cuda' {
  const d = device === undefined ? 'auto' : device;
  if (d !== 'cpu' && d !== 'cuda' && d !== 'auto') {
    throw new InvalidArgumentError(`device must be 'cpu', 'cuda' or 'auto', got ${String(d)}`);
  }
  if (d === 'cuda') {
    if (!cudaIsAvailable()) {
      throw new DeviceUnavailableError(`device 'cuda' was requested but CUDA is unavailable: ${backends().cuda.reason ?? 'unknown reason'}`);
    }
    return 'cuda';
  }
  if (d === 'cpu') return 'cpu';
  const env = process.env.ITOKIT_DEVICE;
  if (env === 'cpu') return 'cpu';
  if (env === 'cuda') return resolveDevice('cuda');
  return cudaIsAvailable() && work >= autoThreshold ? 'cuda' : 'cpu';
}

/** Native device code: 0 = CPU, 1 = CUDA. @internal */
export function deviceCode(d: 'cpu' | 'cuda'): number {
  return d === 'cuda' ? 1 : 0;
}

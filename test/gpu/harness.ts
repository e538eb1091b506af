// The one harness of the CUDA-vs-CPU tests (as ggml's test-backend-ops): how a GPU suite is
// declared (it skips, visibly, without a usable CUDA device, and fails instead under
// ITOKIT_GPU_TESTS=1, which `npm run test:gpu` sets), and the comparisons every suite uses, with
// the tolerance each kind of result is held to. Bit-identity is the rule for the counter-based
// generator and the fused kernels; tolerances exist only where docs/design says the GPU may differ
// in the last bits (GroupNorm sums, expf, softmax, reductions in another order).
import * as path from 'path';
import { backends } from '../../lib/backends';

const cuda = backends().cuda;

/** True when a CUDA device is usable by this binary. */
export const gpuAvailable = cuda.available;

/**
 * `describe` for a GPU suite: runs with a device; without one it is skipped with a printed reason,
 * or, under ITOKIT_GPU_TESTS=1, replaced by one failing test (a GPU run must not pass by skipping).
 */
export function describeGpu(name: string, fn: () => void): void {
  if (gpuAvailable) {
    describe(name, fn);
    return;
  }
  const file = path.basename(expect.getState().testPath ?? 'test/gpu');
  if (process.env.ITOKIT_GPU_TESTS === '1') {
    describe(name, () => {
      test('needs a CUDA device (ITOKIT_GPU_TESTS=1)', () => {
        throw new Error(`ITOKIT_GPU_TESTS=1 but CUDA is unavailable: ${cuda.reason ?? 'no reason given'}`);
      });
    });
    return;
  }
  console.log(`${file}: '${name}' skipped, CUDA unavailable (${cuda.reason ?? 'no reason given'})`);
  describe.skip(name, fn);
}

type Floats = Float32Array | Float64Array | Uint32Array;
const bytes = (a: Floats): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Same length and the same bits. */
export function sameBits(a: Floats, b: Floats): boolean {
  return a.length === b.length && bytes(a).equals(bytes(b));
}

/** Index of the first element whose bits differ; -1 when none, -2 when only the lengths differ. */
export function firstDiff(a: Floats, b: Floats): number {
  const x = new Uint8Array(bytes(a)), y = new Uint8Array(bytes(b));
  const size = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return Math.floor(i / size);
  return x.length === y.length ? -1 : -2;
}

/** ‖a − b‖₂ / ‖b‖₂ */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** max |a − b| / max |b| */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / s;
}

/** Σ |a − b| */
export function l1(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s;
}

/**
 * How close each kind of GPU result must be to the CPU's (0: bit for bit). One table, so a
 * tolerance is a decision made once and visible here, not a number buried in a test.
 */
export const TOLERANCE = {
  /** Philox uniforms/normals, fused SDE and fBM kernels, device-resident outputs, FP32/integer convs. */
  bits: 0,
  /** Whole FP32 UNet forward: relative L2 (the GPU follows the CPU's order, so it is expected to be 0). */
  unetFp32: 1e-5,
  /** Whole quantized UNet forward: relative L2 (an activation code rounding the other way would show here). */
  unetQuantized: 1e-3,
  /** Whole UNet with fpPrecision 'tf32' against the CPU's FP32: relative L2 (emulated on digits16: 2.5e-4, tools/unet_precision_error.py). */
  unetTf32: 1e-3,
  /** Whole UNet with fpPrecision 'bf16' against the CPU's FP32: relative L2 (emulated on digits16: 2.1e-3). */
  unetBf16: 8e-3,
  /** OT plans: L1 distance between CPU and GPU plans. */
  otPlanL1: 1e-7,
  /** OT costs: relative. */
  otCost: 1e-9,
  /** OT potentials f, g (gauge-fixed, units of C): relative L2 between CPU and GPU. */
  otPotential: 1e-7,
  /** MLP forward/backward in float32 (cuda/nn.cu sums in another order): max relative. */
  nnFp32: 2e-5,
  /** MLP forward/backward in float64: max relative. */
  nnFp64: 1e-12,
} as const;

/** A TOLERANCE entry's name. */
export type Tolerance = keyof typeof TOLERANCE;

/** The measure each tolerance bounds: bit equality, relative L2, max relative, or L1 distance. */
export const METRIC: Record<Tolerance, 'bits' | 'relL2' | 'maxRel' | 'l1'> = {
  bits: 'bits', unetFp32: 'relL2', unetQuantized: 'relL2', unetTf32: 'relL2', unetBf16: 'relL2', otPlanL1: 'l1', otCost: 'maxRel', otPotential: 'relL2', nnFp32: 'maxRel', nnFp64: 'maxRel',
};

/**
 * The one comparison of a GPU result with the CPU's under a named tolerance: `value` is the
 * measured distance (for 'bits', the first differing index, -1 when none) and `ok` whether it is
 * within TOLERANCE[tol]. Non-finite GPU values never pass.
 */
export function compare(gpu: Floats, cpu: Floats, tol: Tolerance): { ok: boolean; metric: string; value: number } {
  const metric = METRIC[tol];
  if (metric === 'bits') {
    const value = firstDiff(gpu, cpu);
    return { ok: value === -1, metric, value };
  }
  if (gpu.length !== cpu.length || !Array.prototype.every.call(gpu, Number.isFinite)) return { ok: false, metric, value: Infinity };
  const value = metric === 'relL2' ? relL2(gpu, cpu) : metric === 'maxRel' ? maxRel(gpu, cpu) : l1(gpu, cpu);
  return { ok: value <= TOLERANCE[tol], metric, value };
}

/** Shared test helpers. */
import { ItokitError } from '../lib/errors';
import { testingNative } from '../lib/testing/addon';

/**
 * A latency bound for a timing assertion. Under AddressSanitizer (tools/sanitize/run.sh sets
 * ITOKIT_SANITIZED=1) the same calls run several times slower: that run checks memory safety, not
 * latency, so the bound is ten times looser there.
 */
export function latencyBoundMs(ms: number): number {
  return process.env.ITOKIT_SANITIZED === '1' ? 10 * ms : ms;
}

/** Asserts that fn throws an ItokitError with the given code. */
export function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ItokitError);
  expect((caught as ItokitError).code).toBe(code);
}

/** Asserts that a promise rejects with an ItokitError with the given code. */
export async function expectRejectCode(p: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ItokitError);
  expect((caught as ItokitError).code).toBe(code);
}

/** Bit pattern of a float32 array, for bit-identity comparisons. */
export function bitsOf(a: Float32Array | Float64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.byteLength / 4);
}

/** Sample mean and variance. */
export function meanVar(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2;
  return { mean, variance: v / (a.length - 1) };
}

/** Distance in units in the last place between two float32 values. */
export function ulpDiff32(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const i = new Int32Array(f.buffer);
  const ord = (x: number): number => (x < 0 ? -2147483648 - x : x);
  return Math.abs(ord(i[0]) - ord(i[1]));
}

/**
 * Runs fn with a variable of the C environment set (or removed, for undefined) and restores it.
 * Jest's process.env is a copy whose writes never reach native code, hence the native setter.
 */
export function withNativeEnv<T>(name: string, value: string | undefined, fn: () => T): T {
  const set = (key: string, v: string | null) => testingNative().testingSetEnv({ name: key, value: v });
  const before = process.env[name];
  set(name, value ?? null);
  try {
    return fn();
  } finally {
    set(name, before ?? null);
  }
}

/**
 * A slow statistical or exhaustive check (convergence orders, sampler distributions, trainer
 * convergence, ulp sweeps over every input): run by `npm run test:slow` (ITOKIT_SLOW_TESTS=1), which
 * CI runs, and by `npm run test:acceptance`; skipped, visibly, by the fast `npm test`. The
 * full-size acceptance runs (minutes of CPU each) stay behind ITOKIT_ACCEPTANCE=1 alone.
 */
export const slowTest: jest.It = process.env.ITOKIT_SLOW_TESTS === '1' || process.env.ITOKIT_ACCEPTANCE === '1' ? test : test.skip;

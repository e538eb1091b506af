/**
 * Argument validation shared by every public function. Each check throws a coded
 * {@link ItokitError} that names the argument.
 * @internal
 * @packageDocumentation
 */
import { DtypeError, InvalidArgumentError, ShapeError } from './errors';

/** Element type of float tensors. */
export type Dtype = 'float32' | 'float64';
/** A float32 or float64 array. */
export type FloatArray = Float32Array | Float64Array;
/** A random seed: a non-negative safe integer, or a bigint below 2^64. */
export type Seed = number | bigint;

/** Throws unless `v` is an integer in [min, max]. */
export function checkInt(name: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  }
  return v;
}

/** Throws unless `v` is a finite number in the given open/closed range. */
export function checkNumber(
  name: string,
  v: unknown,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${describe(v)}`);
  }
  const { min, max, minExclusive, maxExclusive } = range;
  if (min !== undefined && (minExclusive ? !(v > min) : !(v >= min))) {
    throw new InvalidArgumentError(`${name} must be ${minExclusive ? '>' : '>='} ${min}, got ${v}`);
  }
  if (max !== undefined && (maxExclusive ? !(v < max) : !(v <= max))) {
    throw new InvalidArgumentError(`${name} must be ${maxExclusive ? '<' : '<='} ${max}, got ${v}`);
  }
  return v;
}

/** Throws unless `v` is one of `allowed`. */
export function checkOneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new InvalidArgumentError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** Validates a dtype name (default float32). */
export function checkDtype(v: unknown, fallback: Dtype = 'float32'): Dtype {
  if (v === undefined) return fallback;
  if (v !== 'float32' && v !== 'float64') {
    throw new DtypeError(`dtype must be 'float32' or 'float64', got ${describe(v)}`);
  }
  return v;
}

/** Splits a seed into the Philox key words (lo, hi) of spec/sde.md §2.2. */
export function seedKey(seed: unknown): [number, number] {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n) throw new InvalidArgumentError(`seed must be in [0, 2^64), got ${seed}`);
    return [Number(seed & 0xffffffffn), Number(seed >> 32n)];
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(`seed must be a non-negative safe integer or a bigint, got ${describe(seed)}`);
  }
  return [seed % 0x100000000, Math.floor(seed / 0x100000000)];
}

/** Throws unless `a` is a Float32Array or Float64Array, optionally of one dtype. */
export function checkFloatArray(name: string, a: unknown, dtype?: Dtype): FloatArray {
  if (!(a instanceof Float32Array) && !(a instanceof Float64Array)) {
    throw new DtypeError(`${name} must be a Float32Array or Float64Array, got ${describe(a)}`);
  }
  if (dtype && dtypeOf(a) !== dtype) throw new DtypeError(`${name} must be a ${dtype === 'float32' ? 'Float32Array' : 'Float64Array'}`);
  return a;
}

/** Throws unless `a.length === n`. */
export function checkLength(name: string, a: ArrayLike<unknown>, n: number): void {
  if (a.length !== n) throw new ShapeError(`${name} must have length ${n}, has ${a.length}`);
}

/** Throws unless every element is finite. */
export function checkFinite(name: string, a: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new InvalidArgumentError(`${name}[${i}] is not finite (${a[i]})`);
  }
}

/** dtype of a float array. */
export function dtypeOf(a: FloatArray): Dtype {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

/** Allocates a float array of the given dtype. */
export function allocate(dtype: Dtype, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as ArrayLike<unknown>).length ?? v.byteLength})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v;
}

/**
 * Throws unless `o` is undefined or an options object whose keys are all in `allowed`: an unknown
 * (misspelt, or unsupported by this call) option fails with a coded error naming it instead of
 * being ignored. Keys whose value is undefined count too, as they would for a typo.
 * @param what - the call the options belong to, for the message (e.g. `'predict'`)
 * @returns `o`, or an empty object for undefined
 */
export function checkOptions<T extends object>(what: string, o: T | undefined, allowed: readonly string[]): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new InvalidArgumentError(`${what} options must be an object, got ${describe(o)}`);
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new InvalidArgumentError(`unknown option '${k}' of ${what} (expected ${allowed.map((a) => `'${a}'`).join(', ')})`);
  }
  return o;
}

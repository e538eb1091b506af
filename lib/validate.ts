/**
 * Argument validation shared by every public function. Each check throws a coded
 * {@link ItokitError} that names the argument.
 * @internal
 * @packageDocumentation
 */
import { constants as bufferConstants } from 'buffer';
import { DtypeError, InvalidArgumentError, OutOfMemoryError, ShapeError } from './errors';

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

/** Splits a seed into the Philox key words (lo, hi) of docs/design/randomness.md §1 */
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

/** Throws unless `a` is a Float32Array or Float64Array (with usable memory), optionally of one dtype. */
export function checkFloatArray(name: string, a: unknown, dtype: 'float32'): Float32Array;
export function checkFloatArray(name: string, a: unknown, dtype: 'float64'): Float64Array;
export function checkFloatArray(name: string, a: unknown, dtype?: Dtype): FloatArray;
export function checkFloatArray(name: string, a: unknown, dtype?: Dtype): FloatArray {
  if (!(a instanceof Float32Array) && !(a instanceof Float64Array)) {
    throw new DtypeError(`${name} must be a Float32Array or Float64Array, got ${describe(a)}`);
  }
  checkBacking(name, a);
  if (dtype && dtypeOf(a) !== dtype) throw new DtypeError(`${name} must be a ${dtype === 'float32' ? 'Float32Array' : 'Float64Array'}`);
  return a;
}

/**
 * Throws unless the memory behind a typed array can be handed to native code:
 * - a SharedArrayBuffer is refused (`ERR_ITOKIT_DTYPE`): native jobs read and write arrays on pool
 *   threads while JavaScript runs, and shared memory could be changed by another thread meanwhile,
 *   so results would depend on timing (`.slice()` gives an unshared copy);
 * - a detached (transferred) ArrayBuffer is refused (`ERR_ITOKIT_INVALID_ARG`): its view reads as
 *   empty, which would otherwise surface as a misleading size error.
 * Non-views pass (callers check the type).
 */
export function checkBacking(name: string, a: unknown): void {
  if (!ArrayBuffer.isView(a)) return;
  // toString, not instanceof: arrays from another realm (Jest, vm contexts) have other constructors.
  if (Object.prototype.toString.call(a.buffer) === '[object SharedArrayBuffer]') {
    throw new DtypeError(`${name} is backed by a SharedArrayBuffer, which itokit does not accept; pass an unshared copy (${name}.slice())`);
  }
  if (a.byteLength === 0 && isDetached(a.buffer)) throw new InvalidArgumentError(`${name} is a view of a detached (transferred) ArrayBuffer`);
}

function isDetached(buf: ArrayBufferLike): boolean {
  const d = (buf as { detached?: boolean }).detached; // ES2024, Node >= 22
  if (typeof d === 'boolean') return d;
  try {
    new Uint8Array(buf); // throws TypeError on a detached buffer
    return false;
  } catch {
    return true;
  }
}

/**
 * Copies a list of numbers (Array or typed array) into a new Float64Array, checking its type and
 * backing. Values are not checked (callers decide what is valid).
 */
export function toFloat64(name: string, v: unknown): Float64Array {
  if (ArrayBuffer.isView(v)) {
    checkBacking(name, v);
    if (v instanceof DataView || typeof (v as unknown as { length?: unknown }).length !== 'number') {
      throw new InvalidArgumentError(`${name} must be an array of numbers, got ${describe(v)}`);
    }
    if (typeof (v as unknown as ArrayLike<unknown>)[0] === 'bigint') throw new InvalidArgumentError(`${name} must hold numbers, not bigints`);
    return Float64Array.from(v as unknown as ArrayLike<number>);
  }
  if (!Array.isArray(v)) throw new InvalidArgumentError(`${name} must be an array of numbers, got ${describe(v)}`);
  const out = newArray(Float64Array, v.length, name);
  for (let i = 0; i < v.length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number') throw new InvalidArgumentError(`${name}[${i}] must be a number, got ${describe(x)}`);
    out[i] = x;
  }
  return out;
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

/**
 * Most elements one array may hold: V8's typed-array limit (`buffer.constants.MAX_LENGTH`), capped
 * at 2^32 − 1 so that the same call succeeds or fails on every supported Node version (Node 22
 * raised the limit to 2^53 − 1).
 */
export const MAX_ELEMENTS = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32 - 1);

/**
 * Throws `ERR_ITOKIT_INVALID_ARG` unless `n` elements fit one array. Call it with the computed size
 * before allocating (or before building anything proportional to it): an oversized typed array
 * otherwise fails with an uncoded RangeError, and an oversized plain array with a fatal V8 error.
 * @param name - what would be allocated, for the message
 */
export function checkSize(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ELEMENTS) {
    throw new InvalidArgumentError(
      `${name} would hold ${n} elements, more than one array can hold (${MAX_ELEMENTS}); split the work into smaller calls`,
    );
  }
  return n;
}

/**
 * `new Ctor(n)` with the size checked first ({@link checkSize}) and a failed allocation reported
 * as `ERR_ITOKIT_OUT_OF_MEMORY` instead of a RangeError.
 */
export function newArray<A>(Ctor: new (n: number) => A, n: number, name = 'result'): A {
  checkSize(name, n);
  try {
    return new Ctor(n);
  } catch (err) {
    if (err instanceof RangeError) throw new OutOfMemoryError(`could not allocate ${name} (${n} elements): ${err.message}`, { cause: err });
    throw err;
  }
}

/** Allocates a float array of the given dtype (size-checked, see {@link newArray}). */
export function allocate(dtype: Dtype, n: number, name = 'result'): FloatArray {
  return dtype === 'float64' ? newArray(Float64Array, n, name) : newArray(Float32Array, n, name);
}

/** Compile-time check: `Missing` is never when every key of T is listed. */
type Exhaustive<T, K extends readonly PropertyKey[]> = [Exclude<keyof T, K[number]>] extends [never]
  ? unknown
  : { readonly 'missing option keys': Exclude<keyof T, K[number]> };

/**
 * Declares the accepted keys of an options interface, checked both ways at compile time: a listed
 * key must exist in T, and every key of T must be listed (a new option that is not added here is
 * a type error naming it). Use the result with {@link checkOptions}.
 * @example `const DRAW_KEYS = optionKeys<DrawOptions>()(['seed', 'stream', ...]);`
 */
export function optionKeys<T>() {
  return <const K extends readonly (keyof T & string)[]>(keys: K & Exhaustive<T, K>): K => keys;
}

/**
 * Asserts that `o` is an options object with no keys outside `allowed`. Throws
 * `ERR_ITOKIT_INVALID_ARG` for null, undefined, arrays and non-objects, and for an unknown key,
 * naming it and the closest allowed key: "unknown option 'sed' of rng.normal (did you mean
 * 'seed'?)". Keys whose value is undefined count too, so a misspelt optional key never passes.
 * @param where - the public function, e.g. 'rng.normal' (or 'sde.simulate save' for a nested object)
 */
export function checkOptions(where: string, o: unknown, allowed: readonly string[]): asserts o is object {
  if (o === null || typeof o !== 'object' || Array.isArray(o) || ArrayBuffer.isView(o)) {
    throw new InvalidArgumentError(`options of ${where} must be an object, got ${describe(o)}`);
  }
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    const near = closest(k, allowed);
    throw new InvalidArgumentError(
      `unknown option '${k}' of ${where} ${near ? `(did you mean '${near}'?)` : `(allowed: ${allowed.join(', ')})`}`,
    );
  }
}

/**
 * The entries of a checked options object whose keys are in `keys`, to hand part of it on to a
 * call that accepts fewer options (which would reject the rest as unknown).
 */
export function pick<T extends object, K extends keyof T & string>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (k in o) out[k] = o[k];
  return out;
}

/** Throws unless `p` is a file path (a non-empty string). */
export function checkPath(name: string, p: unknown): string {
  if (typeof p !== 'string' || p.length === 0) throw new InvalidArgumentError(`${name} must be a file path, got ${describe(p)}`);
  return p;
}

/**
 * The allowed key nearest to `key` (case-insensitive), if near enough to be a typo: by edit
 * distance, or the only allowed key that `key` abbreviates ('regRel' for 'regRelative').
 */
function closest(key: string, allowed: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = editDistance(k, a.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  // A third of the key's length (at least 2) separates typos from unrelated names.
  if (bestD <= Math.max(2, Math.floor(key.length / 3))) return best;
  const longer = key.length >= 3 ? allowed.filter((a) => a.toLowerCase().startsWith(k)) : [];
  return longer.length === 1 ? longer[0] : undefined;
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
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
 * {@link checkOptions} for an options argument that may be omitted.
 * @param what - the call the options belong to, for the message (e.g. `'predict'`)
 * @returns `o`, or an empty object for undefined
 */
export function optionalOptions<T extends object>(what: string, o: T | undefined, allowed: readonly string[]): T {
  if (o === undefined) return {} as T;
  checkOptions(what, o, allowed);
  return o;
}

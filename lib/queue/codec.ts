// Typed arrays inside BullMQ job data and return values, which travel as JSON through Redis:
// { dtype, b64 } with the raw little-endian bytes in base64 (4/3 of the bytes, exact bits).
import { InvalidArgumentError } from '../errors';

/** A typed array as it travels through the queue. @internal */
export interface Packed {
  dtype: 'float32' | 'float64' | 'uint32';
  b64: string;
}

/** Packs a Float32Array, Float64Array or Uint32Array. @internal */
export function pack(a: Float32Array | Float64Array | Uint32Array): Packed {
  const dtype = a instanceof Float64Array ? 'float64' : a instanceof Float32Array ? 'float32' : 'uint32';
  return { dtype, b64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
}

/** Unpacks what {@link pack} made, into a fresh aligned array. @internal */
export function unpack(p: Packed): Float32Array | Float64Array | Uint32Array {
  if (!p || typeof p.b64 !== 'string') throw new InvalidArgumentError('a queue payload holds no packed array');
  const bytes = Buffer.from(p.b64, 'base64');
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (p.dtype === 'float64') return new Float64Array(copy.buffer);
  if (p.dtype === 'float32') return new Float32Array(copy.buffer);
  if (p.dtype === 'uint32') return new Uint32Array(copy.buffer);
  throw new InvalidArgumentError(`unknown packed dtype ${String(p.dtype)}`);
}

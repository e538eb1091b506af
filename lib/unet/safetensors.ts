/**
 * safetensors reader and writer with the validation of docs/design/unet.md §3. Every failure
 * is a {@link SafetensorsError} (code `ERR_ITOKIT_MODEL_FORMAT`) whose `reason` is the code of the rule that failed
 * (`ERR_ST_TRUNCATED`, `ERR_ST_HEADER_SIZE`, ...), naming the file, the tensor and the numbers.
 * @packageDocumentation
 */
import * as fs from 'fs';
import { ModelFormatError } from '../errors';
import { JsonValue, StrictJsonError, isNumber, isObject, parseStrictJson } from './strict-json';

/** Failure codes of the reader rules (docs/design/unet.md §3). */
export type SafetensorsReason =
  | 'ERR_ST_TRUNCATED'
  | 'ERR_ST_HEADER_SIZE'
  | 'ERR_ST_UTF8'
  | 'ERR_ST_JSON'
  | 'ERR_ST_DUP_KEY'
  | 'ERR_ST_METADATA'
  | 'ERR_ST_ENTRY'
  | 'ERR_ST_DTYPE'
  | 'ERR_ST_OVERFLOW'
  | 'ERR_ST_SIZE'
  | 'ERR_ST_OFFSETS'
  | 'ERR_ST_COVERAGE';

/** A malformed safetensors file. `code` is ERR_ITOKIT_MODEL_FORMAT; `reason` says which rule of docs/design/unet.md §3 failed. */
export class SafetensorsError extends ModelFormatError {
  constructor(
    readonly reason: SafetensorsReason,
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${reason}: ${tensor !== undefined ? `tensor "${tensor}": ` : ''}${message}`);
  }
}

/** Element sizes of the dtypes the format defines (sub-byte F4/F6 are refused). */
export const DTYPE_SIZE: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, F8_E8M0: 1, F8_E4M3FNUZ: 1, F8_E5M2FNUZ: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8, C64: 8,
};

/** One tensor: its dtype name, shape and raw little-endian bytes (a view into the file). */
export interface StTensor {
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A parsed file: tensors in file order, and the string metadata if present. */
export interface SafetensorsFile {
  metadata?: Record<string, string>;
  tensors: Map<string, StTensor>;
}

/** Largest header accepted (rule 2). */
export const MAX_HEADER = 100_000_000;
const TWO63 = 1n << 63n;

/**
 * Parses and validates a safetensors image held in memory (rules 1–11 of docs/design/unet.md §3).
 * @param buf - the whole file
 * @param file - a name for error messages
 */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsFile {
  const err = (r: SafetensorsReason, m: string, t?: string): SafetensorsError => new SafetensorsError(r, file, m, t);
  if (buf.length < 8) throw err('ERR_ST_TRUNCATED', `file holds ${buf.length} bytes, fewer than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw err('ERR_ST_HEADER_SIZE', `header length ${n} exceeds ${MAX_HEADER}`);
  if (8n + n > BigInt(buf.length)) throw err('ERR_ST_HEADER_SIZE', `header length ${n} + 8 exceeds the file length ${buf.length}`);
  const hlen = Number(n);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf.subarray(8, 8 + hlen));
  } catch {
    throw err('ERR_ST_UTF8', 'header is not valid UTF-8');
  }
  let root: JsonValue;
  try {
    root = parseStrictJson(text, 4);
  } catch (e) {
    if (e instanceof StrictJsonError && e.kind === 'dup') throw err('ERR_ST_DUP_KEY', e.message);
    throw err('ERR_ST_JSON', (e as Error).message);
  }
  if (!isObject(root)) throw err('ERR_ST_JSON', 'header root is not a JSON object');
  const dataLen = BigInt(buf.length) - 8n - n;
  const base = 8 + hlen;
  let metadata: Record<string, string> | undefined;
  const spans: { name: string; begin: bigint; end: bigint }[] = [];
  const tensors = new Map<string, StTensor>();
  for (const [name, v] of root.entries) {
    if (name === '__metadata__') {
      if (!isObject(v)) throw err('ERR_ST_METADATA', '__metadata__ must be an object of strings');
      metadata = {};
      for (const [k, s] of v.entries) {
        if (typeof s !== 'string') throw err('ERR_ST_METADATA', `__metadata__["${k}"] is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    if (!isObject(v)) throw err('ERR_ST_ENTRY', 'entry is not an object', name);
    const keys = v.entries.map((e) => e[0]).sort();
    if (keys.join(',') !== 'data_offsets,dtype,shape') throw err('ERR_ST_ENTRY', `entry keys are [${keys.join(', ')}], expected exactly dtype, shape, data_offsets`, name);
    const get = (k: string): JsonValue => v.entries.find((e) => e[0] === k)![1];
    const uint = (x: JsonValue, what: string): bigint => {
      if (!isNumber(x) || !/^(0|[1-9][0-9]*)$/.test(x.num)) throw err('ERR_ST_ENTRY', `${what} must be a non-negative integer literal`, name);
      const b = BigInt(x.num);
      if (b >= TWO63) throw err('ERR_ST_ENTRY', `${what} = ${x.num} is not below 2^63`, name);
      return b;
    };
    const dtype = get('dtype');
    if (typeof dtype !== 'string') throw err('ERR_ST_ENTRY', 'dtype must be a string', name);
    const shapeV = get('shape');
    if (!Array.isArray(shapeV)) throw err('ERR_ST_ENTRY', 'shape must be an array', name);
    const shape = shapeV.map((x, i) => uint(x, `shape[${i}]`));
    const offV = get('data_offsets');
    if (!Array.isArray(offV) || offV.length !== 2) throw err('ERR_ST_ENTRY', 'data_offsets must hold exactly 2 integers', name);
    const begin = uint(offV[0], 'data_offsets[0]');
    const end = uint(offV[1], 'data_offsets[1]');
    const size = DTYPE_SIZE[dtype];
    if (size === undefined) throw err('ERR_ST_DTYPE', `unknown or unsupported dtype "${dtype}"`, name);
    let numel = 1n;
    for (const d of shape) {
      numel *= d;
      if (numel >= TWO63) throw err('ERR_ST_OVERFLOW', `element count of shape [${shape.join(', ')}] overflows`, name);
    }
    const bytes = numel * BigInt(size);
    if (bytes >= TWO63) throw err('ERR_ST_OVERFLOW', `byte size ${bytes} overflows`, name);
    if (begin > end) throw err('ERR_ST_SIZE', `data_offsets [${begin}, ${end}]: end before begin`, name);
    if (end - begin !== bytes) throw err('ERR_ST_SIZE', `data_offsets span ${end - begin} bytes but ${dtype}[${shape.join(', ')}] needs ${bytes}`, name);
    if (end > dataLen) throw err('ERR_ST_OFFSETS', `data_offsets end ${end} is past the data buffer (${dataLen} bytes)`, name);
    spans.push({ name, begin, end });
    tensors.set(name, {
      dtype,
      shape: shape.map(Number),
      data: buf.subarray(base + Number(begin), base + Number(end)),
    });
  }
  spans.sort((a, b) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  let prev = 0n;
  let prevName = '(start of data)';
  for (const s of spans) {
    if (s.begin !== prev) {
      throw err('ERR_ST_OFFSETS', `${s.begin < prev ? 'overlaps' : 'leaves a gap after'} ${prevName}: begins at ${s.begin}, expected ${prev}`, s.name);
    }
    prev = s.end;
    prevName = s.name;
  }
  if (prev !== dataLen) throw err('ERR_ST_COVERAGE', `tensors cover ${prev} bytes but the data buffer holds ${dataLen} (trailing bytes)`);
  return { metadata, tensors };
}

/** Reads and validates a safetensors file (rules of docs/design/unet.md §3). */
export function readSafetensors(path: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (e) {
    throw new ModelFormatError(`cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/** A tensor to write: raw bytes, or a typed array whose element type matches dtype. */
export interface StTensorInput {
  dtype: string;
  shape: readonly number[];
  data: Uint8Array | Float32Array | Int32Array | Uint32Array | BigInt64Array | Uint16Array | Int8Array | Float64Array;
}

/**
 * Serialises tensors (docs/design/unet.md §3): `__metadata__` first, tensors sorted by element size
 * (descending) then name, compact JSON padded with spaces to a multiple of 8. Deterministic: the
 * same input gives the same bytes.
 */
export function serializeSafetensors(tensors: Record<string, StTensorInput>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort((a, b) => {
    const d = DTYPE_SIZE[tensors[b].dtype] - DTYPE_SIZE[tensors[a].dtype];
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  const blobs: Uint8Array[] = [];
  for (const name of names) {
    if (name === '__metadata__') throw new ModelFormatError('a tensor cannot be named __metadata__');
    const t = tensors[name];
    const size = DTYPE_SIZE[t.dtype];
    if (size === undefined) throw new ModelFormatError(`tensor "${name}": unknown dtype ${t.dtype}`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (bytes.length !== numel * size) {
      throw new ModelFormatError(`tensor "${name}": ${bytes.length} bytes given, ${t.dtype}[${t.shape.join(', ')}] needs ${numel * size}`);
    }
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [off, off + bytes.length] };
    blobs.push(bytes);
    off += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hb = enc.encode(json);
  if (hb.length % 8 !== 0) {
    json += ' '.repeat(8 - (hb.length % 8));
    hb = enc.encode(json);
  }
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const b of blobs) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Writes tensors to a file (see {@link serializeSafetensors}). */
export function writeSafetensors(path: string, tensors: Record<string, StTensorInput>, metadata?: Record<string, string>): void {
  fs.writeFileSync(path, serializeSafetensors(tensors, metadata));
}

/** Decodes one IEEE binary16 value (subnormals, Inf and NaN included). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Converts an F32, F16 or BF16 tensor to a fresh Float32Array (copied, so an unaligned data start
 * is fine). Other dtypes fail with a ModelFormatError naming the tensor.
 */
export function toFloat32(t: StTensor, name = '?'): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float32Array(n);
  if (t.dtype === 'F32') {
    new Uint8Array(out.buffer).set(t.data);
  } else if (t.dtype === 'F16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
  } else if (t.dtype === 'BF16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
  } else {
    throw new ModelFormatError(`tensor "${name}" has dtype ${t.dtype}; weights must be F32, F16 or BF16`);
  }
  return out;
}

/**
 * {@link toFloat32} for values a model reads (weights, biases, norms, scales, cached features):
 * NaN or ±Inf fails with a ModelFormatError naming the tensor and the index. The one finiteness
 * rule of the diffusers folder and the quantized file loaders.
 */
export function toFiniteFloat32(t: StTensor, name = '?'): Float32Array {
  const out = toFloat32(t, name);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new ModelFormatError(`tensor ${name} holds a non-finite value (${out[i]}) at index ${i}`);
  }
  return out;
}

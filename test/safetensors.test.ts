// safetensors reader/writer: the reader rules of docs/design/unet.md §3 and a malformed file for each.
import { ModelFormatError } from '../lib/errors';
import { SafetensorsError, halfToFloat, parseSafetensors, serializeSafetensors, toFloat32 } from '../lib/unet/safetensors';

/** Builds a file from a raw header string and a data buffer of `dataLen` bytes. */
function file(header: string | Uint8Array, dataLen = 0, nOverride?: bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + h.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, nOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  return out;
}

function reason(buf: Uint8Array): string {
  try {
    parseSafetensors(buf, 'x.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as SafetensorsError).code).toBe('ERR_ITOKIT_MODEL_FORMAT');
    return (e as SafetensorsError).reason;
  }
  throw new Error('parse succeeded');
}

const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';

describe('safetensors reader', () => {
  test('a valid file parses, with metadata, scalar and zero-size tensors', () => {
    const h = '{"__metadata__":{"k":"v"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"z":{"dtype":"F16","shape":[0,3],"data_offsets":[4,4]}}';
    const buf = file(h, 4);
    new DataView(buf.buffer).setFloat32(8 + h.length, 2.5, true);
    const f = parseSafetensors(buf);
    expect(f.metadata).toEqual({ k: 'v' });
    expect(toFloat32(f.tensors.get('s')!)[0]).toBe(2.5);
    expect(f.tensors.get('z')!.shape).toEqual([0, 3]);
    expect(parseSafetensors(file(ok, 11)).tensors.size).toBe(2);
  });

  test.each([
    ['file < 8 bytes', new Uint8Array(5), 'ERR_ST_TRUNCATED'],
    ['N > 1e8', file('{}', 0, 100_000_001n), 'ERR_ST_HEADER_SIZE'],
    ['N > file size', file('{}', 0, 50n), 'ERR_ST_HEADER_SIZE'],
    ['N near 2^64 (no overflow)', file('{}', 0, (1n << 64n) - 1n), 'ERR_ST_HEADER_SIZE'],
    ['bad UTF-8', file(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), 'ERR_ST_UTF8'],
    ['bad JSON', file('{"a":'), 'ERR_ST_JSON'],
    ['trailing garbage after JSON', file('{} x'), 'ERR_ST_JSON'],
    ['root not an object', file('[1,2]'), 'ERR_ST_JSON'],
    ['duplicate key', file('{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'), 'ERR_ST_DUP_KEY'],
    ['nesting > 4 levels', file('{"__metadata__":{"a":[[[[1]]]]}}'), 'ERR_ST_JSON'],
    ['non-string metadata', file('{"__metadata__":{"a":1}}'), 'ERR_ST_METADATA'],
    ['extra entry key', file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}', 1), 'ERR_ST_ENTRY'],
    ['missing entry key', file('{"a":{"dtype":"U8","shape":[1]}}', 1), 'ERR_ST_ENTRY'],
    ['three offsets', file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}', 1), 'ERR_ST_ENTRY'],
    ['unknown dtype', file('{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', 1), 'ERR_ST_DTYPE'],
    ['sub-byte dtype', file('{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}', 1), 'ERR_ST_DTYPE'],
    ['negative shape', file('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', 1), 'ERR_ST_ENTRY'],
    ['float shape', file('{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', 1), 'ERR_ST_ENTRY'],
    ['offset >= 2^63', file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,9223372036854775808]}}', 1), 'ERR_ST_ENTRY'],
    ['numel overflow', file('{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,1]}}', 1), 'ERR_ST_OVERFLOW'],
    ['end < begin', file('{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}', 1), 'ERR_ST_SIZE'],
    ['wrong dtype size', file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,6]}}', 6), 'ERR_ST_SIZE'],
    ['out of bounds', file('{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}', 4), 'ERR_ST_OFFSETS'],
    ['truncated data', file(ok, 10), 'ERR_ST_OFFSETS'],
    ['gap', file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', 2), 'ERR_ST_OFFSETS'],
    ['overlap', file('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', 3), 'ERR_ST_OFFSETS'],
    ['trailing bytes', file(ok, 12), 'ERR_ST_COVERAGE'],
  ])('%s', (_name, buf, code) => {
    expect(reason(buf as Uint8Array)).toBe(code);
  });

  test('fuzz: random byte flips and truncations never crash, only coded errors', () => {
    const good = serializeSafetensors(
      { w: { dtype: 'F32', shape: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6]) }, b: { dtype: 'BF16', shape: [2], data: new Uint16Array([0x3f80, 0x4000]) } },
      { format: 'pt' },
    );
    let s = 12345;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let rejected = 0;
    for (let k = 0; k < 2000; k++) {
      const b = good.slice(0, k % 3 === 0 ? Math.floor(rnd() * good.length) : good.length);
      for (let j = 0; j < 1 + (k % 4); j++) if (b.length) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        parseSafetensors(b);
      } catch (e) {
        expect(e).toBeInstanceOf(SafetensorsError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});

describe('safetensors writer', () => {
  test('round trip is exact and deterministic; layout: metadata first, tensors sorted, header padded to 8 bytes', () => {
    const t = {
      z8: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      a32: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) },
      i64: { dtype: 'I64', shape: [1], data: new BigInt64Array([7n]) },
    };
    const b1 = serializeSafetensors(t, { format: 'x' });
    const b2 = serializeSafetensors(t, { format: 'x' });
    expect(Buffer.from(b1).equals(Buffer.from(b2))).toBe(true);
    const n = Number(new DataView(b1.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(b1.subarray(8, 8 + n));
    expect(header.startsWith('{"__metadata__"')).toBe(true);
    // sorted by element size (descending), then name
    expect(header.indexOf('"i64"')).toBeLessThan(header.indexOf('"a32"'));
    expect(header.indexOf('"a32"')).toBeLessThan(header.indexOf('"z8"'));
    const f = parseSafetensors(b1);
    expect(Array.from(toFloat32(f.tensors.get('a32')!))).toEqual([1.5, -2]);
    expect(Array.from(f.tensors.get('z8')!.data)).toEqual([1, 2, 3]);
    const re: Record<string, { dtype: string; shape: number[]; data: Uint8Array }> = {};
    for (const [k, v] of f.tensors) re[k] = v;
    expect(Buffer.from(serializeSafetensors(re, f.metadata)).equals(Buffer.from(b1))).toBe(true);
  });

  test('F16 decoding covers normals, subnormals, Inf and NaN; BF16 is the upper half of F32', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    const bf = toFloat32({ dtype: 'BF16', shape: [2], data: new Uint8Array([0x80, 0x3f, 0x49, 0x40]) });
    expect(bf[0]).toBe(1);
    expect(bf[1]).toBe(new Float32Array(new Uint32Array([0x40490000]).buffer)[0]);
  });
});

/**
 * A strict JSON parser for safetensors headers (docs/design/unet.md §3, rules 4, 5 and 7).
 * `JSON.parse` cannot see duplicate keys, limit nesting, or keep integers above 2^53 exact, so
 * the header is parsed here: objects keep their keys in order and report duplicates, numbers are
 * kept as their literal text so integer checks are exact.
 * @internal
 * @packageDocumentation
 */

/** A parsed JSON value; numbers keep their source literal. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
/** A number literal, unparsed. */
export interface JsonNumber {
  readonly num: string;
}
/** An object as an ordered list of entries (duplicates are rejected while parsing). */
export interface JsonObject {
  readonly entries: [string, JsonValue][];
}

/** Why parsing failed: `dup` for a duplicate key, `depth` for nesting, `syntax` otherwise. */
export class StrictJsonError extends Error {
  constructor(
    readonly kind: 'syntax' | 'dup' | 'depth',
    message: string,
  ) {
    super(message);
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Parses `text` as one JSON value surrounded only by JSON whitespace; objects deeper than maxDepth fail. */
export function parseStrictJson(text: string, maxDepth: number): JsonValue {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    throw new StrictJsonError('syntax', `${msg} at offset ${i}`);
  };
  const ws = (): void => {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
  };
  const str = (): string => {
    // i at the opening quote
    i++;
    let out = '';
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        const e = text[i + 1];
        i += 2;
        if (e === 'u') {
          const h = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(h, 16));
          i += 4;
        } else {
          const m: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (e === undefined || !(e in m)) fail('bad escape');
          out += m[e];
        }
      } else {
        out += text[i];
        i++;
      }
    }
  };
  const value = (depth: number): JsonValue => {
    ws();
    if (i >= n) fail('unexpected end');
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) throw new StrictJsonError('depth', `nesting deeper than ${maxDepth} levels at offset ${i}`);
      i++;
      if (c === '[') {
        const arr: JsonValue[] = [];
        ws();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        for (;;) {
          arr.push(value(depth + 1));
          ws();
          if (text[i] === ',') i++;
          else if (text[i] === ']') {
            i++;
            return arr;
          } else fail('expected , or ]');
        }
      }
      const entries: [string, JsonValue][] = [];
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return { entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = str();
        if (seen.has(k)) throw new StrictJsonError('dup', `duplicate key "${k}"`);
        seen.add(k);
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        entries.push([k, value(depth + 1)]);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return { entries };
        } else fail('expected , or }');
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0].length === 0) fail('unexpected character');
    i += m![0].length;
    return { num: m![0] };
  };
  const v = value(0);
  ws();
  if (i !== n) fail('trailing characters after the JSON value');
  return v;
}

/** True when v is a JSON object. */
export function isObject(v: JsonValue): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'entries' in v;
}

/** True when v is a number literal. */
export function isNumber(v: JsonValue): v is JsonNumber {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'num' in v;
}

/** Converts a parsed value to a plain JS value (numbers through Number()). */
export function toPlain(v: JsonValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toPlain);
  if (isNumber(v)) return Number(v.num);
  const o: Record<string, unknown> = {};
  for (const [k, x] of v.entries) o[k] = toPlain(x);
  return o;
}

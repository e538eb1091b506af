// Structure-aware mutators of model-file cases (cases.js): the config (config.json, or a quantized
// file's unet_config), the quantized file's `quant` metadata and special tensors, tensor names,
// shapes, dtypes and values, and the safetensors image itself (header length, offsets, dtypes,
// shapes, metadata, truncation, byte flips). Each mutator edits a case in place and returns a
// short note of what it did (recorded in case.json, so a saved case explains itself).
'use strict';

/** Numbers that broke, or could break, a loader: sizes near int32/size_t limits, zero, signs. */
const NUMBERS = [0, -1, 1, 2, 3, 7, 0.5, -0.5, 1e9, -1e9, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53, 2 ** 63, 1048576, 65536, 16384, 16385,
  4096, 1e308, -1e308, 5e-324, 1e-300, 1e-12, 1e-13, 0.001, 1000, 1e30];
/** JSON texts JSON.stringify cannot write (some invalid, some parse to ±Infinity or 0). */
const RAW = ['NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '-0', '1e-400', '00', '0x10', '1.', '.5'];
/** Values of the wrong kind. */
const OTHERS = [null, true, false, '', 'x', '32', 'NaN', 'AttnDownBlock2D', [], [1], [[1]], [null], {}, { a: 1 }, [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]];

/**
 * Deeply nested junk (nesting a recursive walker would overflow on), as raw JSON text: building
 * it as objects would overflow the fuzzer's own JSON.stringify first.
 */
function deep(depth, leaf) {
  return { __raw: `${'['.repeat(depth)}${JSON.stringify(leaf)}${']'.repeat(depth)}` };
}

/** A hostile replacement for a JSON value. */
function hostile(rng, cur) {
  const r = rng.next();
  if (r < 0.35) return rng.pick(NUMBERS);
  if (r < 0.5 && typeof cur === 'number') return rng.pick([cur + 1, cur - 1, cur * 2, Math.floor(cur / 2), -cur, cur * 1e6, cur + 0.5, cur * 3]);
  if (r < 0.62) return { __raw: rng.pick(RAW) };
  if (r < 0.64) return deep(rng.pick([50, 5000]), 1);
  if (r < 0.66) return 'x'.repeat(rng.pick([1000, 100000]));
  return JSON.parse(JSON.stringify(rng.pick(OTHERS)));
}

/** Every path (list of keys) into a JSON value, parents before children, at most `max`. */
function paths(v, max = 2000) {
  const out = [];
  const walk = (x, p) => {
    if (out.length >= max) return;
    out.push(p);
    if (x && typeof x === 'object' && !x.__raw) for (const k of Object.keys(x)) walk(x[k], [...p, Array.isArray(x) ? Number(k) : k]);
  };
  walk(v, []);
  return out;
}

function getAt(v, p) {
  for (const k of p) v = v == null ? undefined : v[k];
  return v;
}

/**
 * A generic structural edit of a JSON document held in c[field]: replace a value, delete a key
 * or element, duplicate or drop list entries, add an unknown key, or replace the whole document.
 */
function mutateJson(c, field, rng) {
  const doc = c[field];
  const all = paths(doc);
  const p = rng.pick(all);
  const label = p.length ? p.join('.') : '(root)';
  const op = rng.int(10);
  if (p.length === 0 && op < 2) {
    c[field] = rng.pick([null, [], 'x', 42, true, {}, deep(3, {}), { __raw: 'NaN' }]);
    return `${field}: whole document -> ${short(c[field])}`;
  }
  if (p.length === 0) return mutateJson(c, field, rng);
  const parent = getAt(doc, p.slice(0, -1));
  const key = p[p.length - 1];
  if (parent == null || typeof parent !== 'object') return `${field}: no-op`;
  if (op < 6) {
    const v = hostile(rng, parent[key]);
    parent[key] = v;
    return `${field}.${label} -> ${short(v)}`;
  }
  if (op < 8) {
    if (Array.isArray(parent)) parent.splice(key, 1);
    else delete parent[key];
    return `${field}.${label} deleted`;
  }
  if (op < 9 && Array.isArray(parent)) {
    parent.splice(key, 0, parent[key] ?? null);  // shared, not copied: later edits pick one path
    return `${field}.${label} duplicated`;
  }
  const k = rng.pick(['unknown_key', '__proto__', 'constructor', 'toString', '_private', 'layers', 'shape']);
  if (!Array.isArray(parent)) parent[k] = hostile(rng, undefined);
  return `${field}.${p.slice(0, -1).join('.')}.${k} added`;
}

function short(v) {
  let s;
  try {
    s = v && typeof v === 'object' && v.__raw ? v.__raw : JSON.stringify(v);
  } catch {
    s = Array.isArray(v) ? '[deeply nested]' : '{deeply nested}';  // JSON.stringify's own recursion limit
  }
  return s === undefined ? 'undefined' : s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Config keys whose values size the model (the classes that crashed or hung the loader). */
const SIZE_KEYS = ['in_channels', 'out_channels', 'block_out_channels', 'layers_per_block', 'norm_num_groups', 'attn_norm_num_groups',
  'attention_head_dim', 'sample_size', 'time_embedding_dim', 'freq_shift', 'mid_block_scale_factor', 'norm_eps', 'downsample_padding', 'dropout',
  'num_train_timesteps'];

/** A sizing key of the config set to a hostile number (or one entry of block_out_channels). */
function configSize(c, rng) {
  const k = rng.pick(SIZE_KEYS);
  const v = rng.chance(0.8) ? rng.pick(NUMBERS) : hostile(rng, c.config?.[k]);
  if (c.config === null || typeof c.config !== 'object' || Array.isArray(c.config)) c.config = {};
  if (k === 'block_out_channels' && Array.isArray(c.config[k]) && rng.chance(0.7)) {
    const i = rng.int(c.config[k].length);
    c.config[k][i] = v;
    return `config.${k}[${i}] -> ${short(v)}`;
  }
  c.config[k] = v;
  return `config.${k} -> ${short(v)}`;
}

/** Keys deleted, the config emptied, or replaced by a non-object. */
function configShape(c, rng) {
  const r = rng.int(4);
  if (r === 0) {
    c.config = rng.chance(0.5) ? {} : { _class_name: 'UNet2DModel' };
    return 'config emptied';
  }
  if (r === 1) {
    c.config = rng.pick([null, [], 'x', 1, true]);
    return `config -> ${JSON.stringify(c.config)}`;
  }
  if (r === 2 && c.config && typeof c.config === 'object') {
    const keys = Object.keys(c.config);
    const k = rng.pick(keys);
    delete c.config[k];
    return `config.${k} deleted`;
  }
  c.configText = rng.pick(['', '{', '{"a":1,}', 'null', '[]', '{"block_out_channels":[NaN]}', '{"layers_per_block":1e999}', '\u0000', '{"a":"\\ud800"}']);
  return `config text -> ${JSON.stringify(c.configText)}`;
}

// ---- tensors ----

const HALF = { nan: 0x7e00, inf: 0x7c00, ninf: 0xfc00, max: 0x7bff, sub: 0x0001 };

/** Writes a hostile value at element i of a float tensor, in its own dtype. */
function poke(t, i, v) {
  if (!((i + 1) * (SIZE[t.dtype] ?? 1) <= t.data.length)) return;  // an earlier edit emptied or resized it
  const data = new Uint8Array(t.data);
  const dv = new DataView(data.buffer);
  if (t.dtype === 'F32') dv.setFloat32(4 * i, v, true);
  else if (t.dtype === 'F16') dv.setUint16(2 * i, Number.isNaN(v) ? HALF.nan : v === Infinity ? HALF.inf : v === -Infinity ? HALF.ninf : Math.abs(v) > 1 ? HALF.max : HALF.sub, true);
  else if (t.dtype === 'BF16') {
    const f = new DataView(new ArrayBuffer(4));
    f.setFloat32(0, v, true);
    dv.setUint16(2 * i, f.getUint16(2, true), true);
  } else if (t.dtype === 'U8') data[i] = v & 255;
  else if (t.dtype === 'I64') dv.setBigInt64(8 * i, BigInt.asIntN(64, BigInt(Math.trunc(Number.isFinite(v) ? v : -1))), true);
  t.data = data;
}

const SIZE = { F32: 4, F16: 2, BF16: 2, U8: 1, I64: 8, I32: 4, F64: 8, I8: 1, U16: 2, BOOL: 1 };
const numel = (s) => s.reduce((a, b) => a * b, 1);

/** Non-finite, huge, tiny and zero values written into a tensor's elements. */
function tensorValues(c, rng, names) {
  const name = rng.pick(names ?? [...c.tensors.keys()]);
  const t = c.tensors.get(name);
  const n = Math.floor(t.data.length / (SIZE[t.dtype] ?? 1));
  if (n === 0) return `${name}: empty`;
  const v = rng.pick([NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30, 1e-30, 1e-45, 0, -1, 1e4, 1e5, 2 ** 31, 255, 16]);
  const all = rng.chance(0.3);
  const count = all ? n : 1 + rng.int(Math.min(4, n));
  for (let k = 0; k < count; k++) poke(t, all ? k : rng.int(n), v);
  return `${name}: ${all ? 'every value' : `${count} value(s)`} -> ${v}`;
}

/** A tensor deleted, renamed, added, or its shape or dtype changed (data resized to match or not). */
function tensorStructure(c, rng) {
  const names = [...c.tensors.keys()];
  const name = rng.pick(names);
  const t = c.tensors.get(name);
  const r = rng.int(7);
  if (r === 0) {
    c.tensors.delete(name);
    return `${name} deleted`;
  }
  if (r === 1) {
    const to = rng.pick([
      name.replace('to_q', 'query'), name.replace(/\.\d+\./, '.7.'), name.replace('.weight', '.bias'), `${name}.extra`, rng.pick(names),
      name.replace('resnets', 'attentions'), 'conv_in.weight', '',
    ]);
    c.tensors.delete(name);
    c.tensors.set(to, t);
    return `${name} renamed ${to}`;
  }
  if (r === 2) {
    const shape = rng.pick([[1], [0], [2, 2], [t.shape[0] ?? 1], [...t.shape].reverse(), [...t.shape, 1], t.shape.slice(1), [1, ...t.shape], [0, 2 ** 31], [65536, 65536, 0]]);
    t.shape = shape;
    t.data = new Uint8Array(numel(shape) * (SIZE[t.dtype] ?? 1));
    return `${name} reshaped [${shape.join(', ')}] (data resized)`;
  }
  if (r === 3) {
    const dtype = rng.pick(['F32', 'F16', 'BF16', 'U8', 'I64', 'F64', 'I32', 'BOOL']);
    t.dtype = dtype;
    t.data = new Uint8Array(numel(t.shape) * SIZE[dtype]);
    return `${name} -> ${dtype} (data resized)`;
  }
  if (r === 4) {
    c.tensors.set(rng.pick(['unknown.weight', 'down_blocks.9.resnets.0.conv1.weight', 'conv_in.weight.x', 'act.scale']), { dtype: 'F32', shape: [2], data: new Uint8Array(8) });
    return 'extra tensor added';
  }
  if (r === 5) {
    // the same data under the deprecated attention name as well
    const att = names.find((n) => /\.to_[qkv]\./.test(n));
    if (!att) return 'no attention tensor';
    c.tensors.set(att.replace(/\.to_([qkv])\./, (_m, x) => `.${{ q: 'query', k: 'key', v: 'value' }[x]}.`), { ...c.tensors.get(att) });
    return `deprecated twin of ${att} added`;
  }
  // everything except a few tensors
  for (const n of names) if (rng.chance(0.9)) c.tensors.delete(n);
  return 'most tensors deleted';
}

// ---- raw safetensors image ----

/** Parses header JSON text out of an image (JSON.parse is fine for mutation purposes). */
function header(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return { n, obj: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
}

/** Rebuilds an image with a new header object (raw leaves allowed) and the same data bytes. */
function withHeader(bytes, n, obj, rawJson) {
  const enc = new TextEncoder();
  let hb = enc.encode(rawJson(obj));
  if (hb.length % 8) hb = enc.encode(rawJson(obj) + ' '.repeat(8 - (hb.length % 8)));
  const data = bytes.subarray(8 + n);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

/** Edits of the image: header length, an entry's offsets / shape / dtype, metadata, size, bytes. */
function raw(c, rng, rawJson) {
  const r = rng.int(8);
  if (r === 0) {
    const v = rng.pick([0n, 1n, 7n, 100000001n, (1n << 63n) - 1n, (1n << 64n) - 1n, -1n]);
    const delta = rng.pick([null, -8, -1, 1, 8]);
    c.rawOps.push((b) => {
      const o = new Uint8Array(b);
      const dv = new DataView(o.buffer);
      dv.setBigUint64(0, delta === null ? BigInt.asUintN(64, v) : BigInt.asUintN(64, dv.getBigUint64(0, true) + BigInt(delta)), true);
      return o;
    });
    return `header length ${delta === null ? `-> ${v}` : `${delta > 0 ? '+' : ''}${delta}`}`;
  }
  if (r <= 3) {
    const what = ['data_offsets', 'shape', 'dtype'][r - 1];
    const pickV = (cur) =>
      what === 'dtype'
        ? rng.pick(['F4', 'Q4', 'f32', '', 'F64', 'I8', 'BOOL', 'F8_E4M3', 'C64', null, 1])
        : what === 'shape'
          ? rng.pick([[], [0], [-1], [1.5], [{ __raw: '18446744073709551616' }], [{ __raw: '9223372036854775807' }], [4294967296, 4294967296], [2, 2, 2, 2, 2, 2, 2, 2, 2], 'x', null, [...(cur || [])].reverse()])
          : rng.pick([[0, 0], [1, 0], [0, { __raw: '9223372036854775807' }], [-1, 4], [0.5, 4], [cur[0] + 1, cur[1] + 1], [cur[0], cur[1] - 1], [cur[1], cur[0]], [0], [0, 1, 2], null]);
    c.rawOps.push((b) => {
      const { n, obj } = header(b);
      const names = Object.keys(obj).filter((k) => k !== '__metadata__');
      if (!names.length) return b;
      const name = names[rng.int(names.length)];
      obj[name][what] = pickV(obj[name][what]);
      c.notes.push(`  (${name}.${what} -> ${short(obj[name][what])})`);
      return withHeader(b, n, obj, rawJson);
    });
    return `raw header ${what} edit`;
  }
  if (r === 4) {
    const v = rng.pick([null, 1, [], { a: { b: 1 } }, 'x']);
    c.rawOps.push((b) => {
      const { n, obj } = header(b);
      if (rng.chance(0.5)) obj.__metadata__ = v;
      else obj.__metadata__ = { ...(obj.__metadata__ || {}), [rng.pick(['format', 'format_version', 'quant', 'unet_config', 'x'])]: v };
      return withHeader(b, n, obj, rawJson);
    });
    return `__metadata__ edit -> ${JSON.stringify(v)}`;
  }
  if (r === 5) {
    const cut = rng.pick([1, 7, 8, 100, 4096]);
    c.rawOps.push((b) => b.subarray(0, Math.max(0, b.length - cut)));
    return `truncated by ${cut} bytes`;
  }
  if (r === 6) {
    const add = rng.pick([1, 8, 4096]);
    c.rawOps.push((b) => {
      const o = new Uint8Array(b.length + add);
      o.set(b);
      return o;
    });
    return `${add} bytes appended`;
  }
  const flips = 1 + rng.int(8);
  const inHeader = rng.chance(0.5);
  const at = Array.from({ length: flips }, () => [rng.next(), rng.int(256)]);
  c.rawOps.push((b) => {
    const o = new Uint8Array(b);
    const n = Number(new DataView(o.buffer).getBigUint64(0, true));
    const lo = inHeader ? 8 : 8 + n, hi = inHeader ? 8 + n : o.length;
    if (hi <= lo) return o;
    for (const [u, x] of at) o[lo + Math.floor(u * (hi - lo))] ^= x;
    return o;
  });
  return `${flips} byte(s) flipped in the ${inHeader ? 'header' : 'data'}`;
}

// ---- quantized files ----

const SPECIAL = ['schedule.timesteps', 'act.scale', 'act.zero', 'temporal.timesteps', 'temporal.features'];

/** A field of `quant` set to a hostile value (the known fields more often than arbitrary paths). */
function quantField(c, rng) {
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !v.__raw;
  const layerNames = isObj(c.quant) && isObj(c.quant.layers) ? Object.keys(c.quant.layers) : [];
  const r = rng.int(6);
  if (r < 2 && isObj(c.quant)) {
    const k = rng.pick(['weight_bits', 'act_bits', 'group_size', 'granularity', 'k_order', 'tib_weights', 'fp_weights', 'temporal_mode', 'layers',
      'act_quantizers', 'resnets', 'schedule', 'calibration', 'scaler', 'rounding']);
    const v = rng.chance(0.5) ? rng.pick([null, 3, 16, 0, 2, 'f16', 'none', 'f32', 'exact', 'channel', 'group', [], {}, -1, 48]) : hostile(rng, c.quant[k]);
    if (rng.chance(0.2)) delete c.quant[k];
    else c.quant[k] = v;
    return `quant.${k} -> ${short(c.quant[k])}`;
  }
  if (r === 2 && layerNames.length) {
    const name = rng.pick(layerNames);
    const l = c.quant.layers[name];
    const k = rng.pick(['shape', 'bits', 'group_size', 'kind', 'act', '(entry)', '(rename)', '(delete)']);
    if (k === '(entry)') c.quant.layers[name] = hostile(rng, l);
    else if (k === '(rename)') {
      delete c.quant.layers[name];
      c.quant.layers[rng.pick(['conv_in', 'mid_block.resnets.0.time_emb_proj', `${name}x`, 'down_blocks.0.downsamplers.0.conv', ''])] = l;
    } else if (k === '(delete)') delete c.quant.layers[name];
    else if (l && typeof l === 'object') {
      l[k] = k === 'shape' && rng.chance(0.6) ? rng.pick([[1], [l.shape?.[1], l.shape?.[0]], [2 ** 31, 1], [1e9, 1e9, 3, 3], [0, 0, 0, 0], ['a', 1], 'abc', null, [...(l.shape || []), 1]]) : hostile(rng, l[k]);
    }
    return `quant.layers["${name}"].${k} edit`;
  }
  if (r === 3 && isObj(c.quant) && Array.isArray(c.quant.act_quantizers)) {
    const a = c.quant.act_quantizers;
    const op = rng.int(4);
    if (op === 0) a.reverse();
    else if (op === 1) a.pop();
    else if (op === 2) a.push(a[0]);
    else a[rng.int(a.length || 1)] = hostile(rng, 'x');
    return `quant.act_quantizers edit ${op}`;
  }
  if (r === 4) {
    c.quantText = rng.pick(['null', '[]', '{', '"x"', '{"temporal_mode":"exact"}', '1e999']);
    return `quant text -> ${c.quantText}`;
  }
  return mutateJson(c, 'quant', rng);
}

/** Scales, zero points, codes, timesteps and cached features given hostile values or shapes. */
function quantTensors(c, rng) {
  const names = [...c.tensors.keys()];
  const scales = names.filter((n) => n === 'act.scale' || n.endsWith('.wscale'));
  const r = rng.int(6);
  if (r === 0 && scales.length) {
    const name = rng.pick(scales);
    const t = c.tensors.get(name);
    const v = rng.pick([0, -0, -1, NaN, Infinity, -Infinity, 1e30, 1e-30, 1e-45, 1e5, 1e-10, 3.4e38]);
    const all = rng.chance(0.4);
    const n = t.data.length / 4;
    for (let k = 0, m = all ? n : 1 + rng.int(Math.min(3, n)); k < m; k++) poke(t, all ? k : rng.int(n), v);
    return `${name}: ${all ? 'every value' : 'some values'} -> ${v}`;
  }
  if (r === 1) {
    const zs = names.filter((n) => n.endsWith('.wzero') || n === 'act.zero');
    if (!zs.length) return 'no zero points';
    const name = rng.pick(zs);
    const t = c.tensors.get(name);
    poke(t, rng.int(Math.max(1, t.data.length / (SIZE[t.dtype] ?? 1))), rng.pick([0.5, -1, 255, 256, 2 ** 21, NaN, Infinity, 1e30]));
    return `${name}: a zero point edited`;
  }
  if (r === 2) {
    const ts = names.filter((n) => n === 'schedule.timesteps' || n === 'temporal.timesteps');
    if (!ts.length) return 'no timesteps';
    const name = rng.pick(ts);
    const t = c.tensors.get(name);
    if (rng.chance(0.3)) {
      t.shape = [0];
      t.data = new Uint8Array(0);
      return `${name} emptied`;
    }
    const v = rng.pick([-1, 2 ** 31 + 1, 2 ** 53, -(2 ** 62), 1000, 0]);
    poke(t, rng.int(Math.max(1, t.data.length / 8)), v);
    return `${name}: a timestep -> ${v}`;
  }
  if (r === 3) {
    const qw = names.filter((n) => n.endsWith('.qweight'));
    if (!qw.length) return 'no codes';
    const t = c.tensors.get(rng.pick(qw));
    const d = new Uint8Array(t.data);
    for (let k = 0; k < 1 + rng.int(8); k++) d[rng.int(d.length || 1)] = rng.int(256);
    t.data = d;
    return 'codes edited';
  }
  if (r === 4) {
    const name = rng.pick(SPECIAL.filter((n) => c.tensors.has(n)));
    if (!name) return 'no special tensor';
    const t = c.tensors.get(name);
    if (rng.chance(0.3)) {
      c.tensors.delete(name);
      return `${name} deleted`;
    }
    t.shape = rng.pick([[...t.shape].reverse(), [numel(t.shape)], [...t.shape, 1], [1, ...t.shape]]);
    return `${name} reshaped [${t.shape.join(', ')}]`;
  }
  return tensorValues(c, rng, names.filter((n) => n === 'temporal.features' || (!n.endsWith('.qweight') && !SPECIAL.includes(n))));
}

/** The metadata strings other than unet_config and quant. */
function quantMeta(c, rng) {
  const k = rng.pick(['format', 'format_version']);
  const v = rng.pick(['', '2', '1.9', '0', 'itokit.quantized-unet', '1', 'x', undefined]);
  if (v === undefined) delete c.meta[k];
  else c.meta[k] = v;
  return `metadata ${k} -> ${JSON.stringify(v)}`;
}

/**
 * The mutators of a kind with their weights; `apply(c, rng)` edits the case and returns a note.
 * `rawJson` (cases.js) serializes headers with raw number literals.
 */
function mutators(kind, rawJson) {
  const common = [
    [3, 'config-size', configSize],
    [1, 'config-shape', configShape],
    [2, 'config-json', (c, rng) => mutateJson(c, 'config', rng)],
    [2, 'tensor-values', (c, rng) => tensorValues(c, rng)],
    [2, 'tensor-structure', tensorStructure],
    [2, 'raw', (c, rng) => raw(c, rng, rawJson)],
  ];
  if (kind === 'folder') return common;
  return [...common, [4, 'quant-field', quantField], [4, 'quant-tensors', quantTensors], [1, 'quant-meta', quantMeta]];
}

/** Applies 1–3 weighted-random mutators to c; returns their notes. */
function mutate(c, rng, rawJson) {
  const ms = mutators(c.kind, rawJson);
  const total = ms.reduce((a, m) => a + m[0], 0);
  const k = 1 + (rng.chance(0.6) ? 0 : rng.int(3));
  for (let i = 0; i < k; i++) {
    let u = rng.next() * total;
    const m = ms.find((x) => (u -= x[0]) < 0) ?? ms[ms.length - 1];
    try {
      c.notes.push(`${m[1]}: ${m[2](c, rng)}`);
    } catch (e) {
      // a mutator meeting a shape an earlier edit made: skip it, the case stays reproducible
      c.notes.push(`${m[1]}: skipped (${e && e.message})`);
    }
  }
  return c.notes;
}

module.exports = { mutate, mutators, hostile, mutateJson };

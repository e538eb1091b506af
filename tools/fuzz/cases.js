// Model-file cases for the fuzzer and the regression corpus: a deterministic PRNG, the seed
// models (a tiny synthetic UNet2DModel, the test fixtures, the built-in model, and W4A8 / W8A8
// files quantized from them), a structured form of a case (config, quant metadata, tensors, raw
// byte edits) and its writer. Needs the compiled package (`npx tsc -p tsconfig.build.json`).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const dist = path.join(root, 'dist', 'lib');

/** The compiled library and its internal native view (trusted: only valid seeds are built here). */
function library() {
  return { lib: require(dist), native: require(path.join(dist, 'unet', 'native-unet')).unetNative };
}

/** splitmix32 over a 32-bit state: small, fast, and the same sequence on every platform. */
class Rng {
  constructor(seed) {
    this.s = seed >>> 0;
  }
  /** Uniform 32-bit integer. */
  u32() {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next() {
    return this.u32() / 4294967296;
  }
  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }
  pick(a) {
    return a[this.int(a.length)];
  }
  chance(p) {
    return this.next() < p;
  }
  /** Standard normal (Box–Muller). */
  normal() {
    const u = 1 - this.next(), v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** 32-bit FNV-1a of a string: per-case seeds from (run seed, kind, index). */
function hash32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The tiny model of the regression corpus and the fastest fuzz seed: about a thousand parameters,
 * every kind of layer (resnets with and without shortcut, both resamplers, the mid block's
 * attention with its shared q/k/v quantizer), so that each committed case is a few KB.
 */
const TINY_CONFIG = {
  _class_name: 'UNet2DModel',
  attention_head_dim: null,
  block_out_channels: [2, 4],
  down_block_types: ['DownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'UpBlock2D'],
  downsample_padding: 1,
  flip_sin_to_cos: false,
  freq_shift: 0,
  in_channels: 1,
  out_channels: 1,
  layers_per_block: 1,
  norm_num_groups: 2,
  sample_size: 4,
};

/** Raw little-endian bytes of a Float32Array. */
function bytesOf(a) {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** A tiny diffusers folder (config + F32 tensors) with seeded random weights. */
function tinyFolder(seed = 1) {
  const { lib, native } = library();
  const { config } = lib.unet.resolveConfig(TINY_CONFIG);
  const plan = native().unetPlan({ config, names: [], shapes: [], allowTibAbsent: false });
  const rng = new Rng(seed);
  const tensors = new Map();
  for (const t of plan.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const norm = /norm/.test(t.name);
    const fanIn = t.shape.length > 1 ? n / t.shape[0] : 1;
    for (let i = 0; i < n; i++) a[i] = norm ? (t.name.endsWith('.weight') ? 1 + 0.1 * rng.normal() : 0.1 * rng.normal()) : rng.normal() / Math.sqrt(fanIn);
    tensors.set(t.name, { dtype: 'F32', shape: t.shape, data: bytesOf(a) });
  }
  return { config: JSON.parse(JSON.stringify(TINY_CONFIG)), tensors };
}

/** A diffusers folder read from disk (its own tensors, unconverted). */
function readFolderSeed(dir) {
  const { lib } = library();
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  const f = lib.unet.readSafetensors(path.join(dir, 'diffusion_pytorch_model.safetensors'));
  const tensors = new Map([...f.tensors].map(([k, v]) => [k, { dtype: v.dtype, shape: [...v.shape], data: new Uint8Array(v.data) }]));
  return { config, tensors };
}

/** Writes a folder seed to dir (for quantizing it). */
function writeFolder(dir, seed) {
  const { lib } = library();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(seed.config));
  fs.writeFileSync(path.join(dir, 'diffusion_pytorch_model.safetensors'), lib.unet.serializeSafetensors(Object.fromEntries(seed.tensors)));
}

/** The quantized form of a case: metadata strings parsed into objects, tensors as bytes. */
function quantSeed(bytes) {
  const { lib } = library();
  const f = lib.unet.parseSafetensors(bytes);
  const meta = { ...f.metadata };
  const config = JSON.parse(meta.unet_config);
  const quant = JSON.parse(meta.quant);
  delete meta.unet_config;
  delete meta.quant;
  const tensors = new Map([...f.tensors].map(([k, v]) => [k, { dtype: v.dtype, shape: [...v.shape], data: new Uint8Array(v.data) }]));
  return { meta, config, quant, tensors };
}

/**
 * The seeds of one kind: 'folder' (diffusers folders), 'w4a8' or 'w8a8' (quantized files). The
 * quantized ones are made here with a tiny calibration (deterministic), in a scratch folder.
 * Each seed has a weight: the built-in model is 50x the tiny one's work per case.
 */
async function seeds(kind, scratch) {
  const { lib } = library();
  const fix = path.join(root, 'test', 'fixtures', 'unet');
  const folders = [
    { name: 'tiny', weight: 5, seed: tinyFolder(1) },
    { name: 'fixture_b_f16', weight: 2, seed: readFolderSeed(path.join(fix, 'fixture_b_f16')) },
    { name: 'fixture_b_bf16', weight: 2, seed: readFolderSeed(path.join(fix, 'fixture_b_bf16')) },
    { name: 'digits16', weight: 1, seed: readFolderSeed(path.join(root, 'models', 'digits16')) },
  ];
  if (kind === 'folder') return folders.map((f) => ({ ...f, kind, ...f.seed }));
  const bits = kind === 'w4a8' ? 4 : 8;
  const out = [];
  const variants = [
    { from: 'tiny', weight: 4, o: {} },
    { from: 'tiny', weight: 3, o: { tibWeights: 'f32', fpWeights: 'f32' } },
    { from: 'fixture_b_f16', weight: 2, o: { groupSize: bits === 4 ? 32 : 0 } },
    { from: 'digits16', weight: 1, o: {} },
  ];
  for (const v of variants) {
    const src = folders.find((f) => f.name === v.from);
    const dir = path.join(scratch, `seed-${v.from}`);
    writeFolder(dir, src.seed);
    const fp = lib.unet.loadSync(dir);
    // pre-recorded calibration inputs (deterministic noise): quick, and fine for any channel count
    const n = 4, C = fp.config.inChannels, H = Math.min(fp.config.sampleSize ?? 8, 8);
    const rng = new Rng(7);
    const xs = Float32Array.from({ length: 3 * n * C * H * H }, () => rng.normal());
    const data = { xs, timesteps: [901, 501, 1], samplesPerStep: n, height: H, width: H };
    const q = await lib.unet.quantize(fp, { weightBits: bits, ...v.o, calibration: { data, initSamples: 2, batch: 2, seed: 0 } });
    out.push({ name: `${v.from}-${kind}${v.o.tibWeights === 'f32' ? '-tib' : ''}${v.o.groupSize ? `-g${v.o.groupSize}` : ''}`, weight: v.weight, kind, ...quantSeed(lib.unet.serialize(q)) });
  }
  return out;
}

/** A deep copy of a seed (tensor bytes copied lazily: mutators replace, never edit in place). */
function clone(seed) {
  return {
    kind: seed.kind,
    seedName: seed.name,
    config: JSON.parse(JSON.stringify(seed.config)),
    quant: seed.quant ? JSON.parse(JSON.stringify(seed.quant)) : undefined,
    meta: seed.meta ? { ...seed.meta } : undefined,
    tensors: new Map([...seed.tensors].map(([k, v]) => [k, { ...v, shape: [...v.shape] }])),
    configText: undefined, // raw text overriding config (invalid JSON, literal NaN ...)
    quantText: undefined,
    rawOps: [], // (bytes) => bytes, applied to the serialized safetensors image
    notes: [],
  };
}

/** JSON.stringify that writes {__raw: text} leaves verbatim (NaN, 1e999, invalid literals). */
function rawJson(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.__raw === 'string') return v.__raw;
  if (Array.isArray(v)) return `[${v.map(rawJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${rawJson(x)}`).join(',')}}`;
  const s = JSON.stringify(v);
  return s === undefined ? 'null' : s;
}

/** Serializes a safetensors image from name → {dtype, shape, data}, any sizes (no checks). */
function serializeLoose(tensors, metadata) {
  const header = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.length] };
    off += t.data.length;
  }
  let text = rawJson(header);
  const enc = new TextEncoder();
  let hb = enc.encode(text);
  if (hb.length % 8) hb = enc.encode(text + ' '.repeat(8 - (hb.length % 8)));
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors.values()) {
    out.set(t.data, p);
    p += t.data.length;
  }
  return out;
}

/** The bytes of a case's safetensors file, raw edits applied. */
function caseBytes(c) {
  let meta;
  if (c.kind !== 'folder') {
    meta = { ...c.meta, unet_config: c.configText ?? rawJson(c.config), quant: c.quantText ?? rawJson(c.quant) };
  }
  let bytes = serializeLoose(c.tensors, meta);
  for (const op of c.rawOps) {
    try {
      bytes = op(bytes);
    } catch {
      c.notes.push('  (a raw edit found no parsable header and was skipped)');  // an earlier edit broke it
    }
  }
  return bytes;
}

/**
 * Writes a case into dir (emptied first): config.json + diffusion_pytorch_model.safetensors for a
 * folder, model.safetensors for a quantized file, and case.json describing it.
 * @returns the bytes written
 */
function writeCase(dir, c, info = {}) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const bytes = caseBytes(c);
  let load;
  let total = bytes.length;
  if (c.kind === 'folder') {
    const cfg = c.configText ?? rawJson(c.config);
    fs.writeFileSync(path.join(dir, 'config.json'), cfg);
    fs.writeFileSync(path.join(dir, 'diffusion_pytorch_model.safetensors'), bytes);
    total += cfg.length;
    load = '.';
  } else {
    fs.writeFileSync(path.join(dir, 'model.safetensors'), bytes);
    load = 'model.safetensors';
  }
  fs.writeFileSync(path.join(dir, 'case.json'), `${JSON.stringify({ kind: c.kind, load, seed: c.seedName, mutations: c.notes, ...info }, null, 2)}\n`);
  return total;
}

module.exports = { Rng, hash32, TINY_CONFIG, tinyFolder, seeds, clone, rawJson, caseBytes, writeCase, serializeLoose, library, bytesOf };

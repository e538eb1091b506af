/**
 * diffusers UNet2DModel config resolution (docs/design/unet.md): defaults, accepted values,
 * warnings for unknown keys, coded errors naming key and value for unsupported ones.
 * @packageDocumentation
 */
import { ModelFormatError } from '../errors';
import { runNativeSync } from '../run';
import { unetNative } from './native-unet';

/** The config as diffusers writes it in config.json (snake_case keys). */
export type DiffusersConfig = Record<string, unknown>;

/** The resolved config the native layer receives. */
export interface ResolvedConfig {
  inChannels: number;
  outChannels: number;
  sampleSize: number | null;
  centerInputSample: boolean;
  flipSinToCos: boolean;
  freqShift: number;
  timeEmbeddingDim: number;
  blockOutChannels: number[];
  downAttention: number[];
  upAttention: number[];
  midBlock: boolean;
  addAttention: boolean;
  layersPerBlock: number;
  midBlockScaleFactor: number;
  downsamplePadding: number;
  /** 0 means one head per block (diffusers `attention_head_dim: null`). */
  attentionHeadDim: number;
  normNumGroups: number;
  attnNormNumGroups: number;
  normEps: number;
}

const DEFAULTS: Record<string, unknown> = {
  in_channels: 3, out_channels: 3, sample_size: null, center_input_sample: false, time_embedding_type: 'positional',
  time_embedding_dim: null, flip_sin_to_cos: true, freq_shift: 0,
  down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D', 'AttnDownBlock2D'],
  up_block_types: ['AttnUpBlock2D', 'AttnUpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
  mid_block_type: 'UNetMidBlock2D', add_attention: true, block_out_channels: [224, 448, 672, 896], layers_per_block: 2,
  mid_block_scale_factor: 1, downsample_padding: 1, downsample_type: 'conv', upsample_type: 'conv', act_fn: 'silu',
  dropout: 0, attention_head_dim: 8, norm_num_groups: 32, attn_norm_num_groups: null, norm_eps: 1e-5,
  resnet_time_scale_shift: 'default', class_embed_type: null, num_class_embeds: null, num_train_timesteps: null,
};

/**
 * Plausibility limits of a config, checked before anything is built (native/unet/unet_model.h
 * holds the same numbers as a defensive check for direct callers). They keep every count and
 * index inside int32, and the parameter cap keeps a hostile config from sizing an allocation far
 * beyond any real UNet2DModel (the largest diffusers ones hold well under 1 GiB of FP32 weights).
 */
export const CONFIG_LIMITS = {
  /** Entries of block_out_channels (H and W must be multiples of 2^(blocks − 1)). */
  maxBlocks: 8,
  maxLayersPerBlock: 32,
  /** block_out_channels entries, in_channels, out_channels, norm groups, attention_head_dim. */
  maxChannels: 16384,
  maxTimeEmbeddingDim: 65536,
  maxSampleSize: 16384,
  /** FP32 bytes of every weight, bias and norm parameter the config implies. */
  maxParamBytes: 2 ** 32,
  /** norm_eps range: 0 or a float32 underflow would divide by √0 on a constant group. */
  minNormEps: 1e-12,
  maxNormEps: 1,
  /** mid_block_scale_factor range: blocks divide by it (0 gave NaN, a tiny value overflows). */
  minScaleFactor: 1e-3,
  maxScaleFactor: 1e3,
} as const;

/**
 * A short rendering of a value read from a model file, for error messages: strings quoted and
 * cut, short flat lists in full, anything nested or long by its kind (never the whole of a huge
 * or deeply nested value, which JSON.stringify could not even write).
 * @internal
 */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) {
    if (v.length <= 8 && v.every((x) => x === null || typeof x !== 'object')) return `[${v.map(show).join(', ')}]`;
    return `a ${v.some((x) => x !== null && typeof x === 'object') ? 'nested ' : ''}list of ${v.length} ${v.length === 1 ? 'entry' : 'entries'}`;
  }
  return typeof v === 'object' ? 'an object' : typeof v;
}

function bad(key: string, value: unknown, why: string): never {
  throw new ModelFormatError(`config: unsupported value ${show(value)} for "${key}" (${why})`);
}

function posInt(key: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) bad(key, v, `expected an integer in [1, ${max}]`);
  return v;
}

function num(key: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, v, 'expected a finite number');
  if (v < min || v > max) bad(key, v, `expected a number in [${min}, ${max}]`);
  return v;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(key, v, 'expected true or false');
  return v;
}

/** A list of at most maxBlocks entries. */
function list(key: string, v: unknown): unknown[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > CONFIG_LIMITS.maxBlocks) bad(key, v, `expected a list of 1 to ${CONFIG_LIMITS.maxBlocks} entries`);
  return v;
}

/**
 * Applies diffusers defaults and itokit's accepted values, and checks that the config is
 * plausible before anything is sized from it: types (a null, array or non-object config fails),
 * integer ranges of {@link CONFIG_LIMITS}, norm groups and head sizes dividing their channels,
 * positive finite eps and scale factors. Absent keys take the defaults of diffusers'
 * UNet2DModel, as a diffusers folder does; whether the resulting model matches the file's
 * tensors is `planModel`'s check. Unknown keys are returned in `warnings` (they fail in
 * strict mode). Every failure is a ModelFormatError naming the key and the value.
 */
export function resolveConfig(raw: DiffusersConfig, o: { strict?: boolean } = {}): { config: ResolvedConfig; warnings: string[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelFormatError(`config must be a JSON object, got ${show(raw)}`);
  const L = CONFIG_LIMITS;
  const warnings: string[] = [];
  const c: Record<string, unknown> = { ...DEFAULTS };
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('_')) continue;
    // own keys only: "constructor" or "toString" are not config keys
    if (!Object.hasOwn(DEFAULTS, k)) {
      const w = `config: unknown key ${show(k)} ignored`;
      if (o.strict) throw new ModelFormatError(w);
      warnings.push(w);
      continue;
    }
    c[k] = v;
  }
  if (c.time_embedding_type !== 'positional') bad('time_embedding_type', c.time_embedding_type, "only 'positional'");
  if (c.class_embed_type !== null) bad('class_embed_type', c.class_embed_type, 'class embeddings are out of scope');
  if (c.num_class_embeds !== null) bad('num_class_embeds', c.num_class_embeds, 'class embeddings are out of scope');
  if (c.resnet_time_scale_shift !== 'default') bad('resnet_time_scale_shift', c.resnet_time_scale_shift, "only 'default'");
  if (c.downsample_type !== 'conv') bad('downsample_type', c.downsample_type, "only 'conv'");
  if (c.upsample_type !== 'conv') bad('upsample_type', c.upsample_type, "only 'conv'");
  if (c.act_fn !== 'silu' && c.act_fn !== 'swish') bad('act_fn', c.act_fn, "only 'silu' or 'swish'");
  if (c.mid_block_type !== 'UNetMidBlock2D' && c.mid_block_type !== null) bad('mid_block_type', c.mid_block_type, "only 'UNetMidBlock2D' or null");
  num('dropout', c.dropout, 0, 1);  // unused at inference, but a value of the wrong kind is a broken file
  if (c.num_train_timesteps !== null) posInt('num_train_timesteps', c.num_train_timesteps, 2 ** 31);
  const blockOutChannels = list('block_out_channels', c.block_out_channels).map((v) => posInt('block_out_channels', v, L.maxChannels));
  const strip = (s: unknown): unknown => (typeof s === 'string' && s.startsWith('UNetRes') ? s.slice(7) : s);
  const down = list('down_block_types', c.down_block_types);
  const up = list('up_block_types', c.up_block_types);
  if (down.length !== blockOutChannels.length) bad('down_block_types', down, 'one per block_out_channels entry');
  if (up.length !== blockOutChannels.length) bad('up_block_types', up, 'one per block_out_channels entry');
  const downAttention = down.map((t) => {
    const s = strip(t);
    if (s !== 'DownBlock2D' && s !== 'AttnDownBlock2D') bad('down_block_types', t, "only 'DownBlock2D' or 'AttnDownBlock2D'");
    return s === 'AttnDownBlock2D' ? 1 : 0;
  });
  const upAttention = up.map((t) => {
    const s = strip(t);
    if (s !== 'UpBlock2D' && s !== 'AttnUpBlock2D') bad('up_block_types', t, "only 'UpBlock2D' or 'AttnUpBlock2D'");
    return s === 'AttnUpBlock2D' ? 1 : 0;
  });
  const c0 = blockOutChannels[0];
  const freqShift = num('freq_shift', c.freq_shift);
  // time_proj divides by (⌊C0/2⌋ − freq_shift) in float32: zero gives 0/0 and a negative
  // denominator infinite frequencies, both NaN embeddings (the sign survives float32 rounding)
  const half = Math.floor(c0 / 2);
  if (!(Math.fround(freqShift) < half)) bad('freq_shift', freqShift, `must be below floor(block_out_channels[0] / 2) = ${half}`);
  const pad = c.downsample_padding;
  if (pad !== 0 && pad !== 1) bad('downsample_padding', pad, 'only 0 or 1');
  const groups = posInt('norm_num_groups', c.norm_num_groups, L.maxChannels);
  const attnGroups = c.attn_norm_num_groups === null ? groups : posInt('attn_norm_num_groups', c.attn_norm_num_groups, L.maxChannels);
  const headDim = c.attention_head_dim === null ? 0 : posInt('attention_head_dim', c.attention_head_dim, L.maxChannels);
  const normEps = num('norm_eps', c.norm_eps, L.minNormEps, L.maxNormEps);
  const sampleSize = c.sample_size;
  let size: number | null = null;
  if (Array.isArray(sampleSize)) {
    if (sampleSize.length < 1 || sampleSize.length > 2) bad('sample_size', sampleSize, 'a number, a pair or null');
    [size] = sampleSize.map((v) => posInt('sample_size', v, L.maxSampleSize));
  } else if (sampleSize !== null) {
    size = posInt('sample_size', sampleSize, L.maxSampleSize);
  }
  const midBlock = c.mid_block_type !== null;
  const addAttention = bool('add_attention', c.add_attention);
  const config: ResolvedConfig = {
    inChannels: posInt('in_channels', c.in_channels, L.maxChannels),
    outChannels: posInt('out_channels', c.out_channels, L.maxChannels),
    sampleSize: size,
    centerInputSample: bool('center_input_sample', c.center_input_sample),
    flipSinToCos: bool('flip_sin_to_cos', c.flip_sin_to_cos),
    freqShift,
    timeEmbeddingDim: c.time_embedding_dim === null ? 4 * c0 : posInt('time_embedding_dim', c.time_embedding_dim, L.maxTimeEmbeddingDim),
    blockOutChannels,
    downAttention,
    upAttention,
    midBlock,
    addAttention,
    layersPerBlock: posInt('layers_per_block', c.layers_per_block, L.maxLayersPerBlock),
    midBlockScaleFactor: num('mid_block_scale_factor', c.mid_block_scale_factor, L.minScaleFactor, L.maxScaleFactor),
    downsamplePadding: pad as number,
    attentionHeadDim: headDim,
    normNumGroups: groups,
    attnNormNumGroups: attnGroups,
    normEps,
  };
  for (const ch of blockOutChannels) {
    if (ch % groups !== 0) bad('norm_num_groups', groups, `must divide every block_out_channels entry (${ch})`);
    if (headDim && ch % headDim !== 0) bad('attention_head_dim', headDim, `must divide every block_out_channels entry (${ch})`);
  }
  const last = blockOutChannels[blockOutChannels.length - 1];
  if (midBlock && addAttention && last % attnGroups !== 0) bad('attn_norm_num_groups', attnGroups, `must divide the mid block's channels (${last})`);
  return { config, warnings };
}

/** What a config implies for a file, from `planModel`. */
export interface ModelPlan {
  /** Every tensor the model reads, in build order; `tib` marks the time MLP and time_emb_proj. */
  tensors: { name: string; shape: number[]; tib: boolean }[];
  /** FP32 bytes of all of them. */
  paramBytes: number;
  /** Layers that hold integer weights once quantized (docs/design/unet.md). */
  integerLayers: string[];
  /** Activation quantizer names in column order (docs/design/unet.md). */
  actNames: string[];
  /** Resnet prefixes in TIB order and the width of each one's temporal feature. */
  tibPrefixes: string[];
  tibWidths: number[];
  /** Names the file holds that the model does not read. */
  unexpected: string[];
}

/**
 * Checks a resolved config against the tensors a file holds before anything is built or
 * allocated: the FP32 parameter bytes the config implies (at most
 * {@link CONFIG_LIMITS}.maxParamBytes), then the name and shape of every tensor it reads (all
 * offenders listed, as the native builder reports them). The architecture walk is the native
 * builder's own, run on shapes only, so the two cannot disagree.
 * @param shapes - name → shape of every tensor the file holds (integer layers: their FP shape)
 * @param o.tibAbsent - the TIB tensors may be missing (a cache-only quantized file)
 */
export function planModel(config: ResolvedConfig, shapes: Map<string, readonly number[]>, o: { tibAbsent?: boolean } = {}): ModelPlan {
  const names = [...shapes.keys()];
  for (const n of names) {
    // a safetensors dimension may be up to 2^63; no model tensor has one above int32
    if (shapes.get(n)!.some((d) => d > 0x7fffffff)) throw new ModelFormatError(`tensor ${n} has shape [${shapes.get(n)!.join(', ')}], a dimension above 2^31 − 1`);
  }
  const p = runNativeSync(() => unetNative().unetPlan({ config, names, shapes: names.map((n) => [...shapes.get(n)!]), allowTibAbsent: Boolean(o.tibAbsent) }));
  if (p.paramBytes > CONFIG_LIMITS.maxParamBytes) {
    const gib = (b: number): string => (b / 2 ** 30).toFixed(2);
    throw new ModelFormatError(`config implies ${gib(p.paramBytes)} GiB of FP32 parameters, above the ${gib(CONFIG_LIMITS.maxParamBytes)} GiB limit`);
  }
  if (p.mismatch !== null) throw new ModelFormatError(p.mismatch);
  const read = new Set(p.tensors.map((t) => t.name));
  return { ...p, unexpected: names.filter((n) => !read.has(n)) };
}

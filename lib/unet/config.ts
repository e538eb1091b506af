/**
 * diffusers UNet2DModel config resolution (spec/quantized-unet.md §2): defaults, accepted values,
 * warnings for unknown keys, coded errors naming key and value for unsupported ones.
 * @packageDocumentation
 */
import { ModelFormatError } from '../errors';

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

function bad(key: string, value: unknown, why: string): never {
  throw new ModelFormatError(`config: unsupported value ${JSON.stringify(value)} for "${key}" (${why})`);
}

function posInt(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(key, v, 'expected a positive integer');
  return v;
}

function num(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, v, 'expected a finite number');
  return v;
}

function bool(key: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(key, v, 'expected true or false');
  return v;
}

/**
 * Applies diffusers defaults and itokit's accepted values. Unknown keys are returned in
 * `warnings` (they fail in strict mode).
 */
export function resolveConfig(raw: DiffusersConfig, o: { strict?: boolean } = {}): { config: ResolvedConfig; warnings: string[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelFormatError('config.json must hold a JSON object');
  const warnings: string[] = [];
  const c: Record<string, unknown> = { ...DEFAULTS };
  for (const [k, v] of Object.entries(raw)) {
    if (k.startsWith('_')) continue;
    if (!(k in DEFAULTS)) {
      const w = `config: unknown key "${k}" ignored`;
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
  const boc = c.block_out_channels;
  if (!Array.isArray(boc) || boc.length === 0) bad('block_out_channels', boc, 'expected a non-empty list');
  const blockOutChannels = (boc as unknown[]).map((v) => posInt('block_out_channels', v));
  const strip = (s: unknown): unknown => (typeof s === 'string' && s.startsWith('UNetRes') ? s.slice(7) : s);
  const down = c.down_block_types;
  const up = c.up_block_types;
  if (!Array.isArray(down) || down.length !== blockOutChannels.length) bad('down_block_types', down, 'one per block_out_channels entry');
  if (!Array.isArray(up) || up.length !== blockOutChannels.length) bad('up_block_types', up, 'one per block_out_channels entry');
  const downAttention = (down as unknown[]).map((t) => {
    const s = strip(t);
    if (s !== 'DownBlock2D' && s !== 'AttnDownBlock2D') bad('down_block_types', t, "only 'DownBlock2D' or 'AttnDownBlock2D'");
    return s === 'AttnDownBlock2D' ? 1 : 0;
  });
  const upAttention = (up as unknown[]).map((t) => {
    const s = strip(t);
    if (s !== 'UpBlock2D' && s !== 'AttnUpBlock2D') bad('up_block_types', t, "only 'UpBlock2D' or 'AttnUpBlock2D'");
    return s === 'AttnUpBlock2D' ? 1 : 0;
  });
  const c0 = blockOutChannels[0];
  const freqShift = num('freq_shift', c.freq_shift);
  if (freqShift === Math.floor(c0 / 2)) bad('freq_shift', freqShift, 'must differ from floor(C0/2)');
  const pad = c.downsample_padding;
  if (pad !== 0 && pad !== 1) bad('downsample_padding', pad, 'only 0 or 1');
  const groups = posInt('norm_num_groups', c.norm_num_groups);
  const attnGroups = c.attn_norm_num_groups === null ? groups : posInt('attn_norm_num_groups', c.attn_norm_num_groups);
  const headDim = c.attention_head_dim === null ? 0 : posInt('attention_head_dim', c.attention_head_dim);
  const normEps = num('norm_eps', c.norm_eps);
  if (!(normEps > 0)) bad('norm_eps', normEps, 'must be positive');
  const sampleSize = c.sample_size;
  if (sampleSize !== null && typeof sampleSize !== 'number' && !Array.isArray(sampleSize)) bad('sample_size', sampleSize, 'a number, a pair or null');
  const config: ResolvedConfig = {
    inChannels: posInt('in_channels', c.in_channels),
    outChannels: posInt('out_channels', c.out_channels),
    sampleSize: typeof sampleSize === 'number' ? sampleSize : Array.isArray(sampleSize) ? Number(sampleSize[0]) : null,
    centerInputSample: bool('center_input_sample', c.center_input_sample),
    flipSinToCos: bool('flip_sin_to_cos', c.flip_sin_to_cos),
    freqShift,
    timeEmbeddingDim: c.time_embedding_dim === null ? 4 * c0 : posInt('time_embedding_dim', c.time_embedding_dim),
    blockOutChannels,
    downAttention,
    upAttention,
    midBlock: c.mid_block_type !== null,
    addAttention: bool('add_attention', c.add_attention),
    layersPerBlock: posInt('layers_per_block', c.layers_per_block),
    midBlockScaleFactor: num('mid_block_scale_factor', c.mid_block_scale_factor),
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
  return { config, warnings };
}

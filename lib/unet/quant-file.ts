/**
 * The quantized model file `itokit.quantized-unet` v1 (spec/quantized-unet.md §8): one
 * safetensors file with integer codes, FP tensors, per-step activation parameters and the exact
 * temporal-feature cache.
 * @internal
 * @packageDocumentation
 */
import { DeviceOption } from '../backends';
import { ModelFormatError } from '../errors';
import { resolveConfig } from './config';
import { NativeQuant, unetNative } from './native-unet';
import { UNetModel, Precision } from './model';
import { SafetensorsFile, StTensor, StTensorInput, serializeSafetensors, toFloat32 } from './safetensors';

/** The `format` metadata value of quantized files. */
export const QUANT_FORMAT = 'itokit.quantized-unet';

/** Values kept per EMA-phase tensor by actRange 'search' (native kActSamplePerTensor, unet_calib.h). */
export const ACT_SAMPLE_PER_TENSOR = 2048;

function i64(values: Float64Array): BigInt64Array {
  return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
}

/** Serialises a quantized model (§8). */
export function serializeQuantized(m: UNetModel): Uint8Array {
  if (!m.quantized || !m.quantMeta) throw new ModelFormatError('only quantized models are saved in the itokit format; FP models stay diffusers folders');
  const ex = unetNative().unetExport(m.handle);
  const tensors: Record<string, StTensorInput> = {};
  for (const t of ex.tensors) tensors[t.name] = { dtype: t.dtype, shape: t.shape, data: t.data };
  const S = ex.steps!.length;
  const A = ex.actNames!.length;
  tensors['schedule.timesteps'] = { dtype: 'I64', shape: [S], data: i64(ex.steps!) };
  tensors['act.scale'] = { dtype: 'F32', shape: [S, A], data: ex.actScale! };
  tensors['act.zero'] = { dtype: 'U8', shape: [S, A], data: ex.actZero! };
  const U = ex.cacheT!.length;
  tensors['temporal.timesteps'] = { dtype: 'I64', shape: [U], data: i64(ex.cacheT!) };
  tensors['temporal.features'] = { dtype: 'F32', shape: [U, U ? ex.cache!.length / U : 0], data: ex.cache! };
  const layers: Record<string, unknown> = {};
  for (const l of ex.layers) layers[l.name] = { kind: l.kind, shape: l.shape, bits: l.bits, group_size: l.groupSize, act: l.act };
  const q = m.quantMeta;
  const quant = {
    weight_bits: q.weight_bits,
    act_bits: q.act_bits,
    granularity: (q.group_size as number) > 0 ? 'group' : 'channel',
    group_size: q.group_size,
    k_order: 'ohwi',
    scaler: { p: 2.4, steps: 80, ratio_step: 0.01 },
    rounding: 'nearest',
    temporal_mode: 'exact',
    tib_weights: q.tib_weights ?? 'f32',
    fp_weights: q.fp_weights ?? 'f32',
    layers,
    act_quantizers: ex.actNames,
    resnets: { prefixes: ex.tibPrefixes, widths: ex.tibWidths },
    schedule: q.schedule,
    calibration: q.calibration,
  };
  return serializeSafetensors(tensors, {
    format: QUANT_FORMAT,
    format_version: '1',
    unet_config: JSON.stringify(m.rawConfig),
    quant: JSON.stringify(quant),
  });
}

function need(f: SafetensorsFile, name: string, dtype: string, file: string): StTensor {
  const t = f.tensors.get(name);
  if (!t) throw new ModelFormatError(`${file}: missing tensor ${name}`);
  if (t.dtype !== dtype) throw new ModelFormatError(`${file}: tensor ${name} must be ${dtype}, got ${t.dtype}`);
  return t;
}

function i64ToF64(t: StTensor): Float64Array {
  const n = t.data.length / 8;
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = dv.getBigInt64(8 * i, true);
    if (v < 0n || v > 1n << 31n) throw new ModelFormatError(`timestep ${v} is out of range`);
    out[i] = Number(v);
  }
  return out;
}

/** Builds a model from a parsed §8 file; `device` becomes the model's default predict device. */
export function loadQuantized(f: SafetensorsFile, file: string, device?: DeviceOption): UNetModel {
  const meta = f.metadata ?? {};
  const version = meta.format_version;
  if (version === undefined || String(version).split('.')[0] !== '1') {
    throw new ModelFormatError(`${file}: unsupported format_version ${JSON.stringify(version)} (this itokit reads version 1)`);
  }
  let rawConfig: Record<string, unknown>;
  let quant: Record<string, unknown>;
  try {
    rawConfig = JSON.parse(meta.unet_config ?? 'null') as Record<string, unknown>;
    quant = JSON.parse(meta.quant ?? 'null') as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError(`${file}: metadata unet_config / quant is not JSON`, { cause: e });
  }
  if (!rawConfig || !quant || typeof quant !== 'object') throw new ModelFormatError(`${file}: metadata lacks unet_config or quant`);
  if (quant.temporal_mode !== 'exact') throw new ModelFormatError(`${file}: temporal_mode ${JSON.stringify(quant.temporal_mode)} is not supported (only 'exact')`);
  const { config, warnings } = resolveConfig(rawConfig);
  const tibWeights = quant.tib_weights ?? 'f32', fpWeights = quant.fp_weights ?? 'f32';
  if (tibWeights !== 'f32' && tibWeights !== 'none') throw new ModelFormatError(`${file}: tib_weights ${JSON.stringify(tibWeights)} is not 'f32' or 'none'`);
  if (fpWeights !== 'f32' && fpWeights !== 'f16') throw new ModelFormatError(`${file}: fp_weights ${JSON.stringify(fpWeights)} is not 'f32' or 'f16'`);
  // calibration.act_range (§7.4 [X]) describes how the stored act.scale / act.zero were found;
  // the runtime only reads those tensors, so loading checks the value and keeps it for saving.
  const calib = quant.calibration as Record<string, unknown> | undefined;
  const actRange = calib?.act_range ?? 'minmax';
  if (actRange !== 'minmax' && actRange !== 'search') throw new ModelFormatError(`${file}: calibration.act_range ${JSON.stringify(actRange)} is not 'minmax' or 'search'`);
  const layersMeta = quant.layers as Record<string, { shape: number[]; bits: number; group_size: number; act: number }>;
  if (!layersMeta || typeof layersMeta !== 'object') throw new ModelFormatError(`${file}: quant.layers is missing`);
  const qlayers: NativeQuant['layers'] = [];
  const used = new Set<string>();
  for (const [name, l] of Object.entries(layersMeta)) {
    const qw = need(f, `${name}.qweight`, 'U8', file);
    const sc = need(f, `${name}.wscale`, 'F32', file);
    const ze = need(f, `${name}.wzero`, 'F32', file);
    used.add(`${name}.qweight`).add(`${name}.wscale`).add(`${name}.wzero`);
    const shape = l.shape.length === 2 ? [l.shape[0], l.shape[1], 1, 1] : l.shape;
    const K = shape[1] * shape[2] * shape[3];
    const row = l.bits === 4 ? Math.ceil(K / 2) : K;
    if (qw.shape.length !== 2 || qw.shape[0] !== shape[0] || qw.shape[1] !== row) {
      throw new ModelFormatError(`${file}: ${name}.qweight has shape [${qw.shape.join(', ')}], expected [${shape[0]}, ${row}]`);
    }
    qlayers.push({
      name,
      shape: l.shape,
      bits: l.bits,
      groupSize: l.group_size,
      codes: new Uint8Array(qw.data),
      scale: toFloat32(sc, `${name}.wscale`),
      zero: toFloat32(ze, `${name}.wzero`),
    });
  }
  const special = ['schedule.timesteps', 'act.scale', 'act.zero', 'temporal.timesteps', 'temporal.features'];
  const names: string[] = [];
  const arrays: Float32Array[] = [];
  const shapes: number[][] = [];
  const isTib = (name: string): boolean => /^time_embedding\.|\.time_emb_proj\.(weight|bias)$/.test(name);
  for (const [name, t] of f.tensors) {
    if (used.has(name) || special.includes(name)) continue;
    if (tibWeights === 'none' && isTib(name)) throw new ModelFormatError(`${file}: ${name} is present although tib_weights is 'none'`);
    // fp_weights 'f16' (§8): conv/linear weights of the FP-kept layers are F16, everything else F32
    const want = fpWeights === 'f16' && t.shape.length >= 2 && name.endsWith('.weight') && !isTib(name) ? 'F16' : 'F32';
    if (t.dtype !== want) throw new ModelFormatError(`${file}: FP tensor ${name} must be ${want} (fp_weights '${fpWeights}'), got ${t.dtype}`);
    names.push(name);
    arrays.push(toFloat32(t, name));
    shapes.push(t.shape);
  }
  if (tibWeights === 'none') {
    // Cache-only file (§7.2): the model still has TIB layers; zero stand-ins of their shapes are
    // released again by the native side, which then refuses cache misses.
    const E = config.timeEmbeddingDim, C0 = config.blockOutChannels[0];
    const res = quant.resnets as { prefixes?: string[]; widths?: number[] } | undefined;
    if (!res || !Array.isArray(res.prefixes) || !Array.isArray(res.widths) || res.prefixes.length !== res.widths.length) {
      throw new ModelFormatError(`${file}: quant.resnets must list the TIB prefixes and widths`);
    }
    const add = (name: string, shape: number[]): void => {
      names.push(name);
      arrays.push(new Float32Array(shape.reduce((a, b) => a * b, 1)));
      shapes.push(shape);
    };
    add('time_embedding.linear_1.weight', [E, C0]);
    add('time_embedding.linear_1.bias', [E]);
    add('time_embedding.linear_2.weight', [E, E]);
    add('time_embedding.linear_2.bias', [E]);
    res.prefixes.forEach((p, i) => {
      add(`${p}.time_emb_proj.weight`, [res.widths![i], E]);
      add(`${p}.time_emb_proj.bias`, [res.widths![i]]);
    });
  }
  const steps = i64ToF64(need(f, 'schedule.timesteps', 'I64', file));
  const nq: NativeQuant = {
    weightBits: Number(quant.weight_bits),
    groupSize: Number(quant.group_size ?? 0),
    actNames: (quant.act_quantizers as string[]) ?? [],
    layers: qlayers,
    steps,
    actScale: toFloat32(need(f, 'act.scale', 'F32', file), 'act.scale'),
    actZero: new Uint8Array(need(f, 'act.zero', 'U8', file).data),
    cacheT: i64ToF64(need(f, 'temporal.timesteps', 'I64', file)),
    cache: toFloat32(need(f, 'temporal.features', 'F32', file), 'temporal.features'),
    fpF16: fpWeights === 'f16',
    cacheOnly: tibWeights === 'none',
  };
  const handle = unetNative().unetCreate(config, names, arrays, shapes, nq);
  const precision = `w${nq.weightBits}a${quant.act_bits}` as Precision;
  return new UNetModel({
    handle,
    config,
    rawConfig,
    warnings,
    precision,
    device,
    quantMeta: {
      weight_bits: nq.weightBits,
      act_bits: quant.act_bits,
      group_size: nq.groupSize,
      tib_weights: tibWeights,
      fp_weights: fpWeights,
      schedule: quant.schedule,
      calibration: quant.calibration,
    },
  });
}

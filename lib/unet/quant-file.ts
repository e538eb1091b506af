/**
 * The quantized model file `itokit.quantized-unet` v1 (docs/design/unet.md): one
 * safetensors file with integer codes, FP tensors, per-step activation parameters and the exact
 * temporal-feature cache.
 * @internal
 * @packageDocumentation
 */
import { DeviceOption } from '../backends';
import { ModelFormatError } from '../errors';
import { planModel, resolveConfig, show } from './config';
import { runNativeSync } from '../run';
import { NativeQuant, unetNative } from './native-unet';
import { UNetModel, Precision } from './model';
import { SafetensorsFile, StTensor, StTensorInput, serializeSafetensors, toFiniteFloat32 } from './safetensors';

/** The `format` metadata value of quantized files. */
export const QUANT_FORMAT = 'itokit.quantized-unet';

/** Values kept per EMA-phase tensor by actRange 'search' (native kActSamplePerTensor, unet_calib.h). */
export const ACT_SAMPLE_PER_TENSOR = 2048;

function i64(values: Float64Array): BigInt64Array {
  return BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
}

/** Serialises a quantized model (docs/design/unet.md). */
export function serializeQuantized(m: UNetModel): Uint8Array {
  if (!m.quantized || !m.quantMeta) throw new ModelFormatError('only quantized models are saved in the itokit format; FP models stay diffusers folders');
  const ex = unetNative().unetExport({ model: m.handle });
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
  let unetConfig: string;
  try {
    unetConfig = JSON.stringify(m.rawConfig);
  } catch (e) {
    // config.json as read is saved verbatim; JSON.parse accepts nesting JSON.stringify cannot write
    throw new ModelFormatError(`the model's config.json cannot be written back (${(e as Error).message})`, { cause: e });
  }
  return serializeSafetensors(tensors, {
    format: QUANT_FORMAT,
    format_version: '1',
    unet_config: unetConfig,
    quant: JSON.stringify(quant),
  });
}

/**
 * Bounds of every stored quantization step Δ (weights' wscale, activations' act.scale). The
 * quantizers never store less than 1e-8 (unet_calib.h); a Δ of 1e4 would mean weights or
 * activations in the hundreds of thousands, which no trained UNet has. Outside the range a file
 * loads into a model whose every code saturates: finite outputs that mean nothing.
 */
export const QUANT_SCALE_RANGE = { min: 1e-9, max: 1e4 } as const;

/** Group sizes of the format (docs/design/unet.md): 0 is one group per output channel. */
const GROUP_SIZES = [0, 32, 64, 128];

/** Tensors of a quantized file that are not layer weights. */
const SPECIAL = new Set(['schedule.timesteps', 'act.scale', 'act.zero', 'temporal.timesteps', 'temporal.features']);

function need(f: SafetensorsFile, name: string, dtype: string, file: string): StTensor {
  const t = f.tensors.get(name);
  if (!t) throw new ModelFormatError(`${file}: missing tensor ${name}`);
  if (t.dtype !== dtype) throw new ModelFormatError(`${file}: tensor ${name} must be ${dtype}, got ${t.dtype}`);
  return t;
}

function i64ToF64(t: StTensor, name: string, file: string): Float64Array {
  const n = t.data.length / 8;
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = dv.getBigInt64(8 * i, true);
    if (v < 0n || v > 1n << 31n) throw new ModelFormatError(`${file}: ${name}[${i}] = ${v} is outside [0, 2^31]`);
    out[i] = Number(v);
  }
  return out;
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** The validated `quant` metadata (docs/design/unet.md). */
interface QuantMeta {
  weightBits: 4 | 8;
  groupSize: number;
  tibWeights: 'f32' | 'none';
  fpWeights: 'f32' | 'f16';
  layers: Map<string, { shape: number[]; bits: number; groupSize: number }>;
  actQuantizers: string[];
  resnets?: { prefixes: string[]; widths: number[] };
  schedule?: Record<string, unknown>;
  calibration?: Record<string, unknown>;
}

/**
 * Checks the `quant` metadata of a quantized file (docs/design/unet.md §8) by itself: every field of the right kind and in range
 * (nulls, arrays for objects, unknown enum values and out-of-range numbers fail, naming the field).
 * Whether it fits the model is checked against the config's plan afterwards.
 */
function checkQuantMeta(quant: unknown, file: string): QuantMeta {
  const fail = (what: string, v: unknown, why: string): never => {
    throw new ModelFormatError(`${file}: quant.${what} = ${show(v)}: ${why}`);
  };
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(quant)) throw new ModelFormatError(`${file}: metadata quant must be a JSON object`);
  const optObj = (k: string): Record<string, unknown> | undefined => {
    const v = quant[k];
    if (v !== undefined && !isObj(v)) fail(k, v, 'must be an object');
    return v as Record<string, unknown> | undefined;
  };
  const oneOf = <T>(k: string, allowed: readonly T[], dflt?: T): T => {
    const v = quant[k] === undefined && dflt !== undefined ? dflt : quant[k];
    if (!allowed.includes(v as T)) fail(k, v, `not one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return v as T;
  };
  if (quant.temporal_mode !== 'exact') throw new ModelFormatError(`${file}: temporal_mode ${show(quant.temporal_mode)} is not supported (only 'exact')`);
  const weightBits = oneOf('weight_bits', [4, 8] as const);
  oneOf('act_bits', [8]);
  const groupSize = oneOf('group_size', GROUP_SIZES, 0);
  if (quant.granularity !== undefined) oneOf('granularity', [groupSize > 0 ? 'group' : 'channel']);
  if (quant.k_order !== undefined) oneOf('k_order', ['ohwi']);
  if (quant.rounding !== undefined) oneOf('rounding', ['nearest']);
  optObj('scaler');
  const tibWeights = oneOf('tib_weights', ['f32', 'none'] as const, 'f32');
  const fpWeights = oneOf('fp_weights', ['f32', 'f16'] as const, 'f32');
  const schedule = optObj('schedule');
  // calibration.act_range (docs/design/unet.md) describes how the stored act.scale / act.zero were found;
  // the runtime only reads those tensors, so loading checks the value and keeps it for saving.
  const calibration = optObj('calibration');
  const actRange = calibration?.act_range ?? 'minmax';
  if (actRange !== 'minmax' && actRange !== 'search') throw new ModelFormatError(`${file}: calibration.act_range ${show(actRange)} is not 'minmax' or 'search'`);
  const rawLayers = quant.layers;
  if (!isObj(rawLayers)) return fail('layers', rawLayers, 'must be an object of integer layers');
  const layers = new Map<string, { shape: number[]; bits: number; groupSize: number }>();
  for (const [name, l] of Object.entries(rawLayers)) {
    if (!isObj(l)) return fail(`layers["${name}"]`, l, 'must be an object');
    const shape = l.shape;
    if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 4) || !shape.every((d) => Number.isInteger(d) && d >= 1 && d <= 0x7fffffff)) {
      fail(`layers["${name}"].shape`, shape, 'must list 2 or 4 positive integers');
    }
    if (l.bits !== weightBits) fail(`layers["${name}"].bits`, l.bits, `must equal weight_bits ${weightBits}`);
    const g = l.group_size ?? 0;
    if (g !== 0 && g !== groupSize) fail(`layers["${name}"].group_size`, g, `must be 0 or group_size ${groupSize}`);
    if (l.kind !== undefined && l.kind !== ((shape as number[]).length === 2 ? 'linear' : 'conv')) fail(`layers["${name}"].kind`, l.kind, 'does not match its shape');
    if (l.act !== undefined && !(Number.isInteger(l.act) && (l.act as number) >= -1)) fail(`layers["${name}"].act`, l.act, 'must be an integer >= -1');
    layers.set(name, { shape: shape as number[], bits: weightBits, groupSize: g as number });
  }
  const aq = quant.act_quantizers ?? [];
  if (!Array.isArray(aq) || !aq.every((a) => typeof a === 'string')) fail('act_quantizers', aq, 'must be a list of names');
  const rawRes = quant.resnets;
  let resnets: QuantMeta['resnets'];
  if (rawRes !== undefined) {
    if (!isObj(rawRes) || !Array.isArray(rawRes.prefixes) || !Array.isArray(rawRes.widths) || rawRes.prefixes.length !== rawRes.widths.length) {
      fail('resnets', rawRes, 'must list the TIB prefixes and widths');
    }
    resnets = rawRes as QuantMeta['resnets'];
  } else if (tibWeights === 'none') {
    throw new ModelFormatError(`${file}: quant.resnets must list the TIB prefixes and widths`);
  }
  return { weightBits, groupSize, tibWeights, fpWeights, layers, actQuantizers: aq as string[], resnets, schedule, calibration };
}

/** A (Δ) tensor: finite and within {@link QUANT_SCALE_RANGE}. */
function scales(t: StTensor, name: string, file: string): Float32Array {
  const v = toFiniteFloat32(t, name);
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] >= QUANT_SCALE_RANGE.min && v[i] <= QUANT_SCALE_RANGE.max)) {
      throw new ModelFormatError(`${file}: ${name}[${i}] = ${v[i]} is outside [${QUANT_SCALE_RANGE.min}, ${QUANT_SCALE_RANGE.max}]`);
    }
  }
  return v;
}

/**
 * Builds a model from a parsed quantized file (docs/design/unet.md §8); `device` becomes the model's default predict device.
 * Everything is validated before the model is built: the metadata (checkQuantMeta), the config
 * (resolveConfig), every tensor's name, dtype and shape against what the config implies
 * (planModel), and every value the model reads (finite FP tensors and cache, scales within
 * {@link QUANT_SCALE_RANGE}, timesteps in [0, 2^31]). Failures are ModelFormatErrors naming the file.
 */
export function loadQuantized(f: SafetensorsFile, file: string, device?: DeviceOption): UNetModel {
  const meta = f.metadata ?? {};
  const version = meta.format_version;
  if (version === undefined || String(version).split('.')[0] !== '1') {
    throw new ModelFormatError(`${file}: unsupported format_version ${JSON.stringify(version)} (this itokit reads version 1)`);
  }
  let rawConfig: unknown;
  let rawQuant: unknown;
  try {
    rawConfig = JSON.parse(meta.unet_config ?? 'null');
    rawQuant = JSON.parse(meta.quant ?? 'null');
  } catch (e) {
    throw new ModelFormatError(`${file}: metadata unet_config / quant is not JSON`, { cause: e });
  }
  if (rawConfig === null || typeof rawConfig !== 'object' || Array.isArray(rawConfig)) throw new ModelFormatError(`${file}: metadata unet_config must be a JSON object`);
  const q = checkQuantMeta(rawQuant, file);
  const { config, warnings } = resolveConfig(rawConfig as Record<string, unknown>);
  // Shapes the file holds, integer layers by their FP shape, for the plan.
  const shapes = new Map<string, number[]>();
  const layerTensors = new Set<string>();
  for (const [name, l] of q.layers) {
    for (const suffix of ['.qweight', '.wscale', '.wzero']) layerTensors.add(name + suffix);
    shapes.set(`${name}.weight`, l.shape);
  }
  for (const [name, t] of f.tensors) {
    if (SPECIAL.has(name) || layerTensors.has(name)) continue;
    if (shapes.has(name)) throw new ModelFormatError(`${file}: ${name} is held both as FP weights and as integer codes`);
    shapes.set(name, t.shape);
  }
  const plan = planModel(config, shapes, { tibAbsent: q.tibWeights === 'none' });
  if (plan.unexpected.length) throw new ModelFormatError(`${file}: unexpected tensor ${plan.unexpected[0]}${plan.unexpected.length > 1 ? ` (and ${plan.unexpected.length - 1} more)` : ''}`);
  const integer = new Set(plan.integerLayers);
  for (const name of q.layers.keys()) if (!integer.has(name)) throw new ModelFormatError(`${file}: layer ${name} is not an integer layer of this model`);
  for (const name of plan.integerLayers) if (!q.layers.has(name)) throw new ModelFormatError(`${file}: integer layer ${name} has no codes in the file`);
  if (q.actQuantizers.length !== plan.actNames.length || q.actQuantizers.some((a, i) => a !== plan.actNames[i])) {
    throw new ModelFormatError(`${file}: act_quantizers does not match the model's quantizer plan (${plan.actNames.length} quantizers)`);
  }
  if (q.resnets && (!same(q.resnets.widths, plan.tibWidths) || q.resnets.prefixes.some((p, i) => p !== plan.tibPrefixes[i]))) {
    throw new ModelFormatError(`${file}: quant.resnets does not match the model's resnets`);
  }
  const qlayers: NativeQuant['layers'] = [];
  for (const [name, l] of q.layers) {
    const qw = need(f, `${name}.qweight`, 'U8', file);
    const sc = need(f, `${name}.wscale`, 'F32', file);
    const ze = need(f, `${name}.wzero`, 'F32', file);
    const shape = l.shape.length === 2 ? [l.shape[0], l.shape[1], 1, 1] : l.shape;
    const K = shape[1] * shape[2] * shape[3];
    const row = l.bits === 4 ? Math.ceil(K / 2) : K;
    if (!same(qw.shape, [shape[0], row])) {
      throw new ModelFormatError(`${file}: ${name}.qweight has shape [${qw.shape.join(', ')}], expected [${shape[0]}, ${row}]`);
    }
    if (sc.shape.length !== 2 || sc.shape[0] !== shape[0] || !same(sc.shape, ze.shape)) {
      throw new ModelFormatError(`${file}: ${name}.wscale / .wzero have shapes [${sc.shape.join(', ')}] / [${ze.shape.join(', ')}], expected [${shape[0]}, groups]`);
    }
    qlayers.push({
      name,
      shape: l.shape,
      bits: l.bits,
      groupSize: l.groupSize,
      codes: new Uint8Array(qw.data),
      scale: scales(sc, `${name}.wscale`, file),
      zero: toFiniteFloat32(ze, `${name}.wzero`),
    });
  }
  const tib = new Set(plan.tensors.filter((t) => t.tib).map((t) => t.name));
  const names: string[] = [];
  const arrays: Float32Array[] = [];
  const fpShapes: number[][] = [];
  for (const [name, t] of f.tensors) {
    if (SPECIAL.has(name) || layerTensors.has(name)) continue;
    if (q.tibWeights === 'none' && tib.has(name)) throw new ModelFormatError(`${file}: ${name} is present although tib_weights is 'none'`);
    // fp_weights 'f16' (docs/design/unet.md): conv/linear weights of the FP-kept layers are F16, everything else F32
    const want = q.fpWeights === 'f16' && t.shape.length >= 2 && name.endsWith('.weight') && !tib.has(name) ? 'F16' : 'F32';
    if (t.dtype !== want) throw new ModelFormatError(`${file}: FP tensor ${name} must be ${want} (fp_weights '${q.fpWeights}'), got ${t.dtype}`);
    names.push(name);
    arrays.push(toFiniteFloat32(t, name));
    fpShapes.push(t.shape);
  }
  const A = plan.actNames.length;
  const tibWidth = plan.tibWidths.reduce((a, b) => a + b, 0);
  const stepsT = need(f, 'schedule.timesteps', 'I64', file);
  const S = stepsT.shape[0];
  if (stepsT.shape.length !== 1 || S < 1) throw new ModelFormatError(`${file}: schedule.timesteps must be [S] with S >= 1, got [${stepsT.shape.join(', ')}]`);
  const actScaleT = need(f, 'act.scale', 'F32', file);
  const actZeroT = need(f, 'act.zero', 'U8', file);
  for (const [n, t] of [['act.scale', actScaleT], ['act.zero', actZeroT]] as const) {
    if (!same(t.shape, [S, A])) throw new ModelFormatError(`${file}: ${n} has shape [${t.shape.join(', ')}], expected [${S}, ${A}]`);
  }
  const cacheTT = need(f, 'temporal.timesteps', 'I64', file);
  const cacheT = need(f, 'temporal.features', 'F32', file);
  const U = cacheTT.shape[0];
  if (cacheTT.shape.length !== 1 || !(same(cacheT.shape, [U, tibWidth]) || (U === 0 && same(cacheT.shape, [0, 0])))) {
    throw new ModelFormatError(`${file}: temporal.timesteps / .features have shapes [${cacheTT.shape.join(', ')}] / [${cacheT.shape.join(', ')}], expected [U] / [U, ${tibWidth}]`);
  }
  const steps = i64ToF64(stepsT, 'schedule.timesteps', file);
  const cacheTimesteps = i64ToF64(cacheTT, 'temporal.timesteps', file);
  if (q.tibWeights === 'none') {
    // a cache-only model computes no temporal feature: each calibrated step must be cached (docs/design/unet.md)
    const cached = new Set(cacheTimesteps);
    const miss = steps.find((t) => !cached.has(t));
    if (miss !== undefined) throw new ModelFormatError(`${file}: calibrated timestep ${miss} has no cached temporal feature in a cache-only file (tib_weights 'none')`);
  }
  const nq: NativeQuant = {
    weightBits: q.weightBits,
    groupSize: q.groupSize,
    actNames: q.actQuantizers,
    layers: qlayers,
    steps,
    actScale: scales(actScaleT, 'act.scale', file),
    actZero: new Uint8Array(actZeroT.data),
    cacheT: cacheTimesteps,
    cache: toFiniteFloat32(cacheT, 'temporal.features'),
    fpF16: q.fpWeights === 'f16',
    cacheOnly: q.tibWeights === 'none',
  };
  const handle = runNativeSync(() => unetNative().unetCreate({ config, names, arrays, shapes: fpShapes, quant: nq }));
  const precision: Precision = q.weightBits === 4 ? 'w4a8' : 'w8a8';
  return new UNetModel({
    handle,
    config,
    rawConfig: rawConfig as Record<string, unknown>,
    warnings,
    precision,
    device,
    quantMeta: {
      weight_bits: q.weightBits,
      act_bits: 8,
      group_size: q.groupSize,
      tib_weights: q.tibWeights,
      fp_weights: q.fpWeights,
      schedule: q.schedule,
      calibration: q.calibration,
    },
  });
}

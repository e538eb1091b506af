/**
 * Model folders and files (docs/design/unet.md): flat or pipeline (`unet/`) layouts, fp16
 * variant, sharded weights, both attention naming schemes, F32/F16/BF16 tensors; `.bin`-only
 * folders are refused. Returns canonical FP32 tensors for the native layer.
 * @internal
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { ModelFormatError } from '../errors';
import { DiffusersConfig, show } from './config';
import { SafetensorsFile, readSafetensors, toFiniteFloat32 } from './safetensors';

/** A folder's contents: its config, FP32 tensors under canonical names, and notes. */
export interface LoadedFolder {
  config: DiffusersConfig;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  warnings: string[];
  /** The scheduler config when the folder has one. */
  scheduler?: Record<string, unknown>;
  dir: string;
}

const DEPRECATED: [string, string][] = [
  ['.query.', '.to_q.'],
  ['.key.', '.to_k.'],
  ['.value.', '.to_v.'],
  ['.proj_attn.', '.to_out.0.'],
];

/** Reads a JSON object (config, index, scheduler config); any other JSON value is a format error. */
function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelFormatError(`cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${file} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ModelFormatError(`${file} must hold a JSON object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return v as Record<string, unknown>;
}

/** Where the UNet of a folder lives (flat, or `unet/` of a pipeline) and its scheduler config. */
function unetDir(dir: string): { dir: string; scheduler?: string } {
  if (fs.existsSync(path.join(dir, 'model_index.json')) && fs.existsSync(path.join(dir, 'unet'))) {
    const s = path.join(dir, 'scheduler', 'scheduler_config.json');
    return { dir: path.join(dir, 'unet'), scheduler: fs.existsSync(s) ? s : undefined };
  }
  const s = path.join(dir, 'scheduler_config.json');
  return { dir, scheduler: fs.existsSync(s) ? s : undefined };
}

/** Renames the deprecated attention names; mixing schemes within one block is an error (docs/design/unet.md). */
export function canonicalName(name: string): string {
  for (const [a, b] of DEPRECATED) if (name.includes(a)) return name.replace(a, b);
  return name;
}

function checkNaming(names: string[]): void {
  const schemes = new Map<string, Set<string>>();
  for (const n of names) {
    const m = /^(.*\.attentions\.\d+)\.(query|key|value|proj_attn|to_q|to_k|to_v|to_out)\./.exec(n);
    if (!m) continue;
    const kind = ['query', 'key', 'value', 'proj_attn'].includes(m[2]) ? 'deprecated' : 'new';
    if (!schemes.has(m[1])) schemes.set(m[1], new Set());
    schemes.get(m[1])!.add(kind);
  }
  for (const [block, s] of schemes) {
    if (s.size > 1) throw new ModelFormatError(`${block} mixes the deprecated (query/key/value/proj_attn) and new (to_q/to_k/to_v/to_out.0) attention names`);
  }
}

/** Reads a diffusers model folder (docs/design/unet.md). */
export function readFolder(dir: string, o: { variant?: 'fp16' } = {}): LoadedFolder {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFormatError(`${dir} is not a model folder`);
  const where = unetDir(dir);
  const cfgFile = path.join(where.dir, 'config.json');
  if (!fs.existsSync(cfgFile)) throw new ModelFormatError(`${where.dir} has no config.json`);
  const config = readJson(cfgFile);
  if (config._class_name !== undefined && config._class_name !== 'UNet2DModel') {
    throw new ModelFormatError(`config.json: _class_name ${show(config._class_name)} is not supported (only UNet2DModel)`);
  }
  const stem = o.variant === 'fp16' ? 'diffusion_pytorch_model.fp16' : 'diffusion_pytorch_model';
  const single = path.join(where.dir, `${stem}.safetensors`);
  const index = path.join(where.dir, `${stem}.safetensors.index.json`);
  const files: SafetensorsFile[] = [];
  if (fs.existsSync(single)) {
    files.push(readSafetensors(single));
  } else if (fs.existsSync(index)) {
    const idx = readJson(index);
    const map = idx.weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== 'object' || Array.isArray(map)) throw new ModelFormatError(`${index} has no weight_map`);
    for (const shard of [...new Set(Object.values(map))].sort()) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) throw new ModelFormatError(`${index}: bad shard name ${show(shard)}`);
      files.push(readSafetensors(path.join(where.dir, shard)));
    }
  } else {
    const bins = fs.readdirSync(where.dir).filter((f) => f.endsWith('.bin'));
    if (bins.length) {
      throw new ModelFormatError(
        `${where.dir} holds only PyTorch pickle weights (${bins.join(', ')}); itokit reads safetensors only. Convert with ` +
          `python -c "from diffusers import UNet2DModel; UNet2DModel.from_pretrained('${where.dir}').save_pretrained('${where.dir}', safe_serialization=True)"`,
      );
    }
    throw new ModelFormatError(`${where.dir} has no ${stem}.safetensors`);
  }
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const rawNames = new Set<string>();
  for (const f of files) {
    for (const [name, t] of f.tensors) {
      if (rawNames.has(name)) throw new ModelFormatError(`tensor ${name} appears in two shards`);
      rawNames.add(name);
      const data = toFiniteFloat32(t, name);
      let shape = t.shape;
      const canon = canonicalName(name);
      if (tensors.has(canon)) throw new ModelFormatError(`tensor ${canon} appears under both attention naming schemes`);
      // [C, C, 1, 1] attention projections are squeezed to [C, C] (docs/design/unet.md)
      if (/\.attentions\.\d+\.(to_q|to_k|to_v|to_out\.0)\.weight$/.test(canon) && shape.length === 4 && shape[2] === 1 && shape[3] === 1) shape = shape.slice(0, 2);
      tensors.set(canon, { shape, data });
    }
  }
  checkNaming([...rawNames]);
  const scheduler = where.scheduler ? readJson(where.scheduler) : undefined;
  return { config, tensors, warnings: [], scheduler, dir: where.dir };
}

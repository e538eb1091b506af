// UNet FP32 forward against PyTorch reference vectors and the time embedding (docs/design/unet.md §10),
// loader errors, and a ddpm-cifar10-32-shaped model with random weights.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setThreads } from '../lib/backends';
import { diffusion, unet } from '../lib';
import { readSafetensors, serializeSafetensors, toFloat32 } from '../lib/unet/safetensors';
import { slowTest, expectCode } from './helpers';

/** The coded error fn throws (asserting its code). */
function thrown(fn: () => unknown, code: string): Error {
  expectCode(fn, code);
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

const FIX = path.join(__dirname, 'fixtures', 'unet');

function ref(file: string): Map<string, { shape: number[]; data: Float32Array | Float64Array }> {
  const f = readSafetensors(file);
  const out = new Map<string, { shape: number[]; data: Float32Array | Float64Array }>();
  for (const [k, t] of f.tensors) {
    if (t.dtype === 'I64') {
      const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      out.set(k, { shape: t.shape, data: Float64Array.from({ length: t.data.length / 8 }, (_, i) => Number(dv.getBigInt64(8 * i, true))) });
    } else out.set(k, { shape: t.shape, data: toFloat32(t, k) });
  }
  return out;
}

/** ‖y − r‖₂ / ‖r‖₂ and max|y − r| / max|r|. */
function rel(y: ArrayLike<number>, r: ArrayLike<number>): { l2: number; max: number } {
  let num = 0, den = 0, mx = 0, mr = 0;
  expect(y.length).toBe(r.length);
  for (let i = 0; i < r.length; i++) {
    num += (y[i] - r[i]) ** 2;
    den += r[i] ** 2;
    mx = Math.max(mx, Math.abs(y[i] - r[i]));
    mr = Math.max(mr, Math.abs(r[i]));
  }
  return { l2: Math.sqrt(num / den), max: mx / mr };
}

describe('unet FP32 forward vs PyTorch', () => {
  const R = ref(path.join(FIX, 'builtin_ref.safetensors'));
  const model = unet.loadSync(unet.builtinModelPath());

  test.each(['builtin.a.', 'builtin.b.'])('built-in model %s (per-sample and scalar t)', async (p) => {
    const x = R.get(p + 'x')!;
    const t = Array.from(R.get(p + 't')!.data);
    const y = await model.predict({ data: x.data as Float32Array, shape: x.shape }, t.length === 1 ? t[0] : t);
    const e = rel(y, R.get(p + 'eps')!.data);
    expect(e.l2).toBeLessThan(1e-4);
    expect(e.max).toBeLessThan(1e-3);
    // time embedding e(t) within 1e-4 absolute; taps of emb and temporal features
    const taps = model.debugTaps({ data: x.data as Float32Array, shape: x.shape }, t.length === 1 ? t[0] : t);
    const tp = R.get(p + 'tap.time_proj')!.data;
    let maxAbs = 0;
    for (let i = 0; i < tp.length; i++) maxAbs = Math.max(maxAbs, Math.abs(taps.time_proj[i] - tp[i]));
    expect(maxAbs).toBeLessThan(1e-4);
    expect(rel(taps.temporal, R.get(p + 'tap.temporal')!.data).l2).toBeLessThan(1e-4);
    expect(rel(taps.mid_block, R.get(p + 'tap.mid_block')!.data).l2).toBeLessThan(1e-4);
  });

  test('predictSync equals predict, and results do not depend on the thread count', async () => {
    const x = R.get('builtin.a.x')!;
    const t = Array.from(R.get('builtin.a.t')!.data);
    const a = model.predictSync({ data: x.data as Float32Array, shape: x.shape }, t);
    setThreads(1);
    const b = model.predictSync({ data: x.data as Float32Array, shape: x.shape }, t);
    setThreads(7);
    const c = await model.predict({ data: x.data as Float32Array, shape: x.shape }, t);
    setThreads(os.cpus().length);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(Buffer.from(c.buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });

  test.each(['fixture_b_bf16', 'fixture_b_f16'])('%s: deprecated attention names, multi-head, padding 1, center, mid scale', async (dir) => {
    const m = await unet.load(path.join(FIX, dir));
    const r = ref(path.join(FIX, dir, 'ref.safetensors'));
    const x = r.get('x')!;
    const y = await m.predict({ data: x.data as Float32Array, shape: x.shape }, r.get('t')!.data[0]);
    const e = rel(y, r.get('eps')!.data);
    expect(e.l2).toBeLessThan(1e-4);
    expect(e.max).toBeLessThan(1e-3);
  });
});

describe('schedule and DDIM timesteps match diffusers', () => {
  const R = ref(path.join(FIX, 'builtin_ref.safetensors'));
  test('timestep lists (leading spacing) and the float32 linear-beta alphas_cumprod', () => {
    expect(diffusion.ddimTimesteps(1000, 100).slice(0, 3)).toEqual([990, 980, 970]);
    expect(diffusion.ddimTimesteps(1000, 100).at(-1)).toBe(0);
    expect(diffusion.ddimTimesteps(1000, 50).slice(0, 2)).toEqual([980, 960]);
    const full = diffusion.ddimTimesteps(1000, 1000);
    expect(full[0]).toBe(999);
    expect(full.length).toBe(1000);
    const a = diffusion.schedules.linearBetas(1000, 1e-4, 0.02, { float32: true }).alphasCumprod;
    const r = R.get('schedule.alphas_cumprod')!.data;
    let worst = 0;
    for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(a[i] - r[i]) / r[i]);
    expect(worst).toBeLessThan(1e-6);
  });
  test('10-step DDIM (clip_sample) with the built-in model equals the PyTorch run', async () => {
    const model = unet.loadSync(unet.builtinModelPath());
    const xT = R.get('ddim.xT')!.data as Float32Array;
    const { x } = await diffusion.ddim({
      batch: 4, dim: 256, seed: 0, steps: 10, x: xT, clipSample: true,
      alphasCumprod: diffusion.schedules.linearBetas(1000, 1e-4, 0.02, { float32: true }).alphasCumprod,
      epsModel: async (v, t, out) => out.set(await model.predict({ data: v, shape: [4, 1, 16, 16] }, t[0])),
    });
    expect(rel(x, R.get('ddim.x')!.data).l2).toBeLessThan(1e-4);
  });
});

describe('unet cifar10-32-shaped model (random weights)', () => {
  slowTest('the ddpm-cifar10-32 config builds, tensor names and shapes match diffusers, and a forward runs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-cifar-'));
    try {
      const cfg = {
        _class_name: 'UNet2DModel', act_fn: 'silu', attention_head_dim: null, block_out_channels: [128, 256, 256, 256], center_input_sample: false,
        down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'], downsample_padding: 0, flip_sin_to_cos: false,
        freq_shift: 1, in_channels: 3, layers_per_block: 2, mid_block_scale_factor: 1, norm_eps: 1e-6, norm_num_groups: 32, out_channels: 3,
        sample_size: 32, time_embedding_type: 'positional', up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
      };
      const tensors = cifarTensors(cfg);
      let params = 0;
      for (const t of Object.values(tensors)) params += t.data.length;
      expect(Object.keys(tensors).length).toBe(328);
      expect(params).toBe(35_746_307);
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
      fs.writeFileSync(path.join(dir, 'diffusion_pytorch_model.safetensors'), serializeSafetensors(tensors));
      const m = unet.loadSync(dir);
      expect(m.warnings).toEqual([]);
      expect(m.info().tibWidth).toBe(4992);
      const y = m.predictSync({ data: new Float32Array(3 * 32 * 32).fill(0.1), shape: [1, 3, 32, 32] }, 10);
      expect(y.length).toBe(3 * 32 * 32);
      expect(y.every(Number.isFinite)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Random tensors with the names and shapes of docs/design/unet.md §5 (independent of the loader: built from the
 * table, deprecated attention names as the original checkpoint conversion used).
 */
function cifarTensors(_cfg: unknown): Record<string, { dtype: string; shape: number[]; data: Float32Array }> {
  const out: Record<string, { dtype: string; shape: number[]; data: Float32Array }> = {};
  let s = 1;
  const add = (name: string, shape: number[], scale = 0.02): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = scale * (((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5);
    out[name] = { dtype: 'F32', shape, data: d };
  };
  const lin = (p: string, o: number, i: number): void => { add(p + '.weight', [o, i]); add(p + '.bias', [o]); };
  const conv = (p: string, o: number, i: number, k = 3): void => { add(p + '.weight', [o, i, k, k]); add(p + '.bias', [o]); };
  const gn = (p: string, c: number): void => { add(p + '.weight', [c], 1); add(p + '.bias', [c]); };
  const res = (p: string, i: number, o: number): void => {
    gn(p + '.norm1', i); conv(p + '.conv1', o, i); lin(p + '.time_emb_proj', o, 512); gn(p + '.norm2', o); conv(p + '.conv2', o, o);
    if (i !== o) conv(p + '.conv_shortcut', o, i, 1);
  };
  const att = (p: string, c: number): void => {
    gn(p + '.group_norm', c);
    for (const q of ['query', 'key', 'value', 'proj_attn']) lin(`${p}.${q}`, c, c);
  };
  conv('conv_in', 128, 3); lin('time_embedding.linear_1', 512, 128); lin('time_embedding.linear_2', 512, 512);
  res('down_blocks.0.resnets.0', 128, 128); res('down_blocks.0.resnets.1', 128, 128); conv('down_blocks.0.downsamplers.0.conv', 128, 128);
  res('down_blocks.1.resnets.0', 128, 256); att('down_blocks.1.attentions.0', 256); res('down_blocks.1.resnets.1', 256, 256); att('down_blocks.1.attentions.1', 256);
  conv('down_blocks.1.downsamplers.0.conv', 256, 256);
  for (const b of [2, 3]) for (const j of [0, 1]) res(`down_blocks.${b}.resnets.${j}`, 256, 256);
  conv('down_blocks.2.downsamplers.0.conv', 256, 256);
  res('mid_block.resnets.0', 256, 256); att('mid_block.attentions.0', 256); res('mid_block.resnets.1', 256, 256);
  for (const b of [0, 1]) { for (const j of [0, 1, 2]) res(`up_blocks.${b}.resnets.${j}`, 512, 256); conv(`up_blocks.${b}.upsamplers.0.conv`, 256, 256); }
  res('up_blocks.2.resnets.0', 512, 256); res('up_blocks.2.resnets.1', 512, 256); res('up_blocks.2.resnets.2', 384, 256);
  for (const j of [0, 1, 2]) att(`up_blocks.2.attentions.${j}`, 256);
  conv('up_blocks.2.upsamplers.0.conv', 256, 256);
  res('up_blocks.3.resnets.0', 384, 128); res('up_blocks.3.resnets.1', 256, 128); res('up_blocks.3.resnets.2', 256, 128);
  gn('conv_norm_out', 128); conv('conv_out', 3, 128);
  return out;
}

describe('unet loader errors', () => {
  const base = path.join(FIX, 'fixture_b_bf16');
  function variant(edit: (cfg: Record<string, unknown>, t: Map<string, { dtype: string; shape: number[]; data: Uint8Array }>) => void): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-unet-'));
    const cfg = JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8'));
    const f = readSafetensors(path.join(base, 'diffusion_pytorch_model.safetensors'));
    const t = new Map([...f.tensors].map(([k, v]) => [k, { ...v }]));
    edit(cfg, t);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    fs.writeFileSync(path.join(dir, 'diffusion_pytorch_model.safetensors'), serializeSafetensors(Object.fromEntries(t)));
    return dir;
  }
  test('missing tensor, wrong shape, mixed naming, unsupported config value, .bin-only folder', () => {
    const cases: [string, RegExp][] = [
      [variant((_c, t) => t.delete('conv_in.weight')), /missing conv_in\.weight/],
      [variant((_c, t) => { const w = t.get('conv_out.bias')!; t.set('conv_out.bias', { ...w, shape: [1], data: w.data.subarray(0, 2) }); }), /conv_out\.bias: expected \[2\], got \[1\]/],
      [variant((_c, t) => { const k = 'down_blocks.1.attentions.0.query.weight'; t.set('down_blocks.1.attentions.0.to_q.weight', t.get(k)!); t.delete(k); }), /mixes the deprecated/],
      [variant((c) => { c.act_fn = 'gelu'; }), /"act_fn"/],
      [variant((c) => { c.resnet_time_scale_shift = 'scale_shift'; }), /scale_shift/],
    ];
    for (const [dir, msg] of cases) {
      expect(thrown(() => unet.loadSync(dir), 'ERR_ITOKIT_MODEL_FORMAT').message).toMatch(msg);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-bin-'));
    fs.copyFileSync(path.join(base, 'config.json'), path.join(bin, 'config.json'));
    fs.writeFileSync(path.join(bin, 'diffusion_pytorch_model.bin'), 'x');
    expect(thrown(() => unet.loadSync(bin), 'ERR_ITOKIT_MODEL_FORMAT').message).toMatch(/safetensors only/);
    fs.rmSync(bin, { recursive: true, force: true });
  });

  test('pipeline layout with sharded weights loads; a name in two shards fails', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-pipe-'));
    fs.mkdirSync(path.join(dir, 'unet'));
    fs.writeFileSync(path.join(dir, 'model_index.json'), '{"_class_name":"DDPMPipeline"}');
    fs.copyFileSync(path.join(base, 'config.json'), path.join(dir, 'unet', 'config.json'));
    const f = readSafetensors(path.join(base, 'diffusion_pytorch_model.safetensors'));
    const names = [...f.tensors.keys()];
    const half = Math.floor(names.length / 2);
    const shard = (list: string[]): Uint8Array => serializeSafetensors(Object.fromEntries(list.map((n) => [n, f.tensors.get(n)!])));
    fs.writeFileSync(path.join(dir, 'unet', 'a.safetensors'), shard(names.slice(0, half)));
    fs.writeFileSync(path.join(dir, 'unet', 'b.safetensors'), shard(names.slice(half)));
    const map = Object.fromEntries(names.map((n, i) => [n, i < half ? 'a.safetensors' : 'b.safetensors']));
    fs.writeFileSync(path.join(dir, 'unet', 'diffusion_pytorch_model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
    const x = { data: new Float32Array(16 * 8).fill(0.3), shape: [1, 1, 16, 8] };
    const a = unet.loadSync(dir).predictSync(x, 7);
    const b = unet.loadSync(base).predictSync(x, 7);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    fs.writeFileSync(path.join(dir, 'unet', 'b.safetensors'), shard(names.slice(half - 1)));
    expect(thrown(() => unet.loadSync(dir), 'ERR_ITOKIT_MODEL_FORMAT').message).toMatch(/two shards/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('unknown config keys warn; bad inputs throw coded errors', async () => {
    const dir = variant((c) => { c.some_new_key = 1; });
    const m = unet.loadSync(dir);
    expect(m.warnings.join()).toMatch(/some_new_key/);
    expectCode(() => unet.loadSync(dir, { strict: true }), 'ERR_ITOKIT_MODEL_FORMAT');
    fs.rmSync(dir, { recursive: true, force: true });
    expectCode(() => m.predictSync({ data: new Float32Array(10), shape: [1, 1, 2, 5] }, 1), 'ERR_ITOKIT_SHAPE');
    expectCode(() => m.predictSync({ data: new Float32Array(16 * 8), shape: [1, 2, 16, 4] }, 1), 'ERR_ITOKIT_SHAPE');
    expectCode(() => m.predictSync({ data: new Float32Array(16 * 8).fill(NaN), shape: [1, 1, 16, 8] }, 1), 'ERR_ITOKIT_INVALID_ARG');
    // the finiteness check runs in the native forward and names the first bad index (sync and async)
    const inf = new Float32Array(2 * 16 * 8);
    inf[137] = -Infinity;
    inf[200] = NaN;
    expect(() => m.predictSync({ data: inf, shape: [2, 1, 16, 8] }, 1)).toThrow(/non-finite value at index 137/);
    expectCode(() => m.predictSync({ data: inf, shape: [2, 1, 16, 8] }, 1), 'ERR_ITOKIT_INVALID_ARG');
    await expect(m.predict({ data: inf, shape: [2, 1, 16, 8] }, 1)).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    expectCode(() => m.predictSync({ data: new Float32Array(16 * 8), shape: [1, 1, 16, 8] }, 0.5), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => m.predictSync({ data: new Float32Array(16 * 8), shape: [1, 1, 16, 8] }, [1, 2]), 'ERR_ITOKIT_SHAPE');
  });
});

describe('unet native calls take one options object (native/bindings/unet.cc, UnetAddon)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { unetNative } = require('../lib/unet/native-unet') as typeof import('../lib/unet/native-unet');
  const coded = (code: string, message: RegExp) => expect.objectContaining({ code, message: expect.stringMatching(message) });
  const m = unet.loadSync(unet.builtinModelPath());
  const args = () => ({ model: m.handle, x: new Float32Array(256), B: 1, H: 16, W: 16, t: new Float64Array([500]), out: new Float32Array(256),
    mode: 0, useCache: true, control: null, async: false });

  test('a well-formed call equals the public API bit for bit', () => {
    const a = args();
    a.x.set(Float32Array.from({ length: 256 }, (_, i) => Math.sin(0.3 * i)));
    unetNative().unetPredict(a);
    expect(Buffer.from(a.out.buffer).equals(Buffer.from(m.predictSync(a.x, 500).buffer))).toBe(true);
    expect(unetNative().unetInfo({ model: m.handle }).tibWidth).toBe(m.info().tibWidth);
  });

  test('positional arguments are refused, a missing or mistyped key is named, bad handles are coded errors', () => {
    const raw = unetNative().unetPredict as unknown as (...a: unknown[]) => unknown;
    expect(() => raw(m.handle, new Float32Array(256), 1, 16, 16)).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /^expected a UNet model handle/));
    const { t: _t, ...noT } = args();
    expect(() => unetNative().unetPredict(noT as never)).toThrow(coded('ERR_ITOKIT_DTYPE', /^t must be a TypedArray/));
    expect(() => unetNative().unetPredict({ ...args(), H: -1 })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /^H must be an integer/));
    expect(() => unetNative().unetPredict({ ...args(), mode: 3 })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /^mode must be 0/));
    expect(() => unetNative().unetPredict({ ...args(), mode: 1 })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /not quantized/));
    expect(() => unetNative().unetPredict({ ...args(), fpPrecision: 3 })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /^fpPrecision must be/));
    expect(() => unetNative().unetPredict({ ...args(), out: new Float32Array(255) })).toThrow(coded('ERR_ITOKIT_SHAPE', /out has the wrong size/));
    expect(() => unetNative().unetTemporal({ model: m.handle, t: new Float64Array([1]), cached: true })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /not quantized/));
    expect(() => unetNative().unetInfo({ model: {} as never })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /^expected a UNet model handle/));
    const d = unet.loadSync(unet.builtinModelPath());
    d.dispose();
    expect(() => unetNative().unetExport({ model: d.handle })).toThrow(coded('ERR_ITOKIT_INVALID_ARG', /disposed/));
    expect(() => unetNative().unetDispose({ model: d.handle })).not.toThrow();  // twice is a no-op
  });
});

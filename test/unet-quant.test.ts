// TFMQ-style quantization (docs/design/unet.md §7, §8, §10): temporal-feature cache
// exactness, quantizer vectors, packing, integer kernels vs scalar oracle and fake-quant, per-step
// error bounds on the built-in model, file round trip.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { diffusion, unet } from '../lib';
import { setThreads } from '../lib/backends';
import { parseSafetensors, serializeSafetensors } from '../lib/unet/safetensors';
import { expectCode } from './helpers';
import * as unetTesting from '../lib/testing/unet';

jest.setTimeout(300_000);

function rel(y: ArrayLike<number>, r: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < r.length; i++) {
    num += (y[i] - r[i]) ** 2;
    den += r[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

describe('integer dot kernels: SIMD accumulators equal the scalar oracle', () => {
  let s = 99;
  const byte = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24);
  test.each([4, 8] as const)('%i-bit weights, extreme and random codes', (bits) => {
    for (const nblk of [1, 3, 144]) {
      const w = Uint8Array.from({ length: nblk * (bits === 4 ? 16 : 32) }, byte);
      const a = Uint8Array.from({ length: nblk * 128 }, byte);
      const ref = unetTesting.qdot('scalar', bits, w, a, nblk)!;
      // independent check of the scalar oracle on row 0
      let expect0 = 0;
      for (let k = 0; k < nblk * 32; k++) {
        const blk = Math.floor(k / 32), j = k % 32;
        const code = bits === 8 ? w[k] : j < 16 ? w[blk * 16 + j] & 15 : w[blk * 16 + j - 16] >> 4;
        expect0 += code * a[k];
      }
      expect(ref[0]).toBe(expect0);
      for (const path of ['avx2', 'avx512vnni'] as const) {
        const r = unetTesting.qdot(path, bits, w, a, nblk);
        if (r === null) {
          console.log(`(${path} not available on this CPU: skipped)`);
          continue;
        }
        expect(Array.from(r)).toEqual(Array.from(ref));
      }
      // register-blocked 4 rows x 4 pixels kernel equals four single-row oracle calls
      const w4r = Uint8Array.from({ length: 4 * nblk * (bits === 4 ? 16 : 32) }, byte);
      const want: number[] = [];
      for (let i = 0; i < 4; i++) want.push(...unetTesting.qdot('scalar', bits, w4r.subarray(i * nblk * (bits === 4 ? 16 : 32)), a, nblk)!);
      for (const path of ['scalar', 'avx2', 'avx512vnni'] as const) {
        const r = unetTesting.qdot(path, bits, w4r, a, nblk, true);
        if (r) expect(Array.from(r)).toEqual(want);
      }
      // saturation corner: all 255 activations, max codes
      const wmax = new Uint8Array(w.length).fill(bits === 4 ? 0xff : 255);
      const amax = new Uint8Array(a.length).fill(255);
      const m = unetTesting.qdot('scalar', bits, wmax, amax, nblk)!;
      expect(m[0]).toBe(nblk * 32 * 255 * (bits === 4 ? 15 : 255));
      for (const path of ['avx2', 'avx512vnni'] as const) {
        const r = unetTesting.qdot(path, bits, wmax, amax, nblk);
        if (r) expect(Array.from(r)).toEqual(Array.from(m));
      }
    }
  });
});

/** The deployment sampler of the built-in model: DDIM (η = 0, leading spacing) with clip_sample, diffusers' float32 ᾱ. */
const alphasCumprod = diffusion.schedules.linearBetas(1000, 1e-4, 0.02, { float32: true }).alphasCumprod;
async function sampleDdim(m: unet.UNetModel, batch: number, seed: number, steps: number,
  onStep?: (i: { t: number; x: Float32Array }) => void): Promise<Float32Array> {
  const [C, S] = [m.config.inChannels, m.config.sampleSize!];
  const r = await diffusion.ddim({
    batch, dim: C * S * S, seed, steps, clipSample: true, alphasCumprod, onStep,
    epsModel: async (x, t, out) => out.set(await m.predict({ data: x, shape: [batch, C, S, S] }, t[0])),
  });
  return r.x;
}

describe('quantized built-in model', () => {
  const fp = unet.loadSync(unet.builtinModelPath());
  const C = fp.config.inChannels, S = 16;
  const steps = 10;
  // w4, w8: the defaults (cache-only, FP-kept layers in F16); w4g: group-wise with the FP32 storage options
  // w8s: W8A8 with the other activation range rule (docs/design/unet.md §7.4 actRange) than the default
  let w4: unet.UNetModel, w8: unet.UNetModel, w4g: unet.UNetModel, w8s: unet.UNetModel;
  const otherRange: unet.ActRange = unet.DEFAULT_ACT_RANGE === 'minmax' ? 'search' : 'minmax';
  // held-out inputs: x_t from an FP DDIM run with another seed
  const held: { t: number; x: Float32Array }[] = [];
  const n = 8;

  beforeAll(async () => {
    const cal = { steps, samplesPerStep: 16, seed: 1 };
    w4 = await unet.quantize(fp, { weightBits: 4, calibration: cal });
    w8 = await unet.quantize(fp, { weightBits: 8, calibration: cal });
    w4g = await unet.quantize(fp, { weightBits: 4, groupSize: 32, calibration: cal, tibWeights: 'f32', fpWeights: 'f32' });
    w8s = await unet.quantize(fp, { weightBits: 8, calibration: { ...cal, actRange: otherRange } });
    await sampleDdim(fp, n, 12345, steps, ({ t, x }) => void held.push({ t, x: Float32Array.from(x) }));
  });

  test('the temporal-feature cache equals the FP32 temporal features bit for bit', async () => {
    const ts = diffusion.ddimTimesteps(1000, steps);
    expect(held.map((h) => h.t)).toEqual(ts);
    const ref = fp.temporalFeatures(ts);
    for (const m of [w4, w4g]) {
      const cached = m.temporalFeatures(ts, { cached: true });
      expect(Buffer.from(cached.buffer).equals(Buffer.from(ref.buffer))).toBe(true);
    }
    // with TIB weights: forward with and without the cache is bitwise equal; a miss falls back exactly and is counted
    const x = { data: held[3].x, shape: [n, C, S, S] };
    const a = w4g.predictSync(x, held[3].t);
    const b = w4g.predictSync(x, held[3].t, { useCache: false });
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const before = w4g.info().cacheMisses!;
    w4g.predictSync(x, 7);
    expect(w4g.info().cacheMisses).toBe(before + n);
    // cache-only (tib_weights 'none', docs/design/unet.md §7.2): a miss is a coded error naming the timestep
    expectCode(() => w4.predictSync(x, 7), 'ERR_ITOKIT_INVALID_ARG');
    expect(() => w4.predictSync(x, 7)).toThrow(/timestep 7 is not in the temporal-feature cache/);
    expect(() => w4.temporalFeatures([7])).toThrow(/timestep 7/);
  });

  test('storage options: tib_weights none changes no output bit; fp_weights f16 holds binary16 FP layers', async () => {
    const cal = { steps, samplesPerStep: 16, seed: 1 };
    const w4tib = await unet.quantize(fp, { weightBits: 4, calibration: cal, tibWeights: 'f32' });
    const w4f32 = await unet.quantize(fp, { weightBits: 4, calibration: cal, tibWeights: 'none', fpWeights: 'f32' });
    const x = { data: held[6].x, shape: [n, C, S, S] };
    const a = w4.predictSync(x, held[6].t), b = w4tib.predictSync(x, held[6].t);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    // bytes: dropping the TIB removes exactly its FP32 weights and biases (E·C0 + E·E + Σ C_i·E, plus biases)
    const E = fp.config.timeEmbeddingDim, C0 = fp.config.blockOutChannels[0], tibW = fp.info().tibWidth;
    const tibParams = E * C0 + E + E * E + E + tibW * E + tibW;
    expect(w4tib.info().fpBytes - w4.info().fpBytes).toBe(4 * tibParams);
    // F16 storage halves the FP-kept conv weights: the file holds them as F16, widened values are binary16-exact
    const f = unet.parseSafetensors(unet.serialize(w4));
    const conv = f.tensors.get('conv_in.weight')!;
    expect(conv.dtype).toBe('F16');
    expect(f.tensors.get('conv_in.bias')!.dtype).toBe('F32');
    expect(f.tensors.has('time_embedding.linear_1.weight')).toBe(false);
    const ref = unet.parseSafetensors(unet.serialize(w4f32)).tensors.get('conv_in.weight')!;
    const w32 = unet.toFloat32(ref), w16 = unet.toFloat32(conv);
    for (let i = 0; i < w32.length; i++) {
      // independent reference: Math.fround cannot round to binary16, so check the rounding bound
      // |w16 − w32| ≤ 2^−11·|w32| (normal range) and that w16 is representable in 11 significant bits
      expect(Math.abs(w16[i] - w32[i])).toBeLessThanOrEqual(2 ** -11 * Math.abs(w32[i]) + 2 ** -25);
      const e = Math.floor(Math.log2(Math.abs(w16[i]) || 1));
      expect(Number.isInteger(w16[i] / 2 ** Math.max(e - 10, -24))).toBe(true);
    }
  });

  test('per-step relative error of ε̂ vs FP on held-out inputs (fixture bounds ×2)', async () => {
    const errs: Record<string, number[]> = { w8: [], w4: [], w4g: [], w8s: [] };
    for (const { t, x } of held) {
      const shape = [n, C, S, S];
      const ref = await fp.predict({ data: x, shape }, t);
      errs.w8.push(rel(await w8.predict({ data: x, shape }, t), ref));
      errs.w8s.push(rel(await w8s.predict({ data: x, shape }, t), ref));
      errs.w4.push(rel(await w4.predict({ data: x, shape }, t), ref));
      errs.w4g.push(rel(await w4g.predict({ data: x, shape }, t), ref));
    }
    const mean = (v: number[]): number => v.reduce((p, q) => p + q, 0) / v.length;
    console.log(`per-step rel error: W8A8 median ${median(errs.w8).toFixed(4)} max ${Math.max(...errs.w8).toFixed(4)} ` +
      `(actRange '${otherRange}': median ${median(errs.w8s).toFixed(4)} max ${Math.max(...errs.w8s).toFixed(4)}); ` +
      `W4A8 median ${median(errs.w4).toFixed(4)} max ${Math.max(...errs.w4).toFixed(4)}; W4A8 g32 mean ${mean(errs.w4g).toFixed(4)} vs per-channel ${mean(errs.w4).toFixed(4)}`);
    expect(median(errs.w8)).toBeLessThanOrEqual(0.04);
    expect(Math.max(...errs.w8)).toBeLessThanOrEqual(0.10);
    expect(median(errs.w8s)).toBeLessThanOrEqual(0.04);
    expect(Math.max(...errs.w8s)).toBeLessThanOrEqual(0.10);
    expect(median(errs.w4)).toBeLessThanOrEqual(0.20);
    expect(Math.max(...errs.w4)).toBeLessThanOrEqual(0.40);
    expect(mean(errs.w4g)).toBeLessThanOrEqual(1.05 * mean(errs.w4));
  });

  test('one integer layer equals fake-quant on an identical quantized input (rel ≤ 1e-6)', () => {
    let s = 7;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    // 3x3 convs (padding taps use z_a), a 1x1 attention projection, with odd zero points
    const cases: [string, number, number][] = [['down_blocks.1.resnets.0.conv1', 32, 8], ['up_blocks.1.resnets.1.conv2', 32, 16], ['down_blocks.1.attentions.0.to_q', 64, 8]];
    for (const m of [w4, w8, w4g]) {
      for (const [layer, I, hw] of cases) {
        const x = Float32Array.from({ length: 2 * I * hw * hw }, () => rnd() * 3 - 1);
        const r = unetTesting.layerCheck(m, layer, x, [2, I, hw, hw], 4 / 255, 85);
        expect(rel(r.integer, r.fakeQuant)).toBeLessThan(1e-6);
      }
    }
  });

  test('integer kernels track fake-quant on the full UNet', () => {
    // Rounding flips cascade through ~20 downstream quantizers, so the whole network agrees less
    // tightly than one layer (the design target is ≤ 1e-3; measured ~1.5e-3 on this small model, see docs).
    for (const m of [w4, w8, w4g]) {
      const x = { data: held[5].x, shape: [n, C, S, S] };
      const yi = m.predictSync(x, held[5].t, { mode: 'integer' });
      const yf = m.predictSync(x, held[5].t, { mode: 'fake-quant' });
      expect(rel(yi, yf)).toBeLessThan(5e-3);
    }
  });

  test('W4A8 with the default storage holds at most 1/6 of the FP32 model, everything counted', () => {
    const i = w4.info();
    const f = fp.info();
    expect(f.weightBytes).toBe(f.fp32Bytes);
    expect(f.cacheBytes).toBe(0);
    expect(i.codeBytes).toBeGreaterThan(0);
    // integer layers: 4-bit codes plus per-channel (Δ, z, Σw) are at most 1/6 of their FP32 size
    expect(i.codeBytes + i.qparamBytes).toBeLessThanOrEqual(i.intFp32Bytes / 6);
    // whole model: codes, qparams, FP layers (F16 weights, F32 biases and norms), the temporal cache
    // and the per-step activation parameters, against the FP32 model's reported bytes
    const held = i.weightBytes + i.cacheBytes;
    console.log(`built-in (${steps} steps): FP32 ${f.weightBytes} B; W4A8 codes ${i.codeBytes} + qparams ${i.qparamBytes} + FP ${i.fpBytes} + cache ${i.cacheBytes} = ${held} B (${(f.weightBytes / held).toFixed(2)}x smaller); kernel ${i.kernel}`);
    expect(held).toBeLessThanOrEqual(f.weightBytes / 6);
  });

  test('save -> load -> save is byte-identical and outputs are bitwise equal', () => {
    const bytes = unet.serialize(w4);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-q-'));
    const file = path.join(dir, 'w4.safetensors');
    fs.writeFileSync(file, bytes);
    const back = unet.loadSync(file);
    expect(back.precision).toBe('w4a8');
    expect(Buffer.from(unet.serialize(back)).equals(Buffer.from(bytes))).toBe(true);
    const x = { data: held[2].x, shape: [n, C, S, S] };
    const a = w4.predictSync(x, held[2].t);
    const b = back.predictSync(x, held[2].t);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    // the storage options travel in the metadata and hold after loading
    const meta = JSON.parse(parseSafetensors(bytes).metadata!.quant) as Record<string, unknown>;
    expect([meta.tib_weights, meta.fp_weights]).toEqual(['none', 'f16']);
    expect((meta.calibration as Record<string, unknown>).act_range).toBe(unet.DEFAULT_ACT_RANGE);
    expect(back.info()).toMatchObject({ fpBytes: w4.info().fpBytes, codeBytes: w4.info().codeBytes, cacheBytes: w4.info().cacheBytes });
    expect(() => back.predictSync(x, 7)).toThrow(/timestep 7/);
    // and with the FP32 storage options (TIB weights served on a miss)
    const g = unet.serialize(w4g);
    fs.writeFileSync(path.join(dir, 'g.safetensors'), g);
    const backG = unet.loadSync(path.join(dir, 'g.safetensors'));
    expect(Buffer.from(unet.serialize(backG)).equals(Buffer.from(g))).toBe(true);
    expect(Buffer.from(backG.predictSync(x, 7).buffer).equals(Buffer.from(w4g.predictSync(x, 7).buffer))).toBe(true);
    // the other activation range rule round-trips with its record (the runtime reads only act.scale/zero)
    const sb = unet.serialize(w8s);
    const calS = JSON.parse(parseSafetensors(sb).metadata!.quant).calibration as Record<string, unknown>;
    expect(calS.act_range).toBe(otherRange);
    if (otherRange === 'search') expect(calS.act_scaler).toEqual({ p: unet.ACT_SEARCH_P, steps: 80, ratio_step: 0.01, sample_per_tensor: 2048 });
    fs.writeFileSync(path.join(dir, 's.safetensors'), sb);
    const backS = unet.loadSync(path.join(dir, 's.safetensors'));
    expect(Buffer.from(unet.serialize(backS)).equals(Buffer.from(sb))).toBe(true);
    expect(Buffer.from(backS.predictSync(x, held[2].t).buffer).equals(Buffer.from(w8s.predictSync(x, held[2].t).buffer))).toBe(true);
    // a bad format_version and a missing tensor fail, naming them
    const f = parseSafetensors(bytes);
    const tensors = Object.fromEntries(f.tensors);
    const write = (t: typeof tensors, meta: Record<string, string>): string => {
      const p = path.join(dir, 'bad.safetensors');
      fs.writeFileSync(p, serializeSafetensors(t, meta));
      return p;
    };
    expectCode(() => unet.loadSync(write(tensors, { ...f.metadata!, format_version: '2' })), 'ERR_ITOKIT_MODEL_FORMAT');
    // calibration.act_range (docs/design/unet.md §7.4) must be a known rule
    const badRange = { ...meta, calibration: { ...(meta.calibration as object), act_range: 'percentile' } };
    expect(() => unet.loadSync(write(tensors, { ...f.metadata!, quant: JSON.stringify(badRange) }))).toThrow(/act_range "percentile"/);
    const missing = { ...tensors };
    delete missing['act.scale'];
    expect(() => unet.loadSync(write(missing, f.metadata!))).toThrow(/act\.scale/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('integer forward is bitwise independent of the thread count', () => {
    const x = { data: held[4].x, shape: [n, C, S, S] };
    const a = w4.predictSync(x, held[4].t);
    setThreads(1);
    const b = w4.predictSync(x, held[4].t);
    setThreads(7);
    const c = w4.predictSync(x, held[4].t);
    setThreads(os.cpus().length);
    expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer))).toBe(true);
    expect(Buffer.from(c.buffer).equals(Buffer.from(a.buffer))).toBe(true);
  });

  test(`calibration with actRange '${otherRange}' is bitwise independent of the thread count`, async () => {
    setThreads(1);
    const one = await unet.quantize(fp, { weightBits: 8, calibration: { steps, samplesPerStep: 16, seed: 1, actRange: otherRange } });
    setThreads(os.cpus().length);
    expect(Buffer.from(unet.serialize(one)).equals(Buffer.from(unet.serialize(w8s)))).toBe(true);
  });

  test('sampling proxy — sliced W1 of quantized samples to FP32 (same noise) vs two FP32 sets', async () => {
    const B = 48, dim = C * S * S;
    const sample = (m: unet.UNetModel, seed: number): Promise<Float32Array> => sampleDdim(m, B, seed, steps);
    const px = (x: Float32Array): Float64Array => Float64Array.from(x, (v) => Math.min(1, Math.max(0, v / 2 + 0.5)));
    const f0 = px(await sample(fp, 777)), f1 = px(await sample(fp, 778));
    const q8 = px(await sample(w8, 777)), q4 = px(await sample(w4, 777));
    // 128 seeded unit projections; per projection the mean |difference| of sorted projected values
    let r = 4242;
    const g = (): number => {
      const u1 = ((r = (r * 1103515245 + 12345) >>> 0) + 1) / 2 ** 32, u2 = ((r = (r * 1103515245 + 12345) >>> 0) + 1) / 2 ** 32;
      return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    };
    const dirs = Array.from({ length: 128 }, () => {
      const d = Float64Array.from({ length: dim }, g);
      const nrm = Math.hypot(...d);
      return d.map((v) => v / nrm);
    });
    const proj = (X: Float64Array, d: Float64Array): number[] =>
      Array.from({ length: B }, (_, b) => { let s2 = 0; for (let k = 0; k < dim; k++) s2 += X[b * dim + k] * d[k]; return s2; }).sort((a, c) => a - c);
    const sw1 = (X: Float64Array, Y: Float64Array): number =>
      dirs.reduce((acc, d) => { const p = proj(X, d), q = proj(Y, d); return acc + p.reduce((a, v, i) => a + Math.abs(v - q[i]), 0) / B; }, 0) / dirs.length;
    const w0 = sw1(f0, f1), e8 = sw1(q8, f0), e4 = sw1(q4, f0);
    let se = 0;
    for (let i = 0; i < f0.length; i++) se += (q4[i] - f0[i]) ** 2;
    console.log(`sampling proxy, sliced W1: FP vs FP (disjoint seeds) W0 = ${w0.toFixed(4)}; W8A8 ${e8.toFixed(4)}; W4A8 ${e4.toFixed(4)}; W4A8 paired RMSE ${Math.sqrt(se / f0.length).toFixed(4)}`);
    expect(e8).toBeLessThanOrEqual(0.5 * w0);
    expect(e4).toBeLessThanOrEqual(w0);
  });

  test('quantize validates its options', async () => {
    await expect(unet.quantize(fp, { weightBits: 3 as 4 })).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    await expect(unet.quantize(fp, { weightBits: 4, groupSize: 48 as 32 })).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    await expect(unet.quantize(w4, { weightBits: 4 })).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    await expect(unet.quantize(fp, { weightBits: 4, tibWeights: 'f16' as 'f32' })).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    await expect(unet.quantize(fp, { weightBits: 4, fpWeights: 'bf16' as 'f16' })).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    await expect(unet.quantize(fp, { weightBits: 4, calibration: { actRange: 'mse' as 'search' } })).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    expectCode(() => w4.predictSync({ data: held[0].x, shape: [n, C, S, S] }, Array.from({ length: n }, (_, i) => i)), 'ERR_ITOKIT_INVALID_ARG');
  });
});

describe('quantizers against an independent float32 reference', () => {
  const f = Math.fround;
  // half-to-even rounding, as torch.round / rintf
  const rint = (v: number): number => {
    const r = Math.round(v);
    return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r;
  };
  const code = (x: number, d: number, z: number, qmax: number): number => Math.min(qmax, Math.max(0, f(rint(f(x / d)) + z)));
  function lpRef(x: Float32Array, qmax: number, clampZero: boolean, p = 2.4, range?: [number, number]): [number, number] {
    let m = Infinity, M = -Infinity;
    for (const v of x) { m = Math.min(m, v); M = Math.max(M, v); }
    if (range) [m, M] = range;
    let best = Infinity, bd = 0, bz = 0;
    for (let i = 0; i < 80; i++) {
      const r = f(1 - f(f(0.01) * i)); // float32 0.01f·i, as the C++ search
      const d = Math.max(f(f(r * f(M - m)) / qmax), f(1e-8));
      let z = rint(f(f(-r * m) / d));
      if (clampZero) z = Math.min(qmax, Math.max(0, z));
      let s = 0;
      for (const v of x) { const e = Math.abs(f(v - f(d * f(code(v, d, z, qmax) - z)))); if (e > 0) s += p === 2 ? f(e * e) : f(e ** p); }
      s /= x.length;
      if (s < best * (1 - 1e-12)) { best = s; bd = d; bz = z; }
    }
    return [bd, bz];
  }
  test('half-to-even rounding and clamping of codes', () => {
    const c = unetTesting.quantizerTest('code', Float32Array.from([0.5, 1.5, 2.5, -0.5, 3.49, 300, -7, NaN]), 1, 0, 255);
    expect(Array.from(c)).toEqual([0, 2, 2, 0, 3, 255, 0, 0]);
    const c4 = unetTesting.quantizerTest('code', Float32Array.from([-1, 0, 1]), 0.25, 4, 15);
    expect(Array.from(c4)).toEqual([0, 4, 8]);
  });
  test('Lp (p = 2.4) clipping search: mixed-sign, one-signed (z out of range) and constant rows', () => {
    let s = 3;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const rows = [
      Float32Array.from({ length: 64 }, () => rnd() * 2 - 0.7),
      Float32Array.from({ length: 37 }, () => 0.3 + rnd()), // one-signed: z < 0 for weights
      Float32Array.from({ length: 50 }, () => (rnd() - 0.5) ** 3 * 8), // heavy tails: clipping wins
    ];
    for (const [qmax, clamp] of [[15, false], [255, false], [255, true]] as const) {
      for (const r of rows) {
        const [d, z] = unetTesting.quantizerTest('lp', r, qmax, clamp ? 1 : 0);
        const [rd, rz] = lpRef(r, qmax, clamp);
        expect(d).toBe(rd);
        expect(z).toBe(rz);
      }
    }
    const [d1, z1] = unetTesting.quantizerTest('lp', Float32Array.from([0.3, 0.7, 0.5]), 15, 0);
    expect(z1).toBeLessThan(0); // one-signed row: z outside [0, 15], stored as an integer-valued float
    expect(d1).toBeGreaterThan(0);
    const [dc] = unetTesting.quantizerTest('lp', new Float32Array(8).fill(0), 15, 0);
    expect(dc).toBe(f(1e-8)); // constant row: Δ floored at 1e-8
  });
  test("actRange 'search': shrink search of the Min-Max range on the EMA tensors' strided subsample", () => {
    let s = 11;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    // 3 tensors of 5,000 values. `wide`: uniform on [−1, 1], the first (initialising) tensor ×4, so
    // the slow EMA range stays ~3.9 while later tensors span 1 and the search shrinks it. `binary`:
    // values in {0, 1} are exact at r = 1 (Δ = 1/255, z = 0) and every r < 1 clips the 1s, so the
    // search returns Min-Max. (At 256 levels clipping a real tail rarely pays: even Gaussian and
    // Laplace samples keep r = 1.)
    const wide = Float32Array.from({ length: 15_000 }, (_, i) => (rnd() * 2 - 1) * (i < 5000 ? 4 : 1));
    const binary = Float32Array.from({ length: 15_000 }, () => (rnd() < 0.5 ? 0 : 1));
    for (const [x, p] of [[wide, 2], [wide, 2.4], [binary, 2]] as const) {
      const n = 5000;
      const [m, M, d, z, kept] = unetTesting.quantizerTest('actsearch', x, n, p);
      const [cm, cM, cd, cz] = unetTesting.quantizerTest('calib', x, n);
      expect([m, M]).toEqual([cm, cM]); // the EMA range is unchanged by the search
      // independent subsample: stride ⌈5000/2048⌉ = 3 (odd), over the two EMA tensors
      const sub: number[] = [];
      for (let t = 1; t < 3; t++) for (let i = 0; i < n; i += 3) sub.push(x[t * n + i]);
      expect(kept).toBe(sub.length);
      const [rd, rz] = lpRef(Float32Array.from(sub), 255, true, p, [Math.min(m, 0), Math.max(M, 0)]);
      expect([d, z]).toEqual([rd, rz]);
      if (x === binary) expect([d, z]).toEqual([cd, cz]); // r = 1 is exactly Min-Max
      else expect(d).toBeLessThan(cd); // the stale EMA range is shrunk
      expect(z).toBeGreaterThanOrEqual(0);
      expect(z).toBeLessThanOrEqual(255);
    }
  });
  test('Min-Max and the EMA calibration update (momentum 0.95)', () => {
    const [d, z] = unetTesting.quantizerTest('minmax', new Float32Array(0), 0.5, 2.0);
    expect(d).toBe(f(2 / 255)); // lo = min(m, 0) = 0
    expect(z).toBe(0);
    const [d2, z2] = unetTesting.quantizerTest('minmax', new Float32Array(0), -1, 3);
    expect(d2).toBe(f(4 / 255));
    expect(z2).toBe(rint(f(1 / f(4 / 255))));
    const t1 = [-1, 2, 0.5, 0], t2 = [-3, 1, 0, 0.2], t3 = [0, 5, 1, 1];
    const [m, M, dd, zz] = unetTesting.quantizerTest('calib', Float32Array.from([...t1, ...t2, ...t3]), 4);
    let em = -1, eM = 2;
    for (const t of [t2, t3]) { em = f(f(f(0.95) * em) + f(f(0.05) * Math.min(...t))); eM = f(f(f(0.95) * eM) + f(f(0.05) * Math.max(...t))); }
    expect(m).toBe(em);
    expect(M).toBe(eM);
    const lo = Math.min(em, 0), hi = Math.max(eM, 0);
    expect(dd).toBe(Math.max(f(f(hi - lo) / 255), f(1e-8)));
    expect(zz).toBe(Math.min(255, Math.max(0, rint(f(-lo / dd)))));
  });
});

// Per-step error vs FP at the 1x bounds on the built-in model with the full calibration (docs/design/unet.md §7.4, §7.6, §10): DDIM 100 steps,
// 256 calibration inputs per step (16 to initialise, EMA batches of 16, momentum 0.95), held-out x_t
// from 64 FP chains with another seed. Minutes of CPU: set ITOKIT_ACCEPTANCE=1 to run. Results are
// reported in docs/unet.md.
const acceptance = process.env.ITOKIT_ACCEPTANCE === '1';
if (!acceptance) console.log('unet error-vs-FP acceptance: skipped (set ITOKIT_ACCEPTANCE=1 for the full-size calibration and 1x bounds)');
(acceptance ? describe : describe.skip)('per-step error vs FP at full calibration size (built-in model, DDIM 100 steps, 256 inputs per step)', () => {
  const fp = unet.loadSync(unet.builtinModelPath());
  const C = fp.config.inChannels, S = fp.config.sampleSize!, steps = 100, n = 64;
  const errs: Record<string, { t: number; e: number }[]> = {};
  beforeAll(async () => {
    const held: { t: number; x: Float32Array }[] = [];
    await sampleDdim(fp, n, 4242, steps, ({ t, x }) => void held.push({ t, x: Float32Array.from(x) }));
    const cal = { steps, samplesPerStep: 256, initSamples: 16, batch: 16, seed: 1 };
    const models: Record<string, unet.UNetModel> = {
      w8: await unet.quantize(fp, { weightBits: 8, calibration: cal }),
      w4: await unet.quantize(fp, { weightBits: 4, calibration: cal }),
      w4g64: await unet.quantize(fp, { weightBits: 4, groupSize: 64, calibration: cal }),
    };
    for (const [k, m] of Object.entries(models)) {
      errs[k] = [];
      for (const { t, x } of held) {
        const shape = [n, C, S, S];
        errs[k].push({ t, e: rel(await m.predict({ data: x, shape }, t), await fp.predict({ data: x, shape }, t)) });
      }
      const v = errs[k].map((p) => p.e);
      const worst = [...errs[k]].sort((a, b) => b.e - a.e).slice(0, 3).map((p) => `t=${p.t}: ${p.e.toFixed(4)}`).join(', ');
      console.log(`error vs FP ${k}: median ${median(v).toFixed(4)}, mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}, worst ${worst}`);
    }
  }, 1_800_000);
  test('W8A8: median ≤ 0.02', () => {
    expect(median(errs.w8.map((p) => p.e))).toBeLessThanOrEqual(0.02);
  });
  // Fails today at t = 0 (0.075; every other step ≤ 0.023): see docs/unet.md "Why t = 0 is the worst step".
  test('W8A8: worst step ≤ 0.05', () => {
    expect(Math.max(...errs.w8.map((p) => p.e))).toBeLessThanOrEqual(0.05);
  });
  test('W4A8 per-channel: median ≤ 0.10, worst step ≤ 0.20', () => {
    expect(median(errs.w4.map((p) => p.e))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...errs.w4.map((p) => p.e))).toBeLessThanOrEqual(0.2);
  });
  test('W4A8 group 64: mean ≤ 1.05 × per-channel mean', () => {
    const mean = (v: { e: number }[]): number => v.reduce((a, b) => a + b.e, 0) / v.length;
    expect(mean(errs.w4g64)).toBeLessThanOrEqual(1.05 * mean(errs.w4));
  });
});

describe('Lp range search: the vectorised, pruned search chooses what the scalar-powf scan chose', () => {
  // lpcompare runs both on the same values: [Δ, z] of the search and of lp_search_range_reference
  // (scalar std::pow per element, one running sum, candidates in order).
  const same = (x: Float32Array, qmax: number, clamp: boolean, p = 0): void => {
    const r = unetTesting.quantizerTest('lpcompare', x, qmax, clamp ? 1 : 0, p);
    expect([r[0], r[1]]).toEqual([r[2], r[3]]);
  };
  test('every weight row of the built-in model, W4 and W8, p = 2.4', () => {
    const f = parseSafetensors(fs.readFileSync(path.join(unet.builtinModelPath(), 'diffusion_pytorch_model.safetensors')));
    let rows = 0;
    for (const [name, t] of f.tensors) {
      if (!name.endsWith('.weight') || t.shape.length < 2) continue;
      const w = unet.toFloat32(t);
      const K = w.length / t.shape[0];
      for (let o = 0; o < t.shape[0]; o++) {
        const row = w.subarray(o * K, (o + 1) * K);
        same(row, 15, false);
        same(row, 255, false);
        rows++;
      }
    }
    expect(rows).toBeGreaterThan(1000);
  });
  test('CIFAR-sized rows (K = 2304, 4608) of several distributions, activations with clamped zero, p = 2, 2.4, 3', () => {
    let s = 12345;
    const u = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
    const gauss = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    const dists: (() => number)[] = [gauss, () => 2 * u() - 1, () => gauss() ** 3 * 0.1, () => Math.abs(gauss()) + 0.3, () => (u() < 0.02 ? 8 * gauss() : gauss())];
    for (const K of [2304, 4608, 1000])
      for (const d of dists) {
        const x = Float32Array.from({ length: K }, d);
        for (const p of [2, 2.4, 3]) {
          same(x, 15, false, p);
          same(x, 255, true, p);
        }
      }
    // degenerate rows: constant, all zero, two values
    same(new Float32Array(64).fill(0.25), 15, false);
    same(new Float32Array(64), 15, false);
    same(Float32Array.from({ length: 100 }, (_, i) => (i % 2 ? 1 : -1)), 15, false);
  });
});

describe('integer kernel paths give identical bits (exact int32 accumulators)', () => {
  // Child processes with ITOKIT_CPU forcing each path (VNNI channel tiles, AVX2 rows, scalar
  // oracle; the FP32 micro-kernels, the Lp search and the elem_span.h tables (GroupNorm, SiLU,
  // softmax exponentials) follow the same switch): the W4A8 and W8A8
  // models they quantize and their integer forwards must hash the same.
  const root = path.join(__dirname, '..');
  const script = `
    const { unet } = require(${JSON.stringify(path.join(root, 'dist', 'lib'))});
    const crypto = require('crypto');
    (async () => {
      const fp = unet.loadSync(unet.builtinModelPath());
      const out = [];
      for (const bits of [4, 8]) {
        const m = await unet.quantize(fp, { weightBits: bits, tibWeights: 'f32', calibration: { steps: 2, samplesPerStep: 8, seed: 3 } });
        const B = 5, x = { data: Float32Array.from({ length: B * 256 }, (_, i) => Math.sin(i * 0.37)), shape: [B, 1, 16, 16] };
        for (const t of [999, 500, 37]) {
          const y = m.predictSync(x, t);
          out.push(crypto.createHash('sha1').update(Buffer.from(y.buffer)).digest('hex'));
        }
      }
      console.log(JSON.stringify(out));
    })();`;
  const run = (cpu: string): string[] => {
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, ITOKIT_CPU: cpu }, encoding: 'utf8', timeout: 240_000 });
    expect([r.status, r.status === 0 ? '' : r.stderr]).toEqual([0, '']);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
  };
  test('scalar, avx2 and avx512vnni', () => {
    const ref = run('scalar');
    for (const cpu of ['avx2', 'avx512vnni']) expect([cpu, run(cpu)]).toEqual([cpu, ref]);
  });
});

// Device selection of UNet inference (lib/unet/model.ts): 'cuda' without a usable CUDA device is a
// coded DEVICE_UNAVAILABLE error (from the TypeScript check, and from the native stub when the
// check is bypassed), 'auto' falls back to the CPU bit for bit, bad values are INVALID_ARG.
// GPU-side agreement is checked in test/gpu/unet.test.ts; here the bodies of the CUDA conv and
// GroupNorm kernels also run on the CPU (tools/unet-cuda-emu) against naive references.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends } from '../lib/backends';
import { unet } from '../lib';
import { unetNative } from '../lib/unet/native-unet';

const cuda = backends().cuda.available;
const model = unet.loadSync(unet.builtinModelPath());
const B = 3;
const x = { data: Float32Array.from({ length: B * 16 * 16 }, (_, i) => Math.sin(0.7 * i)), shape: [B, 1, 16, 16] };
const unavailable = expect.objectContaining({ code: 'ERR_ITOKIT_DEVICE_UNAVAILABLE' });
/** A direct native unetPredict of x at t = 500 into `out` (no TypeScript checks in front). */
const predictArgs = (out: Float32Array) =>
  ({ model: model.handle, x: x.data, B, H: 16, W: 16, t: new Float64Array(B).fill(500), out, mode: 0, useCache: true, control: null, async: false });

describe('unet device option without CUDA', () => {
  const t = cuda ? test.skip : test;

  t("device 'cuda' throws DEVICE_UNAVAILABLE (sync and async)", async () => {
    expect(() => model.predictSync(x, 500, { device: 'cuda' })).toThrow(unavailable);
    await expect(model.predict(x, 500, { device: 'cuda' })).rejects.toEqual(unavailable);
  });

  t('the native layer refuses device 1 with DEVICE_UNAVAILABLE when the TypeScript check is bypassed', () => {
    const out = new Float32Array(B * 16 * 16);
    expect(() => unetNative().unetPredict({ ...predictArgs(out), device: 1 })).toThrow(unavailable);
  });

  t("device 'auto' runs on the CPU and equals device 'cpu' bit for bit", async () => {
    const cpu = model.predictSync(x, [10, 500, 999], { device: 'cpu' });
    const auto = model.predictSync(x, [10, 500, 999], { device: 'auto' });
    expect(Buffer.from(auto.buffer).equals(Buffer.from(cpu.buffer))).toBe(true);
    const autoAsync = await model.predict(x, [10, 500, 999], { device: 'auto' });
    expect(Buffer.from(autoAsync.buffer).equals(Buffer.from(cpu.buffer))).toBe(true);
    expect(cpu.every(Number.isFinite)).toBe(true);
  });

  t("ITOKIT_DEVICE=cuda turns 'auto' into a CUDA request", () => {
    const old = process.env.ITOKIT_DEVICE;
    process.env.ITOKIT_DEVICE = 'cuda';
    try {
      expect(() => model.predictSync(x, 500, { device: 'auto' })).toThrow(unavailable);
      expect(() => model.predictSync(x, 500, { device: 'cpu' })).not.toThrow();
    } finally {
      if (old === undefined) delete process.env.ITOKIT_DEVICE;
      else process.env.ITOKIT_DEVICE = old;
    }
  });

  t("epsModel({ device: 'cuda' }) is DEVICE_UNAVAILABLE; the native whole step refuses a host x (INVALID_ARG)", () => {
    expect(() => model.epsModel({ device: 'cuda' })).toThrow(unavailable);
    // 'auto' falls back to the CPU: a host-state sampler runs, without the fused step
    expect(typeof model.epsModel({ device: 'auto' })).toBe('function');
    const step = { combs: 1, combTerms: Int32Array.from([2, 0, 1]), combNoise: new Uint8Array(1), combClip: new Float64Array(1), coef: new Float64Array(3 * B),
      keyLo: 0, keyHi: 0, stream: 0, step: 0, sampleOffset: 0 };
    const { out: _out, device: _device, ...args } = { ...predictArgs(new Float32Array(1)), device: 1 };
    void _out;
    void _device;
    expect(() => unetNative().unetStepDevice({ ...args, ...step, x: x.data })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
  });

  t("unet.load accepts 'auto' and 'cpu' and refuses 'cuda'", () => {
    expect(() => unet.loadSync(unet.builtinModelPath(), { device: 'cuda' })).toThrow(unavailable);
    expect(unet.loadSync(unet.builtinModelPath(), { device: 'auto' }).precision).toBe('fp32');
  });
});

describe('unet device option validation', () => {
  test('an unknown device is INVALID_ARG', () => {
    expect(() => model.predictSync(x, 500, { device: 'gpu' as never })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
  });

  test("fpPrecision: a bad value is INVALID_ARG; on the CPU 'tf32' and 'bf16' are ignored (FP32, the same bits)", async () => {
    const bad = expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG', message: expect.stringMatching(/fpPrecision/) });
    expect(() => model.predictSync(x, 500, { fpPrecision: 'fp16' as never })).toThrow(bad);
    await expect(model.predict(x, 500, { fpPrecision: 1 as never })).rejects.toEqual(bad);
    const cpu = model.predictSync(x, 500, { device: 'cpu' });
    for (const p of ['fp32', 'tf32', 'bf16'] as const) {
      expect(Buffer.from(model.predictSync(x, 500, { device: 'cpu', fpPrecision: p }).buffer).equals(Buffer.from(cpu.buffer))).toBe(true);
    }
    // the binding checks the code too
    const out = new Float32Array(B * 16 * 16);
    expect(() => unetNative().unetPredict({ ...predictArgs(out), device: 0, fpPrecision: 3 })).toThrow(
      expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }),
    );
  });

  test("a model's default device is 'cpu'", () => {
    expect(model.device).toBe('cpu');
  });
});

/** g++ with C++20 <barrier> (the emulation's __syncthreads), or null. */
function cxx20(dir: string): string | null {
  const probe = path.join(dir, 'probe.cc');
  fs.writeFileSync(probe, '#include <barrier>\nint main() { std::barrier<> b(1); b.arrive_and_wait(); }\n');
  const r = spawnSync('g++', ['-std=c++20', '-pthread', probe, '-o', path.join(dir, 'probe')], { encoding: 'utf8' });
  return r.status === 0 ? 'g++' : null;
}

describe('CUDA UNet kernel bodies emulated on the CPU', () => {
  test('FP32 conv and integer convs (dp4a and tensor-core MMA) equal naive references bit for bit, GroupNorm to 1e-5, GroupNorm→codes exactly', () => {
    const root = path.join(__dirname, '..');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-cuda-emu-'));
    try {
      const cc = cxx20(dir);
      if (!cc) {
        console.log('unet-device: no g++ with C++20 <barrier>: CUDA kernel emulation skipped');
        return;
      }
      const exe = path.join(dir, 'emu');
      const emu = path.join(root, 'tools', 'unet-cuda-emu');
      // emu.cc includes the kernels' own headers (native/unet/cuda/*_kernels.cuh) over its CUDA shim.
      const c = spawnSync(cc, ['-std=c++20', '-O1', '-ffp-contract=off', '-pthread', '-w', '-I', root, '-I', emu,
        path.join(emu, 'emu.cc'), '-o', exe], { encoding: 'utf8' });
      expect(c.stderr).toBe('');
      expect(c.status).toBe(0);
      const r = spawnSync(exe, [], { encoding: 'utf8' });
      expect(r.stdout).toContain('all ok');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

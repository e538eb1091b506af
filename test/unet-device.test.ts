// Device selection of UNet inference (lib/unet/model.ts): 'cuda' without a usable CUDA device is a
// coded DEVICE_UNAVAILABLE error (from the TypeScript check, and from the native stub when the
// check is bypassed), 'auto' falls back to the CPU bit for bit, bad values are INVALID_ARG.
// GPU-side agreement is checked in test/gpu/unet.test.ts.
import { backends } from '../lib/backends';
import { unet } from '../lib';
import { unetNative } from '../lib/unet/native-unet';

const cuda = backends().cuda.available;
const model = unet.loadSync(unet.builtinModelPath());
const B = 3;
const x = { data: Float32Array.from({ length: B * 16 * 16 }, (_, i) => Math.sin(0.7 * i)), shape: [B, 1, 16, 16] };
const unavailable = expect.objectContaining({ code: 'ERR_ITOKIT_DEVICE_UNAVAILABLE' });

describe('unet device option without CUDA', () => {
  const t = cuda ? test.skip : test;

  t("device 'cuda' throws DEVICE_UNAVAILABLE (sync and async)", async () => {
    expect(() => model.predictSync(x, 500, { device: 'cuda' })).toThrow(unavailable);
    await expect(model.predict(x, 500, { device: 'cuda' })).rejects.toEqual(unavailable);
  });

  t('the native layer refuses device 1 with DEVICE_UNAVAILABLE when the TypeScript check is bypassed', () => {
    const out = new Float32Array(B * 16 * 16);
    expect(() => unetNative().unetPredict(model.handle, x.data, B, 16, 16, new Float64Array(B).fill(500), out, 0, true, null, false, 1)).toThrow(unavailable);
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

  t("unet.load accepts 'auto' and 'cpu' and refuses 'cuda'", () => {
    expect(() => unet.loadSync(unet.builtinModelPath(), { device: 'cuda' })).toThrow(unavailable);
    expect(unet.loadSync(unet.builtinModelPath(), { device: 'auto' }).precision).toBe('fp32');
  });
});

describe('unet device option validation', () => {
  test('an unknown device is INVALID_ARG', () => {
    expect(() => model.predictSync(x, 500, { device: 'gpu' as never })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
  });

  test("a model's default device is 'cpu'", () => {
    expect(model.device).toBe('cpu');
  });
});

// CUDA integer convolution vs the CPU kernel (spec/quantized-unet.md §9: int32 accumulators equal,
// outputs agree; here bit for bit, since both run the same ITK_HD epilogue). Skips visibly
// without a CUDA device.
import { backends } from '../../lib/backends';
import { unet } from '../../lib';

const cuda = backends().cuda.available;
if (!cuda) console.log(`test/gpu/unet: CUDA unavailable (${backends().cuda.reason ?? 'no reason given'}): skipped`);
const d = cuda ? describe : describe.skip;

jest.setTimeout(300_000);

d('unet integer conv on CUDA', () => {
  test('W4A8, W8A8 and group-wise layers equal the CPU kernel bit for bit', async () => {
    const fp = unet.loadSync(unet.builtinModelPath());
    const cal = { steps: 2, samplesPerStep: 4, seed: 3, initSamples: 4, batch: 4 };
    let s = 5;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const q of [
      await unet.quantize(fp, { weightBits: 4, calibration: cal }),
      await unet.quantize(fp, { weightBits: 8, calibration: cal }),
      await unet.quantize(fp, { weightBits: 4, groupSize: 32, calibration: cal }),
    ]) {
      const cases: [string, number, number][] = [['down_blocks.1.resnets.0.conv1', 32, 8], ['up_blocks.1.resnets.1.conv2', 32, 16], ['down_blocks.1.attentions.0.to_q', 64, 8]];
      for (const [layer, I, hw] of cases) {
        const x = Float32Array.from({ length: 3 * I * hw * hw }, () => rnd() * 3 - 1);
        const cpu = unet.layerCheck(q, layer, x, [3, I, hw, hw], 4 / 255, 85);
        const gpu = unet.layerCheck(q, layer, x, [3, I, hw, hw], 4 / 255, 85, { device: 'cuda' });
        expect(Buffer.from(gpu.integer.buffer).equals(Buffer.from(cpu.integer.buffer))).toBe(true);
      }
    }
  });
});

describe('unet CUDA availability', () => {
  (cuda ? test.skip : test)('without CUDA the CUDA layer path throws DEVICE_UNAVAILABLE', async () => {
    if (process.env.ITOKIT_GPU_TESTS === '1') throw new Error('ITOKIT_GPU_TESTS=1 but CUDA is unavailable');
    const fp = unet.loadSync(unet.builtinModelPath());
    const q = await unet.quantize(fp, { weightBits: 4, calibration: { steps: 1, samplesPerStep: 2, initSamples: 2, batch: 2 } });
    const x = new Float32Array(32 * 8 * 8);
    expect(() => unet.layerCheck(q, 'down_blocks.1.resnets.0.conv1', x, [1, 32, 8, 8], 0.01, 0, { device: 'cuda' })).toThrow(
      expect.objectContaining({ code: 'ERR_ITOKIT_DEVICE_UNAVAILABLE' }),
    );
  });
});

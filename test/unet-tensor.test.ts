// Tensor storage without a zero fill (native/unet/unet_tensor.h, docs/design/unet.md "Tensor
// storage"): the ops that take an uninit output write every element, and a reused (stale) buffer
// never leaks into a result. Child processes run the built-in model FP32, W4A8 and W8A8 (integer
// path) with ITOKIT_UNET_POISON=1, where every uninit tensor starts as NaN (an element an op leaves
// unwritten then trips the forward's non-finite check), and without it, where the per-thread pool
// hands back the stale buffers of earlier calls; both must hash the same, call after call.
import { spawnSync } from 'child_process';
import * as path from 'path';

jest.setTimeout(300_000);

describe('UNet tensors without a zero fill', () => {
  const root = path.join(__dirname, '..');
  const script = `
    const { unet } = require(${JSON.stringify(path.join(root, 'dist', 'lib'))});
    const crypto = require('crypto');
    (async () => {
      const fp = unet.loadSync(unet.builtinModelPath());
      const models = [fp];
      for (const bits of [4, 8])
        models.push(await unet.quantize(fp, { weightBits: bits, tibWeights: 'f32', calibration: { steps: 2, samplesPerStep: 8, seed: 3 } }));
      const out = [];
      // B = 16 (the maps of npm start), then B = 5 (other shapes, into buffers the B = 16 calls left),
      // then B = 16 again
      for (const B of [16, 5, 16]) {
        const x = { data: Float32Array.from({ length: B * 256 }, (_, i) => Math.sin(i * 0.37)), shape: [B, 1, 16, 16] };
        for (const m of models)
          for (const t of [999, 37]) out.push(crypto.createHash('sha1').update(Buffer.from(m.predictSync(x, t).buffer)).digest('hex'));
      }
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const run = (poison: boolean): string[] => {
    const env = { ...process.env, ITOKIT_UNET_POISON: poison ? '1' : '0' };
    const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8', timeout: 240_000 });
    expect([r.status, r.status === 0 ? '' : r.stderr]).toEqual([0, '']);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as string[];
  };

  test('NaN-poisoned and reused buffers give the same bits (FP32, W4A8, W8A8)', () => {
    const stale = run(false);
    expect(run(true)).toEqual(stale);
    // the repeated B = 16 calls (pool hits) equal the first ones
    const n = stale.length / 3;
    expect(stale.slice(2 * n)).toEqual(stale.slice(0, n));
  });
});

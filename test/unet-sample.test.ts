// `itokit sample` (the main job) end to end on the built-in model, tiny settings: PNG grids for
// W4A8 and FP32 are written and decode to the expected size with non-constant pixels.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { sample } from '../lib/cli/sample';
import { encodePng } from '../lib/unet/png';

jest.setTimeout(120_000);

function decode(file: string): { w: number; h: number; ch: number; px: Buffer } {
  const b = fs.readFileSync(file);
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  const w = b.readUInt32BE(16), h = b.readUInt32BE(20), ch = b[25] === 0 ? 1 : 3;
  const idat: Buffer[] = [];
  for (let p = 8; p < b.length; ) {
    const len = b.readUInt32BE(p), type = b.toString('ascii', p + 4, p + 8);
    if (type === 'IDAT') idat.push(b.subarray(p + 8, p + 8 + len));
    p += 12 + len;
  }
  return { w, h, ch, px: zlib.inflateSync(Buffer.concat(idat)) };
}

test('PNG encoder: a 2x2 grey image round-trips', () => {
  const file = path.join(os.tmpdir(), `itk-png-${process.pid}.png`);
  fs.writeFileSync(file, encodePng(Uint8Array.from([0, 64, 128, 255]), 2, 2, 1));
  const d = decode(file);
  expect([d.w, d.h, d.ch]).toEqual([2, 2, 1]);
  expect(Array.from(d.px)).toEqual([0, 0, 64, 0, 128, 255]); // filter byte 0 per row
  fs.rmSync(file);
});

test('itokit sample writes W4A8 and FP32 grids and prints the comparison', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-sample-'));
  const out = path.join(dir, 'grid.png');
  const log: string[] = [];
  const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
  try {
    await sample({ steps: 4, seed: 1, batch: 4, precision: 'w4a8', sampler: 'ddim', out, calib: 4, compare: true, cache: false });
  } finally {
    spy.mockRestore();
  }
  const text = log.join('\n');
  expect(text).toMatch(/W4A8: .* ms per step/);
  expect(text).toMatch(/model in memory/);
  expect(text).toMatch(/paired RMSE/);
  for (const f of [out, path.join(dir, 'grid-fp32.png')]) {
    const d = decode(f);
    expect(d.ch).toBe(1);
    expect(d.w).toBe(2 * (16 * 4 + 4) + 4); // 2 columns of 16x16 images at scale 4, 4-px gaps
    expect(new Set(d.px).size).toBeGreaterThan(10);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

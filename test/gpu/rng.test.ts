// CUDA against CPU for the counter-based generator: every kind must agree bit for bit.
import { DeviceArray, rng } from '../../lib';
import { bitsOf } from '../helpers';
import { describeGpu as gpu, sameBits as same } from './harness';
import { stepNormalRef } from '../reference/philox';

gpu('rng on CUDA equals CPU bit for bit', () => {
  test.each(['float32', 'float64'] as const)('uniform and normal, %s, unaligned offsets', (dtype) => {
    for (const [n, offset] of [[1, 0], [7, 3], [1_000_003, 5]] as const) {
      const o = { seed: 0xdeadbeefn, stream: 4, path: 123456789012, step: 77, dtype, offset };
      expect(same(rng.uniform(n, { ...o, device: 'cuda' }), rng.uniform(n, { ...o, device: 'cpu' }))).toBe(true);
      expect(same(rng.normal(n, { ...o, device: 'cuda' }), rng.normal(n, { ...o, device: 'cpu' }))).toBe(true);
    }
  });

  test('first 4096 normals of seed 0 on every stream', () => {
    for (let stream = 0; stream <= 6; stream++) {
      const a = rng.normal(4096, { seed: 0, stream, device: 'cuda' });
      const b = rng.normal(4096, { seed: 0, stream, device: 'cpu' });
      expect(Array.from(bitsOf(a))).toEqual(Array.from(bitsOf(b)));
    }
  });

  test('randn rows', () => {
    const o = { seed: 5, paths: 4097, dim: 13, pathOffset: 1000, step: 9 };
    expect(same(rng.randn({ ...o, device: 'cuda' }), rng.randn({ ...o, device: 'cpu' }))).toBe(true);
  });

  test('randn follows the per-step layout (independent TS model), every word of a group', () => {
    // docs/design/noise-layout.md: draw j of step s is word s & 3 of block (j, s >> 2).
    for (const step of [0, 1, 2, 3, 4, 7, 1001]) {
      const z = rng.randn({ seed: 0xabcdefn, paths: 3, dim: 5, pathOffset: 2 ** 32 - 1, step, device: 'cuda' });
      for (let p = 0; p < 3; p++)
        for (let j = 0; j < 5; j++) expect(z[p * 5 + j]).toBe(stepNormalRef(0xabcdefn, 0, 2 ** 32 - 1 + p, step, j));
    }
  });

  test('normalAsync on CUDA', async () => {
    const a = await rng.normalAsync(1 << 20, { seed: 3, device: 'cuda' });
    expect(same(a, rng.normal(1 << 20, { seed: 3, device: 'cpu' }))).toBe(true);
  });

  test('DeviceArray round trip and dispose', () => {
    const x = Float64Array.from({ length: 1001 }, (_, i) => i * 0.5);
    const d = DeviceArray.fromHost(x);
    expect(Array.from(d.toHost())).toEqual(Array.from(x));
    d.dispose();
    expect(d.disposed).toBe(true);
    expect(() => d.toHost()).toThrow(/disposed/);
    d.dispose();
  });
});

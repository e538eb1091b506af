/**
 * CUDA MA-fBM sampler vs the CPU loop (docs/design/fbm.md). Both run fbm_markov_path
 * (native/kernels/fbm_step.h) with separately rounded float ops and own Box–Muller math, so the
 * paths must agree bit for bit. Skips visibly without a CUDA device.
 */
import { fbm } from '../../lib';
import { bitsOf } from '../helpers';
import { describeGpu as d } from './harness';

d('fbm markov sampler: CUDA vs CPU', () => {
  const cases = [
    { type: 'I' as const, scheme: 'exact' as const, dtype: 'float32' as const },
    { type: 'II' as const, scheme: 'exact' as const, dtype: 'float64' as const },
    { type: 'I' as const, scheme: 'euler' as const, dtype: 'float32' as const },
  ];
  for (const c of cases) {
    test(`${c.type} ${c.scheme} ${c.dtype}: identical bits, incl. brownian, dims = 2 and pathOffset`, () => {
      const o = { ...c, hurst: 0.3, n: 200, paths: 3001, dims: 2, seed: 123n, pathOffset: 7, returnBrownian: true, K: 7 };
      const cpu = fbm.sampleSync({ ...o, device: 'cpu' });
      const gpu = fbm.sampleSync({ ...o, device: 'cuda' });
      expect(bitsOf(gpu.paths)).toEqual(bitsOf(cpu.paths));
      expect(bitsOf(gpu.brownian!)).toEqual(bitsOf(cpu.brownian!));
    });
  }
  // K = 1..8 run kernels with a compile-time K; K = 12 the run-time one. dims = 3 puts the OU
  // draws of dimension d at d·K (type I's start draws lanes d·K.. of one block row).
  for (const K of [1, 2, 3, 5, 8, 12]) {
    test(`K = ${K}, type I exact, dims = 3: identical bits`, () => {
      const o = { type: 'I' as const, scheme: 'exact' as const, hurst: 0.3, n: 61, paths: 2001, dims: 3, seed: 9, K }; // 61: the last four-step noise group is cut
      const cpu = fbm.sampleSync({ ...o, device: 'cpu' });
      const gpu = fbm.sampleSync({ ...o, device: 'cuda' });
      expect(bitsOf(gpu.paths)).toEqual(bitsOf(cpu.paths));
    });
  }
  test('large batch (2e5 paths, K = 5) matches the CPU within float rounding', async () => {
    const o = { hurst: 0.7, n: 100, paths: 200_000, seed: 5 };
    const cpu = await fbm.sample({ ...o, device: 'cpu' });
    const gpu = await fbm.sample({ ...o, device: 'cuda' });
    let worst = 0;
    cpu.paths.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - gpu.paths[i]))));
    expect(worst).toBeLessThan(1e-5);
  });
});

/**
 * CUDA vs CPU for entropic OT (spec/sinkhorn.md T12, T8 on CUDA). Skips visibly without a device.
 */
import { backends, ot } from '../../lib';

const cuda = backends().cuda.available;
const d = cuda ? describe : describe.skip;
if (!cuda) console.log(`test/gpu/ot.test.ts skipped: CUDA unavailable (${backends().cuda.reason ?? 'no reason given'})`);

function l1(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]);
  return s;
}

d('ot on CUDA', () => {
  const R1 = ot.referenceProblem('R1', { n: 200 });
  const R3 = ot.referenceProblem('R3', { n: 400, m: 300 });
  const R2 = ot.referenceProblem('R2-L2');
  const cases: [string, ot.ReferenceProblem, number][] = [
    ['R1 reg 1e-2', R1, 1e-2],
    ['R2-L2 reg 1e-2', R2, 1e-2],
    ['R3 reg 1e-2', R3, 1e-2],
    ['R3 reg 1e-3', R3, 1e-3],
  ];
  for (const [name, p, reg] of cases) {
    for (const method of ['sinkhorn', 'sns'] as const) {
      test(`T12 ${name} ${method}: CUDA plan = CPU plan within 1e-7 (L1)`, () => {
        const cpu = ot.sinkhornSync(p.a, p.b, p.C, { reg, method, device: 'cpu' });
        const gpu = ot.sinkhornSync(p.a, p.b, p.C, { reg, method, device: 'cuda' });
        expect(gpu.status).toBe('converged');
        expect(gpu.marginalError).toBeLessThanOrEqual(1e-9);
        expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(1e-7);
        expect(Math.abs(cpu.cost - gpu.cost)).toBeLessThanOrEqual(1e-8);
      }, 120000);
    }
  }
  test('float32 on CUDA agrees with CPU float32 within 2e-4 (L1)', () => {
    const C = Float32Array.from(R3.C);
    const cpu = ot.sinkhornSync(R3.a, R3.b, C, { reg: 1e-2, device: 'cpu' });
    const gpu = ot.sinkhornSync(R3.a, R3.b, C, { reg: 1e-2, device: 'cuda' });
    expect(gpu.marginalError).toBeLessThanOrEqual(1e-5);
    expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(2e-4);
  });
  test('T8 on CUDA: batch within ±checkEvery iterations and 1e-8 (L1) of CPU single solves', () => {
    const n = 120;
    const ps = [0, 1, 2].map((k) => ot.referenceProblem('R3', { n, m: n, seed: k }));
    const cat = (xs: Float64Array[]) => Float64Array.from(xs.flatMap((x) => Array.from(x)));
    const batch = ot.sinkhornBatchSync({ data: cat(ps.map((p) => p.a)), shape: [3, n] }, { data: cat(ps.map((p) => p.b)), shape: [3, n] }, { data: cat(ps.map((p) => p.C)), shape: [3, n, n] }, { reg: 1e-2, method: 'sinkhorn', device: 'cuda' });
    ps.forEach((p, k) => {
      const cpu = ot.sinkhornSync(p.a, p.b, p.C, { reg: 1e-2, method: 'sinkhorn', device: 'cpu' });
      expect(Math.abs(batch.problems[k].sinkhornIters - cpu.sinkhornIters)).toBeLessThanOrEqual(10);
      expect(l1(batch.problems[k].plan!, cpu.plan!)).toBeLessThanOrEqual(1e-8);
    });
  });
});

/**
 * CUDA vs CPU for entropic OT (docs/design/ot.md §8: CPU = CUDA, and batched = looped on CUDA). Skips visibly without a device.
 */
import { ot } from '../../lib';
import { describeGpu as d, l1, TOLERANCE } from './harness';

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
      test(`${name} ${method}: CUDA plan = CPU plan within 1e-7 (L1)`, () => {
        const cpu = ot.sinkhornSync(p.a, p.b, p.C, { reg, method, device: 'cpu' });
        const gpu = ot.sinkhornSync(p.a, p.b, p.C, { reg, method, device: 'cuda' });
        expect(gpu.status).toBe('converged');
        expect(gpu.marginalError).toBeLessThanOrEqual(1e-9);
        expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(TOLERANCE.otPlanL1);
        expect(Math.abs(cpu.cost - gpu.cost)).toBeLessThanOrEqual(1e-8);
      }, 120000);
    }
  }
  test('point clouds (online cost in the kernels): CUDA = CPU, and = the dense CUDA solve', () => {
    const pc = { X: { data: R3.X!, shape: [R3.n, 2] }, Y: { data: R3.Y!, shape: [R3.m, 2] }, cost: 'sqeuclidean' as const };
    const C = ot.cost.sqeuclidean(pc.X, pc.Y);
    for (const reg of [1, 0.1]) { // R3's clouds are unnormalised: max C ≈ 55
      const cpu = ot.sinkhornSync(R3.a, R3.b, pc, { reg, device: 'cpu', returnPlan: true, tol: 1e-11 });
      const gpu = ot.sinkhornSync(R3.a, R3.b, pc, { reg, device: 'cuda', returnPlan: true, tol: 1e-11 });
      const dense = ot.sinkhornSync(R3.a, R3.b, C, { reg, device: 'cuda', method: 'sinkhorn', tol: 1e-11 });
      expect(gpu.status).toBe('converged');
      expect(gpu.method).toBe('sinkhorn');
      expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(TOLERANCE.otPlanL1);
      expect(l1(dense.plan!, gpu.plan!)).toBeLessThanOrEqual(TOLERANCE.otPlanL1);
      expect(Math.abs(cpu.cost - gpu.cost) / cpu.cost).toBeLessThanOrEqual(TOLERANCE.otCost);
      let df = 0;
      for (let i = 0; i < cpu.f.length; i++) df = Math.max(df, Math.abs(cpu.f[i] - gpu.f[i]));
      expect(df).toBeLessThanOrEqual(1e-8);
    }
  }, 120000);
  test('point clouds n = m = 20 000 converge on CUDA with the CPU cost (no cost matrix anywhere)', () => {
    const n = 20000;
    const xs = new Float64Array(2 * n), ys = new Float64Array(2 * n);
    for (let k = 0; k < 2 * n; k++) {
      xs[k] = (k * 0.6180339887498949) % 1;
      ys[k] = (k * 0.7548776662466927 + 0.1) % 1;
    }
    const w = new Float64Array(n).fill(1 / n);
    const pc = { X: { data: xs, shape: [n, 2] }, Y: { data: ys, shape: [n, 2] }, cost: 'sqeuclidean' as const };
    const gpu = ot.sinkhornSync(w, w, pc, { reg: 0.1, tol: 1e-6, device: 'cuda' });
    const cpu = ot.sinkhornSync(w, w, pc, { reg: 0.1, tol: 1e-6, device: 'cpu' });
    expect(gpu.converged).toBe(true);
    expect(Math.abs(cpu.cost - gpu.cost) / cpu.cost).toBeLessThanOrEqual(1e-6);
  }, 300000);
  test('float32 on CUDA agrees with CPU float32 within 2e-4 (L1)', () => {
    const C = Float32Array.from(R3.C);
    const cpu = ot.sinkhornSync(R3.a, R3.b, C, { reg: 1e-2, device: 'cpu' });
    const gpu = ot.sinkhornSync(R3.a, R3.b, C, { reg: 1e-2, device: 'cuda' });
    expect(gpu.marginalError).toBeLessThanOrEqual(1e-5);
    expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(2e-4);
  });
  test('batched = looped on CUDA: batch within ±checkEvery iterations and 1e-8 (L1) of CPU single solves', () => {
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

/**
 * CUDA vs CPU for entropic OT (docs/design/ot.md §8: CPU = CUDA, and batched = looped on CUDA). Skips visibly without a device.
 */
import { ot } from '../../lib';
import { compare, describeGpu as d, l1, TOLERANCE } from './harness';

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
  // SNS with the Newton system on the device (docs/design/ot.md §6.3): threshold, CSR/CSC and PCG never
  // leave it. The kept set follows the CPU's rule (native/kernels/ot_newton.h), so the Newton
  // trajectory is the CPU's up to rounding: same step count (±2), same plan (1e-7 L1). R1 at reg
  // 1/1200 has 16 517 plan entries at the exp underflow floor; with λ = 0.6 (k = 24 000, 23 483
  // entries above the floor) the ties exceed 1.5k and are kept row-major under a budget (the
  // quota/cut rule), λ = 1 keeps every entry, λ0 tiny starts from k = n + m.
  const snsCases: [string, ot.ReferenceProblem, number, ot.SnsOptions | undefined][] = [
    ['R1 n=200 reg 1/1200', R1, 1 / 1200, undefined],
    ['R1 n=200 reg 1/1200, λ = 0.6 (tie budget)', R1, 1 / 1200, { lambda0: 0.6, lambdaMax: 0.6 }],
    ['R1 n=200 reg 1/1200, lambda0 = lambdaMax = 1 (every entry kept)', R1, 1 / 1200, { lambda0: 1, lambdaMax: 1 }],
    ['R3 400×300 reg 1e-3, lambda0 = 1e-6 (k = n + m)', R3, 1e-3, { lambda0: 1e-6 }],
  ];
  for (const [name, p, reg, sns] of snsCases) {
    test(`SNS device-resident Newton system, ${name}: CUDA = CPU (Newton steps ±2, plan 1e-7 L1)`, () => {
      const cpu = ot.sinkhornSync(p.a, p.b, p.C, { reg, method: 'sns', sns, device: 'cpu', maxIter: 60000 });
      const gpu = ot.sinkhornSync(p.a, p.b, p.C, { reg, method: 'sns', sns, device: 'cuda', maxIter: 60000 });
      expect(cpu.status).toBe('converged');
      expect(gpu.status).toBe('converged');
      expect(gpu.newtonIters).toBeGreaterThan(0);
      expect(Math.abs(gpu.newtonIters - cpu.newtonIters)).toBeLessThanOrEqual(2);
      expect(gpu.cgIters).toBeGreaterThan(0);
      expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(TOLERANCE.otPlanL1);
      expect(Math.abs(cpu.cost - gpu.cost) / Math.abs(cpu.cost)).toBeLessThanOrEqual(1e-8);
    }, 300000);
  }

  // SNS line search on the device (docs/design/ot.md §3.5, §6.3): u, v, R, K, r and d stay there across
  // Newton steps; the trial point, column fit, fused sums and Armijo/round-off test run in gated
  // kernels with the host's formulas (native/kernels/ot_line_search.h). A wrong trial point, sum or
  // acceptance rule changes the accepted steps, so the Newton steps and line-search trials must be
  // the CPU's exactly, and the gauge-fixed potentials agree within TOLERANCE.otPotential.
  const lsCases: [string, ot.ReferenceProblem, number, ot.SnsOptions | undefined][] = [
    ['R3 400×300 reg 1e-3', R3, 1e-3, undefined],
    ['R1 n=200 reg 1/1200', R1, 1 / 1200, undefined],
    ['R2-L2 reg 1/1200', R2, 1 / 1200, undefined],
    ['R3 400×300 reg 1e-3, lambda0 = 1e-6 (backtracking steps)', R3, 1e-3, { lambda0: 1e-6 }],
  ];
  for (const [name, p, reg, sns] of lsCases) {
    test(`SNS device line search, ${name}: same Newton steps and trials as the CPU, potentials within ${TOLERANCE.otPotential}`, () => {
      const opts = { reg, method: 'sns' as const, sns, maxIter: 60000 };
      const cpu = ot.sinkhornSync(p.a, p.b, p.C, { ...opts, device: 'cpu' });
      const gpu = ot.sinkhornSync(p.a, p.b, p.C, { ...opts, device: 'cuda' });
      expect(gpu.status).toBe('converged');
      expect(gpu.newtonIters).toBeGreaterThan(0);
      expect(gpu.newtonIters).toBe(cpu.newtonIters);
      expect(gpu.lineSearchEvals).toBe(cpu.lineSearchEvals);
      for (const [g, c] of [[gpu.f, cpu.f], [gpu.g, cpu.g]] as const) {
        const r = compare(g, c, 'otPotential');
        expect(r.value).toBeLessThanOrEqual(TOLERANCE.otPotential);
        expect(r.ok).toBe(true);  // also: every GPU value finite
      }
      expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(TOLERANCE.otPlanL1);
      expect(Math.abs(cpu.cost - gpu.cost) / Math.abs(cpu.cost)).toBeLessThanOrEqual(TOLERANCE.otCost);
    }, 300000);
  }
  test('SNS device line search in float32 (working-dtype copies of the trial potentials): CUDA = CPU float32', () => {
    const C = Float32Array.from(R3.C);
    const opts = { reg: 1e-2, method: 'sns' as const, tol: 1e-5 };
    const cpu = ot.sinkhornSync(R3.a, R3.b, C, { ...opts, device: 'cpu' });
    const gpu = ot.sinkhornSync(R3.a, R3.b, C, { ...opts, device: 'cuda' });
    expect(gpu.marginalError).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(gpu.newtonIters - cpu.newtonIters)).toBeLessThanOrEqual(1);
    expect(l1(cpu.plan!, gpu.plan!)).toBeLessThanOrEqual(2e-4);
  });

  // ot.sinkhornBatch on CUDA in one launch (docs/design/ot.md §5.1): one block per problem. Against the
  // CPU batch (a loop of single solves, bit for bit): B not a multiple of a warp or a block (1000 + 37),
  // a different reg per problem so problems stop at different iterations, iterations within ±1 of
  // the CPU's (the stop test sees errors that differ in the last bits), plans within 1e-7 (L1),
  // potentials within 1e-9 (units of C ~ 1), and the maxIter status with the CPU's count exactly.
  function cloudBatch(B: number, n: number, seed: number) {
    let x = seed >>> 0;
    const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
    const C = new Float64Array(B * n * n);
    for (let p = 0; p < B; p++) {
      const X = Array.from({ length: 2 * n }, rnd), Y = Array.from({ length: 2 * n }, rnd);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) C[p * n * n + i * n + j] = (X[2 * i] - Y[2 * j]) ** 2 + (X[2 * i + 1] - Y[2 * j + 1]) ** 2;
    }
    const w = new Float64Array(B * n).fill(1 / n);
    return { a: { data: w, shape: [B, n] }, b: { data: w.slice(), shape: [B, n] }, C: { data: C, shape: [B, n, n] } };
  }
  test('sinkhornBatch CUDA one launch: 1037 problems of 64×64, reg per problem in [0.01, 0.1], = the CPU batch', () => {
    const B = 1037, n = 64;
    const q = cloudBatch(B, n, 7);
    const reg = Float64Array.from({ length: B }, (_, p) => 0.01 * 10 ** ((p % 11) / 10));
    const cpu = ot.sinkhornBatchSync(q.a, q.b, q.C, { reg, method: 'sinkhorn', device: 'cpu', tol: 1e-9 });
    const gpu = ot.sinkhornBatchSync(q.a, q.b, q.C, { reg, method: 'sinkhorn', device: 'cuda', tol: 1e-9 });
    const iters = new Set<number>();
    for (let p = 0; p < B; p++) {
      const c = cpu.problems[p], g = gpu.problems[p];
      expect(g.status).toBe('converged');
      expect(g.marginalError).toBeLessThanOrEqual(1e-9);
      expect(Math.abs(g.sinkhornIters - c.sinkhornIters)).toBeLessThanOrEqual(1);
      iters.add(g.sinkhornIters);
      expect(l1(c.plan!, g.plan!)).toBeLessThanOrEqual(TOLERANCE.otPlanL1);
      expect(Math.abs(c.cost - g.cost) / c.cost).toBeLessThanOrEqual(1e-8);
      let df = 0;
      for (let i = 0; i < n; i++) df = Math.max(df, Math.abs(c.f[i] - g.f[i]), Math.abs(c.g[i] - g.g[i]));
      expect(df).toBeLessThanOrEqual(1e-9 + 1e-7 * reg[p]);
    }
    expect(iters.size).toBeGreaterThan(5); // the problems really stopped at different iterations
  }, 600000);
  test('sinkhornBatch CUDA one launch: rectangular 50×70, shared C, checkEvery 7, maxIter status and count as on the CPU', () => {
    const B = 45, n = 50, m = 70;
    const R = ot.referenceProblem('R3', { n, m });
    const cat = (x: Float64Array) => Float64Array.from({ length: B * x.length }, (_, k) => x[k % x.length]);
    const a = { data: cat(R.a), shape: [B, n] }, b = { data: cat(R.b), shape: [B, m] }, C = { data: R.C, shape: [1, n, m] };
    // Every third problem (reg 1e-4) does not converge in 700 iterations (maxIter, or stalled) and
    // its sums leave the normal range, so the kernel's max-shift fallbacks run.
    const reg = Float64Array.from({ length: B }, (_, p) => (p % 3 === 0 ? 1e-4 : 1e-2));
    const o = { reg, method: 'sinkhorn' as const, tol: 1e-9, maxIter: 700, checkEvery: 7 };
    const cpu = ot.sinkhornBatchSync(a, b, C, { ...o, device: 'cpu' });
    const gpu = ot.sinkhornBatchSync(a, b, C, { ...o, device: 'cuda' });
    for (let p = 0; p < B; p++) {
      const c = cpu.problems[p], g = gpu.problems[p];
      expect(g.status).toBe(c.status);
      if (c.status === 'maxIter') expect(g.sinkhornIters).toBe(700);
      else expect(Math.abs(g.sinkhornIters - c.sinkhornIters)).toBeLessThanOrEqual(7);
      if (g.status === 'converged') expect(g.sinkhornIters % 7).toBe(0); // the tol test runs every 7th iteration only
      expect(l1(c.plan!, g.plan!)).toBeLessThanOrEqual(c.status === 'converged' ? TOLERANCE.otPlanL1 : 1e-6);
    }
  }, 300000);
  test("sinkhornBatch CUDA, method 'auto': the one-launch kernel where every reg ≥ range/5000 (same bits as 'sinkhorn'), else one by one with SNS", () => {
    const B = 40, n = 64;
    const q = cloudBatch(B, n, 11);
    const reg = Float64Array.from({ length: B }, (_, p) => 0.01 + 0.001 * p);
    const auto = ot.sinkhornBatchSync(q.a, q.b, q.C, { reg, device: 'cuda' });
    const snk = ot.sinkhornBatchSync(q.a, q.b, q.C, { reg, method: 'sinkhorn', device: 'cuda' });
    for (let p = 0; p < B; p++) {
      expect(auto.problems[p].method).toBe('sinkhorn');
      expect(auto.problems[p].sinkhornIters).toBe(snk.problems[p].sinkhornIters);
      expect(l1(auto.problems[p].plan!, snk.problems[p].plan!)).toBe(0);
    }
    // One problem below the Sinkhorn range (reg < max C/5000 ≈ 2e-4 here): the whole batch goes one by one.
    const small = Float64Array.from(reg);
    small[B - 1] = 1e-5;
    const mixed = ot.sinkhornBatchSync(q.a, q.b, q.C, { reg: small, device: 'cuda', returnPlan: false });
    expect(mixed.problems[B - 1].method).toBe('sns');
    expect(mixed.problems[0].method).toBe('sns');
  }, 300000);
});

/**
 * CUDA against the CPU (all threads) in the same run, for the kernel families that have a CUDA
 * path: random normals, fused SDE trajectories, log-domain Sinkhorn and SNS, fBM Markov paths.
 * Skips (and leaves benchmarks/gpu.md as it was) when no CUDA device is present.
 *
 * Every call here is end to end from JavaScript: host arrays in, host arrays out, so each CUDA
 * number includes the device-to-host copy of its output. That copy is measured on its own
 * (DeviceArray.toHost of the same byte count) and the notes give the kernel share as
 * total − copy, then compare it with the bound counted for that kernel.
 */
import { backends, DeviceArray, fbm, getThreads, ot, rng, sde } from '../lib';
import { BenchOptions, BenchRow, report, time } from './harness';

/** H200 numbers measured on this workplace's machines (device/KINDS.md): copy bandwidth, read+write. */
const HBM_BYTES_PER_S = 4.3e12;

/** Milliseconds to bring `bytes` of device memory to a fresh host array (pageable). */
function copyMs(bytes: number): number {
  const d = DeviceArray.zeros(bytes / 4, 'float32');
  try {
    return time(() => d.toHost(), { runs: 3 }).minMs;
  } finally {
    d.dispose();
  }
}

function ratio(cpuMs: number, cudaMs: number): string {
  return `${(cpuMs / cudaMs).toFixed(1)}x vs CPU`;
}

/** Runs the benchmark and writes benchmarks/gpu.md. */
export async function run(o: BenchOptions): Promise<void> {
  const b = backends();
  if (!b.cuda.available) {
    console.log(`gpu benchmarks skipped: ${b.cuda.reason ?? 'CUDA unavailable'} (benchmarks/gpu.md left unchanged)`);
    return;
  }
  const threads = getThreads();
  const rows: BenchRow[] = [];
  const notes: string[] = [];

  // Device-to-host copy: every end-to-end CUDA number below pays it once for its output.
  const nCopy = o.quick ? 1 << 22 : 1 << 26;
  const cMs = copyMs(nCopy * 4);
  const copyGBs = (nCopy * 4) / (cMs / 1e3) / 1e9;
  rows.push({ case: `device-to-host copy, ${(nCopy * 4) / 2 ** 20} MiB (pageable)`, value: copyGBs, unit: 'GB/s', note: 'paid by every call that returns host data' });

  // Normals: per 4 outputs one Philox block + two Box–Muller pairs, 16 B written.
  {
    const n = nCopy;
    const gpu = time(() => rng.normal(n, { seed: 1, device: 'cuda' }), { runs: 3 });
    const cpu = time(() => rng.normal(n, { seed: 1, device: 'cpu' }), { runs: 3 });
    const kMs = Math.max(gpu.minMs - cMs, 1e-3);
    rows.push({ case: `rng.normal float32 n = 2^${Math.log2(n)}, CUDA`, value: n / (gpu.minMs / 1e3), unit: 'normals/s', ratio: ratio(cpu.minMs, gpu.minMs), note: `kernel ≈ ${kMs.toFixed(1)} ms of ${gpu.minMs.toFixed(1)} (rest: copy)` });
    rows.push({ case: `rng.normal float32 n = 2^${Math.log2(n)}, CPU ${threads} thr`, value: n / (cpu.minMs / 1e3), unit: 'normals/s' });
  }

  // Fused SDE trajectories, final state only: one normal per path-step (Heston: two).
  {
    const P = o.quick ? 1e5 : 1e6;
    const N = 252;
    const cases: [string, sde.Model, number[], sde.Method][] = [
      ['GBM Euler', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'euler'],
      ['Heston log-Euler', sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
    ];
    for (const [name, model, x0, method] of cases) {
      const call = (device: 'cuda' | 'cpu') => () => sde.simulateSync(model, { paths: P, x0, t1: 1, steps: N, method, seed: 1, device });
      const gpu = time(call('cuda'), { runs: 3 });
      const cpu = time(call('cpu'), { runs: 1 });
      rows.push({ case: `sde ${name} ${P.toExponential(0)} paths × ${N}, CUDA`, value: (P * N) / (gpu.minMs / 1e3), unit: 'path-steps/s', ratio: ratio(cpu.minMs, gpu.minMs), note: `${gpu.minMs.toFixed(1)} ms` });
      rows.push({ case: `sde ${name} ${P.toExponential(0)} paths × ${N}, CPU ${threads} thr`, value: (P * N) / (cpu.minMs / 1e3), unit: 'path-steps/s', note: `${cpu.minMs.toFixed(0)} ms` });
    }
    notes.push('SDE: state lives in registers for the whole path, so the kernel is compute-bound on Philox and Box–Muller (~30 float ops and 5 multiplies-high per normal), not on memory; the output copy is P·d·4 bytes.');
  }

  // Entropic OT: float64, tol 1e-9. A Sinkhorn iteration reads C twice (rows, then columns).
  {
    const probs: [string, ot.ReferenceProblem, number][] = [
      ['R1 n = 500, reg 1/1200', ot.referenceProblem('R1', { n: 500 }), 1 / 1200],
      [`R3 ${o.quick ? 1000 : 4000}², reg 1e-3`, ot.referenceProblem('R3', { n: o.quick ? 1000 : 4000, m: o.quick ? 1000 : 4000 }), 1e-3],
    ];
    for (const [name, p, reg] of probs) {
      for (const method of ['sinkhorn', 'sns'] as const) {
        const solve = (device: 'cuda' | 'cpu') => ot.sinkhornSync(p.a, p.b, p.C, { reg, method, device, returnPlan: false, maxIter: 30000 });
        solve('cuda');
        const g = solve('cuda');
        const c = solve('cpu');
        const iters = `${g.sinkhornIters}+${g.newtonIters}`;
        const bytes = 2 * p.C.length * 8;
        const perIter = g.timeMs / Math.max(1, g.sinkhornIters + 3 * g.newtonIters);
        rows.push({
          case: `ot ${method} ${name}, CUDA`,
          value: g.timeMs,
          unit: 'ms',
          ratio: ratio(c.timeMs, g.timeMs),
          note: `${iters} iters, err ${g.marginalError.toExponential(1)}; ${method === 'sinkhorn' ? `${perIter.toFixed(3)} ms/iter vs ${((bytes / HBM_BYTES_PER_S) * 1e3).toFixed(3)} ms HBM bound` : `CPU ${c.sinkhornIters}+${c.newtonIters}`}`,
        });
        rows.push({ case: `ot ${method} ${name}, CPU ${threads} thr`, value: c.timeMs, unit: 'ms', note: `${c.sinkhornIters}+${c.newtonIters} iters` });
      }
    }
    notes.push('SNS on CUDA: the row/column passes, the top-k threshold and the PCG run on the device, but each Newton step still materialises the plan and copies it to the host for the CSR/CSC build, then uploads the sparse matrices again (R3 4000²: 128 MB down and ~100 MB up per step, ~150 ms of the step), which is why CUDA SNS trails CUDA Sinkhorn there. A device-side CSR build (spec §6.3: count, scan, fill) removes it.');
    notes.push('OT: one log-domain Sinkhorn iteration reads the n×m float64 cost twice (2·8·n·m bytes); the HBM bound uses 4.3 TB/s. Small problems (R1 n = 500, 2 MB) are launch- and sync-latency-bound on the GPU.');
  }

  // fBM Markov paths (K = 5 OU components): output n·paths floats.
  {
    const paths = o.quick ? 1e4 : 1e5;
    const n = 1000;
    const call = (device: 'cuda' | 'cpu') => () => fbm.sampleSync({ hurst: 0.3, n, paths, K: 5, seed: 1, device });
    const gpu = time(call('cuda'), { runs: 3 });
    const cpu = time(call('cpu'), { runs: 1 });
    const copy = (cMs * (paths * (n + 1))) / nCopy;
    rows.push({ case: `fbm Markov K = 5, ${paths.toExponential(0)} paths × ${n}, CUDA`, value: (paths * n) / (gpu.minMs / 1e3), unit: 'path-steps/s', ratio: ratio(cpu.minMs, gpu.minMs), note: `${gpu.minMs.toFixed(1)} ms, of which ≈ ${copy.toFixed(0)} ms output copy` });
    rows.push({ case: `fbm Markov K = 5, ${paths.toExponential(0)} paths × ${n}, CPU ${threads} thr`, value: (paths * n) / (cpu.minMs / 1e3), unit: 'path-steps/s', note: `${cpu.minMs.toFixed(0)} ms` });
  }

  report('gpu', 'CUDA against the CPU in the same run (end to end from JavaScript)', rows, [
    ...notes,
    'Each CUDA row is a synchronous call with host input and host output (minimum of 3 runs after a warm-up); the CPU row beside it is the same call with device: \'cpu\' on all threads of the same machine.',
  ]);
}

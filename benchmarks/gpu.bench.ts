/**
 * CUDA in the same run as what a GPU user would otherwise write: a PyTorch loop and a jitted JAX
 * `lax.scan` (benchmarks/anchors/), plus the CPU (all threads) for scale. Rows:
 * - copies: device-to-host into a JS array (fresh and reused) beside a pinned cudaMemcpy;
 * - normals: `rng.normal` into a DeviceArray (the result stays on the GPU, as torch.randn's does)
 *   and into a host array;
 * - fused SDE trajectories with `output: 'device'` (final state stays on the GPU, as in the
 *   anchors), the run-time-shape kernel beside the compile-time-shape one, and host output;
 * - fBM Markov paths and OT solvers (host results).
 * `ITOKIT_GPU_BENCH_SECTIONS=copy,rng,sde,fbm,ot` picks sections (default: all).
 * Skips (and leaves benchmarks/gpu.md as it was) when no CUDA device is present.
 */
import { backends, DeviceArray, fbm, getThreads, ot, rng, sde } from '../lib';
import { native } from '../lib/native';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AnchorResult, runAnchor } from './anchors/anchor';
import { BenchOptions, BenchRow, report, time } from './harness';

/** H200 numbers measured on this workplace's machines (device/KINDS.md): copy bandwidth, read+write. */
const HBM_BYTES_PER_S = 4.3e12;

function sections(): Set<string> {
  const v = process.env.ITOKIT_GPU_BENCH_SECTIONS;
  return new Set((v ? v : 'copy,rng,sde,fbm,ot').split(',').map((s) => s.trim()));
}

function ratio(ours: number, theirs: number | undefined, label: string): string {
  return theirs ? `${(ours / theirs).toFixed(2)}x vs ${label}` : '';
}

function anchorRow(rows: BenchRow[], name: string, a: AnchorResult | undefined, key: 'path_steps_per_s' | 'normals_per_s', unit: string): number | undefined {
  const v = a?.[key];
  if (a && typeof v === 'number') rows.push({ case: name, value: v, unit, note: `${a.lib} ${a.version ?? ''}, ${((a.seconds_min ?? 0) * 1e3).toFixed(2)} ms` });
  return typeof v === 'number' ? v : undefined;
}

/** Runs the benchmark and writes gpu.json and gpu.md into the output folder (harness report). */
export async function run(o: BenchOptions): Promise<void> {
  const b = backends();
  if (!b.cuda.available) {
    console.log(`gpu benchmarks skipped: ${b.cuda.reason ?? 'CUDA unavailable'} (no report written)`);
    return;
  }
  const want = sections();
  const threads = getThreads();
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const nBig = o.quick ? 1 << 22 : 1 << 26;

  if (want.has('copy')) {
    // 256 MiB device to host: into a fresh JS array (pays first-touch page faults), into a reused
    // one, and the link's own rate into page-locked memory.
    const bytes = nBig * 4;
    const d = DeviceArray.zeros(nBig, 'float32');
    try {
      const fresh = time(() => d.toHost(), { runs: 3 }).minMs;
      const into = new Float32Array(nBig);
      const reused = time(() => d.toHost(into), { runs: 3 }).minMs;
      const pinned = native().devicePinnedCopySeconds({ bytes }) * 1e3;
      const gbs = (ms: number) => bytes / (ms / 1e3) / 1e9;
      rows.push({ case: `device→host ${bytes / 2 ** 20} MiB, pinned cudaMemcpy (link reference)`, value: gbs(pinned), unit: 'GB/s', note: `${pinned.toFixed(2)} ms` });
      rows.push({ case: `device→host ${bytes / 2 ** 20} MiB into a fresh JS array (toHost())`, value: gbs(fresh), unit: 'GB/s', ratio: `${(pinned / fresh).toFixed(2)}x of pinned`, note: `${fresh.toFixed(2)} ms` });
      rows.push({ case: `device→host ${bytes / 2 ** 20} MiB into a reused JS array (toHost(into))`, value: gbs(reused), unit: 'GB/s', ratio: `${(pinned / reused).toFixed(2)}x of pinned`, note: `${reused.toFixed(2)} ms` });
    } finally {
      d.dispose();
    }
  }

  if (want.has('rng')) {
    // Per 4 normals: one Philox block (10 rounds, 2 multiplies-high each) and two Box–Muller
    // pairs (log, sin/cos with 4 IEEE divisions and a sqrt), 16 bytes written.
    const n = nBig;
    const dev = time(() => rng.normal(n, { seed: 1, output: 'device' }).dispose(), { runs: 5 }).minMs;
    const host = time(() => rng.normal(n, { seed: 1, device: 'cuda' }), { runs: 3 }).minMs;
    const cpu = time(() => rng.normal(n, { seed: 1, device: 'cpu' }), { runs: 3 }).minMs;
    const torch = runAnchor('normals', { lib: 'torch', device: 'cuda', n, repeats: 10 });
    const jax = runAnchor('normals', { lib: 'jax', device: 'cuda', n, repeats: 10 });
    const ours = n / (dev / 1e3);
    rows.push({ case: `rng.normal 2^${Math.log2(n)} float32 → DeviceArray`, value: ours, unit: 'normals/s', ratio: ratio(ours, torch?.normals_per_s, 'torch.randn'), note: `${dev.toFixed(3)} ms; write bound ${((n * 4) / HBM_BYTES_PER_S * 2e3).toFixed(3)} ms` });
    anchorRow(rows, `torch.randn 2^${Math.log2(n)} float32 on the device`, torch, 'normals_per_s', 'normals/s');
    anchorRow(rows, `jax.random.normal 2^${Math.log2(n)} float32 on the device`, jax, 'normals_per_s', 'normals/s');
    const hostRate = n / (host / 1e3);
    rows.push({ case: `rng.normal 2^${Math.log2(n)} float32 → host array (CUDA)`, value: hostRate, unit: 'normals/s', ratio: torch?.normals_per_s_to_host ? `${(hostRate / torch.normals_per_s_to_host).toFixed(2)}x vs torch.randn().cpu()` : '', note: `${host.toFixed(1)} ms` });
    rows.push({ case: `rng.normal 2^${Math.log2(n)} float32, CPU ${threads} thr`, value: n / (cpu / 1e3), unit: 'normals/s' });
  }

  if (want.has('sde')) {
    const N = 252;
    const gbm = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
    const heston = sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 });
    const cases: [string, 'gbm' | 'heston', sde.Model, number[], sde.Method, number][] = [
      ['GBM Euler', 'gbm', gbm, [1], 'euler', o.quick ? 1e6 : 1e7],
      ['GBM Euler', 'gbm', gbm, [1], 'euler', o.quick ? 1e5 : 1e6],
      ['Heston log-Euler FT', 'heston', heston, [100, 0.04], 'log-euler-ft', o.quick ? 1e6 : 1e7],
    ];
    for (const [name, key, model, x0, method, P] of cases) {
      const label = `${name} ${P.toExponential(0)} × ${N}`;
      const opts = { paths: P, x0, t1: 1, steps: N, method, seed: 1 } as const;
      const devMs = time(() => {
        const r = sde.simulateSync(model, { ...opts, output: 'device' });
        r.final.dispose();
        r.data.dispose();
      }, { runs: 5 }).minMs;
      process.env.ITOKIT_SDE_KERNEL = 'runtime';
      const rtMs = time(() => {
        const r = sde.simulateSync(model, { ...opts, output: 'device' });
        r.final.dispose();
        r.data.dispose();
      }, { runs: 2 }).minMs;
      delete process.env.ITOKIT_SDE_KERNEL;
      const hostMs = time(() => sde.simulateSync(model, { ...opts, device: 'cuda' }), { runs: 3 }).minMs;
      const torch = runAnchor('sde_loops', { lib: 'torch', device: 'cuda', model: key, paths: P, steps: N, repeats: 3 });
      const jax = runAnchor('sde_loops', { lib: 'jax', device: 'cuda', model: key, paths: P, steps: N, repeats: 3 });
      const rate = (ms: number) => (P * N) / (ms / 1e3);
      const ours = rate(devMs);
      rows.push({
        case: `sde ${label}, CUDA → DeviceArray`, value: ours, unit: 'path-steps/s',
        ratio: [ratio(ours, torch?.path_steps_per_s, 'torch'), ratio(ours, jax?.path_steps_per_s, 'JAX')].filter(Boolean).join('; '),
        note: `${devMs.toFixed(2)} ms`,
      });
      rows.push({ case: `sde ${label}, CUDA run-time-shape kernel → DeviceArray`, value: rate(rtMs), unit: 'path-steps/s', note: `${rtMs.toFixed(2)} ms (the kernel before this change)` });
      rows.push({ case: `sde ${label}, CUDA → host arrays`, value: rate(hostMs), unit: 'path-steps/s', note: `${hostMs.toFixed(2)} ms incl. upload of x0 and download of data + final` });
      anchorRow(rows, `torch loop ${label} (CUDA)`, torch, 'path_steps_per_s', 'path-steps/s');
      anchorRow(rows, `JAX lax.scan ${label} (CUDA, jit)`, jax, 'path_steps_per_s', 'path-steps/s');
      if (P <= 1e6) {
        const cpuMs = time(() => sde.simulateSync(model, { ...opts, device: 'cpu' }), { runs: 1 }).minMs;
        rows.push({ case: `sde ${label}, CPU ${threads} thr`, value: rate(cpuMs), unit: 'path-steps/s', note: `${cpuMs.toFixed(0)} ms` });
      }
    }
    // Two async calls at once: with per-thread default streams their kernels share the GPU.
    {
      const m = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
      const small = { paths: o.quick ? 2e4 : 1e5, x0: [1], t1: 1, steps: 2520, method: 'euler', seed: 3, output: 'device' } as const;
      const one = async () => {
        const r = await sde.simulate(m, small);
        r.final.dispose();
        r.data.dispose();
      };
      await one();
      const t0 = performance.now();
      await one();
      await one();
      const seq = performance.now() - t0;
      const t1 = performance.now();
      await Promise.all([one(), one()]);
      const par = performance.now() - t1;
      rows.push({ case: `two async GBM ${small.paths.toExponential(0)} × ${small.steps} calls, concurrent vs one after the other`, value: seq / par, unit: 'x speed-up', note: `${par.toFixed(1)} ms together, ${seq.toFixed(1)} ms in sequence` });
    }
    notes.push('SDE: one thread per path keeps the state in registers for all steps; each path-step computes one Philox-4x32-10 block and one Box–Muller pair (the counter layout gives every (path, step) its own block) — ~80 integer and ~100 float instructions, 4 of them IEEE divisions — so the kernel is bound by instruction issue, not memory. The anchors draw their normals per step into memory and read them back.');
  }

  if (want.has('fbm')) {
    const paths = o.quick ? 1e4 : 1e5;
    const n = 1000;
    const call = (device: 'cuda' | 'cpu') => () => fbm.sampleSync({ hurst: 0.3, n, paths, K: 5, seed: 1, device });
    const gpu = time(call('cuda'), { runs: 3 });
    const cpu = time(call('cpu'), { runs: 1 });
    rows.push({ case: `fbm Markov K = 5, ${paths.toExponential(0)} paths × ${n}, CUDA (host output)`, value: (paths * n) / (gpu.minMs / 1e3), unit: 'path-steps/s', ratio: `${(cpu.minMs / gpu.minMs).toFixed(1)}x vs CPU`, note: `${gpu.minMs.toFixed(1)} ms incl. the ${((paths * (n + 1) * 4) / 2 ** 20).toFixed(0)} MiB output copy` });
    rows.push({ case: `fbm Markov K = 5, ${paths.toExponential(0)} paths × ${n}, CPU ${threads} thr`, value: (paths * n) / (cpu.minMs / 1e3), unit: 'path-steps/s', note: `${cpu.minMs.toFixed(0)} ms` });
  }

  if (want.has('ot')) rows.push(...otRows(o.quick, threads, notes));

  report('gpu', 'CUDA beside PyTorch, JAX and the CPU in the same run', rows, [
    ...notes,
    'Each itokit row is a synchronous call from JavaScript (minimum over runs after a warm-up). Device-output rows include allocating the result DeviceArrays and building the initial state on the GPU; anchors time the same work after their own warm-up (JAX: compiled outside the timing), ending with a device synchronisation.',
  ]);
}

/**
 * The OT cases of issue #12, every target in one GPU run (float64 unless said, L1 marginal
 * tolerance 1e-9, uniform points in the unit square, squared Euclidean cost, uniform marginals):
 * 4000² at reg 1e-2 and 1e-3 (SNS, Sinkhorn and auto on CUDA beside the PyTorch log-domain loop on
 * the same C), the random assignment n = 500 at reg 1/1200 (CUDA vs the CPU with all threads),
 * 1024 problems of 64² (one batch launch vs one by one) and a 1e5-point cloud without a cost matrix
 * (float32, tol 1e-6).
 */
function otRows(quick: boolean, threads: number, notes: string[]): BenchRow[] {
  const rows: BenchRow[] = [];
  const TAU = 1e-9;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-ot-gpu-'));
  const cloud = (n: number, stream: number) => rng.uniform(2 * n, { seed: 20261204, stream, dtype: 'float64' }) as Float64Array;
  const N = quick ? 1000 : 4000;
  for (const reg of [1e-2, 1e-3]) {
    const X = cloud(N, 1), Y = cloud(N, 2);
    const C = ot.cost.sqeuclidean({ data: X, shape: [N, 2] }, { data: Y, shape: [N, 2] });
    const a = new Float64Array(N).fill(1 / N);
    const base = path.join(dir, `u${N}_${reg}`);
    for (const [key, arr] of [['C', C], ['a', a], ['b', a]] as const) fs.writeFileSync(`${base}.${key}`, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength));
    const solve = (method: ot.OtMethod) => ot.sinkhornSync(a, a, C, { reg, method, device: 'cuda', tol: TAU, returnPlan: false, maxIter: 100000 });
    const res: Partial<Record<ot.OtMethod, ot.SinkhornResult>> = {};
    for (const m of ['sns', 'sinkhorn', 'auto'] as const) {
      solve(m); // warm-up: device buffers, module load
      res[m] = solve(m);
    }
    const torch = runAnchor('ot_torch', { lib: 'torch', device: 'cuda', base, n: N, m: N, reg, tau: TAU, threads: 1, repeats: 2 }, 600_000);
    const tMs = typeof torch?.seconds_min === 'number' ? torch.seconds_min * 1e3 : undefined;
    const best = Math.min(res.sns!.timeMs, res.sinkhorn!.timeMs);
    for (const m of ['sns', 'sinkhorn', 'auto'] as const) {
      const r = res[m]!;
      const vs = [m === 'sns' ? `${(res.sinkhorn!.timeMs / r.timeMs).toFixed(1)}x vs itokit Sinkhorn` : '', tMs ? `${(tMs / r.timeMs).toFixed(1)}x vs torch` : '', m === 'auto' ? `${(r.timeMs / best).toFixed(2)}x the best of SNS/Sinkhorn` : ''];
      rows.push({
        case: `ot ${N}², reg ${reg}, CUDA ${m}${m === 'auto' ? ` (${r.method})` : ''}`, value: r.timeMs, unit: 'ms', ratio: vs.filter(Boolean).join('; '),
        note: `${r.status}, err ${r.marginalError.toExponential(1)}, ${r.sinkhornIters} + ${r.newtonIters} it, ${r.cgIters} CG, ${r.densePasses} passes`,
      });
    }
    if (torch && tMs) rows.push({ case: `ot ${N}², reg ${reg}, PyTorch log-Sinkhorn CUDA`, value: tMs, unit: 'ms', note: `torch ${torch.version ?? ''}, ${(torch as { iters?: number }).iters ?? '?'} it, err ${Number((torch as { err?: number }).err).toExponential(1)}` });
  }
  {
    // The SNS paper's random assignment: CUDA against the CPU of the same machine.
    const p = ot.referenceProblem('R1', { n: 500 });
    const reg = 1 / 1200;
    const solve = (device: 'cuda' | 'cpu') => ot.sinkhornSync(p.a, p.b, p.C, { reg, device, tol: TAU, returnPlan: false, maxIter: 60000 });
    solve('cuda');
    const g = time(() => solve('cuda'), { runs: 3 });
    const c = time(() => solve('cpu'), { runs: 3 });
    const gr = solve('cuda'), cr = solve('cpu');
    rows.push({ case: `ot R1 assignment n = 500, reg 1/1200, CUDA auto (${gr.method})`, value: g.minMs, unit: 'ms', ratio: `${(c.minMs / g.minMs).toFixed(2)}x vs CPU (target ≥ 1)`, note: `${gr.sinkhornIters} + ${gr.newtonIters} it, ${gr.cgIters} CG, err ${gr.marginalError.toExponential(1)}` });
    rows.push({ case: `ot R1 assignment n = 500, reg 1/1200, CPU ${threads} thr auto (${cr.method})`, value: c.minMs, unit: 'ms', note: `${cr.sinkhornIters} + ${cr.newtonIters} it` });
  }
  {
    // 1024 problems of 64²: one launch (method 'sinkhorn', docs/design/ot.md §5.1) vs a loop of single solves.
    const B = quick ? 128 : 1024, n = 64, reg = 1e-2;
    const C = new Float64Array(B * n * n);
    for (let q = 0; q < B; q++) {
      const X = cloud(n, 10 + 2 * q), Y = cloud(n, 11 + 2 * q);
      C.set(ot.cost.sqeuclidean({ data: X, shape: [n, 2] }, { data: Y, shape: [n, 2] }), q * n * n);
    }
    const w = new Float64Array(B * n).fill(1 / n);
    const A = { data: w, shape: [B, n] }, Bm = { data: w, shape: [B, n] }, Ct = { data: C, shape: [B, n, n] };
    const opt = { reg, method: 'sinkhorn' as const, tol: TAU };
    const batch = (device: 'cuda' | 'cpu') => ot.sinkhornBatchSync(A, Bm, Ct, { ...opt, device });
    batch('cuda');
    const tb = time(() => batch('cuda'), { runs: 3 });
    const one = () => {
      for (let q = 0; q < B; q++) ot.sinkhornSync(w.subarray(q * n, (q + 1) * n), w.subarray(q * n, (q + 1) * n), C.subarray(q * n * n, (q + 1) * n * n), { ...opt, device: 'cuda', returnPlan: false });
    };
    const tl = time(one, { runs: 1, warmup: 0 });
    const tc = time(() => batch('cpu'), { runs: 1, warmup: 0 });
    const its = batch('cuda').problems.map((r) => r.sinkhornIters);
    rows.push({ case: `ot batch ${B} × ${n}², reg ${reg}, CUDA one launch`, value: tb.minMs, unit: 'ms', ratio: `${(tl.minMs / tb.minMs).toFixed(1)}x vs one by one on CUDA (target ≥ 10); ${(tc.minMs / tb.minMs).toFixed(1)}x vs CPU batch`, note: `iterations ${Math.min(...its)}–${Math.max(...its)}` });
    rows.push({ case: `ot batch ${B} × ${n}², reg ${reg}, CUDA one by one`, value: tl.minMs, unit: 'ms' });
    rows.push({ case: `ot batch ${B} × ${n}², reg ${reg}, CPU batch ${threads} thr`, value: tc.minMs, unit: 'ms' });
  }
  {
    // Point cloud without a cost matrix (online passes): float32 to tol 1e-6.
    const n = quick ? 10000 : 100000, reg = 1e-3;
    const X = Float32Array.from(cloud(n, 3)), Y = Float32Array.from(cloud(n, 4));
    const w = new Float64Array(n).fill(1 / n);
    const r = ot.sinkhornSync(w, w, { X: { data: X, shape: [n, 2] }, Y: { data: Y, shape: [n, 2] }, cost: 'sqeuclidean' }, { reg, device: 'cuda', tol: 1e-6, returnPlan: false, maxIter: 20000 });
    rows.push({ case: `ot point cloud n = m = ${n}, reg ${reg}, float32, tol 1e-6, CUDA (no n×m allocation)`, value: r.timeMs, unit: 'ms', note: `${r.status}, err ${r.marginalError.toExponential(1)}, ${r.sinkhornIters} it, ${((r.timeMs / Math.max(1, r.densePasses)) * 1e6 / (n * n)).toFixed(3)} ns per entry-pass` });
  }
  notes.push('OT rows (issue #12): itokit times are the solver\'s own timeMs after one warm-up solve; the PyTorch row is benchmarks/anchors/ot_torch.py on the same C (float64 logsumexp loop, error checked every 10 iterations, min of 2 runs after its warm-up). The batch rows compare ot.sinkhornBatch (method \'sinkhorn\', one launch) with a JS loop of single CUDA solves on the same problems.');
  return rows;
}

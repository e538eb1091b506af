/**
 * SDE engine throughput (issue 3 item 7) beside what a user would otherwise run, in the same run:
 * GBM Euler (10^6 and 10^4 paths) and Heston log-Euler with full truncation (10^6 paths), 252
 * steps, float32, final state only, in path-steps per second. itokit runs on 1 and 2 threads
 * (and on all threads where there are more); the anchors (benchmarks/anchors/sde_loops.py) are the
 * ~10-line numpy loop (1 thread) and the same loop in torch on the CPU (1 and 2 threads). Each
 * itokit row carries its ratio to every anchor at the same thread count. Also: GBM with the exact
 * step, a plain TypeScript loop, and the RNG reference (the fused kernels keep the state in
 * registers and write once, so generating the normals is the bound: a quarter Philox block and
 * half a Box–Muller pair per scalar path-step, docs/design/noise-layout.md).
 */
import * as os from 'os';
import { getThreads, rng, sde, setThreads } from '../lib';
import { AnchorResult, ratioText, runAnchor } from './anchors/anchor';
import { BenchOptions, BenchRow, report, time } from './harness';

/** GBM and Heston parameters shared with benchmarks/anchors/sde_loops.py. */
const GBM = { mu: 0.05, sigma: 0.2, x0: 1 };
const HESTON = { mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7, s0: 100, v0: 0.04 };
/** OU (exact step) and CIR (full-truncation Euler) parameters shared with sde_loops.py. */
const OU = { theta: 2, mu: 0.5, sigma: 0.3, x0: 0 };
const CIR = { kappa: 2, theta: 0.04, xi: 0.5, v0: 0.04 };

/** Plain TypeScript GBM Euler–Maruyama with Box–Muller on Math.random (the "no native" baseline). */
function tsGbm(paths: number, steps: number): number {
  const { mu, sigma } = GBM;
  const h = 1 / steps, sq = Math.sqrt(h);
  const x = new Float32Array(paths).fill(GBM.x0);
  for (let n = 0; n < steps; n++) {
    for (let p = 0; p < paths; p++) {
      const z = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
      x[p] += mu * x[p] * h + sigma * x[p] * sq * z;
    }
  }
  return x[0];
}

/** Mean of component 0 of a [P, d] final state. */
function meanFirst(final: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < final.length; i += d) s += final[i];
  return s / (final.length / d);
}

interface Case {
  name: string;
  model: sde.Model;
  anchorModel: 'gbm' | 'heston' | 'ou' | 'cir';
  /** E[X_T] of component 0 in closed form (sanity value beside the measured mean). */
  expected: number;
  x0: number[];
  method: sde.Method;
  paths: number;
  runs: number;
  /** Compare with the anchors (the exact-step GBM case has no user-loop twin). */
  anchors: boolean;
}

/** Runs the benchmark and writes sde.json and sde.md into the output folder (harness report). */
export async function run(o: BenchOptions): Promise<void> {
  const P = o.quick ? 100_000 : 1_000_000;
  const Psmall = o.quick ? 2_000 : 10_000;
  const N = 252;
  const all = os.availableParallelism();
  const threadList = [...new Set([1, 2, all])].sort((a, b) => a - b);
  const threads0 = getThreads();
  const rows: BenchRow[] = [];
  const load0 = os.loadavg()[0];
  const gbm = sde.models.gbm({ mu: GBM.mu, sigma: GBM.sigma });
  const heston = sde.models.heston({ mu: HESTON.mu, kappa: HESTON.kappa, theta: HESTON.theta, xi: HESTON.xi, rho: HESTON.rho });
  const ou = sde.models.ou({ theta: OU.theta, mu: OU.mu, sigma: OU.sigma });
  const cir = sde.models.cir({ kappa: CIR.kappa, theta: CIR.theta, xi: CIR.xi });
  const gbm3 = sde.models.gbm({ mu: [GBM.mu, GBM.mu, GBM.mu], sigma: [0.2, 0.3, 0.25], corr: [1, 0.5, 0.2, 0.5, 1, 0.3, 0.2, 0.3, 1] });
  const eGbm = GBM.x0 * Math.exp(GBM.mu), eHeston = HESTON.s0 * Math.exp(HESTON.mu);
  const eOu = OU.mu + (OU.x0 - OU.mu) * Math.exp(-OU.theta), eCir = CIR.theta + (CIR.v0 - CIR.theta) * Math.exp(-CIR.kappa);
  const runs = o.quick ? 2 : 3;
  const fmtP = (p: number): string => p.toExponential(0).replace('+', '');

  // RNG reference: Philox blocks per second through rng.randn (one step: every draw is its own
  // block and one Box–Muller pair, written to memory; docs/design/noise-layout.md). A GBM path-step
  // in the fused kernel needs a quarter block and half a pair, Heston twice that.
  // rng.randn returns a fresh array; at P × 252 floats that is a fresh mmap every call, and on some
  // VMs first-touching its pages costs more than the draws. 16,384 paths (16.5 MB) stay under
  // glibc's largest mmap threshold, so after the warm-up the freed block is reused untouched.
  const bound: Record<number, number> = {};
  const refPaths = Math.max(4, 4 * Math.floor(Math.min(P, 16_384) / 4));
  const refDim = 4 * Math.floor(N / 4);
  for (const t of threadList) {
    setThreads(t);
    const r = time(() => rng.randn({ seed: 1, paths: refPaths, dim: refDim, device: 'cpu' }), { runs: runs + 2, warmup: 1 });
    bound[t] = (refPaths * refDim) / (r.minMs / 1e3); // one Philox block per draw at one step
  }

  const cases: Case[] = [
    { name: 'GBM Euler', model: gbm, anchorModel: 'gbm', expected: eGbm, x0: [GBM.x0], method: 'euler', paths: P, runs, anchors: true },
    { name: 'GBM Euler (small batch)', model: gbm, anchorModel: 'gbm', expected: eGbm, x0: [GBM.x0], method: 'euler', paths: Psmall, runs: o.quick ? 5 : 20, anchors: true },
    { name: 'Heston log-Euler FT', model: heston, anchorModel: 'heston', expected: eHeston, x0: [HESTON.s0, HESTON.v0], method: 'log-euler-ft', paths: P, runs, anchors: true },
    { name: 'GBM exact', model: gbm, anchorModel: 'gbm', expected: eGbm, x0: [GBM.x0], method: 'exact', paths: P, runs, anchors: false },
    { name: 'OU exact', model: ou, anchorModel: 'ou', expected: eOu, x0: [OU.x0], method: 'exact', paths: P, runs, anchors: true },
    { name: 'CIR Euler FT', model: cir, anchorModel: 'cir', expected: eCir, x0: [CIR.v0], method: 'euler-ft', paths: P, runs, anchors: true },
    { name: 'GBM 3 correlated assets Euler', model: gbm3, anchorModel: 'gbm', expected: eGbm, x0: [GBM.x0, GBM.x0, GBM.x0], method: 'euler', paths: P / 4, runs, anchors: false },
  ];
  let gbmEuler1 = 0, gbmEulerAll = 0;
  for (const c of cases) {
    const size = `${fmtP(c.paths)} × ${N}`;
    const expected = c.expected;

    // Anchors first, so the itokit rows can carry their ratios.
    const numpy = c.anchors ? runAnchor('sde_loops', { lib: 'numpy', device: 'cpu', model: c.anchorModel, paths: c.paths, steps: N, threads: 1, repeats: c.runs }) : undefined;
    const torch: Record<number, AnchorResult | undefined> = {};
    if (c.anchors) {
      for (const t of threadList) {
        torch[t] = runAnchor('sde_loops', { lib: 'torch', device: 'cpu', model: c.anchorModel, paths: c.paths, steps: N, threads: t, repeats: c.runs });
        if (!torch[t]) break; // no torch: do not retry per thread count
      }
    }

    for (const t of threadList) {
      setThreads(t);
      let last: sde.SimResult | undefined;
      const r = time(() => {
        last = sde.simulateSync(c.model, { paths: c.paths, x0: c.x0, t1: 1, steps: N, method: c.method, seed: 1, device: 'cpu' });
      }, { runs: c.runs, warmup: 1 });
      const v = (c.paths * N) / (r.minMs / 1e3);
      if (c.name === 'GBM Euler') {
        if (t === 1) gbmEuler1 = v;
        if (t === all) gbmEulerAll = v;
      }
      const ratios: string[] = [];
      if (t === 1 && numpy?.path_steps_per_s) ratios.push(ratioText(v, numpy.path_steps_per_s, 'numpy'));
      const tt = torch[t]?.path_steps_per_s;
      if (tt) ratios.push(ratioText(v, tt, `torch ${t} thr`));
      const mean = last ? meanFirst(last.final, c.x0.length) : NaN;
      const notes = [`${r.minMs.toFixed(r.minMs < 100 ? 1 : 0)} ms`, `mean X_T ${mean.toPrecision(5)} (exact ${expected.toPrecision(5)})`];
      notes.push(`${(r.minMs * 1e-3 * 3.45e9 / (c.paths * N) * t).toFixed(1)} cycles/path-step at 3.45 GHz (wall × threads)`);
      if (c.paths === P && c.name !== 'GBM Euler (small batch)') {
        notes.push(`${(v / bound[t]).toFixed(2)}x the Philox block rate of rng.randn (${bound[t].toExponential(2)} blocks/s)`);
      }
      rows.push({ case: `itokit ${c.name} ${size}, ${t} thread${t > 1 ? 's' : ''}`, value: v, unit: 'path-steps/s', ratio: ratios.join('; ') || undefined, note: notes.join('; ') });
    }
    setThreads(threads0);

    const anchorRow = (a: AnchorResult | undefined, what: string): void => {
      if (!a || !a.path_steps_per_s || a.seconds_min === undefined) return;
      rows.push({
        case: `${what} ${size}, ${a.threads ?? 1} thread${(a.threads ?? 1) > 1 ? 's' : ''}`,
        value: a.path_steps_per_s, unit: 'path-steps/s',
        note: `${(a.seconds_min * 1e3).toFixed(a.seconds_min < 0.1 ? 1 : 0)} ms; mean X_T ${a.mean_final?.toPrecision(5)}; ${a.lib} ${a.version}`,
      });
    };
    anchorRow(numpy, `numpy loop, ${c.name}`);
    for (const t of threadList) anchorRow(torch[t], `torch CPU loop, ${c.name}`);
  }
  setThreads(threads0);

  // Plain TypeScript loop (1 thread by nature), on fewer paths.
  const tsP = o.quick ? 20_000 : 100_000;
  const ts = time(() => tsGbm(tsP, N), { runs: 2, warmup: 1 });
  const tsRate = (tsP * N) / (ts.minMs / 1e3);
  rows.push({ case: `plain TypeScript GBM Euler ${fmtP(tsP)} × ${N} (Math.random Box–Muller)`, value: tsRate, unit: 'path-steps/s',
    ratio: `itokit 1 thread ${(gbmEuler1 / tsRate).toFixed(1)}x, ${all} threads ${(gbmEulerAll / tsRate).toFixed(1)}x` });

  report('sde', `SDE ensembles: ${fmtP(P)} paths × ${N} steps (and ${fmtP(Psmall)} paths), float32, final save only`, rows, [
    `Wall time of one call (sde.simulateSync, or one run of the anchor loop after a warm-up), minimum of ${runs} runs (${o.quick ? 5 : 20} for the small batch); itokit's thread count is set with setThreads before timing (1 thread runs inline on the calling thread).`,
    'Ratio column: itokit / anchor throughput at the same thread count (numpy is single-threaded, so it is compared with itokit on 1 thread). ' +
      'Anchors (benchmarks/anchors/sde_loops.py, see benchmarks/anchors/README.md) are the loops a user writes: GBM x ← x·(1 + μh + σ√h·z), ' +
      'Heston S ← S·exp((μ − v⁺/2)h + √v⁺ ΔW₁), v ← v + κ(θ − v⁺)h + ξ√v⁺ ΔW₂ with fresh float32 normals every step, in-place ops on preallocated buffers, final state only.',
    'OU (exact step) and CIR (full-truncation Euler) anchors are the same style of loop: x ← e^{−θh}x + μ(1 − e^{−θh}) + b·z; v ← v + κ(θ − v⁺)h + ξ√v⁺√h·z. The 3-asset GBM row (d = 3, Cholesky-correlated, P/4 paths) has no anchor. Cycles per path-step are wall time × threads at 3.45 GHz (the VM exposes no cycle counter), so they include the load from other jobs.',
    'Fused kernels keep each path in registers and write once, so the bound is the counter-based RNG: a quarter of a Philox4x32-10 block and half a Box–Muller pair ' +
      '(project-owned log/sincos, no FMA) per scalar path-step (noise layout version 2: four steps of a draw per block). The reference rate is rng.randn at one step in Philox blocks/s (one block, one pair and a store per draw), ' +
      `on ${refPaths.toLocaleString()} × ${refDim} draws (small enough that its fresh output reuses freed memory instead of faulting in new pages).`,
    'numpy uses PCG64 + ziggurat normals and torch CPU MT19937; neither is reproducible across devices or batch splits, while itokit\'s paths are. ' +
      'The plain TypeScript loop uses Math.random and V8 libm (also not reproducible).',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${all} logical CPUs; load average at start ${load0.toFixed(1)} (the CPUs are shared, so timings are noisy).`,
  ]);
}

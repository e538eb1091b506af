/**
 * Entropic OT benchmark on the reference problems of spec/sinkhorn.md §7: iterations and wall time
 * to L1 marginal error 1e-9 (float64) for itokit's SNS and log-Sinkhorn, and POT's sinkhorn_log
 * on the very same problem in the same run (problems exported as raw float64; POT stops at
 * stopThr = τ/√m, which bounds its column L1 error by τ; rows are exact after its last u-update),
 * with the accuracy of every returned plan measured by our own L1 error. Cost construction is
 * excluded from all timings.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { getThreads, ot } from '../lib';
import { BenchOptions, BenchRow, python, report } from './harness';

interface Case {
  name: string;
  p: ot.ReferenceProblem;
  reg: number;
  sns?: ot.SnsOptions;
  maxIter: number;
  /** Paper Table 1 iteration counts (SNS Sinkhorn + Newton; Sinkhorn), where the case is the paper's. */
  paper?: { iterations: number; text: string };
}

const TAU = 1e-9;

const POT_SCRIPT = `
import json, sys, time
import numpy as np
import ot
jobs = json.loads(sys.argv[1])
out = []
for j in jobs:
    n, m = j['n'], j['m']
    C = np.fromfile(j['base'] + '.C', dtype='<f8').reshape(n, m)
    a = np.fromfile(j['base'] + '.a', dtype='<f8')
    b = np.fromfile(j['base'] + '.b', dtype='<f8')
    t = time.perf_counter()
    G, log = ot.sinkhorn(a, b, C, j['reg'], method='sinkhorn_log', numItermax=j['maxIter'],
                         stopThr=j['tau'] / np.sqrt(m), log=True, warn=False)
    dt = time.perf_counter() - t
    err = float(np.abs(G.sum(1) - a).sum() + np.abs(G.sum(0) - b).sum())
    out.append({'ms': dt * 1e3, 'iters': int(log['niter']), 'err': err, 'cost': float((C * G).sum())})
print(json.dumps({'pot': ot.__version__, 'threads': __import__('os').environ.get('OMP_NUM_THREADS', 'default'), 'results': out}))
`;

export async function run(o: BenchOptions): Promise<void> {
  const quick = o.quick;
  const cases: Case[] = [
    { name: 'R1 random assignment n=500, reg 1/1200', p: ot.referenceProblem('R1', { n: quick ? 200 : 500 }), reg: 1 / 1200, maxIter: quick ? 5000 : 60000, paper: { iterations: 29, text: 'SNS 20 + 9; Sinkhorn 56 199' } },
    { name: 'R2-L2 28×28 grid, reg 1/1200', p: ot.referenceProblem('R2-L2'), reg: 1 / 1200, maxIter: quick ? 3000 : 30000, paper: { iterations: 53, text: 'SNS 20 + 33; Sinkhorn 2 041' } },
    { name: 'R2-L1 28×28 grid, reg 1/1200, N1 = 700, λ0 = 15/784', p: ot.referenceProblem('R2-L1'), reg: 1 / 1200, sns: { warmupIters: 700, lambda0: 15 / 784 }, maxIter: quick ? 3000 : 30000, paper: { iterations: 777, text: 'SNS 700 + 77; Sinkhorn 5 748' } },
    { name: `R3 point clouds ${quick ? 1000 : 2000}², reg 1e-3`, p: ot.referenceProblem('R3', { n: quick ? 1000 : 2000, m: quick ? 1000 : 2000 }), reg: 1e-3, maxIter: 20000 },
  ];
  if (!quick) cases.push({ name: 'R3 point clouds 4000², reg 1e-3', p: ot.referenceProblem('R3', { n: 4000, m: 4000 }), reg: 1e-3, maxIter: 20000 });
  if (quick) cases[0].name = 'R1 random assignment n=200 (quick), reg 1/1200';

  const rows: BenchRow[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-ot-'));
  const jobs = cases.map((c, k) => {
    const base = path.join(dir, `p${k}`);
    for (const key of ['C', 'a', 'b'] as const) fs.writeFileSync(`${base}.${key}`, Buffer.from(c.p[key].buffer, c.p[key].byteOffset, c.p[key].byteLength));
    return { base, n: c.p.n, m: c.p.m, reg: c.reg, tau: TAU, maxIter: c.maxIter };
  });

  const ours = cases.map((c) => {
    const sns = ot.sinkhornSync(c.p.a, c.p.b, c.p.C, { reg: c.reg, method: 'sns', sns: c.sns, tol: TAU, maxIter: c.maxIter, returnPlan: false });
    const snk = ot.sinkhornSync(c.p.a, c.p.b, c.p.C, { reg: c.reg, method: 'sinkhorn', tol: TAU, maxIter: c.maxIter, returnPlan: false });
    return { sns, snk };
  });
  const pot = python(POT_SCRIPT, [JSON.stringify(jobs)], 3_600_000) as { pot: string; results: { ms: number; iters: number; err: number }[] } | undefined;
  fs.rmSync(dir, { recursive: true, force: true });

  cases.forEach((c, k) => {
    const { sns, snk } = ours[k];
    const p = pot?.results[k];
    const entries = c.p.n * c.p.m;
    const bytes = entries * 8;
    // Dense-pass floor (spec §6.1): log-Sinkhorn is nothing but passes over C, so its time per
    // entry-pass is what one pass costs here; SNS cannot beat densePasses × that.
    const nsPerEntryPass = (snk.timeMs * 1e6) / (snk.densePasses * entries);
    const snsFloorMs = (sns.densePasses * entries * nsPerEntryPass) / 1e6;
    rows.push({
      case: `${c.name}: itokit SNS`,
      value: sns.timeMs,
      unit: 'ms',
      ratio: p ? `${(p.ms / sns.timeMs).toFixed(1)}x vs POT` : undefined,
      note: `${sns.status}, err ${sns.marginalError.toExponential(1)}, ${sns.sinkhornIters} + ${sns.newtonIters} = ${sns.iterations} iterations (Sinkhorn + Newton), λ ${sns.lambdaFinal.toPrecision(2)}, ${sns.cgIters} CG, ${sns.densePasses} passes over C (${((sns.densePasses * bytes) / 1e9).toFixed(2)} GB); ${(sns.timeMs / snsFloorMs).toFixed(1)}x its dense-pass floor of ${snsFloorMs.toFixed(0)} ms`,
    });
    rows.push({
      case: `${c.name}: itokit log-Sinkhorn`,
      value: snk.timeMs,
      unit: 'ms',
      ratio: `${(snk.timeMs / sns.timeMs).toFixed(1)}x SNS time; ${(snk.iterations / Math.max(1, sns.iterations)).toFixed(1)}x SNS iterations`,
      note: `${snk.status}, err ${snk.marginalError.toExponential(1)}, ${snk.sinkhornIters} iterations, ${nsPerEntryPass.toFixed(2)} ns per entry-pass (${(8 / nsPerEntryPass).toFixed(1)} GB/s of C)`,
    });
    if (p) {
      rows.push({
        case: `${c.name}: POT ${pot!.pot} sinkhorn_log`,
        value: p.ms,
        unit: 'ms',
        ratio: `${(p.ms / snk.timeMs).toFixed(1)}x itokit Sinkhorn time`,
        note: `${p.err <= TAU ? 'reached' : 'did not reach'} 1e-9 (err ${p.err.toExponential(1)}), ${p.iters} iterations`,
      });
    }
    if (c.paper) {
      rows.push({
        case: `${c.name}: paper Table 1`,
        value: c.paper.iterations,
        unit: 'SNS iterations',
        ratio: `itokit SNS ${sns.iterations}`,
        note: c.paper.text,
      });
    }
  });
  report('ot', 'Entropic OT to L1 marginal error 1e-9 (float64, CPU)', rows, [
    `Threads: itokit ${getThreads()}; POT runs numpy (single-threaded elementwise exp/logsumexp). Times exclude building C.`,
    'Distance from the bound (spec §6.1): a pass is one exp and one add per entry. A stand-alone loop over native/ot/vexp.h measured 1.72 ns per exp per core on this machine (0.86 ns per entry on 2 threads) and 35–40 GB/s of 2-thread reads (0.2 ns per float64 entry), so passes are exp-bound at every size here, and log-Sinkhorn (1.05–1.19 ns per entry-pass) runs within 1.2–1.4x of that exp bound. SNS cannot go below densePasses × the measured per-pass time (its "dense-pass floor"); the rest of its time, 1.1x to 3.7x the floor, is the Newton overhead: materialising P, the serial top-k selection, and the sparse Jacobi-PCG.',
    'SNS Newton steps (spec §3.5): each line-search trial fits v to the trial u with one column pass, then one fused pass, so a Newton step costs about four passes over C (materialise, top-k, column fit, fused) plus CG.',
    'Paper rows (Tang et al., ICLR 2024, Table 1, n = 500, η = 1200) are iteration anchors only; their densities and cost scalings differ from ours (spec §7).',
  ]);
}

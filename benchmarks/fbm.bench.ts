/**
 * fBM benchmarks (docs/design/fbm.md §10): the MA-fBM sampler (K = 5, exact OU step and Euler) in
 * path-steps/s on 1 thread and on all threads, against itokit's Davies–Harte and a numpy
 * Davies–Harte and numpy exact-step MA-fBM run in the same benchmark; the cost of
 * markovCoefficients; Hurst-estimator accuracy; and the approximation-error-vs-K table.
 *
 * Bounds. Exact step per path-step: K+1 = 6 normals (1.5 Philox blocks + 3 Box–Muller pairs,
 * ~150 flops) plus K² + 3K = 40 multiply-adds; Euler: 1 normal and 3K = 15 multiply-adds. The
 * output is 4 bytes per path-step (float32), so the write bound (~GB/s / 4) is far above these
 * rates: the sampler is RNG-bound. Davies–Harte per path-step: 2 normals/2 paths + one complex
 * FFT of length 2n′ per pair (~5·log2(2n′) flops per point).
 */
import { fbm, getThreads, setThreads } from '../lib';
import { ratioText, runAnchor } from './anchors/anchor';
import { BenchOptions, BenchRow, python, report, time } from './harness';

const NUMPY = String.raw`
import json, sys, time
import numpy as np
n, P, K = int(sys.argv[1]), int(sys.argv[2]), 5
H = 0.3
def rho(k):
    k = np.abs(k).astype(float)
    return 0.5*((k+1)**(2*H) - 2*k**(2*H) + np.abs(k-1)**(2*H))
rng = np.random.default_rng(1)
t0 = time.perf_counter()
npow = 1 << (n-1).bit_length()
m = 2*npow
c = np.concatenate([rho(np.arange(npow+1)), rho(np.arange(npow-1, 0, -1))])
lam = np.fft.fft(c).real
sq = np.sqrt(np.maximum(lam, 0)/m)
t1 = time.perf_counter()
out = np.empty((P, n+1), dtype=np.float32)
chunk = 512
for p0 in range(0, P//2, chunk):
    q = min(chunk, P//2 - p0)
    z = rng.standard_normal((q, m)) + 1j*rng.standard_normal((q, m))
    w = np.fft.fft(sq*z, axis=1)[:, :n]
    out[2*p0:2*(p0+q), 0] = 0
    out[2*p0:2*(p0+q):2, 1:] = np.cumsum(w.real, axis=1)*(1.0/n)**H
    out[2*p0+1:2*(p0+q):2, 1:] = np.cumsum(w.imag, axis=1)*(1.0/n)**H
t2 = time.perf_counter()
# exact-step MA-fBM, K = 5, vectorised over paths (docs/design/fbm.md §10 anchor)
g = 20.0**((np.arange(1, K+1) - 3)/2.0)
dt = 1.0/n
e = np.exp(-g*dt); mm = -np.expm1(-g*dt)/g/dt
S = -np.expm1(-(g[:, None]+g[None, :])*dt)/(g[:, None]+g[None, :]) - dt*np.outer(mm, mm)
lw, U = np.linalg.eigh(S); Lc = U*np.sqrt(np.maximum(lw, 0))
om = np.ones(K)
Pm = min(P, 20000)
Y = np.zeros((Pm, K)); B = np.empty((Pm, n+1), dtype=np.float32); B[:, 0] = 0
t3 = time.perf_counter()
for j in range(n):
    z = rng.standard_normal((Pm, K+1))
    dW = np.sqrt(dt)*z[:, 0]
    Y = e*Y + mm*dW[:, None] + z[:, 1:] @ Lc.T
    B[:, j+1] = Y @ om
t4 = time.perf_counter()
print(json.dumps({"dh_setup_ms": (t1-t0)*1e3, "dh_ps": P*n/(t2-t1), "ma_ps": Pm*n/(t4-t3), "numpy": np.__version__}))
`;

/** Process CPU time of fn in ms (user + system, all threads): wall time overstates cost on a loaded machine. */
function cpuMs(fn: () => void): number {
  const c = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1e3;
}

/** Runs the benchmark and writes fbm.json and fbm.md into the output folder (harness report). */
export async function run(o: BenchOptions): Promise<void> {
  const all = getThreads();
  const rows: BenchRow[] = [];
  const n = o.quick ? 256 : 1000;
  const P = o.quick ? 4000 : 20000;
  const ps = n * P;

  // --- markovCoefficients cost -------------------------------------------------------------
  for (const [type, deriv] of [['I', false], ['II', false], ['II', true]] as const) {
    const reps = 20000;
    const t = time(() => {
      for (let i = 0; i < reps; i++) fbm.markovCoefficients({ hurst: 0.3 + (i % 7) * 0.05, type, K: 5, derivative: deriv });
    }, { runs: 3 });
    rows.push({ case: `markovCoefficients K = 5, type ${type}${deriv ? ', with dω/dH' : ''}`, value: (t.minMs * 1e3) / reps, unit: 'µs/call', note: 'incl. argument checks, speed grid, cond(Ã) eigen-solve' });
  }

  // --- Markov sampler, K = 5 type II exact, 1e4 paths x 1000 steps, 1 thread, beside the numpy and
  // torch loops of benchmarks/anchors/fbm_markov.py at the same size (same run) ----------------
  {
    const mP = o.quick ? 2000 : 10_000, mN = 1000, reps = o.quick ? 2 : 3;
    const mo = { hurst: 0.3, type: 'II', n: mN, paths: mP, K: 5, scheme: 'exact', seed: 1, device: 'cpu' } as const;
    const an = runAnchor('fbm_markov', { lib: 'numpy', paths: mP, steps: mN, K: 5, repeats: reps });
    const at = runAnchor('fbm_markov', { lib: 'torch', paths: mP, steps: mN, K: 5, threads: 1, repeats: reps });
    setThreads(1);
    const r = time(() => fbm.sampleSync(mo), { runs: reps + 2, warmup: 1 });
    let cpu = Infinity;
    for (let i = 0; i < reps; i++) cpu = Math.min(cpu, cpuMs(() => fbm.sampleSync(mo)));
    setThreads(all);
    const v = (mP * mN) / (r.minMs / 1e3);
    const vc = (mP * mN) / (cpu / 1e3);
    const ratios = [an && ratioText(v, an.path_steps_per_s!, 'numpy'), at && ratioText(v, at.path_steps_per_s!, 'torch 1 thr')].filter(Boolean);
    rows.push({ case: `itokit markov K = 5 type II exact ${mP} × ${mN}, 1 thread`, value: v, unit: 'path-steps/s', ratio: ratios.join('; ') || undefined,
      note: `${r.minMs.toFixed(1)} ms wall; ${cpu.toFixed(1)} ms CPU = ${vc.toExponential(2)} per CPU-second, ${((cpu / 1e3) * 3.45e9 / (mP * mN)).toFixed(1)} cycles/path-step at 3.45 GHz (incl. first touch of the fresh output)` });
    for (const a of [an, at]) {
      if (a?.path_steps_per_s) rows.push({ case: `${a.lib} loop, MA-fBM K = 5 type II exact ${mP} × ${mN}, 1 thread`, value: a.path_steps_per_s, unit: 'path-steps/s',
        note: `${(a.seconds_min! * 1e3).toFixed(0)} ms; Var B̂(1) ${a.var_final?.toPrecision(3)}; ${a.lib} ${a.version}` });
    }
  }

  // --- samplers ------------------------------------------------------------------------------
  const rate = (ms: number): number => ps / (ms / 1e3);
  let base1 = 0;
  const py = python(NUMPY, [String(n), String(P)]);
  const numpyDh = py ? Number(py.dh_ps) : 0;
  const numpyMa = py ? Number(py.ma_ps) : 0;
  const vs = (r: number, b: number, what: string): string => (b > 0 ? `${(r / b).toFixed(1)}x vs ${what}` : '');
  for (const t of [...new Set([1, all])]) {
    setThreads(t);
    for (const scheme of ['exact', 'euler'] as const) {
      const r = time(() => fbm.sampleSync({ hurst: 0.3, n, paths: P, K: 5, scheme, seed: 1, device: 'cpu' }), { runs: 3 });
      const v = rate(r.minMs);
      if (t === 1 && scheme === 'exact') base1 = v;
      const cpu = t === 1 ? ps / (cpuMs(() => fbm.sampleSync({ hurst: 0.3, n, paths: P, K: 5, scheme, seed: 1, device: 'cpu' })) / 1e3) : 0;
      rows.push({ case: `itokit markov K = 5 ${scheme}, ${t} thread(s)`, value: v, unit: 'path-steps/s', ratio: scheme === 'exact' ? vs(v, numpyMa, 'numpy MA-fBM') : undefined, note: t > 1 && scheme === 'exact' ? `${(v / base1).toFixed(2)}x vs 1 thread` : t === 1 ? `${cpu.toExponential(2)} per CPU-second` : '' });
    }
    const d = time(() => fbm.sampleSync({ hurst: 0.3, method: 'davies-harte', n, paths: P, seed: 1 }), { runs: 3 });
    const dcpu = t === 1 ? ps / (cpuMs(() => fbm.sampleSync({ hurst: 0.3, method: 'davies-harte', n, paths: P, seed: 1 })) / 1e3) : 0;
    rows.push({ case: `itokit davies-harte n = ${n}, ${t} thread(s)`, value: rate(d.minMs), unit: 'path-steps/s', ratio: vs(rate(d.minMs), numpyDh, 'numpy DH'), note: t === 1 ? `${dcpu.toExponential(2)} per CPU-second` : '' });
  }
  setThreads(all);
  if (py) {
    rows.push({ case: `numpy ${String(py.numpy)} davies-harte n = ${n}`, value: numpyDh, unit: 'path-steps/s', note: `setup ${Number(py.dh_setup_ms).toFixed(2)} ms` });
    rows.push({ case: 'numpy exact-step MA-fBM K = 5 (vectorised over paths)', value: numpyMa, unit: 'path-steps/s' });
  }
  const big = o.quick ? 1 << 14 : 1 << 17;
  const dBig = time(() => fbm.sampleSync({ hurst: 0.3, method: 'davies-harte', n: big, paths: 8, seed: 1 }), { runs: 3 });
  rows.push({ case: `itokit davies-harte n = 2^${Math.log2(big)}, 8 paths, ${all} thread(s)`, value: dBig.minMs, unit: 'ms', note: 'incl. setup; reference anchor (numpy, another machine, not run here): 26 ms setup + 15 ms per pair' });
  const ch = time(() => fbm.sampleSync({ hurst: 0.3, type: 'II', method: 'cholesky', n: 1024, paths: 1, seed: 1 }), { runs: 2 });
  rows.push({ case: 'itokit cholesky type II n = 1024 incl. factorisation', value: ch.minMs, unit: 'ms', note: 'O(n³) in scalar C++; reference anchor (numpy/LAPACK, another machine, not run here): 48 ms' });

  // --- Hurst estimator accuracy (n = 4096, 200 Davies–Harte paths) --------------------------
  const hurstLines = ['| H | mean Ĥ | bias | sd(Ĥ) |', '| --- | --- | --- | --- |'];
  for (const h of [0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9]) {
    const { paths } = fbm.sampleSync({ hurst: h, method: 'davies-harte', n: 4096, paths: 200, seed: 7, dtype: 'float64' });
    const e = fbm.estimateHurstSync(paths, { length: 4097 });
    hurstLines.push(`| ${h} | ${e.mean.toFixed(4)} | ${(e.mean - h).toFixed(4)} | ${e.sd.toFixed(4)} |`);
  }

  // --- approximation error vs K --------------------------------------------------------------
  const Ks = [1, 2, 3, 5, 7, 10];
  const errLines: string[] = [];
  for (const type of ['I', 'II'] as const) {
    errLines.push(`Type ${type} (γmax = 20, T_ω = 1):`, '', `| H | ${Ks.map((k) => `K = ${k}`).join(' | ')} |`, `| --- |${Ks.map(() => ' --- |').join('')}`);
    for (const h of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const cells = Ks.map((K) => {
        const c = fbm.markovCoefficients({ hurst: h, type, K });
        return `${c.relativeError.toPrecision(4)}${c.illConditioned ? '†' : ''}`;
      });
      errLines.push(`| ${h} | ${cells.join(' | ')} |`);
    }
    errLines.push('');
  }

  report('fbm', `fBM: MA-fBM sampler, exact generators, weights (paths = ${P}, n = ${n}, H = 0.3, float32 output)`, rows, [
    'Sampler rates are path-steps per second including the output write (4 bytes per path-step) and all normals; minimum of 3 runs. ' +
      'The exact OU step draws K+1 = 6 normals per path-step and is RNG-bound (Philox + Box–Muller with the project’s own log/sincos); ' +
      'Euler draws one. Davies–Harte draws 2 normals per point per pair and does one complex FFT of length 2n′ per two paths. ' +
      'numpy rows run in the same benchmark via /usr/bin/python3 (PCG64 + numpy FFT, float64). ' +
      'The development machine had 2 cores shared with other jobs (load average ~10 while measuring), so wall-clock rates understate ' +
      'throughput and the 2-thread rows show no scaling; the "per CPU-second" notes (process CPU time, 1 thread) are the uncontended single-core rates.',
    '**Hurst estimator** (second-order variogram, lags 1, 2, 4, 8, 16; 200 Davies–Harte paths of n = 4096 per H):',
    hurstLines.join('\n'),
    '**Approximation error vs K** — relativeError = 1 − bᵀω/c, the integrated mean squared error on [0, T_ω] relative to ∫Var B (both normalisations). † = cond(Ã) > 1e12 (ridge-limited).',
    errLines.join('\n'),
  ]);
}

/**
 * Normal variates per second: itokit on 1 thread and on all threads, against a plain-JS
 * Box–Muller loop over Math.random, with the memory-write bound of storing the output.
 *
 * Bound: a float32 normal is 4 bytes written, so the output stream alone caps throughput at
 * (write bandwidth)/4. Write bandwidth is measured here as Float32Array.fill over the same size.
 * Compute per 4 normals: one Philox4x32-10 block (10 rounds × 2 32×32→64 multiplies), 2 logs,
 * 2 sin/cos pairs, 2 square roots (about 120 float ops).
 *
 * Anchors (benchmarks/anchors/normals.py): 10^7 float32 normals with torch.randn on the CPU (1 and
 * 2 threads) and numpy default_rng().standard_normal (PCG64), beside rng.normal on 1 and 2 threads;
 * and the same draws into one preallocated array (their out=, our rng.normalInto).
 */
import { getThreads, rng, setThreads } from '../lib';
import { AnchorResult, ratioText, runAnchor } from './anchors/anchor';
import { BenchOptions, BenchRow, report, time } from './harness';

function jsBoxMuller(out: Float32Array): void {
  for (let i = 0; i + 1 < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - Math.random()));
    const t = 2 * Math.PI * Math.random();
    out[i] = r * Math.cos(t);
    out[i + 1] = r * Math.sin(t);
  }
}

/** Runs the benchmark and writes rng.json and rng.md into the output folder (harness report). */
export async function run(o: BenchOptions): Promise<void> {
  const n = o.quick ? 1 << 22 : 1 << 26;
  const all = getThreads();
  const rows: BenchRow[] = [];

  const buf = new Float32Array(n);
  const fill = time(() => buf.fill(1.5), { runs: 5 });
  const writeGBs = (n * 4) / (fill.minMs / 1e3) / 1e9;
  const boundPerS = (writeGBs * 1e9) / 4;

  jsBoxMuller(buf);
  const js = time(() => jsBoxMuller(buf), { runs: 3 });
  const jsRate = n / (js.minMs / 1e3);
  rows.push({ case: 'plain JS Box–Muller (Math.random)', value: jsRate, unit: 'normals/s', ratio: '1.00x' });

  for (const t of [...new Set([1, all])]) {
    setThreads(t);
    const r = time(() => rng.normal(n, { seed: 1, device: 'cpu' }), { runs: 5 });
    const rate = n / (r.minMs / 1e3);
    rows.push({
      case: `itokit rng.normal float32, ${t} thread(s)`,
      value: rate,
      unit: 'normals/s',
      ratio: `${(rate / jsRate).toFixed(2)}x vs JS`,
      note: `${((100 * rate) / boundPerS).toFixed(1)}% of the write bound`,
    });
  }
  setThreads(all);
  const u = time(() => rng.uniform(n, { seed: 1, device: 'cpu' }), { runs: 5 });
  rows.push({ case: `itokit rng.uniform float32, ${all} thread(s)`, value: n / (u.minMs / 1e3), unit: 'uniforms/s', note: `${((100 * n) / (u.minMs / 1e3) / boundPerS).toFixed(1)}% of the write bound` });
  rows.push({ case: 'memory write bound (Float32Array.fill)', value: boundPerS, unit: 'floats/s', note: `${writeGBs.toFixed(1)} GB/s` });

  // Anchors: what a user calls instead, at n = 1e7, each drawing a fresh array per call like rng.normal.
  const na = o.quick ? 1_000_000 : 10_000_000;
  const anchorThreads = [...new Set([1, 2])];
  const numpy = runAnchor('normals', { lib: 'numpy', device: 'cpu', n: na, threads: 1, repeats: 5 });
  const torch: Record<number, AnchorResult | undefined> = {};
  for (const t of anchorThreads) {
    torch[t] = runAnchor('normals', { lib: 'torch', device: 'cpu', n: na, threads: t, repeats: 5 });
    if (!torch[t]) break;
  }
  // Every call here returns a fresh array. At 4e7 bytes that is a fresh mmap per call (above glibc's
  // largest mmap threshold), so itokit and torch.randn pay the first touch of its pages every time
  // (numpy madvises huge pages and pays far less); on some VMs that is most of the call. Measured
  // alone (new Float32Array + fill) to put the rows in context.
  const touch = time(() => new Float32Array(na).fill(0), { runs: 5 });
  // One row per thread count: itokit's call beside the anchors' matching figure (fresh array, or
  // out= into one array for the reused-array rows).
  const itokitRows = (what: string, draw: () => unknown, fig: 'normals_per_s' | 'normals_per_s_out', tag: string, note: string): void => {
    for (const t of anchorThreads) {
      setThreads(t);
      const r = time(draw, { runs: 5 });
      const rate = na / (r.minMs / 1e3);
      const ratios: string[] = [];
      const np = numpy?.[fig], tr = torch[t]?.[fig];
      if (t === 1 && np) ratios.push(ratioText(rate, np, `numpy${tag}`));
      if (tr) ratios.push(ratioText(rate, tr, `torch${tag} ${t} thr`));
      rows.push({ case: `itokit ${what} float32 n = ${na.toExponential(0).replace('+', '')}, ${t} thread(s)`, value: rate, unit: 'normals/s',
        ratio: ratios.join('; ') || undefined, note: `${r.minMs.toFixed(1)} ms per call${note}` });
    }
  };
  itokitRows('rng.normal', () => rng.normal(na, { seed: 1, device: 'cpu' }), 'normals_per_s', '', ' (fresh array)');
  // The same draws into one array reused across calls (rng.normalInto), beside numpy's and torch's
  // out=: no fresh memory, so the difference to the fresh-array rows is what the pages of a new
  // output cost (docs/design/cpu-rng-kernels.md "Fresh outputs").
  const kept = new Float32Array(na);
  itokitRows('rng.normalInto', () => rng.normalInto(kept, { seed: 1, device: 'cpu' }), 'normals_per_s_out', ' out=',
    '; reused array: the fresh-array row minus this is what the pages of a new output cost');
  setThreads(all);
  const anchorRow = (a: AnchorResult | undefined, what: string): void => {
    if (!a?.normals_per_s || a.seconds_min === undefined) return;
    rows.push({ case: `${what} n = ${na.toExponential(0).replace('+', '')}, ${a.threads ?? 1} thread(s)`, value: a.normals_per_s, unit: 'normals/s',
      note: `${(a.seconds_min * 1e3).toFixed(1)} ms; ${a.lib} ${a.version}, ${a.rng}` });
    if (a.normals_per_s_out && a.seconds_min_out !== undefined)
      rows.push({ case: `${what} n = ${na.toExponential(0).replace('+', '')}, ${a.threads ?? 1} thread(s), out= one array`, value: a.normals_per_s_out, unit: 'normals/s',
        note: `${(a.seconds_min_out * 1e3).toFixed(1)} ms` });
  };
  rows.push({ case: `first touch of a fresh Float32Array, n = ${na.toExponential(0).replace('+', '')} (new + fill)`, value: touch.minMs, unit: 'ms',
    note: `${((na * 4) / (touch.minMs / 1e3) / 1e9).toFixed(2)} GB/s; paid by itokit and torch.randn on every call of this size, mostly not by numpy (huge pages)` });
  anchorRow(numpy, 'numpy default_rng().standard_normal float32');
  for (const t of anchorThreads) anchorRow(torch[t], 'torch.randn float32 CPU');

  report('rng', `Normal variates (n = ${n.toLocaleString()}, minimum of 5 runs; anchors at n = ${na.toLocaleString()})`, rows, [
    'Per 4 normals: one Philox4x32-10 block (10 rounds, 20 32×32→64-bit multiplies) and two Box–Muller ' +
      'pairs (project log and sin/cos, ~60 separately rounded float operations, 4 divisions). The CPU ' +
      'kernel runs 16 blocks per call in structure-of-arrays form and is compiled three times ' +
      '(x86-64-v4 / v3 / baseline, chosen at load time), so it is compute-bound on divisions and ' +
      'square roots, far below the memory-write bound; the bits equal the scalar and CUDA paths.',
    'Anchors (benchmarks/anchors/normals.py): wall time of one call that returns a fresh float32 array, minimum of 5 after a warm-up; ' +
      'ratio column = itokit / anchor throughput at the same thread count (numpy is single-threaded, so it is compared with itokit on 1 thread). ' +
      'numpy draws PCG64 + ziggurat normals and torch CPU MT19937 normals: neither sequence depends only on (seed, index), so neither splits across threads or devices reproducibly.',
  ]);
}

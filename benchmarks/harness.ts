/**
 * The benchmark harness every `*.bench.ts` uses: timing with warm-up, optional Python baselines
 * run in the same process tree, and one report format (console table, JSON under
 * benchmarks/results/, a markdown table in benchmarks/<area>.md).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends, version } from '../lib';
import { packageRoot } from '../lib/native';
import { runPython } from './anchors/anchor';

/** Options every benchmark module receives from the runner. */
export interface BenchOptions {
  /** Smaller sizes for a smoke run (`itokit bench --quick`). */
  quick: boolean;
}

/** One measured line of a report. */
export interface BenchRow {
  /** What ran, e.g. "itokit normal, 2 threads". */
  case: string;
  /** Throughput or time value. */
  value: number;
  /** Its unit, e.g. "normals/s", "ms". */
  unit: string;
  /** Ratio against the row's baseline, if any (e.g. "12.3x vs JS"). */
  ratio?: string;
  /** Distance from the hardware bound, or any remark. */
  note?: string;
}

/** Wall time of fn: minimum and median over `runs` after `warmup` runs, in milliseconds. */
export function time(fn: () => void, o: { warmup?: number; runs?: number } = {}): { minMs: number; medianMs: number } {
  const warmup = o.warmup ?? 1;
  const runs = o.runs ?? 5;
  for (let i = 0; i < warmup; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { minMs: t[0], medianMs: t[Math.floor(t.length / 2)] };
}

/** Async twin of {@link time}. */
export async function timeAsync(fn: () => Promise<unknown>, o: { warmup?: number; runs?: number } = {}): Promise<{ minMs: number; medianMs: number }> {
  const warmup = o.warmup ?? 1;
  const runs = o.runs ?? 5;
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { minMs: t[0], medianMs: t[Math.floor(t.length / 2)] };
}

/**
 * Runs an inline Python baseline (`python3 -c script ...args`) with the interpreter lookup and
 * environment of the anchors ({@link runPython}: python3 on PATH, then /usr/bin/python3 when a
 * module is missing). The script must print one JSON object on its last line. Returns undefined
 * (and says why) when python3 or a module is missing, so a benchmark skips that baseline instead
 * of failing.
 */
export function python(script: string, args: string[] = [], timeoutMs = 600_000): Record<string, unknown> | undefined {
  const r = runPython(['-c', script, ...args], timeoutMs);
  if (!r.ok) {
    console.log(`  (baseline skipped: ${r.reason})`);
    return undefined;
  }
  return r.json;
}

/** A short description of this machine for report headers. */
export function machine(): string {
  const b = backends();
  const gpu = b.cuda.available ? b.cuda.devices.map((d) => d.name).join(', ') : `no GPU (${b.cuda.compiled ? 'CUDA built' : 'CPU build'})`;
  return `${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; ${gpu}; CPU features: ${b.cpu.features.join(' ')}`;
}

/**
 * Prints the rows as a table and writes benchmarks/results/<area>.json and benchmarks/<area>.md.
 * @param notes - paragraphs placed under the table (bounds, method, caveats)
 */
export function report(area: string, title: string, rows: BenchRow[], notes: string[] = []): void {
  const fmt = (v: number): string => (Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : v.toPrecision(4));
  console.log(`\n${title}`);
  console.table(rows.map((r) => ({ case: r.case, value: fmt(r.value), unit: r.unit, ratio: r.ratio ?? '', note: r.note ?? '' })));
  const stamp = new Date().toISOString();
  const dir = path.join(packageRoot, 'benchmarks', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${area}.json`), JSON.stringify({ area, title, version, machine: machine(), date: stamp, rows, notes }, null, 2));
  const md = [
    `### ${title}`,
    '',
    `Measured ${stamp.slice(0, 10)} with itokit ${version} on ${machine()}.`,
    '',
    '| case | value | unit | ratio | note |',
    '| --- | ---: | --- | --- | --- |',
    ...rows.map((r) => `| ${r.case} | ${fmt(r.value)} | ${r.unit} | ${r.ratio ?? ''} | ${r.note ?? ''} |`),
    '',
    ...notes.flatMap((n) => [n, '']),
  ].join('\n');
  fs.writeFileSync(path.join(packageRoot, 'benchmarks', `${area}.md`), md);
}

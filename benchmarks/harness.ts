/**
 * The benchmark harness every `*.bench.ts` uses: timing with warm-up, optional Python baselines
 * run in the same process tree, and one report format (a plain-text table, `<area>.json` and
 * `<area>.md` in the output folder the runner chose; see {@link configureReports}).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backends, version } from '../lib';
import { textTable } from '../lib/cli/table';
import { anchorConfig, runPython } from './anchors/anchor';

/** Where {@link report} writes and prints; set by the runner (`itokit bench`) before an area runs. */
export interface ReportTarget {
  /** Folder for `<area>.json` and `<area>.md` (created by the runner, never the package folder). */
  outDir: string;
  /** Where the table goes: stdout normally, stderr when stdout carries JSON. */
  write: (text: string) => void;
  /** Extra fields merged into each `<area>.json` (machine load, CPU time, Python used). */
  extra?: () => Record<string, unknown>;
  /** Called with each report's JSON object once written. */
  onReport?: (json: Record<string, unknown>) => void;
}

let target: ReportTarget = {
  outDir: path.join(os.tmpdir(), 'itokit-bench-results'),
  write: (t) => process.stdout.write(t),
};

/** Sets where reports go (the `itokit bench` runner calls this; a direct caller may too). */
export function configureReports(t: ReportTarget): void {
  target = t;
}

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
  if (!anchorConfig.enabled) {
    console.log('  (baseline skipped: anchors disabled by --no-anchors)');
    return undefined;
  }
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

/** Number format of the value column: 4 significant digits, exponent form outside [1e-2, 1e5). */
export function formatValue(v: number): string {
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * Prints the rows as a plain-text table and writes `<area>.json` and `<area>.md` into the
 * configured output folder ({@link configureReports}).
 * @param notes - paragraphs placed under the table (bounds, method, caveats)
 */
export function report(area: string, title: string, rows: BenchRow[], notes: string[] = []): void {
  target.write(`\n${title}\n${textTable(['case', 'value', 'unit', 'ratio', 'note'],
    rows.map((r) => [r.case, formatValue(r.value), r.unit, r.ratio ?? '', r.note ?? '']), [false, true, false, false, false])}\n`);
  const stamp = new Date().toISOString();
  fs.mkdirSync(target.outDir, { recursive: true });
  const extra = target.extra?.() ?? {};
  const json = { area, title, version, machine: machine(), date: stamp, rows, notes, ...extra };
  const pythons = Array.isArray(extra.python) ? (extra.python as string[]) : [];
  fs.writeFileSync(path.join(target.outDir, `${area}.json`), JSON.stringify(json, null, 2));
  const md = [
    `### ${title}`,
    '',
    `Measured ${stamp.slice(0, 10)} with itokit ${version} on ${machine()}.` + (pythons.length ? ` Python anchors ran with ${pythons.join(', ')}.` : ''),
    '',
    '| case | value | unit | ratio | note |',
    '| --- | ---: | --- | --- | --- |',
    ...rows.map((r) => `| ${r.case} | ${formatValue(r.value)} | ${r.unit} | ${r.ratio ?? ''} | ${r.note ?? ''} |`),
    '',
    ...notes.flatMap((n) => [n, '']),
  ].join('\n');
  fs.writeFileSync(path.join(target.outDir, `${area}.md`), md);
  target.onReport?.(json);
}

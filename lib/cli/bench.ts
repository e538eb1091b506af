/**
 * `itokit bench [area]`: runs the benchmark modules and writes `<area>.json` and `<area>.md` into
 * an output folder that is never the package's own folder (an installed package may be read-only,
 * and its files are not results). From a checkout under ts-node (`npm run bench`) the TypeScript
 * modules in benchmarks/ run directly; an installed package runs the compiled dist/benchmarks/.
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as util from 'util';
import { InvalidArgumentError } from '../errors';
import { packageRoot } from '../native';
import { version } from '../version';
import { ensureWritableDir } from './output';

/** Every benchmark area (one benchmarks/<area>.bench.ts each) and what it measures. */
export const BENCH_AREAS: Readonly<Record<string, string>> = {
  rng: 'Philox normals and uniforms against plain JS, numpy and torch.randn',
  sde: 'SDE ensembles (GBM Euler and exact, Heston) against numpy and torch loops and plain TypeScript',
  fbm: 'fractional Brownian motion: Markov sampler, exact generators, weights (numpy beside)',
  ot: 'Sinkhorn and Sinkhorn-Newton-Sparse on the reference problems (POT beside)',
  unet: 'quantized diffusion UNet on the CPU: time per image and weight memory (torch beside)',
  'unet-gpu': 'quantized diffusion UNet on CUDA (skips without a GPU)',
  train: 'training steps per second: fOU bridge and score matching (PyTorch beside)',
  queue: 'itokit/queue: worker processes over Redis against one process (needs redis-server and bullmq)',
  gpu: 'CUDA against all CPU threads, PyTorch and JAX (skips without a GPU)',
};

/** The order areas run in when none is named. */
const ORDER = ['rng', 'sde', 'ot', 'fbm', 'unet', 'train', 'queue', 'gpu', 'unet-gpu'];

/** Options of {@link runBench}. */
export interface BenchCliOptions {
  /** Smaller problem sizes (a smoke run). */
  quick?: boolean;
  /** Print one JSON document on stdout (tables and messages go to stderr). */
  json?: boolean;
  /** Output folder; default: see {@link defaultOutDir}. */
  out?: string;
  /** false skips every Python anchor/baseline. */
  anchors?: boolean;
  /** Copy the tables into benchmarks/*.md and benchmarks/README.md (a git checkout only). */
  updateDocs?: boolean;
}

/** Where the benchmark modules are: the TypeScript sources under ts-node, else the compiled ones. */
export function benchModuleDir(): { dir: string; ext: '.ts' | '.js' } {
  return __filename.endsWith('.ts') ? { dir: path.join(packageRoot, 'benchmarks'), ext: '.ts' } : { dir: path.join(packageRoot, 'dist', 'benchmarks'), ext: '.js' };
}

/** Benchmark areas present in this installation, in run order. */
export function benchAreas(): string[] {
  const { dir, ext } = benchModuleDir();
  if (!fs.existsSync(dir)) return [];
  const found = fs.readdirSync(dir).filter((f) => f.endsWith(`.bench${ext}`)).map((f) => f.slice(0, -`.bench${ext}`.length));
  return found.sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The default output folder: `itokit-bench-results` under the current working directory, unless
 * that directory is not writable or lies inside the package folder itself (an installed package, or
 * a checkout's root under `npm run bench`); then `itokit-bench-results` under os.tmpdir().
 */
export function defaultOutDir(): { dir: string; why: string } {
  const cwd = process.cwd();
  if (inside(cwd, packageRoot)) return { dir: path.join(os.tmpdir(), 'itokit-bench-results'), why: 'default, in os.tmpdir(): the working directory is inside the itokit package' };
  if (!writable(cwd)) return { dir: path.join(os.tmpdir(), 'itokit-bench-results'), why: 'default, in os.tmpdir(): the working directory is not writable' };
  return { dir: path.join(cwd, 'itokit-bench-results'), why: 'default, under the working directory' };
}

/** True when itokit runs from a git checkout (not from an installed copy under node_modules). */
function isCheckout(): boolean {
  return fs.existsSync(path.join(packageRoot, '.git')) && !packageRoot.split(path.sep).includes('node_modules');
}

const MARKER = '## Latest results';

/**
 * Copies `<out>/<area>.md` to benchmarks/<area>.md and rewrites the "Latest results" part of
 * benchmarks/README.md from all the per-area tables (maintainers, `--update-docs`).
 */
function updateDocs(outDir: string, areas: string[]): void {
  const dir = path.join(packageRoot, 'benchmarks');
  for (const a of areas) {
    const md = path.join(outDir, `${a}.md`);
    if (fs.existsSync(md)) fs.copyFileSync(md, path.join(dir, `${a}.md`));
  }
  const readme = path.join(dir, 'README.md');
  if (!fs.existsSync(readme)) return;
  const head = fs.readFileSync(readme, 'utf8').split(MARKER)[0];
  const tables = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => f.replace(/\.md$/, ''))
    .sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99))
    .map((a) => fs.readFileSync(path.join(dir, `${a}.md`), 'utf8').trim().replace(/^#+ /, '### '));
  fs.writeFileSync(readme, `${head}${MARKER}\n\nCopied from the per-area files by \`itokit bench --update-docs\`.\n\n${tables.join('\n\n')}\n`);
}

function progress(line: string): void {
  process.stderr.write(`itokit bench: ${line}\n`);
}

function loadText(load: number[], cores: number): string {
  return `load ${load.map((l) => l.toFixed(2)).join(' ')} on ${cores} core(s)`;
}

interface HarnessModule {
  configureReports(t: { outDir: string; write: (s: string) => void; extra?: () => Record<string, unknown>; onReport?: (j: Record<string, unknown>) => void }): void;
}
interface AnchorModule {
  anchorConfig: { enabled: boolean; used: Set<string>; onRun?: (what: string, exe: string | undefined, ok: boolean) => void };
}

/**
 * Runs one area's benchmarks, or all of them. Everything is checked before the first benchmark:
 * the area names and the output folder (created and probed with a test file).
 * @returns the JSON document (also printed on stdout with `json`)
 */
export async function runBench(area: string | undefined, o: BenchCliOptions = {}): Promise<Record<string, unknown>> {
  const areas = benchAreas();
  const { dir: modDir } = benchModuleDir();
  if (areas.length === 0) throw new InvalidArgumentError(`no benchmark modules in ${modDir}: in a checkout run \`npx tsc -p tsconfig.build.json\` or \`npm run bench\``);
  const chosen = area ? [area] : areas;
  for (const a of chosen) {
    if (!areas.includes(a)) throw new InvalidArgumentError(`unknown benchmark area '${a}'; available: ${areas.join(', ')}`);
  }
  if (o.updateDocs && !isCheckout()) throw new InvalidArgumentError('--update-docs rewrites benchmarks/*.md and only works in a git checkout of itokit');
  if (o.updateDocs && o.quick) throw new InvalidArgumentError('--update-docs takes full runs only (drop --quick)');
  const def = o.out === undefined ? defaultOutDir() : { dir: o.out, why: '--out' };
  const outAbs = path.resolve(def.dir);
  if (o.out !== undefined && !isCheckout() && inside(outAbs, packageRoot)) {
    throw new InvalidArgumentError(`--out ${outAbs}: inside the installed itokit package; choose a folder of your own`);
  }
  const outDir = ensureWritableDir(outAbs, '--out');
  progress(`results go to ${outDir} (${def.why}); benchmark modules: ${path.join(modDir, `*.bench${benchModuleDir().ext}`)}`);

  const cores = os.cpus().length;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const harness = require(path.join(modDir, 'harness')) as HarnessModule;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const anchors = require(path.join(modDir, 'anchors', 'anchor')) as AnchorModule;
  anchors.anchorConfig.enabled = o.anchors !== false;
  anchors.anchorConfig.onRun = (what, exe, ok) => progress(`  python ${what}: ${exe ? `ran with ${exe}` : 'no interpreter'}${ok ? '' : ' (skipped)'}`);

  const results: Record<string, unknown>[] = [];
  const log = console.log;
  // with --json, stdout carries the JSON document only: the modules' messages move to stderr
  if (o.json) console.log = (...a: unknown[]) => process.stderr.write(`${util.format(...a)}\n`);
  let failed = 0;
  try {
    for (const [i, a] of chosen.entries()) {
      const loadBefore = os.loadavg();
      progress(`[${i + 1}/${chosen.length}] ${a}: ${BENCH_AREAS[a] ?? ''} (${loadText(loadBefore, cores)})`);
      if (loadBefore[0] > cores) {
        progress(`  warning: the 1-minute load average ${loadBefore[0].toFixed(2)} exceeds the ${cores} core(s): timings are inflated by other work`);
      }
      anchors.anchorConfig.used = new Set();
      const wall0 = process.hrtime.bigint();
      const cpu0 = process.cpuUsage();
      let reported: Record<string, unknown> | undefined;
      const measures = (): Record<string, unknown> => {
        const cpu = process.cpuUsage(cpu0);
        return {
          quick: Boolean(o.quick),
          load: { before: loadBefore, after: os.loadavg(), cores, overloaded: Math.max(loadBefore[0], os.loadavg()[0]) > cores },
          wallMs: Number(process.hrtime.bigint() - wall0) / 1e6,
          cpuMs: { user: cpu.user / 1e3, system: cpu.system / 1e3 },
          python: [...anchors.anchorConfig.used],
          anchors: anchors.anchorConfig.enabled,
        };
      };
      harness.configureReports({
        outDir,
        write: (s) => (o.json ? process.stderr : process.stdout).write(s),
        extra: measures,
        onReport: (j) => {
          reported = j;
          progress(`  ${a}: wrote ${path.join(outDir, `${a}.json`)} and ${a}.md`);
        },
      });
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(path.join(modDir, `${a}.bench`)) as { run(opts: { quick: boolean }): Promise<void> };
        await mod.run({ quick: Boolean(o.quick) });
        results.push(reported ?? { area: a, skipped: 'the area wrote no report (see the messages above; e.g. no GPU)', ...measures() });
      } catch (e) {
        failed++;
        const err = e as { code?: string; message?: string };
        progress(`  ${a} failed: ${err.code ? `[${err.code}] ` : ''}${err.message ?? String(e)}`);
        results.push({ area: a, error: err.message ?? String(e), code: err.code, ...measures() });
      }
      const r = results[results.length - 1] as { wallMs: number; cpuMs: { user: number; system: number } };
      progress(`  ${a}: ${(r.wallMs / 1e3).toFixed(1)} s wall, ${((r.cpuMs.user + r.cpuMs.system) / 1e3).toFixed(1)} s CPU in this process (${loadText(os.loadavg(), cores)})`);
    }
  } finally {
    console.log = log;
  }
  if (o.updateDocs) {
    updateDocs(outDir, chosen);
    progress('benchmarks/*.md and benchmarks/README.md updated');
  }
  const doc = { itokit: version, node: process.version, outDir, outDirReason: def.why, cores, areas: results };
  if (o.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  progress(`done: ${results.length} area(s), ${failed} failed; results in ${outDir}`);
  if (failed > 0) process.exitCode = 1;
  return doc;
}

/**
 * `itokit bench [area]`: runs the compiled benchmark modules (dist/benchmarks/<area>.bench.js).
 * @packageDocumentation
 */
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../native';

/** Benchmark areas available in this installation, by file name. */
export function benchAreas(): string[] {
  const dir = path.join(packageRoot, 'dist', 'benchmarks');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.bench.js'))
    .map((f) => f.replace(/\.bench\.js$/, ''))
    .sort();
}

const MARKER = '## Latest results';

/**
 * Rewrites the "Latest results" part of benchmarks/README.md from the per-area tables
 * (benchmarks/<area>.md, written by each benchmark's report), so the README stays current.
 */
export function updateBenchReadme(): void {
  const dir = path.join(packageRoot, 'benchmarks');
  const readme = path.join(dir, 'README.md');
  if (!fs.existsSync(readme)) return;
  const head = fs.readFileSync(readme, 'utf8').split(MARKER)[0];
  const order = ['rng', 'sde', 'ot', 'fbm', 'unet', 'train', 'queue', 'gpu', 'unet-gpu'];
  const tables = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .map((f) => f.replace(/\.md$/, ''))
    .sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99))
    .map((a) => fs.readFileSync(path.join(dir, `${a}.md`), 'utf8').trim().replace(/^#+ /, '### '));
  fs.writeFileSync(readme, `${head}${MARKER}\n\nCopied from the per-area files by \`itokit bench\`.\n\n${tables.join('\n\n')}\n`);
}

/** Runs one area's benchmarks, or all of them. */
export async function runBench(area: string | undefined, quick: boolean): Promise<void> {
  const areas = benchAreas();
  if (areas.length === 0) throw new Error('no compiled benchmarks found: run `npx tsc -p tsconfig.build.json` (npm install does it) first');
  const chosen = area ? [area] : areas;
  for (const a of chosen) {
    if (!areas.includes(a)) throw new Error(`unknown benchmark area '${a}'; available: ${areas.join(', ')}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(packageRoot, 'dist', 'benchmarks', `${a}.bench.js`)) as { run(o: { quick: boolean }): Promise<void> };
    console.log(`\n== ${a} ==`);
    await mod.run({ quick });
  }
  updateBenchReadme();
}

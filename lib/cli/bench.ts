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
}

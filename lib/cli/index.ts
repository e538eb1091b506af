#!/usr/bin/env node
/**
 * The `itokit` command line: `info`, `bench [area]`, `demo`, `sample`, `worker`.
 * @packageDocumentation
 */
import { Command } from 'commander';
import { version } from '../version';
import { BENCH_AREAS, runBench } from './bench';
import { demo } from './demo';
import { infoJson, infoText } from './info';
import { registerSample } from './sample';
import { registerWorker } from './worker';

const program = new Command();
program.name('itokit').description('Native-accelerated stochastic simulation for Node.js').version(version);

program
  .command('info')
  .description('print version, loaded binary, backends, threads and CPU features')
  .option('--json', 'machine-readable: binary path, build flags, N-API versions, CPU features, CUDA devices')
  .action((o: { json?: boolean }) => console.log(o.json ? JSON.stringify(infoJson(), null, 2) : infoText()));

const areaHelp = Object.entries(BENCH_AREAS).map(([a, d]) => `  ${a.padEnd(9)} ${d}`).join('\n');
program
  .command('bench')
  .argument('[area]', `benchmark area (${Object.keys(BENCH_AREAS).join(', ')}); all when omitted`)
  .option('--quick', 'smaller problem sizes, for a smoke run')
  .option('--json', 'print the results as one JSON document on stdout (tables and progress on stderr)')
  .option('--out <dir>', 'folder for <area>.json and <area>.md (default: ./itokit-bench-results, or under os.tmpdir() when the working directory is not writable or is inside the itokit package)')
  .option('--no-anchors', 'skip the Python anchors and baselines (numpy, torch, POT, JAX)')
  .option('--update-docs', 'maintainers, in a git checkout: copy the tables into benchmarks/*.md and benchmarks/README.md')
  .description('run benchmarks, print tables, write <area>.json and <area>.md to the output folder')
  .addHelpText('after', `\nAreas:\n${areaHelp}\n\nProgress lines go to stderr. Python anchors use ITOKIT_PYTHON when set, else the first of\n\`python3\` on PATH and /usr/bin/python3 that has the module a script imports; the output names it.\nEach <area>.json records the machine load (os.loadavg) and this process's CPU time; a warning is\nprinted when the load exceeds the number of cores.`)
  .action(async (area: string | undefined, o: { quick?: boolean; json?: boolean; out?: string; anchors?: boolean; updateDocs?: boolean }) => {
    await runBench(area, o);
  });

program
  .command('demo')
  .description('installation summary and a short demonstration of what exists')
  .action(async () => demo());

registerSample(program);
registerWorker(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  console.error(`itokit: ${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}`);
  process.exitCode = 1;
});

#!/usr/bin/env node
/**
 * The `itokit` command line: `info`, `bench [area]`, `demo`, `sample`, `worker`.
 * @packageDocumentation
 */
import { Command } from 'commander';
import { version } from '../version';
import { runBench } from './bench';
import { demo } from './demo';
import { infoText } from './info';
import { registerSample } from './sample';
import { registerWorker } from './worker';

const program = new Command();
program.name('itokit').description('Native-accelerated stochastic simulation for Node.js').version(version);

program
  .command('info')
  .description('print version, backends, threads and CPU features')
  .action(() => console.log(infoText()));

program
  .command('bench')
  .argument('[area]', 'benchmark area (rng, sde, ot, fbm, unet); all when omitted')
  .option('--quick', 'smaller problem sizes, for a smoke run')
  .description('run benchmarks, print tables and write benchmarks/results/*.json')
  .action(async (area: string | undefined, o: { quick?: boolean }) => runBench(area, Boolean(o.quick)));

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

#!/usr/bin/env node
// Structure-aware fuzzer of the UNet model loaders (diffusers folders, W4A8 and W8A8 quantized
// files): mutates seed models (mutators.js), loads every mutant in a child process with a timeout
// (runner.js, child.js) and counts the outcomes. A mutant must end as a coded ItokitError or load
// and give a finite tiny prediction (or a coded error from it); a crash, a hang, an uncoded error,
// a coded out-of-memory or internal error, or a non-finite output accepted is a failure, saved
// into test/fixtures/fuzz-corpus/ (when small) with the notes of what was mutated.
// Needs the compiled package: `npx tsc -p tsconfig.build.json` (and the native build).
//   npm run fuzz -- --minutes 3 --kind w4a8
//   npm run fuzz -- --cases 500 --kind all --seed 7 --workers 2
//   npm run fuzz -- --kind folder --replay 1234        (re-runs case 1234 of that seed and kind)
//   --verbose prints every case's outcome and mutations; --no-save keeps the corpus untouched;
//   --lib src|dist|<dir> and --native <file.node>: the library and addon the children load (a
//   baseline build, say), while the seeds are made with this checkout's dist
// Cases are reproducible: case i of a run uses a PRNG seeded from (seed, kind, i); the default
// seed is fixed (1), so two runs with the same options mutate identically.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Rng, hash32, seeds, clone, rawJson, writeCase } = require('./cases');
const { mutate } = require('./mutators');
const { Runner, FAILURES } = require('./runner');

const KINDS = ['folder', 'w4a8', 'w8a8'];

function parseArgs(argv) {
  const o = { minutes: 1, cases: Infinity, kind: 'all', seed: 1, workers: 2, timeoutMs: 10_000, memMb: 4096, save: true, replay: null, maxSaveBytes: 512 * 1024, verbose: false, lib: undefined, native: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    const num = () => {
      i++;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a non-negative number, got ${v}`);
      return n;
    };
    if (a === '--minutes') o.minutes = num();
    else if (a === '--cases') o.cases = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--workers') o.workers = Math.max(1, Math.floor(num()));
    else if (a === '--timeout-ms') o.timeoutMs = num();
    else if (a === '--mem-mb') o.memMb = num();
    else if (a === '--replay') o.replay = num();
    else if (a === '--kind') {
      o.kind = v;
      i++;
      if (o.kind !== 'all' && !KINDS.includes(o.kind)) throw new Error(`--kind must be all, ${KINDS.join(', ')}`);
    } else if (a === '--no-save') o.save = false;
    else if (a === '--verbose') o.verbose = true;
    else if (a === '--lib') {
      o.lib = v;
      i++;
    } else if (a === '--native') {
      o.native = path.resolve(v);
      i++;
    }
    else if (a === '--help' || a === '-h') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** Weighted pick of a seed. */
function pickSeed(list, rng) {
  let u = rng.next() * list.reduce((a, s) => a + s.weight, 0);
  return list.find((s) => (u -= s.weight) < 0) ?? list[list.length - 1];
}

/** Case i of a run: the same (seed, kind, i) always gives the same mutant. */
function makeCase(o, kind, list, i) {
  const rng = new Rng(hash32(`${o.seed}/${kind}/${i}`));
  const c = clone(pickSeed(list, rng));
  mutate(c, rng, rawJson);
  return c;
}

/** A short signature of a failure, to save one case per kind of failure rather than thousands. */
function signature(kind, r) {
  const msg = String(r.message ?? '').replace(/\/tmp\/[^\s:]+/g, '<path>').replace(/\d+/g, 'N').slice(0, 80);
  return `${kind}|${r.outcome}|${r.code ?? ''}|${r.signal ?? ''}|${msg}`;
}

async function fuzzKind(o, kind, scratch, corpus, deadline) {
  const list = await seeds(kind, path.join(scratch, `seeds-${kind}`));
  const runner = new Runner({ workers: o.workers, timeoutMs: o.timeoutMs, memMb: o.memMb, lib: o.lib, native: o.native });
  const counts = {};
  const saved = new Set();
  const failures = [];
  let started = 0, finished = 0;
  const t0 = Date.now();
  let lastReport = t0;
  const slot = async (w) => {
    const dir = path.join(scratch, `${kind}-w${w}`);
    for (;;) {
      if (started >= o.cases || Date.now() > deadline) return;
      const i = started++;
      const c = makeCase(o, kind, list, i);
      const bytes = writeCase(dir, c, { fuzz: { seed: o.seed, kind, index: i } });
      const r = await runner.run(dir);
      finished++;
      if (o.verbose) console.log(`${kind} ${i} ${r.outcome} ${r.stage ?? ''} ${r.code ?? ''} ${String(r.message ?? '').split('\n')[0].slice(0, 140)}\n    ${c.notes.join('\n    ')}`);
      const key = r.outcome === 'coded' || r.outcome === 'predict-coded' ? `${r.outcome}:${r.stage}` : r.outcome;
      counts[key] = (counts[key] ?? 0) + 1;
      if (FAILURES.has(r.outcome)) {
        const sig = signature(kind, r);
        failures.push({ i, outcome: r.outcome, message: r.message, notes: c.notes });
        if (o.save && !saved.has(sig)) {
          saved.add(sig);
          const name = `fuzz-${kind}-${r.outcome}-s${o.seed}-${i}`;
          const info = { fuzz: { seed: o.seed, kind, index: i, replay: `npm run fuzz -- --kind ${kind} --seed ${o.seed} --replay ${i}` }, found: { outcome: r.outcome, signal: r.signal, code: r.code, message: r.message } };
          if (bytes <= o.maxSaveBytes) writeCase(path.join(corpus, name), c, info);
          else {
            fs.mkdirSync(path.join(corpus, name), { recursive: true });
            fs.writeFileSync(path.join(corpus, name, 'case.json'), `${JSON.stringify({ kind, tooLarge: bytes, mutations: c.notes, ...info }, null, 2)}\n`);
          }
        }
      }
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const s = (Date.now() - t0) / 1000;
        process.stderr.write(`  ${kind}: ${finished} mutants in ${s.toFixed(0)} s (${(finished / s).toFixed(1)}/s), failures ${failures.length}\n`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.workers }, (_, w) => slot(w)));
  } finally {
    runner.close();  // the children hold the event loop open
  }
  const seconds = (Date.now() - t0) / 1000;
  return { kind, mutants: finished, seconds, rate: finished / seconds, counts, failures, seeds: list.map((s) => s.name) };
}

/** Prints one kind's counts, rate and first failures. */
function report(r) {
  console.log(`\n${r.kind}: ${r.mutants} mutants in ${r.seconds.toFixed(0)} s = ${r.rate.toFixed(1)} mutants/s; seeds ${r.seeds.join(', ')}`);
  for (const [k, n] of Object.entries(r.counts).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${n}${FAILURES.has(k) ? '   <- FAILURE' : ''}`);
  console.log(`  failures (crash, hang, uncoded, nonfinite, oom, internal): ${r.failures.length}; 20,000 mutants at this rate: ${(20000 / r.rate / 60).toFixed(1)} min`);
  for (const f of r.failures.slice(0, 5)) console.log(`    case ${f.i}: ${f.outcome} ${String(f.message ?? '').split('\n')[0].slice(0, 160)}\n      ${f.notes.join('\n      ')}`);
}

async function replay(o) {
  const kind = o.kind === 'all' ? 'folder' : o.kind;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-fuzz-'));
  const list = await seeds(kind, path.join(scratch, 'seeds'));
  const c = makeCase(o, kind, list, o.replay);
  const dir = path.join(scratch, 'case');
  writeCase(dir, c, { fuzz: { seed: o.seed, kind, index: o.replay } });
  const runner = new Runner({ workers: 1, timeoutMs: o.timeoutMs, memMb: o.memMb, lib: o.lib, native: o.native });
  const r = await runner.run(dir);
  runner.close();
  console.log(JSON.stringify({ case: o.replay, seed: c.seedName, mutations: c.notes, dir, result: r }, null, 2));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.replay !== null) return replay(o);
  const kinds = o.kind === 'all' ? KINDS : [o.kind];
  const corpus = path.join(__dirname, '..', '..', 'test', 'fixtures', 'fuzz-corpus');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-fuzz-'));
  const results = [];
  try {
    for (const kind of kinds) {
      // the time budget is per kind; --cases bounds each kind as well
      const deadline = Date.now() + o.minutes * 60_000;
      process.stderr.write(`fuzzing ${kind} (seed ${o.seed}, ${o.workers} worker(s), ${o.minutes} min${Number.isFinite(o.cases) ? `, at most ${o.cases} cases` : ''})\n`);
      const r = await fuzzKind(o, kind, scratch, corpus, deadline);
      report(r);  // now: a later kind cannot lose it
      results.push(r);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  let bad = 0;
  for (const r of results) bad += r.failures.length;
  process.exitCode = bad ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});

#!/usr/bin/env node
// Load/dispose cycles of a quantized UNet file, reporting RSS growth: the check that disposing a
// model frees all its native memory (the runtime issue's 10,000-cycle target). Run it under
// valgrind to count leaks:
//   node tools/memory/load-dispose.js --cycles 10000
//   valgrind --leak-check=full --errors-for-leak-kinds=definite node tools/memory/load-dispose.js --cycles 200
// Prints one JSON line: cycles, ms per cycle, RSS after a warm-up of min(1000, cycles/10) cycles
// and at the end (MB), its growth, the V8 heap's share of it and the rest, the native growth (MB).
'use strict';
const path = require('path');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const root = path.join(__dirname, '..', '..');
const { unet } = require(root);
const file = arg('model', path.join(root, 'test', 'fixtures', 'fuzz-corpus', 'regress-w4a8-control', 'model.safetensors'));
const cycles = Number(arg('cycles', '10000'));
const warmup = Math.min(1000, Math.max(1, Math.floor(cycles / 10)));  // V8 and malloc settle first

// One tiny forward per cycle at the smallest legal size, on the first calibrated timestep (a
// cache-only model serves only those), so the cycle also allocates and frees working memory.
const probe = unet.loadSync(file);
const S = 2 ** (probe.config.blockOutChannels.length - 1);
const x = { data: new Float32Array(probe.config.inChannels * S * S).fill(0.25), shape: [1, probe.config.inChannels, S, S] };
const steps = unet.readSafetensors(file).tensors.get('schedule.timesteps');
const t = steps ? Number(new DataView(steps.data.buffer, steps.data.byteOffset, 8).getBigInt64(0, true)) : 500;
probe.dispose();

function cycle() {
  const m = unet.loadSync(file);
  m.predictSync(x, t);
  m.dispose();
}

for (let i = 0; i < warmup; i++) cycle();
if (global.gc) global.gc();
const { rss: rss0, heapTotal: heap0 } = process.memoryUsage();
const t0 = process.hrtime.bigint();
for (let i = 0; i < cycles; i++) cycle();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
if (global.gc) global.gc();
const { rss: rss1, heapTotal: heap1 } = process.memoryUsage();
console.log(JSON.stringify({
  cycles,
  msPerCycle: +(ms / cycles).toFixed(3),
  rssStartMB: +(rss0 / 2 ** 20).toFixed(1),
  rssEndMB: +(rss1 / 2 ** 20).toFixed(1),
  growthMB: +((rss1 - rss0) / 2 ** 20).toFixed(1),
  v8HeapGrowthMB: +((heap1 - heap0) / 2 ** 20).toFixed(1),
  // what the V8 heap's own growth does not explain: native memory a dispose failed to free
  nativeGrowthMB: +((rss1 - rss0 - Math.max(0, heap1 - heap0)) / 2 ** 20).toFixed(1),
}));

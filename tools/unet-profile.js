#!/usr/bin/env node
// Repeats one UNet forward for profiling (perf record, or ITOKIT_UNET_PROFILE=1 for the per-op
// table printed at exit). Needs the built package (dist/ and the addon).
//   node tools/unet-profile.js [fp|w4|w8] [B] [threads] [repeats] [model dir (default: built-in digits16)]
// Prints wall and process-CPU ms per image of the best repeat.
'use strict';
const path = require('path');
const itk = require(path.join(__dirname, '..'));
const { unet } = itk;

async function main() {
  const [mode = 'w4', Bs = '16', ths = '1', reps = '20', dir] = process.argv.slice(2);
  const B = Number(Bs);
  const fp = unet.loadSync(dir || unet.builtinModelPath());
  const cal = { steps: 10, samplesPerStep: 16, seed: 1 };
  let m = fp;
  if (mode !== 'fp') {
    const C = fp.config.inChannels, S = fp.config.sampleSize;
    const xs = Float32Array.from({ length: 4 * C * S * S }, (_, i) => Math.sin(i * 0.91));
    const calibration = dir ? { data: { xs, timesteps: [500], samplesPerStep: 4, height: S, width: S }, initSamples: 4, batch: 4 } : cal;
    // quantized once and saved, so that a profile holds the timed forwards only
    const fs = require('fs'), os = require('os');
    const file = path.join(os.tmpdir(), `itk-unet-profile-${mode}-${path.basename(dir || 'digits16')}.safetensors`);
    if (!fs.existsSync(file)) {
      unet.save(await unet.quantize(fp, { weightBits: mode === 'w8' ? 8 : 4, calibration }), file);
      console.log(`quantized into ${file}; run again to profile`);
      return;
    }
    m = unet.loadSync(file);
  }
  itk.setThreads(Number(ths));
  const C = fp.config.inChannels, S = fp.config.sampleSize;
  const x = { data: Float32Array.from({ length: B * C * S * S }, (_, i) => Math.sin(i * 0.37)), shape: [B, C, S, S] };
  m.predictSync(x, 500);
  let best = Infinity, bestCpu = 0;
  for (let r = 0; r < Number(reps); ++r) {
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    m.predictSync(x, 500);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    if (ms < best) { best = ms; bestCpu = (c.user + c.system) / 1e3; }
  }
  console.log(`${mode} B=${B} threads=${ths}: ${(best / B).toFixed(3)} ms/image wall, ${(bestCpu / B).toFixed(3)} CPU`);
}
main().catch((e) => { console.error(e); process.exit(1); });

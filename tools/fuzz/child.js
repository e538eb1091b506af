#!/usr/bin/env node
// The child process of the model-file fuzzer and of test/unet-hostile-files.test.ts: loads one
// case per IPC message with unet.loadSync, runs one tiny predict when it loaded, and reports what
// happened. The parent (runner.js) owns the timeout and sees crashes as this process dying, so
// nothing a hostile file does here can take the parent down.
//   message in:  { id, dir }           dir holds case.json (see corpus.js) and the model files
//   message out: { id, outcome, stage, code, name, message, ms }   (classify() below)
// The library is dist/lib by default (`npx tsc -p tsconfig.build.json` first); ITOKIT_FUZZ_LIB=src
// loads lib/*.ts through a transpile-only require hook instead, so that a test exercises the
// sources it sits next to; ITOKIT_FUZZ_LIB=<dir> loads another compiled or source tree.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');

/** Registers a transpile-only .ts loader (TypeScript is a devDependency). */
function tsHook() {
  const ts = require('typescript');
  require.extensions['.ts'] = (module, filename) => {
    const src = fs.readFileSync(filename, 'utf8');
    const out = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: filename,
    });
    module._compile(out.outputText, filename);
  };
}

/** The library and its internal native view, per ITOKIT_FUZZ_LIB. */
function loadLib(which) {
  let dir;
  if (which === 'src') {
    tsHook();
    dir = path.join(root, 'lib');
  } else if (!which || which === 'dist') {
    dir = path.join(root, 'dist', 'lib');
  } else {
    if (fs.existsSync(path.join(which, 'index.ts'))) tsHook();
    dir = path.resolve(which);
  }
  // fromNative is internal (not exported from the package root): take it from the errors module
  return { lib: require(dir), fromNative: require(path.join(dir, 'errors')).fromNative, native: require(path.join(dir, 'unet', 'native-unet')).unetNative };
}

const { lib, fromNative, native } = loadLib(process.env.ITOKIT_FUZZ_LIB);

/**
 * Outcome of an error: 'coded' for an ItokitError with an ERR_ITOKIT_ code, 'oom' for a coded
 * out-of-memory (a small file must never get that far), 'internal' for ERR_ITOKIT_INTERNAL (a
 * native exception or loader bug mapped to a code), 'uncoded' otherwise.
 */
function classifyError(e, stage) {
  const coded = e instanceof lib.ItokitError && typeof e.code === 'string' && e.code.startsWith('ERR_ITOKIT_');
  const outcome = !coded ? 'uncoded' : e.code === 'ERR_ITOKIT_OUT_OF_MEMORY' ? 'oom' : e.code === 'ERR_ITOKIT_INTERNAL' ? 'internal' : 'coded';
  return {
    outcome,
    stage,
    code: e && typeof e === 'object' ? e.code : undefined,
    name: e && typeof e === 'object' ? e.name : typeof e,
    message: String(e && typeof e === 'object' ? e.message : e).slice(0, 600),
  };
}

/** First calibrated timestep of a quantized file (a cache-only model serves only those). */
function firstTimestep(file) {
  const t = lib.unet.readSafetensors(file).tensors.get('schedule.timesteps');
  if (!t || t.data.length < 8) return 0;
  return Number(new DataView(t.data.buffer, t.data.byteOffset, 8).getBigInt64(0, true));
}

/** One tiny forward at the smallest legal size; the output must be finite. */
function tinyPredict(model, file) {
  const C = model.config.inChannels;
  const S = 2 ** (model.config.blockOutChannels.length - 1);
  const x = new Float32Array(C * S * S);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(1.7 * i + 0.3);
  const t = model.quantized ? firstTimestep(file) : 500;
  const y = model.predictSync({ data: x, shape: [1, C, S, S] }, t);
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) return { outcome: 'nonfinite', stage: 'predict', message: `output[${i}] = ${y[i]}` };
  }
  return { outcome: 'loaded', stage: 'predict' };
}

/** Runs one case directory. */
function runCase(dir) {
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
  if (spec.native) {
    // a direct native call, past every TypeScript check (the C++ side's own defence)
    try {
      const n = native();
      n[spec.native.fn](...spec.native.args);
      return { outcome: 'loaded', stage: 'native' };
    } catch (e) {
      return classifyError(fromNative(e), 'native');  // as the library's run helpers map them
    }
  }
  const file = path.join(dir, spec.load);
  let model;
  try {
    model = lib.unet.loadSync(file);
  } catch (e) {
    return classifyError(e, 'load');
  }
  try {
    return tinyPredict(model, file);
  } catch (e) {
    const r = classifyError(e, 'predict');
    return r.outcome === 'coded' ? { ...r, outcome: e.code === 'ERR_ITOKIT_NUMERICAL' ? 'predict-numerical' : 'predict-coded' } : r;
  }
}

let done = 0;
process.on('message', (m) => {
  const t0 = process.hrtime.bigint();
  let r;
  try {
    r = runCase(m.dir);
  } catch (e) {
    r = { outcome: 'harness', message: String(e && e.stack ? e.stack : e).slice(0, 600) };
  }
  r.id = m.id;
  r.ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.send(r);
  // native models are freed by their finalizers: collect now and then so memory stays flat
  if (++done % 25 === 0 && global.gc) global.gc();
});
process.send({ ready: true });

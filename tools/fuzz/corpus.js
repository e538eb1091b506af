#!/usr/bin/env node
// Writes the hand-made regression cases of test/fixtures/fuzz-corpus/ (regress-*): one small case
// per hostile class the tracker recorded against the UNet loaders (each crashed, hung, or loaded
// into garbage before lib/unet validated files), plus controls that must load and predict. Built
// from the tiny synthetic model (cases.js) so each case is a few tens of KB. Every case.json says
// what test/unet-hostile-files.test.ts expects: { outcome: 'coded', code, message } (message: a
// regular expression source) or { outcome: 'loaded' }.
//   node tools/fuzz/corpus.js            (needs the compiled package: npx tsc -p tsconfig.build.json)
// Deterministic: rerunning rewrites the same bytes. Cases saved by the fuzzer (fuzz-*) are left alone.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { tinyFolder, seeds, clone, writeCase, library } = require('./cases');

const corpus = path.join(__dirname, '..', '..', 'test', 'fixtures', 'fuzz-corpus');
const FORMAT = 'ERR_ITOKIT_MODEL_FORMAT';

/** Sets element i of an F32 tensor. */
function setF32(c, name, i, v) {
  const t = c.tensors.get(name);
  const d = new Uint8Array(t.data);
  new DataView(d.buffer).setFloat32(4 * i, v, true);
  t.data = d;
}

/** Sets every element of an F32 tensor. */
function fillF32(c, name, v) {
  const t = c.tensors.get(name);
  for (let i = 0; i < t.data.length / 4; i++) setF32(c, name, i, v);
}

/** Sets element i of an F16 tensor to NaN. */
function nanF16(c, name, i) {
  const t = c.tensors.get(name);
  const d = new Uint8Array(t.data);
  new DataView(d.buffer).setUint16(2 * i, 0x7e00, true);
  t.data = d;
}

/** Drops the tensors of a case whose config alone is the hostile part (keeps the corpus small). */
function bare(c) {
  c.tensors = new Map();
}

/** A ResolvedConfig as lib/unet passes it to the native layer, for direct native calls. */
function resolved(over) {
  return {
    inChannels: 1, outChannels: 1, sampleSize: 4, centerInputSample: false, flipSinToCos: false, freqShift: 0, timeEmbeddingDim: 8,
    blockOutChannels: [2, 4], downAttention: [0, 0], upAttention: [0, 0], midBlock: true, addAttention: true, layersPerBlock: 1,
    midBlockScaleFactor: 1, downsamplePadding: 1, attentionHeadDim: 0, normNumGroups: 2, attnNormNumGroups: 2, normEps: 1e-5, ...over,
  };
}

const err = (message) => ({ outcome: 'coded', code: FORMAT, message });

/** The cases: [name, kind, edit(case), expectation, description]. */
function cases() {
  return [
    // diffusers folders: config.json
    ['folder-control', 'folder', () => {}, { outcome: 'loaded' }, 'the untouched tiny model loads and predicts'],
    ['folder-huge-channels-1e9', 'folder', (c) => { bare(c); c.config.block_out_channels = [2, 1e9]; }, err('1000000000 for "block_out_channels"'),
      'std::bad_alloc through unetCreate: SIGABRT'],
    ['folder-huge-channels-2p31', 'folder', (c) => { bare(c); c.config.block_out_channels = [2 ** 31, 4]; }, err('2147483648 for "block_out_channels"'),
      'std::length_error through unetCreate: SIGABRT'],
    ['folder-huge-channels-1m', 'folder', (c) => { bare(c); c.config.block_out_channels = [1048576, 1048576]; }, err('1048576 for "block_out_channels"'),
      'a 1,048,576-channel model sized from the config'],
    ['folder-over-param-cap', 'folder', (c) => { bare(c); c.config.block_out_channels = [16384, 16384]; c.config.layers_per_block = 2; }, err('GiB of FP32 parameters, above'),
      'every number in range, the whole model far above the parameter cap'],
    ['folder-huge-layers', 'folder', (c) => { bare(c); c.config.layers_per_block = 1e9; }, err('layers_per_block'), 'unbounded allocation, no answer in 45 s'],
    ['folder-empty-config', 'folder', (c) => { c.config = {}; }, err('model tensors do not match the config'), 'a default 1.1 GB model built before the rejection'],
    ['folder-null-config', 'folder', (c) => { bare(c); c.configText = 'null'; }, err('must hold a JSON object'), 'TypeError reading _class_name of null'],
    ['folder-array-config', 'folder', (c) => { bare(c); c.configText = '[1, 2]'; }, err('must hold a JSON object'), 'a config that is not an object'],
    ['folder-mid-scale-0', 'folder', (c) => { c.config.mid_block_scale_factor = 0; }, err('mid_block_scale_factor'), 'loaded, then NaN outputs'],
    ['folder-norm-eps-0', 'folder', (c) => { c.config.norm_eps = 0; }, err('norm_eps'), 'a division by √0 on a constant group'],
    ['folder-freq-shift-above-half', 'folder', (c) => { c.config.freq_shift = 1.5; }, err('freq_shift'), 'negative denominator: infinite frequencies, NaN embeddings'],
    ['folder-deep-config-value', 'folder', (c) => { bare(c); c.config.norm_eps = { __raw: `${'['.repeat(5000)}1${']'.repeat(5000)}` }; }, err('norm_eps'),
      'a deeply nested value: RangeError (stack) from the error message'],
    ['folder-deep-class-name', 'folder', (c) => { bare(c); c.config._class_name = { __raw: `${'['.repeat(5000)}1${']'.repeat(5000)}` }; }, err('_class_name a nested list'),
      'found by the fuzzer: RangeError (stack) from String() of the value in the message'],
    ['folder-nan-weight', 'folder', (c) => { setF32(c, 'conv_in.weight', 3, NaN); }, err('conv_in.weight holds a non-finite value'), 'the folder rule for non-finite weights'],
    // direct native calls: the C++ defensive check, past every TypeScript check
    ['native-create-huge-channels', 'native', { fn: 'unetCreate', args: [{ config: resolved({ blockOutChannels: [2, 1e9] }), names: [], arrays: [], shapes: [], quant: null }] }, err('block_out_channels'),
      'the native config check alone'],
    ['native-create-channels-2p31', 'native', { fn: 'unetCreate', args: [{ config: resolved({ blockOutChannels: [2 ** 31, 4] }), names: [], arrays: [], shapes: [], quant: null }] },
      { outcome: 'coded', code: 'ERR_ITOKIT_INVALID_ARG', message: 'integer in' }, 'no silent int32 wrap-around'],
    ['native-create-huge-layers', 'native', { fn: 'unetCreate', args: [{ config: resolved({ layersPerBlock: 1e9 }), names: [], arrays: [], shapes: [], quant: null }] }, err('layers_per_block'),
      'the native config check alone'],
    ['native-create-over-cap', 'native', { fn: 'unetCreate', args: [{ config: resolved({ blockOutChannels: [16384, 16384], normNumGroups: 2, layersPerBlock: 2, timeEmbeddingDim: 65536 }), names: [], arrays: [], shapes: [], quant: null }] },
      err('above the 4 GiB limit'), 'the native parameter cap, checked before any weight is copied'],
    // quantized files
    ['w4a8-control', 'w4a8', () => {}, { outcome: 'loaded' }, 'the untouched tiny W4A8 file loads and predicts'],
    ['w8a8-control', 'w8a8', () => {}, { outcome: 'loaded' }, 'the untouched tiny W8A8 file loads and predicts'],
    ['w4a8-unet-config-huge-channels', 'w4a8', (c) => { bare(c); c.config.block_out_channels = [2, 1e9]; }, err('block_out_channels'), 'SIGABRT from the quantized loader'],
    ['w8a8-unet-config-2p31', 'w8a8', (c) => { c.config.block_out_channels = [2 ** 31, 4]; }, err('block_out_channels'), 'SIGABRT from the quantized loader'],
    ['w4a8-unet-config-mid-scale-0', 'w4a8', (c) => { c.config.mid_block_scale_factor = 0; }, err('mid_block_scale_factor'), 'NaN outputs'],
    ['w4a8-unet-config-null', 'w4a8', (c) => { c.configText = 'null'; }, err('unet_config must be a JSON object'), 'a null config in the metadata'],
    ['w4a8-act-scale-zero', 'w4a8', (c) => { fillF32(c, 'act.scale', 0); }, err('act\\.scale\\[0\\] = 0 is outside'), 'loaded, finite but wrong outputs'],
    ['w8a8-act-scale-nan', 'w8a8', (c) => { setF32(c, 'act.scale', 5, NaN); }, err('act\\.scale holds a non-finite value'), 'loaded, finite but wrong outputs'],
    ['w4a8-act-scale-inf', 'w4a8', (c) => { setF32(c, 'act.scale', 0, -Infinity); }, err('act\\.scale holds a non-finite value'), 'loaded, finite but wrong outputs'],
    ['w8a8-act-scale-huge', 'w8a8', (c) => { setF32(c, 'act.scale', 2, 1e30); }, err('act\\.scale\\[2\\] = 1\\.\\d*e\\+30 is outside'), 'loaded, every code saturated'],
    ['w4a8-wscale-zero', 'w4a8', (c) => { setF32(c, 'down_blocks.0.resnets.0.conv1.wscale', 0, 0); }, err('wscale\\[0\\] = 0 is outside'), 'a zero weight step'],
    ['w8a8-fp-tensor-nan', 'w8a8', (c) => { nanF16(c, 'conv_in.weight', 0); }, err('conv_in.weight holds a non-finite value'), 'loaded, then all-NaN outputs'],
    ['w4a8-fp-bias-nan', 'w4a8', (c) => { setF32(c, 'conv_out.bias', 0, NaN); }, err('conv_out.bias holds a non-finite value'), 'loaded, then all-NaN outputs'],
    ['w4a8-temporal-features-nan', 'w4a8', (c) => { setF32(c, 'temporal.features', 1, NaN); }, err('temporal.features holds a non-finite value'), 'NaN cached features'],
    ['w4a8-quant-null', 'w4a8', (c) => { c.quantText = 'null'; }, err('quant must be a JSON object'), 'TypeError on null metadata'],
    ['w8a8-quant-layers-null', 'w8a8', (c) => { c.quant.layers = null; }, err('quant\\.layers'), 'TypeError on null layers'],
    ['w4a8-quant-layer-shape-string', 'w4a8', (c) => { c.quant.layers[Object.keys(c.quant.layers)[0]].shape = 'abc'; }, err('shape'), 'TypeError/RangeError from a string shape'],
    ['w4a8-quant-layer-entry-null', 'w4a8', (c) => { c.quant.layers[Object.keys(c.quant.layers)[1]] = null; }, err('must be an object'), 'TypeError from a null layer'],
    ['w8a8-quant-weight-bits-3', 'w8a8', (c) => { c.quant.weight_bits = 3; }, err('weight_bits'), 'an unknown bit width'],
    ['w4a8-quant-act-bits-16', 'w4a8', (c) => { c.quant.act_bits = 16; }, err('act_bits'), 'a precision label from unchecked metadata'],
    ['w4a8-quant-group-size-48', 'w4a8', (c) => { c.quant.group_size = 48; }, err('group_size'), 'a group size the format does not define'],
    ['w8a8-quant-act-quantizers-numbers', 'w8a8', (c) => { c.quant.act_quantizers = c.quant.act_quantizers.map((_, i) => i); }, err('act_quantizers'),
      'an uncoded "A string was expected" from the binding'],
    ['w4a8-quant-unknown-layer', 'w4a8', (c) => { c.quant.layers['conv_in'] = { ...Object.values(c.quant.layers)[0] }; }, err('conv_in'), 'an FP layer claimed as integer'],
    ['w4a8-quant-layer-bits-mismatch', 'w4a8', (c) => { Object.values(c.quant.layers)[0].bits = 8; }, err('bits'), 'a layer whose bits differ from weight_bits'],
    ['w4a8-quant-timestep-negative', 'w4a8', (c) => {
      const t = c.tensors.get('schedule.timesteps');
      const d = new Uint8Array(t.data);
      new DataView(d.buffer).setBigInt64(0, -1n, true);
      t.data = d;
    }, err('schedule\\.timesteps\\[0\\] = -1'), 'a negative timestep'],
    ['w4a8-cache-only-step-not-cached', 'w4a8', (c) => {
      const t = c.tensors.get('temporal.timesteps');
      const d = new Uint8Array(t.data);
      new DataView(d.buffer).setBigInt64(0, 777n, true);
      t.data = d;
    }, err('has no cached temporal feature'), 'every predict on that step failed'],
  ];
}

async function main() {
  library();  // fails early without dist/
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-corpus-'));
  try {
    const tiny = tinyFolder(1);
    const q = {};
    for (const kind of ['w4a8', 'w8a8']) q[kind] = (await seeds(kind, path.join(scratch, kind))).find((s) => s.name === `tiny-${kind}`);
    fs.mkdirSync(corpus, { recursive: true });
    for (const d of fs.readdirSync(corpus)) if (d.startsWith('regress-')) fs.rmSync(path.join(corpus, d), { recursive: true, force: true });
    let total = 0;
    for (const [name, kind, edit, expect, why] of cases()) {
      const dir = path.join(corpus, `regress-${name}`);
      if (kind === 'native') {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, 'case.json'), `${JSON.stringify({ kind, native: edit, expect, before: why }, null, 2)}\n`);
        continue;
      }
      const c = clone(kind === 'folder' ? { ...tiny, kind, name: 'tiny' } : q[kind]);
      edit(c);
      c.notes.push(why);
      total += writeCase(dir, c, { expect, before: why });
    }
    console.log(`wrote ${cases().length} cases (${(total / 1024).toFixed(0)} KiB of model files) to ${path.relative(process.cwd(), corpus)}`);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

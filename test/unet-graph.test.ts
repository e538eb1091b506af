// The UNet forward graph (native/unet/unet_graph.h, docs/design/unet.md §4.1): the one op list both
// backends run. Checked here against the model files themselves (every layer a file holds runs
// exactly once, in diffusers' block order) and for value lifetimes; the CPU forward tests
// (test/unet.test.ts, test/unet-quant.test.ts) check what running it computes.
import * as path from 'path';
import { unet } from '../lib';
import { readSafetensors } from '../lib/unet/safetensors';
import { graph } from '../lib/testing/unet';
import type { UnetGraph } from '../lib/testing/addon';

const FIXTURE_B = path.join(__dirname, 'fixtures', 'unet', 'fixture_b_f16');

/** diffusers' legacy attention names (fixture B's file uses them) and their current ones. */
const LEGACY_ATTENTION: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };

/**
 * Convolution and linear layers of a diffusers file, under their current names, without the time
 * MLP and time_emb_proj (the temporal op runs those).
 */
function graphLayers(file: string): string[] {
  const names: string[] = [];
  for (const [name, t] of readSafetensors(file).tensors) {
    if (!name.endsWith('.weight') || t.shape.length < 2) continue;  // norms have 1-D weights
    const layer = name.slice(0, -'.weight'.length).replace(/\.(query|key|value|proj_attn)$/, (_m, k: string) => `.${LEGACY_ATTENTION[k]}`);
    if (layer.startsWith('time_embedding.') || layer.endsWith('.time_emb_proj')) continue;
    names.push(layer);
  }
  return names.sort();
}

/** Lifetimes: defined once before any read, never read after release, released once unless the output. */
function lifetimeProblems(g: UnetGraph): string[] {
  const state = new Array<string>(g.values).fill('undefined');
  state[g.input] = 'live';
  const problems: string[] = [];
  g.ops.forEach((op, i) => {
    for (const v of op.in) if (state[v] !== 'live') problems.push(`op ${i} (${op.kind}) reads ${v} while ${state[v]}`);
    for (const v of op.out) {
      const inPlace = op.kind === 'residual' && v === op.in[0];
      if (!inPlace && state[v] !== 'undefined') problems.push(`op ${i} (${op.kind}) redefines ${v}`);
      state[v] = 'live';
    }
    for (const v of op.release) {
      if (state[v] !== 'live' || v === g.output) problems.push(`op ${i} releases ${v} while ${state[v]}`);
      state[v] = 'released';
    }
  });
  state.forEach((s, v) => {
    if (v === g.output ? s !== 'live' : s !== 'released') problems.push(`value ${v} ends ${s}`);
  });
  return problems;
}

/** Resnet prefixes in the TIB order of docs/design/unet.md §7.1: down blocks, mid block, up blocks. */
function tibOrder(layers: string[]): string[] {
  const resnets = [...new Set(layers.filter((l) => l.endsWith('.conv1')).map((l) => l.slice(0, -'.conv1'.length)))];
  const rank = (p: string): number[] => {
    const m = /^(down_blocks|mid_block|up_blocks)\.(?:(\d+)\.)?resnets\.(\d+)$/.exec(p)!;
    return [['down_blocks', 'mid_block', 'up_blocks'].indexOf(m[1]), Number(m[2] ?? 0), Number(m[3])];
  };
  return resnets.sort((a, b) => {
    const ra = rank(a), rb = rank(b);
    return ra[0] - rb[0] || ra[1] - rb[1] || ra[2] - rb[2];
  });
}

describe.each([
  ['built-in digits16', unet.builtinModelPath()],
  ['fixture B (centred input, attention heads, 3 blocks)', FIXTURE_B],
])('unet forward graph: %s', (_name, dir) => {
  const model = unet.loadSync(dir);
  const g = graph(model);
  const layers = graphLayers(path.join(dir, 'diffusion_pytorch_model.safetensors'));
  afterAll(() => model.dispose());

  test('every value is defined before it is read and freed exactly once after its last read', () => {
    expect(lifetimeProblems(g)).toEqual([]);
    expect(g.ops[g.ops.length - 1].out).toEqual([g.output]);
  });

  test('every convolution of the file runs exactly once, and nothing else does', () => {
    const ran = g.ops.flatMap((op) => op.layers).sort();
    expect(ran).toEqual(layers);
  });

  test('a centred model centres its input first', () => {
    const centred = dir === FIXTURE_B;
    expect(g.ops.filter((op) => op.kind === 'center').map((op) => op.in)).toEqual(centred ? [[g.input]] : []);
  });

  test('conv1 of resnet i adds temporal feature i, in TIB order; no other op adds one', () => {
    const order = tibOrder(layers);
    const adds = g.ops.filter((op) => op.tf >= 0);
    expect(adds.map((op) => op.layers[0])).toEqual(order.map((p) => `${p}.conv1`));
    expect(adds.map((op) => op.tf)).toEqual(order.map((_, i) => i));
    expect(g.ops.filter((op) => op.kind === 'temporal')).toHaveLength(1);
    expect(g.ops[0].kind).toBe('temporal');
  });

  test('up-block resnets read [h, skip], the skips popped in reverse order of the down path', () => {
    const concats = g.ops.filter((op) => op.kind === 'concat');
    const upResnets = layers.filter((l) => l.startsWith('up_blocks.') && l.endsWith('.conv1'));
    expect(concats).toHaveLength(upResnets.length);
    // the down path's skips: conv_in's output, then every down resnet/attention block output and downsampler output
    const producer = new Map<number, string>();
    for (const op of g.ops) for (const v of op.out) producer.set(v, op.layers[0] ?? op.kind);
    const skipProducers = concats.map((op) => producer.get(op.in[1])!);
    expect(skipProducers[skipProducers.length - 1]).toBe('conv_in');
    // each skip is read by its concat only after every later-pushed skip was read (a stack)
    const pushed = concats.map((op) => op.in[1]);
    expect(new Set(pushed).size).toBe(pushed.length);
    expect([...pushed].sort((a, b) => b - a)).toEqual(pushed);
  });

  test('GroupNorm feeds the resnet convolutions, q/k/v and conv_out, with SiLU where diffusers has it', () => {
    const normConvs = g.ops.filter((op) => op.kind === 'norm_conv');
    expect(normConvs.every((op) => op.silu)).toBe(true);
    for (const op of normConvs) {
      const conv = op.layers[0];
      const norm = op.norm!;
      if (conv === 'conv_out') expect(norm).toBe('conv_norm_out');
      else expect(norm).toBe(conv.replace(/\.conv([12])$/, '.norm$1'));
    }
    const qkv = g.ops.filter((op) => op.kind === 'norm_qkv');
    for (const op of qkv) {
      const p = op.layers[0].slice(0, -'.to_q'.length);
      expect(op.layers).toEqual([`${p}.to_q`, `${p}.to_k`, `${p}.to_v`]);
      expect(op.norm).toBe(`${p}.group_norm`);
      expect(op.silu).toBe(false);
    }
    expect(qkv).toHaveLength(layers.filter((l) => l.endsWith('.to_q')).length);
  });
});

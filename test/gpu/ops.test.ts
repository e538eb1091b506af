/**
 * The GPU operation table (as ggml's test-backend-ops): every row is one operation at one shape,
 * run on the CPU and on CUDA and compared by the harness's one `compare` under a named TOLERANCE.
 * Adding a kernel means adding rows here; a row fails when the CUDA kernel is wrong (bits differ or
 * the distance exceeds its tolerance), and skips, visibly, without a device (describeGpu). Suites
 * beside this one hold the checks a table row cannot express (async aborts, device-resident
 * chains, cache counters).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CIFAR_CONFIG, writeRandomUnet } from '../../benchmarks/unet-gpu.bench';
import { fbm, nn, ot, rng, sde, unet } from '../../lib';
import * as unetTesting from '../../lib/testing/unet';
import { compare, describeGpu, Tolerance } from './harness';

type Device = 'cpu' | 'cuda';
type Out = Float32Array | Float64Array | Uint32Array;

/** One row: an operation at a shape, its tolerance, and how to run it on a device. */
interface Op {
  op: string;
  shape: string;
  tol: Tolerance;
  run(device: Device): Out;
}

/** Deterministic inputs in [-2, 2). */
function wave(n: number, seed: number, f64 = false): Float32Array | Float64Array {
  const a = f64 ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = 2 * Math.sin(0.37 * i + seed);
  return a;
}

const rows: Op[] = [];

// ---- rng: Philox fills, every kind, sizes around the lane and block boundaries -------------------
for (const n of [1, 1023, 65_537]) {
  for (const dtype of ['float32', 'float64'] as const) {
    rows.push({ op: `rng.uniform ${dtype}`, shape: `n=${n}`, tol: 'bits', run: (device) => rng.uniform(n, { seed: 42n, dtype, device, offset: 5, stream: 3 }) });
    rows.push({ op: `rng.normal ${dtype}`, shape: `n=${n}`, tol: 'bits', run: (device) => rng.normal(n, { seed: 7, dtype, device, path: 9, step: 2 }) });
  }
}
for (const [paths, dim] of [[1, 1], [1000, 7], [4097, 3]]) {
  rows.push({ op: 'rng.randn', shape: `${paths}x${dim}`, tol: 'bits', run: (device) => rng.randn({ seed: 3, paths, dim, pathOffset: 11, step: 4, device }) });
}

// ---- sde: fused step models (one ITK_HD step per model, docs/design/sde.md) -----------------------
const models: [string, sde.Model, number[], sde.Method][] = [
  ['gbm exact', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'exact'],
  ['gbm milstein', sde.models.gbm({ mu: 0.05, sigma: 0.2 }), [1], 'milstein'],
  ['ou sra1', sde.models.ou({ theta: 1, mu: 0.5, sigma: 1 }), [1, 2, 3], 'sra1'],
  ['cir euler-ft', sde.models.cir({ kappa: 0.5, theta: 0.04, xi: 1 }), [0.04], 'euler-ft'],
  ['heston log-euler-ft', sde.models.heston({ mu: 0.05, kappa: 2, theta: 0.04, xi: 0.5, rho: -0.7 }), [100, 0.04], 'log-euler-ft'],
  ['vp euler', sde.models.vp(), [0.1, 0.2], 'euler'],
];
for (const [name, model, x0, method] of models) {
  for (const paths of [1, 4097]) {
    rows.push({
      op: `sde.simulate ${name}`, shape: `paths=${paths} d=${x0.length} steps=32`, tol: 'bits',
      run: (device) => sde.simulateSync(model, { paths, x0, t1: 1, steps: 32, method, seed: 77, device, save: { every: 8 } }).data as Float32Array,
    });
  }
}

// ---- fbm: the Markov approximation's OU lanes -----------------------------------------------------
for (const [type, K, paths, dims] of [['I', 5, 1025, 1], ['II', 3, 33, 2], ['I', 12, 257, 3]] as const) {
  rows.push({
    op: `fbm.sample markov type ${type}`, shape: `K=${K} paths=${paths} dims=${dims} n=64`, tol: 'bits',
    run: (device) => fbm.sampleSync({ type, scheme: 'exact', hurst: 0.3, n: 64, paths, dims, K, seed: 5, pathOffset: 3, device }).paths as Float32Array,
  });
}

// ---- ot: dense Sinkhorn passes (a few iterations, so every row exercises the pass itself) ---------
for (const [name, n, m] of [['R3', 64, 48], ['R3', 257, 129]] as const) {
  const p = ot.referenceProblem(name, { n, m });
  rows.push({
    op: 'ot.sinkhorn dense passes', shape: `${n}x${m}`, tol: 'otPlanL1',
    run: (device) => ot.sinkhornSync(p.a, p.b, p.C, { reg: 0.05, method: 'sinkhorn', maxIter: 5, tol: 0, device }).plan as Float64Array,
  });
}

// ---- nn: MLP forward ------------------------------------------------------------------------------
for (const dtype of ['float32', 'float64'] as const) {
  for (const rowsN of [1, 1000]) {
    rows.push({
      op: `nn.MLP forward ${dtype}`, shape: `[5, 64, 32, 3] rows=${rowsN}`, tol: dtype === 'float32' ? 'nnFp32' : 'nnFp64',
      run: (device) => {
        const net = new nn.MLP({ sizes: [5, 64, 32, 3], activation: 'silu', dtype, seed: 7 });
        return net.forward(wave(5 * rowsN, 1, dtype === 'float64') as never, { device }).y;
      },
    });
  }
}

describe('the compare helper fails on a wrong result (runs without a GPU)', () => {
  const ref = rng.normal(1000, { seed: 1, device: 'cpu' });
  const off = Float32Array.from(ref);
  off[500] = Math.fround(off[500] * (1 + 2 ** -20));
  test.each([['bits'], ['unetFp32'], ['nnFp32']] as [Tolerance][])('%s', (tol) => {
    expect(compare(ref, ref, tol).ok).toBe(true);
    const big = Float32Array.from(ref, (x, i) => (i === 500 ? x + 1 : x));
    expect(compare(big, ref, tol).ok).toBe(false);
  });
  test('a one-ulp change fails the bit rows and names its index', () => expect(compare(off, ref, 'bits')).toMatchObject({ ok: false, value: 500 }));
  test('NaN never passes', () => expect(compare(Float32Array.from(ref, (x, i) => (i === 3 ? NaN : x)), ref, 'unetFp32').ok).toBe(false));
});

describeGpu('GPU operation table: CUDA vs CPU', () => {
  test.each(rows.map((r) => [r.op, r.shape, r]))('%s [%s]', (_op, _shape, r) => {
    const cpu = r.run('cpu');
    const gpu = r.run('cuda');
    const c = compare(gpu, cpu, r.tol);
    expect({ op: r.op, shape: r.shape, ...c, ok: c.ok }).toMatchObject({ ok: true });
  });

  // UNet layers: one integer/FP32 conv (and an attention projection) on an identical quantized
  // input, then a whole FP32 forward (GroupNorm, attention softmax, every conv) of a random model.
  describe('unet layers', () => {
    let dir = '';
    let fp: unet.UNetModel;
    let q: unet.UNetModel;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itk-ops-'));
      writeRandomUnet(path.join(dir, 'cifar'), { ...CIFAR_CONFIG, block_out_channels: [32, 64, 64, 64], norm_num_groups: 8 }, 7);
      fp = unet.loadSync(path.join(dir, 'cifar'));
      const xs = wave(2 * 4 * 3 * 32 * 32, 11) as Float32Array;
      q = await unet.quantize(fp, { weightBits: 4, groupSize: 32, calibration: { data: { xs, timesteps: [500, 250], samplesPerStep: 4, height: 32, width: 32 }, initSamples: 4, batch: 4 } });
    }, 600_000);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const layers: [string, number, number][] = [
      ['down_blocks.0.resnets.0.conv1', 32, 32], ['down_blocks.1.attentions.0.to_q', 64, 16], ['up_blocks.0.resnets.0.conv1', 128, 4],
    ];
    test.each(layers)('layerCheck %s (I=%i, %ipx): integer and fake-quant outputs bit for bit', (layer, I, hw) => {
      const x = wave(2 * I * hw * hw, I) as Float32Array;
      const cpu = unetTesting.layerCheck(q, layer, x, [2, I, hw, hw], 4 / 255, 85);
      const gpu = unetTesting.layerCheck(q, layer, x, [2, I, hw, hw], 4 / 255, 85, { device: 'cuda' });
      expect(compare(gpu.integer, cpu.integer, 'bits').ok).toBe(true);
      expect(compare(gpu.fakeQuant, cpu.fakeQuant, 'bits').ok).toBe(true);
    });
    test('whole FP32 forward (GroupNorm, attention, convs), B = 2', () => {
      const x = wave(2 * 3 * 32 * 32, 3) as Float32Array;
      const cpu = fp.predictSync(x, 500, { device: 'cpu' });
      const gpu = fp.predictSync(x, 500, { device: 'cuda' });
      expect(compare(gpu, cpu, 'unetFp32')).toMatchObject({ ok: true });
    });
  });
});

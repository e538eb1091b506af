/**
 * nn area: MLP forward/backward against PyTorch reference vectors (tools/nn_reference.py) and
 * against central finite differences in float64; init; Adam/AdamW vs torch.optim; safetensors.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ACTIVATIONS, Activation, Adam, MLP } from '../lib/nn';
import { setThreads, getThreads } from '../lib/backends';
import { expectCode } from './helpers';

interface RefCase { activation: Activation; sizes: number[]; params: number[]; x: number[]; c: number[]; y: number[]; dx: number[]; grad: number[] }
interface OptCase { kind: 'adam' | 'adamw'; weightDecay: number; maxGradNorm: number | null; lr: number; p0: number[]; grads: number[][]; trajectory: number[][] }
const ref = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'nn', 'reference.json'), 'utf8')) as { mlp: RefCase[]; adam: OptCase[] };

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** Deterministic pseudo-random numbers for test inputs (not the code under test's RNG). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

describe('MLP vs PyTorch reference', () => {
  test.each(ref.mlp.map((c) => [c.activation, c] as const))('%s: forward, dx and parameter gradients (float64)', (_n, c) => {
    const net = new MLP({ sizes: c.sizes, activation: c.activation, dtype: 'float64' });
    net.params.set(c.params);
    const { y, tape } = net.forward(Float64Array.from(c.x));
    expect(maxRel(y, c.y)).toBeLessThan(1e-13);
    net.zeroGrad();
    const dx = net.backward(tape, Float64Array.from(c.c))!;
    expect(maxRel(dx, c.dx)).toBeLessThan(1e-12);
    expect(maxRel(net.grad, c.grad)).toBeLessThan(1e-12);
  });
  test.each(ref.mlp.map((c) => [c.activation, c] as const))('%s: float32 forward within float32 rounding', (_n, c) => {
    const net = new MLP({ sizes: c.sizes, activation: c.activation, dtype: 'float32' });
    net.params.set(c.params);
    const y = net.predict(Float32Array.from(c.x));
    expect(maxRel(y, c.y)).toBeLessThan(2e-6);
  });
  test('parameter names follow nn.Sequential(Linear, act, ...)', () => {
    const net = new MLP({ sizes: [3, 7, 5, 2] });
    expect(net.parameterViews().map((v) => `${v.name}:${v.shape.join('x')}`)).toEqual([
      'layers.0.weight:7x3', 'layers.0.bias:7', 'layers.2.weight:5x7', 'layers.2.bias:5', 'layers.4.weight:2x5', 'layers.4.bias:2',
    ]);
    expect(net.numParams).toBe(7 * 3 + 7 + 5 * 7 + 5 + 2 * 5 + 2);
  });
});

describe('MLP gradients vs central finite differences (float64, h = 1e-6)', () => {
  // loss(θ, x) = Σ c ⊙ net(x); depth 4 (three hidden layers), every activation also as output.
  const sizes = [4, 9, 8, 6, 3];
  const rows = 5;
  test.each(ACTIVATIONS.map((a) => [a]))('%s', (act) => {
    const rnd = lcg(ACTIVATIONS.indexOf(act) + 11);
    const net = new MLP({ sizes, activation: act, outputActivation: act === 'identity' ? 'identity' : act, dtype: 'float64', seed: 3 });
    const x = Float64Array.from({ length: rows * sizes[0] }, () => 3 * rnd());
    const c = Float64Array.from({ length: rows * sizes[sizes.length - 1] }, () => 2 * rnd());
    const loss = (): number => {
      const y = net.predict(x);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += c[i] * y[i];
      return s;
    };
    const { tape } = net.forward(x);
    net.zeroGrad();
    const dx = net.backward(tape, c)!;
    const h = 1e-6;
    const check = (buf: Float64Array, analytic: Float64Array): void => {
      let worst = 0;
      for (let k = 0; k < buf.length; k++) {
        const keep = buf[k];
        buf[k] = keep + h;
        const lp = loss();
        buf[k] = keep - h;
        const lm = loss();
        buf[k] = keep;
        const fd = (lp - lm) / (2 * h);
        const err = Math.abs(analytic[k] - fd) / Math.max(Math.abs(fd), 1e-2);
        worst = Math.max(worst, err);
      }
      expect(worst).toBeLessThan(1e-6);
    };
    check(net.params, Float64Array.from(net.grad));
    check(x, dx);
  });
  test('backward accumulates into grad; inputGrad: false skips dx', () => {
    const net = new MLP({ sizes: [2, 4, 1], dtype: 'float64', seed: 5 });
    const x = new Float64Array([0.3, -0.2, 1, 2]);
    const { tape } = net.forward(x);
    net.zeroGrad();
    net.backward(tape, new Float64Array([1, 1]));
    const once = Float64Array.from(net.grad);
    expect(net.backward(tape, new Float64Array([1, 1]), { inputGrad: false })).toBeUndefined();
    for (let i = 0; i < once.length; i++) expect(net.grad[i]).toBeCloseTo(2 * once[i], 14);
  });
});

describe('MLP init, threads, validation', () => {
  test('PyTorch default init: uniform in ±1/√in; zeroLastLayer', () => {
    const net = new MLP({ sizes: [64, 256, 1], seed: 9, dtype: 'float64' });
    const [w0] = net.parameterViews();
    const bound = 1 / 8;
    let s2 = 0;
    let mx = 0;
    for (let k = 0; k < w0.size; k++) {
      const v = net.params[w0.offset + k];
      s2 += v * v;
      mx = Math.max(mx, Math.abs(v));
    }
    expect(mx).toBeLessThanOrEqual(bound);
    expect(mx).toBeGreaterThan(0.99 * bound);
    // Var U(−a, a) = a²/3; n = 16384 draws: se of the mean square ≈ a²·0.3/√n.
    expect(Math.abs(s2 / w0.size - bound * bound / 3)).toBeLessThan(5 * bound * bound * 0.3 / Math.sqrt(w0.size));
    const z = new MLP({ sizes: [3, 8, 2], zeroLastLayer: true, seed: 1 });
    expect(Array.from(z.predict(new Float32Array([1, 2, 3])))).toEqual([0, 0]);
    const again = new MLP({ sizes: [64, 256, 1], seed: 9, dtype: 'float64' });
    expect(again.params).toEqual(net.params);
  });
  test('results are bit-identical for 1, 2 and 7 threads (batch split into fixed chunks)', () => {
    const before = getThreads();
    const rnd = lcg(99);
    const net = new MLP({ sizes: [3, 32, 32, 2], activation: 'silu', seed: 2 });
    const x = Float32Array.from({ length: 3 * 1000 }, () => rnd());
    const dy = Float32Array.from({ length: 2 * 1000 }, () => rnd());
    const runs: Float32Array[] = [];
    for (const t of [1, 2, 7]) {
      setThreads(t);
      const { y, tape } = net.forward(x);
      net.zeroGrad();
      const dx = net.backward(tape, dy)!;
      runs.push(Float32Array.from([...y, ...dx, ...net.grad]));
    }
    setThreads(before);
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
  test('async forms give the sync results', async () => {
    const net = new MLP({ sizes: [2, 16, 2], seed: 4, dtype: 'float64' });
    const x = new Float64Array([0.1, 0.2, -0.3, 0.4]);
    const a = net.forward(x);
    const b = await net.forwardAsync(x);
    expect(b.y).toEqual(a.y);
    net.zeroGrad();
    const dxa = net.backward(a.tape, new Float64Array([1, 0, 0, 1]));
    const ga = Float64Array.from(net.grad);
    net.zeroGrad();
    const dxb = await net.backwardAsync(b.tape, new Float64Array([1, 0, 0, 1]));
    expect(dxb).toEqual(dxa);
    expect(net.grad).toEqual(ga);
  });
  test('bad input throws coded errors', () => {
    expectCode(() => new MLP({ sizes: [3] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => new MLP({ sizes: [3, 0, 1] }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => new MLP({ sizes: [3, 4, 1], activation: 'gelu' as Activation }), 'ERR_ITOKIT_INVALID_ARG');
    const net = new MLP({ sizes: [3, 4, 1] });
    expectCode(() => net.forward(new Float32Array(4)), 'ERR_ITOKIT_SHAPE');
    expectCode(() => net.forward(new Float64Array(3) as unknown as Float32Array), 'ERR_ITOKIT_DTYPE');
    const { tape } = net.forward(new Float32Array(6));
    expectCode(() => net.backward(tape, new Float32Array(3)), 'ERR_ITOKIT_SHAPE');
    const opt = new Adam(net.params);
    const g = new Float32Array(net.numParams);
    g[0] = NaN;
    expectCode(() => opt.step(g), 'ERR_ITOKIT_NUMERICAL');
    expectCode(() => new Adam(net.params, { lr: -1 }), 'ERR_ITOKIT_INVALID_ARG');
  });
});

describe('Adam / AdamW vs torch.optim (5 steps, lr 0.05)', () => {
  test.each(ref.adam.map((c) => [`${c.kind} wd=${c.weightDecay} clip=${c.maxGradNorm}`, c] as const))('%s', (_n, c) => {
    const p = Float64Array.from(c.p0);
    const opt = new Adam(p, { kind: c.kind, lr: c.lr, weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm ?? undefined });
    for (let s = 0; s < c.grads.length; s++) {
      opt.step(Float64Array.from(c.grads[s]));
      expect(maxRel(p, c.trajectory[s])).toBeLessThan(1e-12);
    }
  });
});

describe('safetensors save/load', () => {
  test('round trip keeps architecture and every bit; PyTorch-named tensors', () => {
    const net = new MLP({ sizes: [5, 12, 3], activation: 'softplus', outputActivation: 'tanh', seed: 8, dtype: 'float64' });
    const file = path.join(os.tmpdir(), `itokit-nn-${process.pid}.safetensors`);
    net.saveSync(file);
    const back = MLP.loadSync(file);
    fs.unlinkSync(file);
    expect(back.sizes).toEqual(net.sizes);
    expect(back.activations).toEqual(net.activations);
    expect(back.dtype).toBe('float64');
    expect(back.params).toEqual(net.params);
    const bytes = net.toSafetensors();
    const hlen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen))) as Record<string, { dtype: string; shape: number[] }>;
    expect(header['layers.2.weight']).toMatchObject({ dtype: 'F64', shape: [3, 12] });
  });
  test('truncated or mismatched files are ModelFormat errors', () => {
    const net = new MLP({ sizes: [2, 3, 1] });
    const bytes = net.toSafetensors();
    expectCode(() => MLP.fromSafetensors(bytes.subarray(0, bytes.length - 4)), 'ERR_ITOKIT_MODEL_FORMAT');
    expectCode(() => MLP.fromSafetensors(bytes, { sizes: [2, 4, 1] }), 'ERR_ITOKIT_MODEL_FORMAT');
  });
});

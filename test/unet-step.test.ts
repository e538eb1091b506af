// A whole sampler step as one call (UNetModel.epsModel; docs/design/unet.md §9 "CUDA graphs"): the
// flat form of a step's update that the TypeScript side hands the native step (lib/samplers/ops.ts
// flatStep) is checked here, on the host, against the samplers' own update (applyStep, one lincomb
// per combination): the same bits for one and two combinations, scalar and per-sample
// coefficients, clipping and noise. The device form runs the same terms (native/unet/unet_step.h
// step_terms) inside the CUDA graph and is compared with the unfused sampler in test/gpu/unet.test.ts.
// Also: epsModel as the discrete samplers' model on the CPU gives the bits of a hand-written
// predictSync closure, and bad options or malformed steps are coded errors.
import { diffusion, unet } from '../lib';
import { StepComb, applyStep } from '../lib/samplers/ops';
import { stepUpdate } from '../lib/testing/unet';
import { testingNative } from '../lib/testing/addon';
import { flatStep } from '../lib/samplers/ops';

jest.setTimeout(120_000);

const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 4 - 2);
}

describe('the fused step update (flat form) equals the samplers update', () => {
  const P = 5, D = 37;  // D not a multiple of 4: the last Philox group of a row is partial
  const x = values(P * D, 1), eps = values(P * D, 2);
  const noise = { key: [0x1234, 0x9876] as [number, number], stream: 3, step: 11, offset: 40 };
  const perSample = Float64Array.from({ length: P }, (_, p) => 0.5 + 0.1 * p);
  const cases: [string, StepComb[]][] = [
    ['DDIM, no clip, eta 0', [{ terms: [['x', 1.02], ['eps', -0.31]] }]],
    ['DDPM with noise', [{ terms: [['x', 1.001], ['eps', -0.02]], noise: [0.05, noise] }]],
    ['DDIM clip_sample, eta > 0, per-sample coefficients', [
      { terms: [['x', 1.7], ['eps', -1.2]], clip: 1 },
      { terms: [['tmp', perSample], ['eps', 0.4]], noise: [perSample, noise] },
    ]],
    ['noise only, clipped', [{ terms: [], noise: [2, noise], clip: 1.5 }]],
    ['tmp from eps alone, then both', [{ terms: [['eps', 3]], clip: 0.5 }, { terms: [['x', 0.2], ['tmp', perSample]] }]],
  ];
  test.each(cases)('%s', (_, combs) => {
    const want = x.slice();
    applyStep({ x: want, eps, tmp: new Float32Array(P * D) }, P, D, combs);
    const got = stepUpdate(x, eps, P, D, combs);
    expect(same(got, want)).toBe(true);
    // the test can fail: another step's noise or a swapped coefficient row changes the bits
    const other = stepUpdate(x, eps, P, D, combs.map((c) => ({ ...c, noise: c.noise && [c.noise[0], { ...c.noise[1], step: 12 }] })));
    if (combs.some((c) => c.noise)) expect(same(other, want)).toBe(false);
  });

  test('malformed steps are coded errors', () => {
    const flat = (combs: StepComb[]) => ({ x, eps, P, D, ...flatStep(combs, P) });
    const call = (a: ReturnType<typeof flat>) => () => testingNative().unetStepUpdate(a);
    // tmp read before any combination wrote it
    expect(call(flat([{ terms: [['tmp', 1]] }]))).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    // three combinations
    expect(call(flat([{ terms: [] }, { terms: [] }, { terms: [] }]))).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    // coefficients of another batch size
    expect(call({ ...flat([{ terms: [['x', 1]] }]), coef: new Float64Array(3) })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_SHAPE' }));
    // a negative clip, an input code out of range, a stream past 16 bits
    expect(call(flat([{ terms: [['x', 1]], clip: -1 }]))).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    expect(call({ ...flat([{ terms: [['x', 1]] }]), combTerms: Int32Array.from([1, 5, 0]) })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    expect(call({ ...flat([{ terms: [['x', 1]], noise: [1, { ...noise, stream: 70000 }] }]) })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    // two noisy combinations must share one noise
    expect(() => flatStep([{ terms: [], noise: [1, noise] }, { terms: [], noise: [1, { ...noise, step: 1 }] }], P)).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
  });
});

describe('UNetModel.epsModel as the discrete samplers model (CPU)', () => {
  const model = unet.loadSync(unet.builtinModelPath());
  const B = 3, dim = 256;
  const o = { batch: B, dim, seed: 7, steps: 4, clipSample: true, eta: 0.5 };
  const byHand = (x: Float32Array, t: Float64Array, out: Float32Array): void => out.set(model.predictSync({ data: x, shape: [B, 1, 16, 16] }, t, { device: 'cpu' }));

  test('ddimSync with epsModel({ sync: true }) and ddim with epsModel() give the bits of a predictSync closure', async () => {
    const want = diffusion.ddimSync({ ...o, epsModel: byHand }).x;
    expect(same(diffusion.ddimSync({ ...o, epsModel: model.epsModel({ device: 'cpu', sync: true }) }).x, want)).toBe(true);
    expect(same((await diffusion.ddim({ ...o, epsModel: model.epsModel({ device: 'cpu' }) })).x, want)).toBe(true);
    // DDPM, short schedule
    const ac = diffusion.schedules.linearBetas(20).alphasCumprod;
    const d = { batch: B, dim, seed: 2, alphasCumprod: ac };
    expect(same(diffusion.ddpmSync({ ...d, epsModel: model.epsModel({ device: 'cpu', sync: true }) }).x, diffusion.ddpmSync({ ...d, epsModel: byHand }).x)).toBe(true);
  });

  test('bad options and shapes are coded errors', () => {
    expect(() => model.epsModel({ imageSize: [15, 16] })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_SHAPE' }));
    expect(() => model.epsModel({ fpPrecision: 'fp8' as never })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    expect(() => model.epsModel({ mode: 'integer' })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));  // not quantized
    expect(() => model.epsModel({ steps: 3 } as never)).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_INVALID_ARG' }));
    // the sampler's dim must be C·H·W
    expect(() => diffusion.ddimSync({ batch: 2, dim: 255, seed: 1, steps: 2, epsModel: model.epsModel({ sync: true }) })).toThrow(expect.objectContaining({ code: 'ERR_ITOKIT_SHAPE' }));
  });
});

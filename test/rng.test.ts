import { rng, setThreads, getThreads } from '../lib';
import { blockRef, boxMullerRef, normalRef, philoxRef, stepNormalRef, u24Ref, u32Ref } from './reference/philox';
import { bitsOf, expectCode, expectRejectCode, meanVar } from './helpers';

const hex = (s: string): number[] => s.split(' ').map((w) => parseInt(w, 16));

// Random123 tests/kat_vectors, philox4x32_10 (docs/design/randomness.md §1).
const KAT: [string, string, string][] = [
  ['00000000 00000000 00000000 00000000', '00000000 00000000', '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
  ['ffffffff ffffffff ffffffff ffffffff', 'ffffffff ffffffff', '408f276d 41c83b0e a20bc7c6 6d5451fd'],
  ['243f6a88 85a308d3 13198a2e 03707344', 'a4093822 299f31d0', 'd16cfe09 94fdcceb 5001e420 24126ea1'],
];

describe('philox4x32', () => {
  test.each(KAT)('known answer %s / %s', (c, k, out) => {
    const got = rng.philox4x32(new Uint32Array(hex(c)), new Uint32Array(hex(k)));
    expect(Array.from(got)).toEqual(hex(out));
  });

  test('agrees with the TypeScript reference on random counters and round counts', () => {
    let s = 12345;
    const next = (): number => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 200; i++) {
      const c = [next(), next(), next(), next()];
      const k = [next(), next()];
      const rounds = i % 11;
      expect(Array.from(rng.philox4x32(new Uint32Array(c), new Uint32Array(k), rounds))).toEqual(philoxRef(c, k, rounds));
    }
  });

  test('rejects malformed counters and keys', () => {
    expectCode(() => rng.philox4x32(new Uint32Array(3), new Uint32Array(2)), 'ERR_ITOKIT_DTYPE');
    expectCode(() => rng.philox4x32(new Uint32Array(4), new Uint32Array([1, 2, 3])), 'ERR_ITOKIT_DTYPE');
    expectCode(() => rng.philox4x32(new Uint32Array(4), new Uint32Array(2), 17), 'ERR_ITOKIT_INVALID_ARG');
  });
});

describe('counter layout: words of the Philox block of (seed, stream, path, step)', () => {
  test('bits follow (seed, stream, path, step, block) exactly', () => {
    const seed = 0x1234_5678_9abc_def0n;
    const cases = [
      { stream: 0, path: 0, step: 0 },
      { stream: 3, path: 2 ** 40 + 17, step: 99 },
      { stream: 65535, path: 2 ** 48 - 1, step: 0xffffffff },
    ];
    for (const c of cases) {
      const got = rng.bits(10, { seed, ...c });
      const want = [...blockRef(seed, c.stream, c.path, c.step, 0), ...blockRef(seed, c.stream, c.path, c.step, 1), ...blockRef(seed, c.stream, c.path, c.step, 2)].slice(0, 10);
      expect(Array.from(got)).toEqual(want);
    }
  });

  test('per-step streams (randn, the SDE noise): draw j of step s is word s mod 4 of block (j, s >> 2), pairs are steps', () => {
    // docs/design/noise-layout.md: the independent model stepNormalRef, over steps 0..9 (whole and
    // cut groups), draws 0..5, paths across the 2^32 boundary and both word pairs.
    const seed = 0x0fed_cba9_8765_4321n;
    const dim = 6;
    for (const pathOffset of [0, 2 ** 32 - 2]) {
      for (let step = 0; step < 10; step++) {
        const z = rng.randn({ seed, paths: 3, dim, step, pathOffset });
        for (let p = 0; p < 3; p++)
          for (let j = 0; j < dim; j++) {
            const want = stepNormalRef(seed, 0, pathOffset + p, step, j);
            if (z[p * dim + j] !== want) throw new Error(`path ${pathOffset + p} step ${step} draw ${j}: ${z[p * dim + j]} != ${want}`);
          }
      }
    }
    // The words behind it: steps 8..11 of draw 3 are the Box–Muller pairs of block 3 at "step" 2.
    const w = blockRef(seed, 0, 7, 2, 3);
    const z = [8, 9, 10, 11].map((step) => rng.randn({ seed, paths: 1, dim: 4, step, pathOffset: 7 })[3]);
    expect(z).toEqual([...boxMullerRef(w[0], w[1]), ...boxMullerRef(w[2], w[3])]);
  });

  test('a number seed and the same bigint seed give the same draws; the high word matters', () => {
    const a = rng.bits(8, { seed: 2 ** 40 + 5 });
    const b = rng.bits(8, { seed: BigInt(2 ** 40 + 5) });
    const c = rng.bits(8, { seed: 5 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('uniforms', () => {
  test('float32 is U24 of the words, bit for bit, strictly inside (0,1)', () => {
    const n = 4099;
    const u = rng.uniform(n, { seed: 9, stream: 6 });
    const w = rng.bits(n, { seed: 9, stream: 6 });
    for (let i = 0; i < n; i++) expect(u[i]).toBe(u24Ref(w[i]));
    expect(Math.min(...u)).toBeGreaterThan(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  test('float64 is U32 of the words', () => {
    const u = rng.uniform(1001, { seed: 10n, dtype: 'float64' });
    expect(u).toBeInstanceOf(Float64Array);
    const w = rng.bits(1001, { seed: 10n });
    for (let i = 0; i < u.length; i++) expect(u[i]).toBe(u32Ref(w[i]));
  });
});

describe('normals', () => {
  test('first 4096 normals of seed 0 on every stream equal the float32 reference bit for bit', () => {
    for (let stream = 0; stream <= 6; stream++) {
      const z = rng.normal(4096, { seed: 0, stream });
      for (let j = 0; j < 4096; j++) {
        if (z[j] !== normalRef(0n, stream, 0, 0, j)) throw new Error(`stream ${stream} draw ${j}: ${z[j]} != ${normalRef(0n, stream, 0, 0, j)}`);
      }
    }
  });

  test('float64 normals are the float32 normals widened', () => {
    const a = rng.normal(1000, { seed: 3, dtype: 'float64' });
    const b = rng.normal(1000, { seed: 3 });
    expect(a).toBeInstanceOf(Float64Array);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  test('10^8 normals: mean and variance within 5 standard errors', () => {
    const n = 1e8;
    const chunk = 1e7;
    let sum = 0;
    let sum2 = 0;
    let sum4 = 0;
    for (let off = 0; off < n; off += chunk) {
      const z = rng.normal(chunk, { seed: 2024, offset: off });
      for (let i = 0; i < chunk; i++) {
        const v = z[i];
        const v2 = v * v;
        sum += v;
        sum2 += v2;
        sum4 += v2 * v2;
      }
    }
    const mean = sum / n;
    const variance = sum2 / n - mean * mean;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    // Var of the sample variance is (m4 - 1)/n for unit normals (m4 = 3).
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt((sum4 / n - 1) / n));
  });

  test('Kolmogorov–Smirnov against N(0,1): p > 1e-3 on 10^6 draws', () => {
    const n = 1e6;
    const z = Float64Array.from(rng.normal(n, { seed: 77 })).sort();
    let d = 0;
    for (let i = 0; i < n; i++) {
      const F = 0.5 * erfc(-z[i] / Math.SQRT2);
      d = Math.max(d, Math.abs(F - i / n), Math.abs((i + 1) / n - F));
    }
    expect(ksPValue(d * Math.sqrt(n))).toBeGreaterThan(1e-3);
  });

  test('the KS check can fail: uniforms are rejected', () => {
    const n = 1e5;
    const z = Float64Array.from(rng.uniform(n, { seed: 77 }), (u) => 2 * u - 1).sort();
    let d = 0;
    for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(0.5 * erfc(-z[i] / Math.SQRT2) - i / n));
    expect(ksPValue(d * Math.sqrt(n))).toBeLessThan(1e-6);
  });
});

describe('reproducibility', () => {
  const threadsBefore = getThreads();
  afterAll(() => setThreads(threadsBefore));

  test('identical bits with 1, 2 and 7 threads', () => {
    const runs = [1, 2, 7].map((t) => {
      setThreads(t);
      return bitsOf(rng.normal(200_003, { seed: 5, stream: 2 }));
    });
    expect(Buffer.compare(Buffer.from(runs[0].buffer), Buffer.from(runs[1].buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(runs[0].buffer), Buffer.from(runs[2].buffer))).toBe(0);
  });

  test('a request cut into pieces at unaligned offsets equals the whole', () => {
    const whole = rng.normal(10_000, { seed: 8 });
    const cuts = [0, 1, 6, 4097, 5000, 9999, 10_000];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const piece = rng.normal(cuts[i + 1] - cuts[i], { seed: 8, offset: cuts[i] });
      expect(Array.from(piece)).toEqual(Array.from(whole.subarray(cuts[i], cuts[i + 1])));
    }
  });

  test('randn: 1000 rows equal 333/333/334 rows with path offsets', () => {
    const whole = rng.randn({ seed: 1, paths: 1000, dim: 7, step: 3 });
    const parts = [
      rng.randn({ seed: 1, paths: 333, dim: 7, step: 3, pathOffset: 0 }),
      rng.randn({ seed: 1, paths: 333, dim: 7, step: 3, pathOffset: 333 }),
      rng.randn({ seed: 1, paths: 334, dim: 7, step: 3, pathOffset: 666 }),
    ];
    const joined = new Float32Array(7000);
    joined.set(parts[0], 0);
    joined.set(parts[1], 333 * 7);
    joined.set(parts[2], 666 * 7);
    expect(Array.from(joined)).toEqual(Array.from(whole));
    // Row p is path p's draws 0..dim-1 at the step, in the per-step layout (four steps per block).
    expect(whole[500 * 7 + 5]).toBe(stepNormalRef(1n, 0, 500, 3, 5));
    expect(whole[500 * 7 + 5]).not.toBe(normalRef(1n, 0, 500, 3, 5));
  });
});

describe('async', () => {
  test('normalAsync equals normal', async () => {
    const a = await rng.normalAsync(50_000, { seed: 4, dtype: 'float64' });
    expect(Array.from(a)).toEqual(Array.from(rng.normal(50_000, { seed: 4, dtype: 'float64' })));
  });

  test('an aborted signal rejects with AbortError carrying the reason', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expectRejectCode(rng.normalAsync(10, { seed: 1, signal: ac.signal }), 'ERR_ITOKIT_ABORTED');
    const big = new AbortController();
    const p = rng.uniformAsync(2 ** 28, { seed: 1, signal: big.signal });
    big.abort('late');
    let err: unknown;
    try {
      await p;
    } catch (e) {
      err = e;
    }
    // Either the abort landed before the work finished, or the work won the race.
    if (err) {
      expect((err as { code: string }).code).toBe('ERR_ITOKIT_ABORTED');
      expect((err as { name: string }).name).toBe('AbortError');
      expect((err as { cause: unknown }).cause).toBe('late');
    }
  });

  test('onProgress reports advancing counts', async () => {
    const seen: number[] = [];
    await rng.normalAsync(2 ** 26, { seed: 2, onProgress: (p) => seen.push(p.done / p.total), progressIntervalMs: 1 });
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
    for (const f of seen) expect(f).toBeLessThanOrEqual(1);
  });
});

describe('bad input', () => {
  test.each([
    ['negative n', () => rng.normal(-1, { seed: 1 }), 'ERR_ITOKIT_INVALID_ARG'],
    ['fractional n', () => rng.normal(2.5, { seed: 1 }), 'ERR_ITOKIT_INVALID_ARG'],
    ['NaN n', () => rng.uniform(NaN, { seed: 1 }), 'ERR_ITOKIT_INVALID_ARG'],
    ['NaN seed', () => rng.normal(4, { seed: NaN }), 'ERR_ITOKIT_INVALID_ARG'],
    ['negative seed', () => rng.normal(4, { seed: -1 }), 'ERR_ITOKIT_INVALID_ARG'],
    ['huge bigint seed', () => rng.normal(4, { seed: 1n << 64n }), 'ERR_ITOKIT_INVALID_ARG'],
    ['unknown dtype', () => rng.normal(4, { seed: 1, dtype: 'float16' as never }), 'ERR_ITOKIT_DTYPE'],
    ['stream too large', () => rng.normal(4, { seed: 1, stream: 65536 }), 'ERR_ITOKIT_INVALID_ARG'],
    ['unknown device', () => rng.normal(4, { seed: 1, device: 'tpu' as never }), 'ERR_ITOKIT_INVALID_ARG'],
    ['missing options', () => rng.normal(4, undefined as never), 'ERR_ITOKIT_INVALID_ARG'],
  ])('%s', (_name, fn, code) => expectCode(fn, code));

  test("device 'cuda' without a usable GPU throws DEVICE_UNAVAILABLE", () => {
    const { backends } = jest.requireActual('../lib') as typeof import('../lib');
    if (backends().cuda.available) return; // covered by test/gpu on GPU machines
    expectCode(() => rng.normal(4, { seed: 1, device: 'cuda' }), 'ERR_ITOKIT_DEVICE_UNAVAILABLE');
  });

  test('the native layer itself rejects out-of-range arguments without crashing', () => {
    const { native } = jest.requireActual('../lib/native') as typeof import('../lib/native');
    const { fromNative } = jest.requireActual('../lib/errors') as typeof import('../lib/errors');
    const call = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return fromNative(e);
      }
      return undefined;
    };
    const e1 = call(() => native().rngFill({ out: new Float64Array(4), kind: 2, keyLo: 0, keyHi: 0, stream: 0, path: 0, step: 0, first: 0, device: 0, control: null, async: false })) as { code: string };
    expect(e1.code).toBe('ERR_ITOKIT_DTYPE');
    const e2 = call(() => native().rngRandn({ out: new Float32Array(5), paths: 2, dim: 3, keyLo: 0, keyHi: 0, stream: 0, pathOffset: 0, step: 0, device: 0, control: null, async: false })) as { code: string };
    expect(e2.code).toBe('ERR_ITOKIT_SHAPE');
    const e3 = call(() => native().rngFill({ out: new Float32Array(4), kind: 0, keyLo: 0, keyHi: 0, stream: 0, path: 2 ** 49, step: 0, first: 0, device: 0, control: null, async: false })) as { code: string };
    expect(e3.code).toBe('ERR_ITOKIT_INVALID_ARG');
  });
});

/** Complementary error function (W. J. Cody's rational approximations via erfc = 1 - erf for small x). */
function erfc(x: number): number {
  // Numerical Recipes erfcc: fractional error < 1.2e-7, ample for a KS statistic at n = 1e6.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Asymptotic Kolmogorov distribution tail P(K > k). */
function ksPValue(k: number): number {
  let p = 0;
  for (let j = 1; j <= 100; j++) p += 2 * (-1) ** (j - 1) * Math.exp(-2 * j * j * k * k);
  return Math.min(1, Math.max(0, p));
}

void meanVar;

/**
 * The CPU MA-fBM sampler runs 16 paths per SIMD group (native/fbm/fbm_markov_lanes_simd.h, AVX-512
 * or AVX2 as the CPU has them). Its paths must equal, bit for bit, the per-path code that CUDA runs
 * (native/kernels/fbm_step.h fbm_markov_path; ITOKIT_FBM_KERNEL=path forces it on the CPU), for
 * every K form (compile-time K = 1..8 on dimension 0, run-time K and dimensions > 0), both
 * schemes, both types, both dtypes, partial lane groups and path offsets, any thread count and
 * every instruction set (ITOKIT_CPU=scalar|avx2 in a child process, since the choice is made once
 * per process).
 */
import { createHash } from 'crypto';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { fbm, getThreads, setThreads } from '../lib';
import { bitsOf, withNativeEnv } from './helpers';

const root = path.join(__dirname, '..');
const perPath = <T>(fn: () => T): T => withNativeEnv('ITOKIT_FBM_KERNEL', 'path', fn);

type Case = { K: number; type: 'I' | 'II'; scheme: 'exact' | 'euler'; dims: number; dtype: 'float32' | 'float64' };
const cases: Case[] = [];
for (const K of [1, 5, 32]) {
  for (const type of ['I', 'II'] as const) {
    for (const scheme of ['exact', 'euler'] as const) {
      for (const dtype of ['float32', 'float64'] as const) cases.push({ K, type, scheme, dims: 1, dtype });
      cases.push({ K, type, scheme, dims: 3, dtype: 'float32' });
    }
  }
}
// 37 paths from path 5: two whole 16-path groups and a partial one; 47 steps: 11 four-step draws
// and 3 single steps, and a partial 32-step output tile.
const opts = (c: Case) => ({ hurst: 0.3, n: 47, paths: 37, pathOffset: 5, seed: 12, returnBrownian: true, device: 'cpu', ...c }) as const;
const digest = (r: { paths: Float32Array | Float64Array; brownian?: Float32Array | Float64Array }): string =>
  createHash('sha1').update(Buffer.from(bitsOf(r.paths).buffer)).update(Buffer.from(bitsOf(r.brownian!).buffer)).digest('hex');

describe('fBM Markov lanes = per-path code, bit for bit', () => {
  for (const c of cases) {
    test(`K = ${c.K}, type ${c.type}, ${c.scheme}, dims = ${c.dims}, ${c.dtype}`, () => {
      const lanes = fbm.sampleSync(opts(c));
      const ref = perPath(() => fbm.sampleSync(opts(c)));
      expect(bitsOf(lanes.paths)).toEqual(bitsOf(ref.paths));
      expect(bitsOf(lanes.brownian!)).toEqual(bitsOf(ref.brownian!));
      // A single path at an offset inside a group equals that row of the batch.
      const row = (c.dims * 48);
      const one = fbm.sampleSync({ ...opts(c), paths: 1, pathOffset: 5 + 21 });
      expect(bitsOf(one.paths)).toEqual(bitsOf(ref.paths.subarray(21 * row, 22 * row)));
    });
  }

  test('the per-path switch is live: a different seed changes the bits (the comparison can fail)', () => {
    const c = cases[0];
    const a = fbm.sampleSync(opts(c));
    const b = perPath(() => fbm.sampleSync({ ...opts(c), seed: 13 }));
    expect(bitsOf(a.paths)).not.toEqual(bitsOf(b.paths));
  });

  test('1 and 2 threads give the same bits (many chunks)', () => {
    const before = getThreads();
    const o = { hurst: 0.3, n: 200, paths: 3001, K: 5, seed: 3, returnBrownian: true, device: 'cpu' } as const;
    try {
      setThreads(1);
      const one = fbm.sampleSync(o);
      setThreads(2);
      const two = fbm.sampleSync(o);
      expect(digest(two)).toBe(digest(one)); // toEqual on 600k elements would take seconds
    } finally {
      setThreads(before);
    }
  });

  test('ITOKIT_CPU=scalar and =avx2 (child processes) give the default build bits', () => {
    const pick = [cases[2], cases[4], cases[12], cases[cases.length - 1]];
    const want = pick.map((c) => digest(fbm.sampleSync(opts(c))));
    const script = `
      const { createHash } = require('crypto');
      const { fbm } = require('./');
      const bits = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      const out = ${JSON.stringify(pick.map(opts))}.map((o) => {
        const r = fbm.sampleSync(o);
        return createHash('sha1').update(bits(r.paths)).update(bits(r.brownian)).digest('hex');
      });
      console.log(JSON.stringify(out));`;
    for (const cpu of ['scalar', 'avx2']) {
      const got = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, ITOKIT_CPU: cpu } });
      expect({ cpu, digests: JSON.parse(got.trim()) }).toEqual({ cpu, digests: want });
    }
  });
});

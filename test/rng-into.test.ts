// rng.normalInto / uniformInto fill the caller's array with the draws rng.normal / uniform return
// (same seed, offset and dtype), checked against those calls and the independent TS Box–Muller model.
import { MessageChannel } from 'worker_threads';
import { rng } from '../lib';
import { normalRef } from './reference/philox';
import { expectCode } from './helpers';

describe('rng.normalInto and rng.uniformInto', () => {
  test('the bits of rng.normal / rng.uniform for both dtypes, at an offset, and the array is returned', () => {
    for (const n of [1, 7, 1000, 4099]) {
      const o = { seed: 123456789n, stream: 3, path: 5, step: 2, offset: 17 };
      const a = new Float32Array(n);
      expect(rng.normalInto(a, o)).toBe(a);
      expect(Array.from(a)).toEqual(Array.from(rng.normal(n, o)));
      const b = new Float64Array(n);
      rng.normalInto(b, o);
      expect(Array.from(b)).toEqual(Array.from(rng.normal(n, { ...o, dtype: 'float64' })));
      const u = new Float64Array(n);
      expect(rng.uniformInto(u, o)).toBe(u);
      expect(Array.from(u)).toEqual(Array.from(rng.uniform(n, { ...o, dtype: 'float64' })));
    }
  });

  test('draws follow the counter layout (independent Box–Muller model) and a reused array is overwritten', () => {
    const z = new Float32Array(64).fill(NaN);
    rng.normalInto(z, { seed: 42, offset: 8 });
    for (let j = 0; j < z.length; j++) expect(z[j]).toBe(normalRef(42n, 0, 0, 0, 8 + j));
    rng.normalInto(z, { seed: 43, offset: 8 });
    expect(Array.from(z)).toEqual(Array.from(rng.normal(64, { seed: 43, offset: 8 })));
  });

  test('a subarray view is filled in place and nothing around it changes', () => {
    const whole = new Float32Array(20).fill(-1);
    rng.normalInto(whole.subarray(5, 15), { seed: 9 });
    expect(Array.from(whole.subarray(0, 5))).toEqual([-1, -1, -1, -1, -1]);
    expect(Array.from(whole.subarray(15))).toEqual([-1, -1, -1, -1, -1]);
    expect(Array.from(whole.subarray(5, 15))).toEqual(Array.from(rng.normal(10, { seed: 9 })));
  });

  test('bad arrays and options get coded errors', () => {
    expectCode(() => rng.normalInto(new Int32Array(4) as unknown as Float32Array, { seed: 1 }), 'ERR_ITOKIT_DTYPE');
    expectCode(() => rng.normalInto([0, 0] as unknown as Float32Array, { seed: 1 }), 'ERR_ITOKIT_DTYPE');
    expectCode(() => rng.uniformInto(new Float32Array(new SharedArrayBuffer(16)), { seed: 1 }), 'ERR_ITOKIT_DTYPE');
    const moved = new Float32Array(8);
    const { port1 } = new MessageChannel();
    port1.postMessage(null, [moved.buffer]);
    port1.close();
    expectCode(() => rng.normalInto(moved, { seed: 1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => rng.normalInto(new Float32Array(4), { seed: 1, dtype: 'float64' } as never), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => rng.normalInto(new Float32Array(4), { seed: 1, output: 'device' } as never), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => rng.normalInto(new Float32Array(4), { seed: -1 }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => rng.normalInto(new Float32Array(8), { seed: 1, offset: 2 ** 34 - 4 }), 'ERR_ITOKIT_INVALID_ARG');
  });
});

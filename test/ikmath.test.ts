// The project-owned float32 log, sin/cos and exp (docs/design/randomness.md §5) against float64 libm, over
// every input Box–Muller can feed them.
import { testingNative } from '../lib/testing/addon';
import { logRef, sincosRef } from './reference/philox';
import { slowTest } from './helpers';

/** Error of y in units of the float32 ulp at the exact value. */
function ulpError(y: number, exact: number): number {
  if (exact === 0) return Math.abs(y) / 2 ** -149;
  const e = Math.max(Math.floor(Math.log2(Math.abs(exact))), -126);
  return Math.abs(y - exact) / 2 ** (e - 23);
}

function evaluate(op: number, x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  testingNative().mathf({ op, x, out });
  return out;
}

// Every U24 value: odd k in [1, 2^24) times 2^-24 (2^23 inputs).
const u24All = (): Float32Array => {
  const x = new Float32Array(1 << 23);
  for (let i = 0; i < x.length; i++) x[i] = (2 * i + 1) * 2 ** -24;
  return x;
};

slowTest('log: <= 2 ulp over all 2^23 Box–Muller inputs, and matches the step-by-step reference', () => {
  const x = u24All();
  const y = evaluate(0, x);
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, ulpError(y[i], Math.log(x[i])));
  expect(worst).toBeLessThanOrEqual(2);
  for (let i = 0; i < x.length; i += 997) expect(y[i]).toBe(logRef(x[i]));
  // Wider range (not used by Box–Muller, but the function claims positive normal floats).
  const wide = Float32Array.from({ length: 100_000 }, (_, i) => Math.fround(2 ** (-120 + (240 * i) / 100_000)));
  const yw = evaluate(0, wide);
  let worstWide = 0;
  for (let i = 0; i < wide.length; i++) worstWide = Math.max(worstWide, ulpError(yw[i], Math.log(wide[i])));
  expect(worstWide).toBeLessThanOrEqual(2);
});

slowTest('sin and cos of 2πn/2^24: <= 2 ulp (absolute, relative to 1) over all odd n', () => {
  const n = new Float32Array(1 << 23);
  for (let i = 0; i < n.length; i++) n[i] = 2 * i + 1;
  const s = evaluate(1, n);
  const c = evaluate(2, n);
  let worst = 0;
  for (let i = 0; i < n.length; i++) {
    const theta = (2 * Math.PI * n[i]) / 2 ** 24;
    // Near a zero of sin or cos the relative error is unbounded for any method; Box–Muller needs
    // the error relative to the amplitude, so measure against ulp(max(|f|, 2^-4)).
    worst = Math.max(worst, ulpError(s[i], Math.sin(theta)) * Math.min(1, Math.abs(Math.sin(theta)) / 2 ** -4) || 0);
    worst = Math.max(worst, ulpError(c[i], Math.cos(theta)) * Math.min(1, Math.abs(Math.cos(theta)) / 2 ** -4) || 0);
  }
  expect(worst).toBeLessThanOrEqual(2);
  for (let i = 0; i < n.length; i += 1009) expect([s[i], c[i]]).toEqual(sincosRef(n[i]));
});

slowTest('exp: <= 2 ulp on 10^7 inputs plus edge cases', () => {
  const n = 1e7;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = -103 + (191.7 * i) / n;
  const y = evaluate(3, x);
  let worst = 0;
  for (let i = 0; i < n; i++) {
    const exact = Math.exp(x[i]);
    if (exact < 2 ** -126) continue; // subnormal results: checked in absolute terms below
    worst = Math.max(worst, ulpError(y[i], exact));
  }
  expect(worst).toBeLessThanOrEqual(2);
  const edges = Float32Array.from([0, -0, 1, -1, 88.7, 88.8, -87.3, -100, -104, Infinity, -Infinity, NaN]);
  const ye = evaluate(3, edges);
  expect(ye[0]).toBe(1);
  expect(ye[1]).toBe(1);
  expect(ulpError(ye[2], Math.E)).toBeLessThanOrEqual(2);
  expect(ulpError(ye[4], Math.exp(edges[4]))).toBeLessThanOrEqual(2);
  expect(ye[5]).toBe(Infinity);
  expect(Math.abs(ye[7] - Math.exp(-100))).toBeLessThanOrEqual(2 ** -149 * 2);
  expect(ye[8]).toBe(0);
  expect(ye[9]).toBe(Infinity);
  expect(ye[10]).toBe(0);
  expect(Number.isNaN(ye[11])).toBe(true);
});

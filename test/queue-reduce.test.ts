// The native block reduction behind itokit/queue's reduce option (native/stats/block_reduce.cc)
// against an independent TypeScript model of the same definition (per block: two-pass mean and M2,
// payoff sums, each sum in eight interleaved lanes added pairwise; bin counts), bit for bit; and
// independent of the thread count. No Redis needed.
import { getThreads, setThreads } from '../lib';
import { REDUCE_BLOCK, type Partial, type Reduce, blockPartials, reduceFinal } from '../lib/queue/reduce';

/** Σ f(i) over [r0, r1) in eight lanes (i − r0) mod 8, added ((0+1)+(2+3))+((4+5)+(6+7)). */
function laneSum(r0: number, r1: number, f: (i: number) => number): number {
  const acc = new Array<number>(8).fill(0);
  for (let i = r0; i < r1; i++) acc[(i - r0) % 8] += f(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

function modelPartials(x: Float32Array | Float64Array, rows: number, d: number, r: Reduce): Partial[] {
  const out: Partial[] = [];
  for (let r0 = 0; r0 < rows; r0 += REDUCE_BLOCK) {
    const r1 = Math.min(rows, r0 + REDUCE_BLOCK);
    const n = r1 - r0;
    if (r.kind === 'moments') {
      const mean = new Array<number>(d).fill(0);
      const m2 = new Array<number>(d).fill(0);
      for (let j = 0; j < d; j++) {
        mean[j] = laneSum(r0, r1, (i) => x[i * d + j]) / n;
        m2[j] = laneSum(r0, r1, (i) => (x[i * d + j] - mean[j]) ** 2);
      }
      out.push({ n, mean, m2 });
    } else if (r.kind === 'payoff') {
      const c = r.coord ?? 0;
      const sign = r.type === 'call' ? 1 : -1;
      const p = (i: number): number => Math.max(sign * (x[i * d + c] - r.strike), 0);
      const sum = laneSum(r0, r1, p);
      const sumSq = laneSum(r0, r1, (i) => p(i) * p(i));
      out.push({ n, sum, sumSq });
    } else {
      const c = r.coord ?? 0;
      const counts = new Array<number>(r.bins).fill(0);
      let below = 0;
      let above = 0;
      const scale = r.bins / (r.max - r.min);
      for (let i = r0; i < r1; i++) {
        const v = x[i * d + c];
        if (!(v >= r.min)) below++;
        else if (!(v < r.max)) above++;
        else counts[Math.min(r.bins - 1, Math.floor((v - r.min) * scale))]++;
      }
      out.push({ n, counts, below, above });
    }
  }
  return out;
}

function data(rows: number, d: number, f32: boolean): Float32Array | Float64Array {
  const x = f32 ? new Float32Array(rows * d) : new Float64Array(rows * d);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = 100 * Math.exp((s / 2 ** 32 - 0.5) * 0.8);
  }
  x[7 * d] = NaN;
  x[9 * d] = -Infinity;
  x[11 * d] = 1e30;
  return x;
}

const REDUCES: Reduce[] = [
  { kind: 'moments' },
  { kind: 'payoff', type: 'call', strike: 100, discount: 0.95 },
  { kind: 'payoff', type: 'put', strike: 95, coord: 1 },
  { kind: 'histogram', min: 50, max: 200, bins: 37, coord: 2, quantiles: [0.01, 0.5, 0.99] },
];

describe('queue block reductions (native)', () => {
  const rows = 2 * REDUCE_BLOCK + 4321; // two whole blocks and a short one
  const d = 3;
  for (const f32 of [true, false]) {
    for (const r of REDUCES) {
      test(`${r.kind}${'type' in r ? ' ' + r.type : ''}, ${f32 ? 'float32' : 'float64'}: equals the model bit for bit`, () => {
        const x = data(rows, d, f32);
        expect(blockPartials(x, rows, d, r)).toEqual(modelPartials(x, rows, d, r));
      });
    }
  }

  test('the partials do not depend on the thread count', () => {
    const x = data(rows, d, true);
    const before = getThreads();
    try {
      setThreads(1);
      const one = REDUCES.map((r) => reduceFinal(x, d, r));
      setThreads(2);
      expect(REDUCES.map((r) => reduceFinal(x, d, r))).toEqual(one);
    } finally {
      setThreads(before);
    }
  });

  test('a model that is wrong is caught (the test can fail)', () => {
    const x = data(rows, d, false);
    const r: Reduce = { kind: 'payoff', type: 'call', strike: 100 };
    const wrong = modelPartials(x, rows, d, { ...r, strike: 100 + 1e-9 });
    expect(blockPartials(x, rows, d, r)).not.toEqual(wrong);
  });
});

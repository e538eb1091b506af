// The CPU FP32 convolution (native/unet/unet_ops.cc conv_fp, micro-kernels of native/unet/fgemm.h)
// against a naive reference written here: every output is fma-accumulated over
// k = (ci·KH + ky)·KW + kx ascending from +0, then + bias, then + add, so each micro-kernel path
// (scalar, AVX2+FMA, AVX-512) must equal it bit for bit, in both the direct (shared-pad input read
// in place) and the im2col mode, with K blocks, channel tails, stride 2 and diffusers' (0,1,0,1) pad.
import * as unetTesting from '../lib/testing/unet';

/**
 * fma(a, b, c) of float32 values, rounded once to float32: a·b is exact in a double; s = a·b + c
 * with its TwoSum error e is the exact sum s + e. Rounding s to float32 differs from rounding
 * s + e only when s is exactly halfway between two floats; then e's sign decides.
 */
function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const e = (p - (s - bb)) + (c - bb);
  const f1 = Math.fround(s);
  if (f1 === s || e === 0) return f1;
  const f2 = 2 * s - f1;
  if (Math.fround(f2) !== f2) return f1;  // s is not a midpoint
  return e > 0 ? Math.max(f1, f2) : Math.min(f1, f2);
}

interface Case { B: number; I: number; H: number; W: number; O: number; k: number; stride: number; pad: number; padBr: boolean; add: boolean }

function reference(c: Case, x: Float32Array, w: Float32Array, bias: Float32Array, add: Float32Array | null): Float32Array {
  const pb = c.pad + (c.padBr ? 1 : 0);
  const Ho = Math.floor((c.H + c.pad + pb - c.k) / c.stride) + 1, Wo = Math.floor((c.W + c.pad + pb - c.k) / c.stride) + 1;
  const K = c.I * c.k * c.k;
  const y = new Float32Array(c.B * c.O * Ho * Wo);
  for (let b = 0; b < c.B; b++)
    for (let o = 0; o < c.O; o++)
      for (let oy = 0; oy < Ho; oy++)
        for (let ox = 0; ox < Wo; ox++) {
          let acc = 0;
          for (let ci = 0; ci < c.I; ci++)
            for (let ky = 0; ky < c.k; ky++)
              for (let kx = 0; kx < c.k; kx++) {
                const iy = oy * c.stride - c.pad + ky, ix = ox * c.stride - c.pad + kx;
                const v = iy >= 0 && iy < c.H && ix >= 0 && ix < c.W ? x[((b * c.I + ci) * c.H + iy) * c.W + ix] : 0;
                acc = fmaf(w[o * K + (ci * c.k + ky) * c.k + kx], v, acc);
              }
          let v = Math.fround(acc + bias[o]);
          if (add) v = Math.fround(v + add[b * c.O + o]);
          y[((b * c.O + o) * Ho + oy) * Wo + ox] = v;
        }
  return y;
}

const CASES: [string, Case][] = [
  ['3x3 direct, partial tiles, + add', { B: 2, I: 3, H: 9, W: 7, O: 70, k: 3, stride: 1, pad: 1, padBr: false, add: true }],
  ['3x3 direct, one output channel (the one-row tile), K = 288', { B: 2, I: 32, H: 16, W: 16, O: 1, k: 3, stride: 1, pad: 1, padBr: false, add: true }],
  ['3x3 direct, K = 360 (three K blocks)', { B: 2, I: 40, H: 10, W: 10, O: 9, k: 3, stride: 1, pad: 1, padBr: false, add: false }],
  ['3x3 direct (4x4 map, 16 of 25 shared-pad columns kept), channel blocks split', { B: 3, I: 16, H: 4, W: 4, O: 100, k: 3, stride: 1, pad: 1, padBr: false, add: true }],
  ['3x3 im2col (2x2 map), channel blocks split', { B: 1, I: 16, H: 2, W: 2, O: 100, k: 3, stride: 1, pad: 1, padBr: false, add: true }],
  ['3x3 im2col, K = 360', { B: 2, I: 40, H: 3, W: 2, O: 19, k: 3, stride: 1, pad: 1, padBr: false, add: false }],
  ['stride 2, diffusers pad (0,1,0,1)', { B: 1, I: 20, H: 8, W: 8, O: 16, k: 3, stride: 2, pad: 0, padBr: true, add: false }],
  ['stride 2, symmetric pad', { B: 3, I: 17, H: 6, W: 6, O: 5, k: 3, stride: 2, pad: 1, padBr: false, add: false }],
  ['linear (1x1 on [B, C, 1, 1])', { B: 5, I: 40, H: 1, W: 1, O: 33, k: 1, stride: 1, pad: 0, padBr: false, add: true }],
  ['1x1 shortcut', { B: 2, I: 8, H: 5, W: 5, O: 130, k: 1, stride: 1, pad: 0, padBr: false, add: false }],
  ['1x1 read in place (48 pixels of one image per tile), K = 136', { B: 3, I: 136, H: 8, W: 8, O: 20, k: 1, stride: 1, pad: 0, padBr: false, add: true }],
];

describe('FP32 conv: every micro-kernel path equals the naive fma reference bit for bit', () => {
  let s = 7;
  const u = (): number => Math.fround(((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  test('the fma emulation rounds once (ties at 1 + 2^-24)', () => {
    // (1 + 2^-23)·(1 − 2^-24) = 1 + 2^-24 − 2^-47: two roundings (product, then sum with 0) give 1;
    // one rounding of the exact value gives 1 too; with c = 2^-47 the exact sum is the tie 1 + 2^-24,
    // which rounds to even (1); with c slightly larger it rounds up.
    const a = 1 + 2 ** -23, b = 1 - 2 ** -24;
    expect(fmaf(a, b, 0)).toBe(Math.fround(a * b));
    expect(fmaf(a, b, 2 ** -47)).toBe(1);
    expect(fmaf(a, b, 2 ** -47 + 2 ** -60)).toBe(1 + 2 ** -23);
    expect(fmaf(3, 5, 7)).toBe(22);
  });
  test.each(CASES)('%s', (_name, c) => {
    const x = Float32Array.from({ length: c.B * c.I * c.H * c.W }, u);
    const w = Float32Array.from({ length: c.O * c.I * c.k * c.k }, u);
    const bias = Float32Array.from({ length: c.O }, u);
    const add = c.add ? Float32Array.from({ length: c.B * c.O }, u) : null;
    const ref = reference(c, x, w, bias, add);
    let ran = 0;
    for (const path of ['scalar', 'avx2', 'avx512'] as const) {
      const y = unetTesting.convFpTest(path, x, [c.B, c.I, c.H, c.W], w, bias, add, c);
      if (!y) continue;
      ran++;
      let bad = 0;
      for (let i = 0; i < ref.length; i++) if (!Object.is(y[i], ref[i])) bad++;
      expect([path, y.length, bad]).toEqual([path, ref.length, 0]);
    }
    expect(ran).toBeGreaterThan(0);
  });
});

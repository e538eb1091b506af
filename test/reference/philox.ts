/**
 * An independent TypeScript implementation of docs/design/randomness.md §1–5 (Philox4x32-10, the counter layout,
 * U24/U32 and Box–Muller with the project's log and sin/cos). Every float32 operation is emulated
 * with Math.fround on the float64 result, which is exactly the IEEE single rounding for + − × ÷
 * and sqrt (float64 carries more than 2·24+2 bits), so this reference predicts the native bits.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

function mulhilo(a: number, b: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
}

/** Philox4x32 with the given number of rounds. */
export function philoxRef(counter: ArrayLike<number>, key: ArrayLike<number>, rounds = 10): number[] {
  let c = [counter[0] >>> 0, counter[1] >>> 0, counter[2] >>> 0, counter[3] >>> 0];
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const [hi0, lo0] = mulhilo(M0, c[0]);
    const [hi1, lo1] = mulhilo(M1, c[2]);
    c = [(hi1 ^ c[1] ^ k0) >>> 0, lo1, (hi0 ^ c[3] ^ k1) >>> 0, lo0];
  }
  return c;
}

/** The words of block `block` for (seed, stream, path, step). */
export function blockRef(seed: bigint, stream: number, path: number, step: number, block: number): number[] {
  const key = [Number(seed & 0xffffffffn), Number((seed >> 32n) & 0xffffffffn)];
  const p = BigInt(path);
  const counter = [block, step, Number(p & 0xffffffffn), Number((p >> 32n) & 0xffffn) | (stream << 16)];
  return philoxRef(counter, key);
}

const f = Math.fround;

export function u24Ref(x: number): number {
  return f(((x >>> 8) | 1) * 2 ** -24);
}

export function u32Ref(x: number): number {
  return ((x >>> 0) + 0.5) * 2 ** -32;
}

const LN2_HI = f(0.693145751953125);
const LN2_LO = f(1.4286068203094172e-6);
const HALF_PI = f(Math.PI / 2);

function bitsOf(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}
function fromBits(u: number): number {
  return new Float32Array(new Uint32Array([u >>> 0]).buffer)[0];
}

/** ln u per docs/design/randomness.md §5, float32 step by step. */
export function logRef(u: number): number {
  const bits = bitsOf(u);
  let e = ((bits >>> 23) & 0xff) - 127;
  let mb = (bits & 0x7fffff) | 0x3f800000;
  if (mb > 0x3fb504f3) {
    mb -= 0x00800000;
    e += 1;
  }
  const m = fromBits(mb);
  const s = f(f(m - 1) / f(m + 1));
  const w = f(s * s);
  let P = f(w / 9);
  P = f(f(1 / 7) + P);
  P = f(w * P);
  P = f(f(1 / 5) + P);
  P = f(w * P);
  P = f(f(1 / 3) + P);
  const p = f(w * P);
  const s2 = f(s + s);
  const lnm = f(s2 + f(s2 * p));
  return f(f(e * LN2_HI) + f(f(e * LN2_LO) + lnm));
}

/** e^x per native/kernels/ikmath.h ik_expf (Cody–Waite reduction, degree-7 Taylor polynomial in Horner form, exact 2^k scale in two factors), float32 step by step. */
export function expRef(x: number): number {
  x = f(x);
  if (Number.isNaN(x)) return x;
  if (x > 88.72283935546875) return Infinity;
  if (x < -103.97208404541016) return 0;
  const kf = f(x * f(1.44269502162933349609375));
  const k = Math.trunc(kf < 0 ? f(kf - 0.5) : f(kf + 0.5));
  const r = f(f(x - f(k * LN2_HI)) - f(k * LN2_LO));
  let p = f(r / 5040);
  const coef = [1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1, 1];
  coef.forEach((c, i) => {
    p = f(f(c) + p);
    if (i < coef.length - 1) p = f(r * p);
  });
  const k1 = Math.trunc(k / 2);
  return f(f(p * 2 ** k1) * 2 ** (k - k1));
}

/** (sin, cos) of 2π n / 2^24 per docs/design/randomness.md §5. */
export function sincosRef(n: number): [number, number] {
  const q = (n >>> 22) & 3;
  let r = n & 0x3fffff;
  let swap = false;
  if (r > 1 << 21) {
    r = (1 << 22) - r;
    swap = true;
  }
  const a = f(f(r * 2 ** -22) * HALF_PI);
  const w = f(a * a);
  let S = f(w / 362880);
  S = f(f(-1 / 5040) + S);
  S = f(w * S);
  S = f(f(1 / 120) + S);
  S = f(w * S);
  S = f(f(-1 / 6) + S);
  let C = f(w / 3628800);
  C = f(f(1 / 40320) - C);
  C = f(w * C);
  C = f(f(-1 / 720) + C);
  C = f(w * C);
  C = f(f(1 / 24) + C);
  C = f(w * C);
  C = f(-0.5 + C);
  let s = f(a + f(a * f(w * S)));
  let c = f(1 + f(w * C));
  if (swap) [s, c] = [c, s];
  switch (q) {
    case 0: return [s, c];
    case 1: return [c, -s];
    case 2: return [-s, -c];
    default: return [-c, s];
  }
}

/** Box–Muller on a word pair. */
export function boxMullerRef(a: number, b: number): [number, number] {
  const r = f(Math.sqrt(f(-2 * logRef(u24Ref(a)))));
  const [s, c] = sincosRef((b >>> 8) | 1);
  return [f(r * c), f(r * s)];
}

/** Normal draw j of (seed, stream, path, step). */
export function normalRef(seed: bigint, stream: number, path: number, step: number, j: number): number {
  const w = blockRef(seed, stream, path, step, Math.floor(j / 4));
  const [z0, z1] = boxMullerRef(w[0], w[1]);
  const [z2, z3] = boxMullerRef(w[2], w[3]);
  return [z0, z1, z2, z3][j & 3];
}

/**
 * Draw j of (seed, stream, path, step) for the streams read one step at a time (the SDE Brownian
 * stream, rng.randn, the fBM OU normals): docs/design/noise-layout.md, four steps per block. The
 * block's counter is (j, ⌊step/4⌋, path, stream), the step takes word step mod 4, and words (0,1),
 * (2,3) are Box–Muller pairs, i.e. steps (4g, 4g+1) and (4g+2, 4g+3) share one pair.
 */
export function stepNormalRef(seed: bigint, stream: number, path: number, step: number, j: number): number {
  const w = blockRef(seed, stream, path, Math.floor(step / 4), j);
  const [z0, z1] = boxMullerRef(w[0], w[1]);
  const [z2, z3] = boxMullerRef(w[2], w[3]);
  return [z0, z1, z2, z3][step % 4];
}

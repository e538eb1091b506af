/**
 * 2-D toy data sets for generative-model training (docs/design/trainers.md), drawn with the project's
 * counter-based RNG so the same seed gives the same points everywhere.
 * @packageDocumentation
 */
import { InvalidArgumentError } from '../errors';
import * as rng from '../rng';
import { Seed, checkInt, checkOneOf } from '../validate';

/** Names of the built-in toy sets. */
export type ToyName = 'gmm8' | 'moons' | 'checkerboard';

/**
 * n points [n, 2] (Float64Array, row-major):
 * - `gmm8`: 8 Gaussian modes on a circle of radius 4, std 0.5 (equal weights);
 * - `moons`: two interleaved half circles (radius 1) plus N(0, 0.1²) noise, scaled by 2;
 * - `checkerboard`: uniform on the 8 black squares of a 4×4 board on [−4, 4]².
 * `pathOffset` selects a disjoint stream of points (e.g. 1e9 for a held-out set).
 */
export function toy(name: ToyName, n: number, seed: Seed, pathOffset = 0): Float64Array {
  checkOneOf('name', name, ['gmm8', 'moons', 'checkerboard'] as const);
  const count = checkInt('n', n, 1, 1 << 24);
  const off = checkInt('pathOffset', pathOffset, 0, 2 ** 40);
  // Per point: 2 uniforms (choice, position) and 2 normals, from one (stream USER, path, step 0).
  const u = rng.uniform(2 * count, { seed, stream: rng.streams.USER, path: off, step: 1, dtype: 'float64' });
  const z = rng.normal(2 * count, { seed, stream: rng.streams.USER, path: off, step: 2, dtype: 'float64' });
  const out = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    const a = u[2 * i];
    const b = u[2 * i + 1];
    if (name === 'gmm8') {
      const k = Math.min(7, Math.floor(a * 8));
      const ang = (2 * Math.PI * k) / 8;
      out[2 * i] = 4 * Math.cos(ang) + 0.5 * z[2 * i];
      out[2 * i + 1] = 4 * Math.sin(ang) + 0.5 * z[2 * i + 1];
    } else if (name === 'moons') {
      const upper = a < 0.5;
      const ang = Math.PI * b;
      const x = upper ? Math.cos(ang) : 1 - Math.cos(ang);
      const y = upper ? Math.sin(ang) : 0.5 - Math.sin(ang);
      out[2 * i] = 2 * (x - 0.5 + 0.1 * z[2 * i]);
      out[2 * i + 1] = 2 * (y - 0.25 + 0.1 * z[2 * i + 1]);
    } else if (name === 'checkerboard') {
      // a picks one of the 8 black squares, b and a fresh fraction give the position inside it.
      const sq = Math.min(7, Math.floor(a * 8));
      const row = Math.floor(sq / 2);
      const col = 2 * (sq % 2) + (row % 2);
      const fx = b;
      const fy = (a * 8) % 1;
      out[2 * i] = -4 + 2 * (col + fx);
      out[2 * i + 1] = -4 + 2 * (row + fy);
    } else {
      throw new InvalidArgumentError(`unknown toy data set ${String(name)}`);
    }
  }
  return out;
}

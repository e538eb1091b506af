/**
 * `itokit demo` (what `npm start` runs): the installation summary and a short tour of what
 * exists, timed. Never needs a GPU.
 * @packageDocumentation
 */
import { getThreads, setThreads } from '../backends';
import * as rng from '../rng';
import { infoText } from './info';

/** Prints the summary and runs a few seconds of demonstrations. */
export async function demo(): Promise<void> {
  console.log(infoText());
  console.log('\nCounter-based normals (Philox4x32-10 + Box–Muller, same bits on any thread count or device):');
  const n = 1 << 24;
  const threads = getThreads();
  for (const t of [1, threads]) {
    setThreads(t);
    const s = process.hrtime.bigint();
    const z = await rng.normalAsync(n, { seed: 42 });
    const ms = Number(process.hrtime.bigint() - s) / 1e6;
    let m = 0;
    let v = 0;
    for (let i = 0; i < n; i++) {
      m += z[i];
      v += z[i] * z[i];
    }
    m /= n;
    console.log(`  ${t} thread(s): ${n.toLocaleString()} normals in ${ms.toFixed(1)} ms (${((n / ms) * 1e3 / 1e6).toFixed(0)} M/s); mean ${m.toFixed(5)}, var ${(v / n - m * m).toFixed(5)}`);
  }
  setThreads(threads);
  console.log('\nNext: `itokit bench` measures every area; the README shows the API.');
}

/**
 * The CPU pool's parallel regions (native/core/threadpool.cc, docs/design/runtime.md "Parallel
 * regions"): thousands of tiny regions from several callers at once keep every guarantee of
 * threadpool.h — each chunk runs exactly once, the first exception comes back after the started
 * chunks finish, nested regions run inline, budgets and resizes are safe — without a hang, and
 * an idle pool stops spinning.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { getThreads, setThreads } from '../lib';
import { testingNative } from '../lib/testing/addon';

const root = path.join(__dirname, '..');

describe('CPU pool parallel regions', () => {
  const threads0 = getThreads();
  afterAll(() => setThreads(threads0));

  const stress = (o: Partial<Parameters<ReturnType<typeof testingNative>['poolStress']>[0]>) =>
    Array.from(testingNative().poolStress({ regions: 2000, chunks: 4, threads: 0, throwEvery: 0, spinNs: 0, callers: 0, ...o }));

  for (const threads of [2, 3, 7]) {
    test(`${threads} threads: 2000 tiny regions, each chunk once, exceptions and nested regions`, () => {
      setThreads(threads);
      expect(stress({})).toEqual([expect.any(Number), 2000, 0, 0]);
      // every 5th region throws from one chunk; chunks busy-wait 2 µs so workers really join
      expect(stress({ throwEvery: 5, spinNs: 2000, chunks: 9 })).toEqual([expect.any(Number), 2000, 400, 0]);
      // budgets 1 and 2 with idle non-participants, and three blocking native callers besides this one
      expect(stress({ threads: 2, throwEvery: 3, chunks: 6 }).slice(1)).toEqual([2000, 666, 0]);
      expect(stress({ threads: 1, throwEvery: 3, callers: 3, chunks: 5, regions: 600 }).slice(1)).toEqual([2400, 4 * 200, 0]);
    });
  }

  for (const threads of [2, 3]) {
    test(`${threads} threads: the exception of a chunk is rethrown only after the chunks other threads started have finished`, () => {
      setThreads(threads);
      // chunks busy-wait 30 µs, so workers are mid-chunk when one chunk throws
      expect(stress({ regions: 300, chunks: 6, throwEvery: 1, spinNs: 30_000 }).slice(1)).toEqual([300, 300, 0]);
    });
  }

  test('two JS workers and blocking native callers at once, resizes between rounds; idle pool stops spinning', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'test/fixtures/runtime/pool-stress.js'), '24'], { encoding: 'utf8', timeout: 120_000 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-500) }).toEqual({ status: 0, signal: null, stderr: '' });
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.violations).toBe(0);
    expect(out.caught).toBe(out.expectedCaught);
    expect(out.regions).toBe(24 * 300 * 2 + [...Array(24).keys()].reduce((s, i) => s + 300 * (1 + (i % 3)), 0));
    // 400 ms of idle: a pool that kept spinning would use ~400 ms of CPU per worker
    expect(out.idle.cpuMs).toBeLessThan(60);
  }, 130_000);
});

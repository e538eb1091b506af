/**
 * One instruction-set choice for every kernel family (native/core/isa.h): the CPU's level capped
 * by ITOKIT_CPU, read once per process, so the variable is set in child processes here. Each
 * family (rng lanes, OT rows, UNet qdot and FP32 GEMM tiles) must take a table at or below the cap
 * and the best one the CPU has within it; the families' own suites check that every table gives
 * the same bits (kernel-shapes, sde-lanes, fbm-lanes, ot, unet-quant).
 */
import { execFileSync } from 'child_process';
import * as path from 'path';
import { backends } from '../lib/backends';

const root = path.join(__dirname, '..');
// x86-64 levels; on AArch64 the level is 'neon' (one above scalar), which this x86 test does not meet
const LEVEL = { scalar: 0, avx2: 1, avx512: 2, neon: 1 } as const;
type Level = keyof typeof LEVEL;
const levelOf = (table: string): number => (table.startsWith('avx512') ? 2 : table === 'avx2' ? 1 : 0);

function childCpu(cap: string | undefined): ReturnType<typeof backends>['cpu'] {
  const env = { ...process.env };
  delete env.ITOKIT_CPU;
  if (cap !== undefined) env.ITOKIT_CPU = cap;
  const script = "process.stdout.write(JSON.stringify(require('./dist/lib').backends().cpu))";
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env })) as ReturnType<typeof backends>['cpu'];
}

describe('ITOKIT_CPU caps every kernel family at one level', () => {
  const own = childCpu(undefined);
  const f = new Set(own.features);
  const cpuLevel: Level = f.has('avx512f') && f.has('avx512dq') && f.has('avx512bw') && f.has('avx512vl') ? 'avx512' : f.has('avx2') ? 'avx2' : 'scalar';

  test('unset: the CPU level, and every family at most there', () => {
    expect(own.isa).toBe(cpuLevel);
    for (const t of Object.values(own.kernels)) expect(levelOf(t)).toBeLessThanOrEqual(LEVEL[cpuLevel]);
    expect(own.kernels.rng).toBe(cpuLevel);
  });

  test.each(['scalar', 'avx2', 'avx512', 'avx512vnni', 'bogus'])('ITOKIT_CPU=%s', (cap) => {
    const c = childCpu(cap);
    const capLevel = cap in LEVEL ? LEVEL[cap as Level] : cap === 'avx512vnni' ? 2 : LEVEL[cpuLevel];
    const want = Math.min(capLevel, LEVEL[cpuLevel]);
    expect(LEVEL[c.isa]).toBe(want);
    for (const [family, t] of Object.entries(c.kernels)) expect([family, levelOf(t) <= want]).toEqual([family, true]);
    // the families without extra requirements reach the level itself
    expect(levelOf(c.kernels.rng)).toBe(want);
    expect(levelOf(c.kernels.ot)).toBe(want);
    expect(levelOf(c.kernels.unetElem)).toBe(want);
    if (want === 0) expect(c.kernels).toEqual({ rng: 'scalar', ot: 'scalar', qdot: 'scalar', fgemm: 'scalar', unetElem: 'scalar' });
  });
});

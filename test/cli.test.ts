// The `itokit` command line as a user runs it: `node dist/lib/cli/index.js ...` in a child process
// (run `npx tsc -p tsconfig.build.json` first). Fast cases only: help, info --json, one quick
// benchmark area without anchors into a temporary folder, and the checks that must fail before any
// work (unwritable output, unknown area, unavailable device, unknown output format).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BENCH_AREAS, defaultOutDir } from '../lib/cli/bench';
import { fp32Path, outputFormat } from '../lib/cli/sample';
import { pythonCandidates, runPython } from '../benchmarks/anchors/anchor';
import { backends } from '../lib';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'lib', 'cli', 'index.js');

function itokit(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: o.cwd ?? root, encoding: 'utf8', env: { ...process.env, ...o.env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

let tmp: string;
beforeAll(() => {
  expect(fs.existsSync(cli)).toBe(true);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('--help lists the commands; bench --help lists every benchmark area there is', () => {
  const top = itokit(['--help']);
  expect(top.status).toBe(0);
  for (const c of ['info', 'bench', 'sample', 'demo']) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  const files = fs.readdirSync(path.join(root, 'benchmarks')).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, '')).sort();
  expect(Object.keys(BENCH_AREAS).sort()).toEqual(files);
  const bench = itokit(['bench', '--help']);
  expect(bench.status).toBe(0);
  for (const a of files) expect(bench.stdout).toMatch(new RegExp(`^  ${a} +\\S`, 'm'));
  for (const flag of ['--json', '--out <dir>', '--quick', '--no-anchors']) expect(bench.stdout).toContain(flag);
});

test('info --json names the loaded binary, N-API versions, CPU features and CUDA devices', () => {
  const r = itokit(['info', '--json']);
  expect(r.status).toBe(0);
  const j = JSON.parse(r.stdout) as {
    binary: string; build: { builder: string }; napi: { runtime: number; binary: number }; cpu: { features: string[]; threads: number };
    cuda: { compiled: boolean; available: boolean; devices: unknown[] };
  };
  expect(fs.existsSync(j.binary)).toBe(true);
  expect(j.binary).toMatch(/\.node$/);
  expect(['node-gyp', 'cmake-js', 'prebuilt', 'override', 'unknown']).toContain(j.build.builder);
  expect(j.napi.runtime).toBe(Number(process.versions.napi));
  expect(j.napi.binary).toBeLessThanOrEqual(j.napi.runtime);
  expect(Array.isArray(j.cpu.features)).toBe(true);
  expect(j.cpu.threads).toBeGreaterThan(0);
  expect(Array.isArray(j.cuda.devices)).toBe(true);
  expect(j.cuda.available).toBe(j.cuda.devices.length > 0);
});

test('bench rng --quick --json --out DIR: JSON on stdout, tables and progress on stderr, files in DIR', () => {
  const out = path.join(tmp, 'bench', 'nested');
  const r = itokit(['bench', 'rng', '--quick', '--json', '--no-anchors', '--out', out]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout) as { outDir: string; cores: number; areas: { area: string; rows: { value: unknown }[]; load: { before: number[]; after: number[]; cores: number }; cpuMs: { user: number }; wallMs: number; python: string[] }[] };
  expect(doc.outDir).toBe(out);
  expect(doc.areas.map((a) => a.area)).toEqual(['rng']);
  const a = doc.areas[0];
  expect(a.rows.length).toBeGreaterThan(3);
  for (const row of a.rows) expect(typeof row.value).toBe('number');
  expect(a.load.before).toHaveLength(3);
  expect(a.load.cores).toBe(os.cpus().length);
  expect(a.cpuMs.user).toBeGreaterThan(0);
  expect(a.python).toEqual([]); // --no-anchors
  expect(JSON.parse(fs.readFileSync(path.join(out, 'rng.json'), 'utf8')).rows).toHaveLength(a.rows.length);
  expect(fs.readFileSync(path.join(out, 'rng.md'), 'utf8')).toMatch(/^### Normal variates/);
  // progress lines while it runs, and the table with plain cells (no quoted strings)
  expect(r.stderr).toMatch(/itokit bench: \[1\/1\] rng/);
  expect(r.stderr).toMatch(/rng: [\d.]+ s wall, [\d.]+ s CPU/);
  const table = r.stderr.split('\n').filter((l) => /normals\/s/.test(l));
  expect(table.length).toBeGreaterThan(0);
  for (const l of table) expect(l).not.toMatch(/'/);
  if (os.loadavg()[0] > os.cpus().length + 1) expect(r.stderr).toMatch(/warning: the 1-minute load average/);
}, 120_000);

test('bench fails at once, before any benchmark, on an unwritable --out or an unknown area', () => {
  const file = path.join(tmp, 'a-file');
  fs.writeFileSync(file, 'x');
  const bad = itokit(['bench', 'rng', '--out', path.join(file, 'sub')]);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/\[ERR_ITOKIT_INVALID_ARG\] --out .*a-file\/sub: cannot create the folder \((ENOTDIR|EEXIST)/);
  expect(bad.stderr).not.toMatch(/\[1\/1\]/);
  if (process.getuid?.() !== 0) {
    const ro = path.join(tmp, 'read-only');
    fs.mkdirSync(ro, { mode: 0o500 });
    const r = itokit(['bench', 'rng', '--out', ro]);
    expect(r.stderr).toMatch(/cannot write there \(EACCES/);
  }
  const unknown = itokit(['bench', 'nosuch']);
  expect(unknown.status).toBe(1);
  expect(unknown.stderr).toMatch(/unknown benchmark area 'nosuch'; available: rng, sde/);
});

test('the default bench folder is under the working directory, or os.tmpdir() inside the package', () => {
  const spy = jest.spyOn(process, 'cwd');
  try {
    spy.mockReturnValue(tmp);
    expect(defaultOutDir().dir).toBe(path.join(tmp, 'itokit-bench-results'));
    spy.mockReturnValue(root);
    expect(defaultOutDir().dir).toBe(path.join(os.tmpdir(), 'itokit-bench-results'));
  } finally {
    spy.mockRestore();
  }
});

test('anchors use ITOKIT_PYTHON when set, and say so when it is not executable', () => {
  const saved = process.env.ITOKIT_PYTHON;
  try {
    process.env.ITOKIT_PYTHON = process.execPath; // any executable file: the lookup takes it as is
    expect(pythonCandidates()).toEqual([process.execPath]);
    process.env.ITOKIT_PYTHON = path.join(tmp, 'no-such-python');
    expect(pythonCandidates()).toEqual([]);
    const r = runPython(['-c', 'print(1)']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/ITOKIT_PYTHON=.*no-such-python is not an executable file/);
  } finally {
    if (saved === undefined) delete process.env.ITOKIT_PYTHON;
    else process.env.ITOKIT_PYTHON = saved;
  }
});

test('sample checks device and output before any work', () => {
  if (!backends().cuda.available) {
    const r = itokit(['sample', '--device', 'cuda', '--out', path.join(tmp, 's.png')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[ERR_ITOKIT_DEVICE_UNAVAILABLE\]/);
    expect(r.stdout).toBe(''); // nothing loaded or quantized
  }
  const file = path.join(tmp, 'plain-file');
  fs.writeFileSync(file, 'x');
  const unwritable = itokit(['sample', '--device', 'cpu', '--out', path.join(file, 's.png')]);
  expect(unwritable.status).toBe(1);
  expect(unwritable.stderr).toMatch(/\[ERR_ITOKIT_INVALID_ARG\] --out .*plain-file\/s\.png: .*not a folder/);
  expect(unwritable.stdout).toBe('');
  const format = itokit(['sample', '--device', 'cpu', '--out', path.join(tmp, 's.gif')]);
  expect(format.status).toBe(1);
  expect(format.stderr).toMatch(/unsupported extension '\.gif'; use \.png, \.json, \.bin/);
  expect(outputFormat('a/b.PNG')).toBe('.png');
  expect(fp32Path('x/samples.json')).toBe('x/samples-fp32.json');
});

test('sample prints W4A8 and FP32 time per step, with the device, threads and CPU time', () => {
  const out = path.join(tmp, 'q.bin');
  const r = itokit(['sample', '--device', 'cpu', '--threads', '1', '--steps', '2', '--batch', '2', '--calib', '2', '--no-cache', '--out', out]);
  expect([r.status, r.stderr.includes('Error') ? r.stderr : '']).toEqual([0, '']);
  const line = (label: string): RegExp =>
    new RegExp(`^  ${label}: [0-9.]+ ms per step \\([0-9.]+ ms per image\\) on the CPU \\(1 thread\\); sampling [0-9.]+ s, CPU [0-9.]+ s -> `, 'm');
  expect(r.stdout).toMatch(line('W4A8'));
  expect(r.stdout).toMatch(line('FP32'));
  expect(r.stdout).toMatch(/^  speed: W4A8 is [0-9.]+x FP32 per step \(wall; CPU time [0-9.]+x\)/m);
}, 120_000);

test('sample writes the format its --out extension names (.json, .bin)', () => {
  const j = path.join(tmp, 'grid.json');
  const r = itokit(['sample', '--device', 'cpu', '--precision', 'fp32', '--steps', '2', '--batch', '2', '--no-compare', '--out', j]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(fs.readFileSync(j, 'utf8')) as { shape: number[]; data: number[] };
  expect(doc.shape).toEqual([2, 1, 16, 16]);
  expect(doc.data).toHaveLength(2 * 16 * 16);
  expect(doc.data.every(Number.isFinite)).toBe(true);
  const b = path.join(tmp, 'grid.bin');
  const rb = itokit(['sample', '--device', 'cpu', '--precision', 'fp32', '--steps', '2', '--batch', '2', '--no-compare', '--out', b]);
  expect(rb.status).toBe(0);
  const raw = fs.readFileSync(b);
  const f = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  // same seed, same model, same steps: the raw floats equal the JSON's numbers
  expect(Array.from(f)).toEqual(doc.data.map((v) => Math.fround(v)));
}, 120_000);

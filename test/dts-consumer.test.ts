// The published typings (dist/lib/index.d.ts) must serve a strict consumer that has neither
// @types/node nor the DOM library: `types: []`, `lib: ["ES2022"]`, no skipLibCheck. The consumer
// also pins the dtype-typed results (float64 in, Float64Array out) and the internal helpers that
// must stay out of the package root.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');
const dts = path.join(root, 'dist', 'lib', 'index.d.ts');

const CONSUMER = `
import * as itokit from 'itokit';
import { sde, rng, ot, ItokitError, AbortSignalLike, DeviceArray } from 'itokit';

export async function consumer(): Promise<void> {
  const gbm = sde.models.gbm({ mu: 0.05, sigma: 0.2 });
  const base = { paths: 4, x0: [1], t1: 1, steps: 4, method: 'euler', seed: 1 } as const;
  const r64 = await sde.simulate(gbm, { ...base, dtype: 'float64' });
  const d64: Float64Array = r64.data;
  const f64: Float64Array = r64.final;
  const r32 = sde.simulateSync(gbm, base);
  const d32: Float32Array = r32.data;
  const dev = await sde.simulate(gbm, { ...base, dtype: 'float64', output: 'device' });
  const onDevice: DeviceArray<'float64'> = dev.final;
  // @ts-expect-error float32 results are not Float64Array
  const wrong: Float64Array = r32.final;
  // a structural signal: no AbortController needed in the consumer's libraries
  const signal: AbortSignalLike = { aborted: false, addEventListener() {}, removeEventListener() {} };
  await sde.simulate(gbm, { ...base, signal });
  const z: Float64Array = rng.normal(4, { seed: 1, dtype: 'float64' });
  // the OT plan follows the dtype option, else the cost matrix
  const m = new Float64Array([0.5, 0.5]);
  const C = { data: new Float64Array([0, 1, 1, 0]), shape: [2, 2] as [number, number] };
  const p32: Float32Array | undefined = ot.sinkhornSync(m, m, C, { reg: 0.1, dtype: 'float32' }).plan;
  const p64: Float64Array | undefined = (await ot.sinkhorn(m, m, C, { reg: 0.1 })).plan;
  // @ts-expect-error a float32 plan is not Float64Array
  const bad: Float64Array | undefined = ot.sinkhornSync(m, m, C, { reg: 0.1, dtype: 'float32' }).plan;
  void p32; void p64; void bad;
  // @ts-expect-error fromNative is internal
  itokit.fromNative;
  const e: unknown = undefined;
  if (e instanceof ItokitError) console.log(e.code);
  void d64; void f64; void d32; void onDevice; void wrong; void z;
}
declare const console: { log(...a: unknown[]): void };
`;

test('dist/lib/index.d.ts compiles for a strict consumer without @types/node or DOM', () => {
  expect(fs.existsSync(dts)).toBe(true); // run `npx tsc -p tsconfig.build.json` first
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-dts-'));
  try {
    const file = path.join(dir, 'consumer.ts');
    fs.writeFileSync(file, CONSUMER);
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      lib: ['lib.es2022.d.ts'],
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      // 'itokit' resolves to the emitted declarations only (no lib/*.ts, no node_modules lookup)
      baseUrl: dir,
      paths: { itokit: [dts] },
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${path.relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
    // the program read our declarations, not sources, and no Node or DOM typings
    const files = program.getSourceFiles().map((s) => s.fileName);
    expect(files.some((f) => f.endsWith('dist/lib/sde/simulate.d.ts'))).toBe(true);
    expect(files.filter((f) => /@types[\\/]node|lib\.dom\./.test(f))).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test('the package root does not export internal helpers', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const api = require(path.join(root, 'dist', 'lib')) as Record<string, unknown>;
  expect(api.fromNative).toBeUndefined();
  expect(typeof api.ItokitError).toBe('function');
});

// Hostile model files never kill the process, never hang, never load into garbage. Every case of
// test/fixtures/fuzz-corpus/ (regress-*: one per class the tracker recorded, written by
// tools/fuzz/corpus.js; fuzz-*: failures the fuzzer saved) is loaded in a child process with a
// timeout and an address-space limit (tools/fuzz/runner.js), so a case that still crashes or hangs
// fails its test instead of taking Jest down. A case must end as a coded ItokitError (the code and
// message its case.json names) or load and give a finite tiny prediction.
// The children load lib/*.ts (transpiled on the fly); to see these tests fail on another build,
// point them at it: ITOKIT_HOSTILE_LIB=<dist/lib or lib dir> ITOKIT_HOSTILE_NATIVE=<itokit.node>.
import * as fs from 'fs';
import * as path from 'path';
import { unet } from '../lib';
import { expectCode } from './helpers';

interface Outcome {
  outcome: string;
  stage?: string;
  code?: string;
  message?: string;
  signal?: string;
}
interface CaseSpec {
  kind: string;
  expect?: { outcome: 'coded' | 'loaded'; code?: string; message?: string };
  tooLarge?: number;
  fuzz?: { replay?: string };
}

// tools/ is plain CommonJS (it also runs without ts-jest)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Runner, FAILURES } = require('../tools/fuzz/runner') as {
  Runner: new (o: object) => { run(dir: string): Promise<Outcome>; close(): void };
  FAILURES: Set<string>;
};

const CORPUS = path.join(__dirname, 'fixtures', 'fuzz-corpus');
const names = fs.readdirSync(CORPUS).filter((d) => fs.existsSync(path.join(CORPUS, d, 'case.json'))).sort();
const spec = (name: string): CaseSpec => JSON.parse(fs.readFileSync(path.join(CORPUS, name, 'case.json'), 'utf8')) as CaseSpec;

describe('hostile model files, each loaded in a child process', () => {
  let runner: InstanceType<typeof Runner>;
  beforeAll(() => {
    // 1.5 GiB of address space: enough for Node, the addon and any legitimate tiny case, far too
    // little for the default 1.1 GB model an empty config used to build before it was rejected
    runner = new Runner({ workers: 1, timeoutMs: 20_000, memMb: 1536, lib: process.env.ITOKIT_HOSTILE_LIB ?? 'src', native: process.env.ITOKIT_HOSTILE_NATIVE });
  });
  afterAll(() => runner.close());

  test('the corpus holds every recorded class', () => {
    const want = [
      'folder-huge-channels-1e9', 'folder-huge-channels-2p31', 'folder-huge-channels-1m', 'folder-huge-layers', 'folder-empty-config',
      'folder-null-config', 'folder-mid-scale-0', 'w4a8-act-scale-zero', 'w8a8-act-scale-nan', 'w8a8-act-scale-huge', 'w8a8-fp-tensor-nan',
      'w4a8-unet-config-huge-channels', 'w4a8-quant-null', 'w8a8-quant-layers-null', 'w8a8-quant-act-quantizers-numbers', 'native-create-huge-channels',
      'folder-control', 'w4a8-control', 'w8a8-control',
    ];
    expect(want.filter((w) => !names.includes(`regress-${w}`))).toEqual([]);
  });

  test.each(names)('%s', async (name) => {
    const s = spec(name);
    // the fuzzer keeps only the recipe of a case too large to commit: replay it with s.fuzz.replay
    if (s.tooLarge) return;
    const r = await runner.run(path.join(CORPUS, name));
    // no crash, hang, uncoded error, coded out-of-memory / internal error, or non-finite output
    expect({ name, failed: FAILURES.has(r.outcome), r }).toMatchObject({ failed: false });
    if (s.expect?.outcome === 'loaded') {
      expect(r.outcome).toBe('loaded');
    } else if (s.expect) {
      expect(r).toMatchObject({ outcome: 'coded', code: s.expect.code });
      expect(r.message).toMatch(new RegExp(s.expect.message ?? ''));
    } else {
      expect(['coded', 'loaded', 'predict-coded', 'predict-numerical']).toContain(r.outcome);
    }
  }, 60_000);
});

describe('unknown options are rejected, naming the option', () => {
  const tiny = path.join(CORPUS, 'regress-folder-control');
  const x = { data: new Float32Array(16), shape: [1, 1, 4, 4] };

  test('load, predict, predictSync, temporalFeatures, quantize', async () => {
    const bad = <T>(o: T): T => o;
    expect(() => unet.loadSync(tiny, bad({ strict: true, devcie: 'cpu' } as never))).toThrow(/unknown option 'devcie' of unet.load/);
    expectCode(() => unet.loadSync(tiny, { variant: 'fp32' as 'fp16' }), 'ERR_ITOKIT_INVALID_ARG');
    expectCode(() => unet.loadSync(tiny, { strict: 'yes' as unknown as boolean }), 'ERR_ITOKIT_INVALID_ARG');
    await expect(unet.load(tiny, null as never)).rejects.toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG' });
    const m = unet.loadSync(tiny);
    expect(m.predictSync(x, 3).every(Number.isFinite)).toBe(true);
    expect(() => m.predictSync(x, 3, bad({ mdoe: 'fp' } as never))).toThrow(/unknown option 'mdoe' of predictSync/);
    // RunOptions belong to the Promise form only
    expectCode(() => m.predictSync(x, 3, bad({ signal: new AbortController().signal } as never)), 'ERR_ITOKIT_INVALID_ARG');
    await expect(m.predict(x, 3, bad({ usecache: false } as never))).rejects.toThrow(/unknown option 'usecache' of predict/);
    await expect(m.predict(x, 3, { useCache: true, onProgress: () => {} })).resolves.toHaveLength(16);
    expect(() => m.temporalFeatures([1], bad({ cache: true } as never))).toThrow(/unknown option 'cache'/);
    await expect(unet.quantize(m, bad({ weightBits: 4, groupsize: 32 } as never))).rejects.toThrow(/unknown option 'groupsize' of unet.quantize/);
    await expect(unet.quantize(m, { weightBits: 4, calibration: bad({ step: 3 } as never) })).rejects.toThrow(/unknown option 'step' of unet.quantize calibration/);
  });

  test('configs that are not objects fail with a coded error in-process', () => {
    for (const c of [null, [], 'x', 3]) expectCode(() => unet.resolveConfig(c as never), 'ERR_ITOKIT_MODEL_FORMAT');
  });
});

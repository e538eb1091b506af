/**
 * The one calling convention of the bindings (docs/design/bindings.md): every native entry point
 * takes one options object whose keys C++ reads by name. The field names live twice — in the
 * TypeScript interface of the call's argument (lib/native.ts, lib/<area>/addon.ts) and in the
 * `in.<getter>("key")` reads of native/bindings/<area>.cc — and this test holds the two lists
 * equal: it fails when C++ reads a key the interface lacks, or the interface declares one that C++
 * never reads (a renamed or dropped input on one side only).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
/** Binding files under this convention: all of them. */
const CC = ['core', 'rng', 'device', 'sde', 'ot', 'fbm', 'nn', 'train', 'stats', 'sampler_device', 'testing', 'unet'].map((a) => `native/bindings/${a}.cc`);
const TS = ['lib/native.ts', 'lib/sde/addon.ts', 'lib/ot/addon.ts', 'lib/fbm/addon.ts', 'lib/nn/addon.ts', 'lib/trainers/addon.ts',
  'lib/queue/reduce.ts', 'lib/samplers/ops.ts', 'lib/testing/addon.ts', 'lib/unet/native-unet.ts'];

interface CcFunction {
  takesArgs: boolean;
  body: string;
}

/** Top-level function definitions of a binding file: name → parameter list and body (brace-matched). */
function ccFunctions(src: string): Map<string, CcFunction> {
  const fns = new Map<string, CcFunction>();
  const head = /^[A-Za-z][\w:<>,*& ]*?\b(\w+)\(([^()]*)\)\s*(?:const\s*)?\{/gm;
  for (let m = head.exec(src); m; m = head.exec(src)) {
    let depth = 0;
    let i = m.index + m[0].length - 1;
    const start = i;
    for (; i < src.length; i++) {
      if (src[i] === '{') depth++;
      else if (src[i] === '}' && --depth === 0) break;
    }
    fns.set(m[1], { takesArgs: /\bArgs\s*&/.test(m[2]), body: src.slice(start, i + 1) });
    head.lastIndex = i;
  }
  return fns;
}

/** Keys one function body reads itself: in.getter("key"), helper(in, "key", …) and local lambdas called with a key. */
function directKeys(body: string): Set<string> {
  const keys = new Set<string>();
  const add = (re: RegExp) => {
    for (const m of body.matchAll(re)) keys.add(m[1]);
  };
  add(/\bin\.\w+(?:<[^>]*>)?\(\s*"(\w+)"/g);
  add(/\b\w+\(\s*in\s*,\s*"(\w+)"/g);
  for (const lambda of body.matchAll(/\bauto (\w+) = \[/g)) add(new RegExp(`\\b${lambda[1]}\\(\\s*"(\\w+)"`, 'g'));
  return keys;
}

/** Entry point name → the keys its C++ reads (through the file's helpers that take the Args) and its registered key table. */
function cppKeys(): Map<string, { reads: Set<string>; table: string[] }> {
  const out = new Map<string, { reads: Set<string>; table: string[] }>();
  for (const file of CC) {
    const own = fs.readFileSync(path.join(ROOT, file), 'utf8');
    // argument readers shared by two binding files live in a header beside them (e.g. unet_step_arg.h): scanned with each includer
    const headers = [...own.matchAll(/^#include "(\w+\.h)"/gm)].map((m) => path.join(ROOT, 'native/bindings', m[1])).filter((h) => fs.existsSync(h));
    const src = [own, ...headers.map((h) => fs.readFileSync(h, 'utf8'))].join('\n');
    const fns = ccFunctions(src);
    const memo = new Map<string, Set<string>>();
    const keysOf = (name: string, seen: Set<string>): Set<string> => {
      const hit = memo.get(name);
      if (hit) return hit;
      const f = fns.get(name)!;
      const keys = directKeys(f.body);
      for (const [other, g] of fns) {
        if (other === name || !g.takesArgs || seen.has(other) || !new RegExp(`\\b${other}\\(`).test(f.body)) continue;
        for (const k of keysOf(other, new Set([...seen, other]))) keys.add(k);
      }
      memo.set(name, keys);
      return keys;
    };
    // entry points without inputs: exports.Set("name", Napi::Function::New(env, F))
    for (const m of src.matchAll(/exports\.Set\("(\w+)", Napi::Function::New\(env, (?:guarded<)?(\w+)>?\)\)/g)) {
      if (!fns.has(m[2])) throw new Error(`${file}: ${m[1]} is bound to ${m[2]}, which the scan did not find`);
      out.set(m[1], { reads: keysOf(m[2], new Set([m[2]])), table: [] });
    }
    // the convention's form: bind<F>(env, exports, "name", {"key", …})
    for (const m of src.matchAll(/\bbind<(\w+)>\(env, exports, "(\w+)",\s*\{([^}]*)\}\);/g)) {
      if (!fns.has(m[1])) throw new Error(`${file}: ${m[2]} is bound to ${m[1]}, which the scan did not find`);
      const table = [...m[3].matchAll(/"(\w+)"/g)].map((k) => k[1]);
      out.set(m[2], { reads: keysOf(m[1], new Set([m[1]])), table });
    }
  }
  return out;
}

/** Entry point name → the fields of its argument's TypeScript interface (methods of the *Addon interfaces). */
function tsKeys(): Map<string, Set<string>> {
  const program = ts.createProgram(TS.map((f) => path.join(ROOT, f)), { strict: true, noEmit: true, target: ts.ScriptTarget.ES2020 });
  const checker = program.getTypeChecker();
  const out = new Map<string, Set<string>>();
  for (const f of TS) {
    const sf = program.getSourceFile(path.join(ROOT, f))!;
    sf.forEachChild((node) => {
      if (!ts.isInterfaceDeclaration(node) || !/Addon$/.test(node.name.text)) return;
      for (const member of node.members) {
        if (!ts.isMethodSignature(member) || !member.name || !ts.isIdentifier(member.name)) continue;
        const param = member.parameters[0];
        if (member.parameters.length > 1) throw new Error(`${f}: ${member.name.text} takes more than one argument`);
        const keys = new Set<string>();
        if (param?.type) for (const p of checker.getPropertiesOfType(checker.getTypeFromTypeNode(param.type))) keys.add(p.name);
        out.set(member.name.text, keys);
      }
    });
  }
  return out;
}

const sorted = (s: Set<string> | undefined) => [...(s ?? [])].sort();

describe('one options object per native call, the same keys on both sides', () => {
  const cpp = cppKeys();
  const tsk = tsKeys();

  test('the scans find every entry point (not vacuous)', () => {
    expect(cpp.size).toBeGreaterThan(45);
    expect(sorted(cpp.get('rngFill')?.reads)).toEqual(['async', 'control', 'device', 'first', 'keyHi', 'keyLo', 'kind', 'out', 'path', 'step', 'stream']);
    // through helpers: options_arg and solve_tail read most of otSolve's keys
    expect(cpp.get('otSolve')?.reads).toContain('cgRtol');
    expect(cpp.get('otSolve')?.reads).toContain('initF');
    expect(tsk.get('otSolve')).toContain('relax');
  });

  test.each([...cpp.keys()])('%s: C++ reads exactly the keys its TypeScript interface declares', (name) => {
    expect(tsk.has(name)).toBe(true);
    expect(sorted(cpp.get(name)?.reads)).toEqual(sorted(tsk.get(name)));
  });

  test.each([...cpp.keys()])('%s: its key table (the wire order) lists each key it reads once', (name) => {
    const { reads, table } = cpp.get(name)!;
    expect(new Set(table).size).toBe(table.length);
    expect([...table].sort()).toEqual(sorted(reads));
  });

  test('the loaded addon carries the same key tables', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { nativeBinaryPath, native } = require('../lib/native') as typeof import('../lib/native');
    native();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = require(nativeBinaryPath()!) as Record<string, { keys?: string[] }> & { testing: Record<string, { keys?: string[] }> };
    for (const [name, { table }] of cpp) if (table.length) expect([name, (raw[name] ?? raw.testing[name])?.keys]).toEqual([name, table]);
  });

  test('test-only entry points live on addon.testing only, and the public API does not export them', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { native } = require('../lib/native') as typeof import('../lib/native');
    const addon = native() as unknown as Record<string, unknown> & { testing: Record<string, unknown> };
    for (const name of ['unetQdot', 'unetConvFp', 'unetLayerCheck', 'unetQuantTest', 'unetGraph', 'poolStress', 'mathf', 'testingSetEnv', 'otKernelPaths', 'otSetKernelPath', 'otExpCheck', 'otKthLargest']) {
      expect([name, typeof addon.testing[name]]).toEqual([name, 'function']);
      expect([name, name in addon]).toEqual([name, false]);
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(Object.keys(require('../lib') as object)).not.toContain('testing');
  });

  test('every declared native function is bound in C++', () => {
    const missing = [...tsk.keys()].filter((n) => !cpp.has(n));
    expect(missing).toEqual([]);
  });
});

describe('the Args reader', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { native } = require('../lib/native') as typeof import('../lib/native');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { fromNative } = require('../lib/errors') as typeof import('../lib/errors');
  const call = (f: () => unknown): { code: string; message: string } => {
    try {
      f();
    } catch (e) {
      return fromNative(e) as unknown as { code: string; message: string };
    }
    throw new Error('expected a throw');
  };
  const fill = { out: new Float32Array(4), kind: 0, keyLo: 0, keyHi: 0, stream: 0, path: 0, step: 0, first: 0, device: 0, control: null, async: false };

  test('a well-formed call works and matches the public API', () => {
    const out = new Float32Array(4);
    native().rngFill({ ...fill, out, kind: 2, keyLo: 7 });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { rng } = require('../lib') as typeof import('../lib');
    expect(out).toEqual(rng.normal(4, { seed: 7, device: 'cpu' }));
  });

  test('positional arguments, arrays and missing objects are refused with a coded error', () => {
    const f = native().rngFill as unknown as (...a: unknown[]) => unknown;
    for (const args of [[new Float32Array(4), 0], [[1, 2]], [], [null], [new Float32Array(4)]]) {
      const e = call(() => f(...args));
      expect(e.code).toBe('ERR_ITOKIT_INVALID_ARG');
      expect(e.message).toMatch(/one options object/);
    }
  });

  test('the raw addon (no forwarder) refuses an options object: the wire is positional', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { nativeBinaryPath } = require('../lib/native') as typeof import('../lib/native');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = require(nativeBinaryPath()!) as { rngFill: (...a: unknown[]) => unknown };
    expect(call(() => raw.rngFill(fill))).toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG', message: expect.stringMatching(/one options object/) });
  });

  test('an entry point without inputs is called with none', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { testingNative } = require('../lib/testing/addon') as typeof import('../lib/testing/addon');
    expect(testingNative().otKernelPaths()).toContain('scalar');
  });

  test('a missing or mistyped key is named in the error', () => {
    const { stream: _s, ...noStream } = fill;
    expect(call(() => native().rngFill(noStream as typeof fill))).toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG', message: expect.stringMatching(/^stream must be a number/) });
    expect(call(() => native().rngFill({ ...fill, step: 1.5 }))).toMatchObject({ code: 'ERR_ITOKIT_INVALID_ARG', message: expect.stringMatching(/^step must be an integer/) });
    expect(call(() => native().rngRandn({ ...fill, out: new Float64Array(4), paths: 2, dim: 2, pathOffset: 0 }))).toMatchObject({ code: 'ERR_ITOKIT_DTYPE', message: expect.stringMatching(/^out has the wrong element type/) });
  });
});

// The README's TypeScript examples are the product's front door: each ```ts block must type-check
// against the current API (a renamed option or function fails here, not in a user's editor).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');

function blocks(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('every ```ts block of README.md and docs/*.md type-checks against lib/', () => {
  const files = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'itokit-readme-'));
  const sources: string[] = [];
  for (const f of files) {
    blocks(f).forEach((code, i) => {
      // Each block is a module of its own, wrapped in an async function for top-level await.
      const imports = code.match(/^import .*$/gm) ?? [];
      const body = code.replace(/^import .*$/gm, '');
      const mapped = imports.map((l) =>
        l.replace(/from 'itokit'/, `from ${JSON.stringify(path.join(root, 'lib'))}`).replace(/from 'itokit\/queue'/, `from ${JSON.stringify(path.join(root, 'lib', 'queue'))}`));
      const file = path.join(dir, `${f.replace(/[/.]/g, '_')}_${i}.ts`);
      fs.writeFileSync(file, `${mapped.join('\n')}\nexport async function example(): Promise<void> {\n${body}\n}\n`);
      sources.push(file);
    });
  }
  expect(sources.length).toBeGreaterThan(5);
  const program = ts.createProgram(sources, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    noUnusedLocals: false,
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && sources.includes(path.resolve(d.file.fileName)))
    .map((d) => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  fs.rmSync(dir, { recursive: true, force: true });
  expect(diagnostics).toEqual([]);
}, 120_000);

/**
 * Turns a TypeScript module and everything it imports relatively into plain ESM JavaScript in
 * a directory, so a child `node` process can run the project's real code (vitest transforms
 * TypeScript for the test process only). Type-only transpilation: fast, no type check.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g;

/** Transpile `entries` (paths relative to the project root) and their relative imports into `outDir`. */
export function transpileTree(entries: readonly string[], outDir: string): void {
  const seen = new Set<string>();
  const queue = entries.map((e) => path.resolve(ROOT, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    });
    const out = path.join(outDir, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
    for (const m of source.matchAll(RELATIVE_IMPORT)) queue.push(path.resolve(path.dirname(file), `${m[1]}.ts`));
  }
  fs.writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}\n');
  // Bare imports (better-sqlite3) resolve through the project's node_modules.
  const link = path.join(outDir, 'node_modules');
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(ROOT, 'node_modules'), link, 'dir');
}

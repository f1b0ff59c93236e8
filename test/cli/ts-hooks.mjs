// Loaded with `node --import` by test/cli/cli.ts: runs hes-gate's TypeScript sources as they
// are now (never a stale dist/). `./x.js` imports between .ts files resolve to the .ts file,
// which is transpiled (type erasure only, as tsc emits it) and cached by content hash.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cacheDir = join(tmpdir(), `hes-gate-ts-cache-${process.getuid?.() ?? 'u'}`);
let ts;

function transpile(file) {
  const source = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(file).update('\0').update(source).digest('hex');
  const cached = join(cacheDir, `${key}.js`);
  if (existsSync(cached)) return readFileSync(cached, 'utf8');
  // Loaded only on a cache miss: typescript is large, and most runs transpile nothing.
  ts ??= createRequire(import.meta.url)('typescript');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: file,
  });
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  writeFileSync(cached, outputText);
  return outputText;
}

if (typeof registerHooks !== 'function') throw new Error(`test/cli runs hes-gate from its sources with module.registerHooks: Node >= 22.15 needed, this is ${process.version}`);

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (context.parentURL?.endsWith('.ts') && /^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
      const url = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (existsSync(fileURLToPath(url))) return { url: url.href, format: 'module', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (url.startsWith('file:') && url.endsWith('.ts')) return { format: 'module', source: transpile(fileURLToPath(url)), shortCircuit: true };
    return nextLoad(url, context);
  },
});

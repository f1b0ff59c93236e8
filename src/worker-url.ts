/**
 * Where a worker thread's code is (the card store's writer, the decision journal). Built
 * (`dist/`), it is the compiled `<name>.js` next to the module that starts it. Run from the
 * TypeScript sources (tests), Node strips the types itself, but our imports name `.js` files
 * that exist only after a build: a tiny bootstrap module maps a missing `./x.js` to `./x.ts`
 * (module.registerHooks, that thread only) and then loads the worker. A source with constructor
 * parameter properties, which stripping cannot run, is transformed instead (Node's
 * stripTypeScriptTypes in transform mode; it warns once that it is experimental).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The worker module `./<name>.js` beside `base` (the caller's `import.meta.url`), or its bootstrap from sources. */
export function workerUrl(name: string, base: string): URL {
  const built = new URL(`./${name}.js`, base);
  if (existsSync(fileURLToPath(built))) return built;
  const source = new URL(`./${name}.ts`, base);
  const bootstrap = `
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const url = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(url))) return next(specifier.slice(0, -3) + '.ts', context);
    }
    return next(specifier, context);
  },
  load(url, context, next) {
    const loaded = next(url, context);
    // Stripping cannot run a constructor's parameter properties (tsc compiles them): those few files are transformed.
    if (url.endsWith('.ts') && loaded.source != null) {
      const text = String(loaded.source);
      if (/constructor\\([^)]*\\b(?:readonly|private|public|protected)\\s/.test(text)) return { ...loaded, format: 'module', source: stripTypeScriptTypes(text, { mode: 'transform', sourceUrl: url }) };
    }
    return loaded;
  },
});
await import(${JSON.stringify(source.href)});
`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

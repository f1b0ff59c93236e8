/**
 * Where the store worker's code is. Built (`dist/`), it is the compiled `store-worker.js` next
 * to this file. Run from the TypeScript sources (tests), Node strips the types itself, but our
 * imports name `.js` files that exist only after a build: a tiny bootstrap module maps a
 * missing `./x.js` to `./x.ts` (module.registerHooks, this thread only) and then loads the
 * worker.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function storeWorkerUrl(): URL {
  const built = new URL('./store-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  const source = new URL('./store-worker.ts', import.meta.url);
  const bootstrap = `
import { registerHooks } from 'node:module';
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
});
await import(${JSON.stringify(source.href)});
`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

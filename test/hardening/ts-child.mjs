// Lets a child `node --experimental-transform-types --import ./ts-child.mjs x.ts` run the
// project's TypeScript in place: relative `./y.js` imports resolve to `./y.ts` when that exists
// (the tree is written for the compiled layout). Children get a heap of their own, not vitest's.
import { registerHooks } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if ((specifier.startsWith('./') || specifier.startsWith('../')) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      const ts = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
      if (existsSync(fileURLToPath(ts))) return nextResolve(ts.href, context);
    }
    return nextResolve(specifier, context);
  },
});

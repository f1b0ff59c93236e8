/**
 * Layers point one way. The stages and adapters (ministry, status, cards, devices, ...) never
 * import ops/ (observability) or http/ (the API edge); masking is a leaf every layer may use;
 * ops/ reads the rest of the service through narrow shapes of its own (ops/sources.ts) and the
 * other layers' vocabulary types, never a concrete service.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

/** The project files a file imports, as paths relative to src/, with whether the import is type-only. */
function imports(file: string): Array<{ target: string; typeOnly: boolean }> {
  const text = readFileSync(file, 'utf8');
  const out: Array<{ target: string; typeOnly: boolean }> = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) {
    out.push({ target: relative(SRC, resolve(dirname(file), m[3]!)), typeOnly: m[2] !== undefined });
  }
  for (const m of text.matchAll(/import\('(\.{1,2}\/[^']+)'\)/g)) out.push({ target: relative(SRC, resolve(dirname(file), m[1]!)), typeOnly: false });
  return out;
}

const LOW = ['ministry', 'status', 'cards', 'devices', 'policy', 'credentials', 'decisions', 'config', 'privacy', 'simulator'];

describe('layers', () => {
  it('stages and adapters never import ops/ or http/', () => {
    const upward: string[] = [];
    for (const layer of LOW) {
      for (const file of sources(join(SRC, layer))) {
        for (const { target } of imports(file)) {
          if (/^(ops|http)\//.test(target)) upward.push(`${relative(SRC, file)} -> ${target}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('masking imports nothing of the project', () => {
    for (const file of sources(join(SRC, 'privacy'))) expect(imports(file), relative(SRC, file)).toEqual([]);
  });

  it('ops/ reads other layers through types only, from their vocabulary modules, never a concrete service', () => {
    const vocabulary = /^types\.js$|\/(types|events|schema)\.js$/;
    const reaches: string[] = [];
    for (const file of sources(join(SRC, 'ops'))) {
      for (const { target, typeOnly } of imports(file)) {
        if (target.startsWith('ops/')) continue;
        if (!typeOnly || !vocabulary.test(target)) reaches.push(`${relative(SRC, file)} -> ${target}${typeOnly ? '' : ' (a value import)'}`);
      }
    }
    expect(reaches).toEqual([]);
  });
});

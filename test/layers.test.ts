/**
 * Layers point one way. Every part of src/ (a folder, or a file at the top) has a place in
 * ALLOWED below, which says which other parts it may import — type-only imports included, since
 * a type shared by two parts lives with the lower one (or in a leaf). The table itself has no
 * circle, and no file may reach itself through its imports.
 *
 *   leaves        types, errors, privacy (masking), system-timers
 *   vocabulary    credentials ─> policy ─> config (with the device profiles) ─> build-info
 *   stages        devices; ministry ─> simulator, selftest; ministry ─> status ─> cards ─> decisions ─> journal
 *   city tier     city (depends on cards, status, ministry: the stage owns its contract)
 *   vehicles      the vehicle list, its hub side and the vehicle role (depends on stages and city)
 *   observers     ops (reads the rest through types of their vocabulary modules only)
 *   edge          http ─> hes-gate (the composition root; its options and result in hes-gate-types) ─> cli
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
  for (const m of text.matchAll(/^\s*import\s+'(\.{1,2}\/[^']+)'/gm)) out.push({ target: relative(SRC, resolve(dirname(file), m[1]!)), typeOnly: false });
  return out;
}

/** A file's part: its top folder under src/, or its own name for a file at the top. */
function partOf(path: string): string {
  const slash = path.indexOf('/');
  return slash === -1 ? path.replace(/\.(ts|js)$/, '') : path.slice(0, slash);
}

const LEAVES = ['types', 'errors', 'privacy', 'system-timers', 'deadline', 'worker-url', 'closers', 'text-table', 'number-file', 'key-file'];
const STAGES = ['credentials', 'policy', 'config', 'build-info', 'devices', 'ministry', 'simulator', 'selftest', 'status', 'cards', 'decisions', 'journal'];

/** Which parts each part may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  types: [],
  errors: [],
  privacy: [],
  'system-timers': ['types'],
  deadline: [],
  closers: [],
  'text-table': [],
  'number-file': [],
  'key-file': [],
  'worker-url': [],
  credentials: [...LEAVES],
  policy: [...LEAVES, 'credentials'],
  config: [...LEAVES, 'credentials', 'policy'],
  'build-info': ['config'],
  devices: [...LEAVES, 'credentials', 'policy', 'config'],
  ministry: [...LEAVES, 'config'],
  simulator: [...LEAVES, 'credentials', 'config', 'ministry'],
  selftest: [...LEAVES, 'credentials', 'config', 'ministry', 'simulator'],
  status: [...LEAVES, 'credentials', 'config', 'ministry'],
  cards: [...LEAVES, 'credentials', 'policy', 'config', 'status'],
  decisions: [...LEAVES, 'credentials', 'policy', 'config', 'status', 'cards'],
  journal: [...LEAVES, 'config', 'decisions'],
  city: [...LEAVES, 'credentials', 'policy', 'config', 'build-info', 'ministry', 'status', 'cards'],
  vehicles: [...LEAVES, ...STAGES, 'city'],
  ops: [...LEAVES, ...STAGES, 'city', 'vehicles'],
  http: [...LEAVES, ...STAGES, 'city', 'vehicles', 'ops'],
  'hes-gate-types': [...LEAVES, ...STAGES, 'city', 'vehicles', 'ops'],
  'hes-gate': [...LEAVES, ...STAGES, 'city', 'vehicles', 'ops', 'http', 'hes-gate-types'],
  cli: [...LEAVES, ...STAGES, 'city', 'vehicles', 'ops', 'http', 'hes-gate', 'hes-gate-types'],
};

const FILES = sources(SRC).map((f) => relative(SRC, f));
const GRAPH = new Map(FILES.map((f) => [f, imports(join(SRC, f))]));

/** Every circle of `graph` (strongly connected components of more than one node, or a node importing itself). */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('layers', () => {
  it('every part of src/ has a place in the table', () => {
    const parts = new Set(FILES.map(partOf));
    expect([...parts].filter((p) => !Object.hasOwn(ALLOWED, p)).sort()).toEqual([]);
    for (const [part, allowed] of Object.entries(ALLOWED)) {
      expect(parts.has(part), `${part} is in the table but not in src/`).toBe(true);
      for (const p of allowed) expect(Object.hasOwn(ALLOWED, p), `${part} may import ${p}, which is not a part`).toBe(true);
    }
  });

  it('the table of allowed imports has no circle', () => {
    expect(circles(new Map(Object.entries(ALLOWED)))).toEqual([]);
  });

  it('every import follows the table, type-only imports included', () => {
    const against: string[] = [];
    for (const [file, list] of GRAPH) {
      const from = partOf(file);
      for (const { target, typeOnly } of list) {
        const to = partOf(target);
        if (to !== from && !ALLOWED[from]!.includes(to)) against.push(`${file} -> ${target}${typeOnly ? ' (type)' : ''}`);
      }
    }
    expect(against).toEqual([]);
  });

  it('no file reaches itself through its imports (type-only imports count too)', () => {
    const graph = new Map([...GRAPH].map(([file, list]) => [file, list.map(({ target }) => target.replace(/\.js$/, '.ts'))]));
    expect(circles(graph)).toEqual([]);
  });

  it('stages and adapters never import ops/ or http/', () => {
    const upward: string[] = [];
    for (const [file, list] of GRAPH) {
      if (!STAGES.includes(partOf(file)) && partOf(file) !== 'city') continue;
      for (const { target } of list) if (/^(ops|http)\//.test(target)) upward.push(`${file} -> ${target}`);
    }
    expect(upward).toEqual([]);
  });

  it('masking imports nothing of the project', () => {
    for (const file of sources(join(SRC, 'privacy'))) expect(imports(file), relative(SRC, file)).toEqual([]);
  });

  it('ops/ reads other layers through types only, from their vocabulary modules, never a concrete service', () => {
    const vocabulary = /^types\.js$|\/([a-z-]+-)?(types|events|schema)\.js$/;
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

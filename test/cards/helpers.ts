import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];

/** A fresh temp dir, removed after the test. */
export function tempDir(prefix = 'hg-cards-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A manual clock: starts at a fixed instant, moves only when told. */
export function manualClock(start = Date.parse('2021-03-01T08:00:00Z')): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** A deterministic card id (7 bytes) and HES code for row i. */
export function cardIdFor(i: number): string {
  return `04${i.toString(16).toUpperCase().padStart(12, '0')}`;
}

export function codeFor(i: number): string {
  return `H${i.toString(36).toUpperCase().padStart(9, '0')}`;
}

/** The files under `dir` (recursively) holding any of `needles` as bytes, as `relative path: needle`. */
export function filesHolding(dir: string, needles: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const bytes = fs.readFileSync(p);
        for (const n of needles) if (bytes.includes(Buffer.from(n))) found.push(`${path.relative(dir, p)}: ${n}`);
      }
    }
  };
  walk(dir);
  return found;
}

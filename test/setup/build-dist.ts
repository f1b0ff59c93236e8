/**
 * Vitest global setup: tests that spawn `hes-gate` run the built CLI in dist/, so dist/ must
 * match src/. When any source file is newer than its build output (or has none), compile once
 * with tsc before the tests start; a failing build fails the run loudly. `npm test` builds first,
 * so there this finds dist/ fresh and costs a directory walk.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Source files whose compiled .js in dist/ is missing or older than the source. */
export function staleSources(root = ROOT): string[] {
  return sources(join(root, 'src')).filter((src) => {
    const out = join(root, 'dist', relative(root, src)).replace(/\.ts$/, '.js');
    return !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
  });
}

export default async function buildDist(): Promise<void> {
  const stale = staleSources();
  if (stale.length === 0) return;
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`dist/ is older than src/ (${relative(ROOT, stale[0]!)} and ${stale.length - 1} more), and building it failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
  const still = staleSources();
  if (still.length > 0) throw new Error(`tsc ran but dist/ is still older than src/: ${still.map((s) => relative(ROOT, s)).join(', ')}`);
}

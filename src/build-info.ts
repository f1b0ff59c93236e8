/**
 * The version and the commit this build came from. The commit is written at build time into
 * dist/build-info.json (packaging/write-build-info.mjs), because an installed tarball or a
 * container has no git to ask.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from './config/load.js';

export interface BuildInfo {
  version: string;
  /** Full commit hash, or `unknown` when built without git and without HES_GATE_COMMIT. */
  commit: string;
  /** Built from a checkout with uncommitted changes to tracked files. */
  dirty: boolean;
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export function buildInfo(root = PACKAGE_ROOT): BuildInfo {
  const pkg = readJson(resolve(root, 'package.json'));
  const built = readJson(resolve(root, 'dist', 'build-info.json'));
  return {
    version: typeof pkg?.version === 'string' ? pkg.version : 'unknown',
    commit: typeof built?.commit === 'string' ? built.commit : 'unknown',
    dirty: built?.dirty === true,
  };
}

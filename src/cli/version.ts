/**
 * `hes-gate --version`: the package version and the commit it was built from. The commit is
 * written at build time into dist/build-info.json (packaging/write-build-info.mjs), because an
 * installed tarball or a container has no git to ask.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../config/load.js';

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

/** `hes-gate 0.1.0 (commit 807b90a1c2d3)`; `…-modified` for a build with uncommitted changes. */
export function versionLine(info: BuildInfo = buildInfo()): string {
  const commit = info.commit === 'unknown' ? 'commit unknown' : `commit ${info.commit.slice(0, 12)}${info.dirty ? '-modified' : ''}`;
  return `hes-gate ${info.version} (${commit})`;
}

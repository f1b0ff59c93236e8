#!/usr/bin/env node
// Writes dist/build-info.json at build time, so `hes-gate --version` names the commit even where
// there is no git: an installed tarball, a container. The commit comes from HES_GATE_COMMIT (a
// Docker build argument), else from git when this package root is a checkout, else "unknown".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function git(...args) {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

function fromGit() {
  try {
    // Only this package's own checkout: an unpacked tarball inside another repository is not it.
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(root)) return null;
    const commit = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

const fromEnv = /^[0-9a-f]{7,40}$/i.test(process.env.HES_GATE_COMMIT ?? '') ? { commit: process.env.HES_GATE_COMMIT.toLowerCase(), dirty: false } : null;
const info = { version, ...(fromEnv ?? fromGit() ?? { commit: 'unknown', dirty: false }) };
mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify(info)}\n`);

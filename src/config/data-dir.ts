/**
 * The data directory (card store, persisted statuses), made ready before anything opens it.
 *
 * Not `mkdirSync(dir, { recursive: true })`: on a path that can never be created, such as one
 * under /proc, Node's recursive mkdir gets ENOENT for the child, finds the parent present and
 * tries the child again, forever (a 100 % CPU hang at start-up). Here each missing level is
 * created once, without recursion, and every failure is one HG_DATA_DIR line naming the path,
 * the user and the next step. New levels are created 0700: only the service user reads them.
 */
import { accessSync, constants, mkdirSync, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { HesGateError } from '../errors.js';
import { userName } from './sources.js';

const FIX = 'set HES_GATE_DATA_DIR (or dataDir) to a directory this user may write, or give the user that directory';

function dataDirError(message: string, path: string, cause?: unknown): HesGateError {
  return new HesGateError('HG_DATA_DIR', `${message}: ${FIX}`, { details: { key: 'dataDir', path }, ...(cause === undefined ? {} : { cause }) });
}

/** Kernel file systems (statfs magic numbers) where no data can be kept: proc, sysfs, devpts, cgroup, cgroup2, debugfs, tracefs. */
const PSEUDO_FS = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x27e0eb, 0x63677270, 0x64626720, 0x74726163]);

function errno(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

function explain(err: unknown, path: string, doing: string): HesGateError {
  const code = errno(err);
  if (code === 'EACCES' || code === 'EPERM') return dataDirError(`permission denied ${doing} ${path} for user ${userName()}`, path, err);
  if (code === 'EROFS') return dataDirError(`${path} is on a read-only file system`, path, err);
  if (code === 'ENOTDIR') return dataDirError(`a part of ${path} is a file, not a directory`, path, err);
  return dataDirError(`the data directory ${path} cannot be created (${code}; is it on a special file system such as /proc?)`, path, err);
}

/**
 * Check that `dir` is (or can become) a directory this process may write; with `create`, create
 * the missing levels (mode 0700). Returns the absolute path. Throws HG_DATA_DIR.
 */
export function prepareDataDir(dir: string, options: { create: boolean }): string {
  const abs = resolve(dir);
  const missing: string[] = [];
  let existing = abs;
  let stats: Stats;
  for (;;) {
    try {
      stats = statSync(existing);
      break;
    } catch (err) {
      if (errno(err) === 'ENOTDIR') throw dataDirError(`a part of the data path ${abs} is a file, not a directory`, abs, err);
      if (errno(err) !== 'ENOENT') throw explain(err, abs, 'reading');
      missing.unshift(existing);
      const parent = dirname(existing);
      if (parent === existing) throw dataDirError(`no part of the data path ${abs} exists`, abs);
      existing = parent;
    }
  }
  if (!stats.isDirectory()) {
    throw dataDirError(existing === abs ? `the data path ${abs} is a file, not a directory` : `${existing} (in the data path ${abs}) is a file, not a directory`, abs);
  }
  let fsType = -1;
  try {
    fsType = statfsSync(existing).type;
  } catch {
    // statfs is advisory here: the mkdir below still fails with a coded error.
  }
  if (PSEUDO_FS.has(fsType)) throw dataDirError(`the data path ${abs} is on a kernel file system (${existing}), where nothing can be stored`, abs);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK | (missing.length === 0 ? constants.R_OK : 0));
  } catch (err) {
    throw explain(err, existing, missing.length === 0 ? 'writing to the data directory' : 'creating the data directory in');
  }
  if (!options.create) return abs;
  for (const level of missing) {
    try {
      mkdirSync(level, { mode: 0o700 });
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw explain(err, level, 'creating');
    }
  }
  return abs;
}

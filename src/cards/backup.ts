/**
 * Backup, restore and migration of the card store, for the `hes-gate store` commands. They run in
 * the operator's process, never in `serve`: a backup reads the store through its own SQLite
 * connection while the station keeps serving (WAL readers do not block writers).
 *
 *   backup:  live store ──(SQLite online backup, one step = one snapshot)──> <file>.partial ──> <file>
 *   restore: <file> ──copy──> staging in the data dir ── check, migrate ──(backup API)──> live store
 *
 * A restore goes through SQLite too (the backup API into the store file), so another process
 * opening the store meanwhile sees the old content or the new, never a mix, and the file keeps
 * its owner and mode.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HesGateError } from '../errors.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { fileError, inspect, openReadOnly, requireSqliteHeader, storePath, type StoreReport } from './store-check.js';

export interface BackupReport extends StoreReport {
  source: string;
  durationMs: number;
}

export interface RestoreReport extends StoreReport {
  source: string;
  /** The backup's schema version when it was older and migrated during the restore. */
  migratedFrom: number | null;
  /** Where a damaged store found in the data dir was moved, instead of being overwritten. */
  setAside: string | null;
}

/** Pages per backup step: all of them, so the copy is one read transaction, one snapshot. */
const ALL_PAGES = 0x7fffffff;

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function removeQuietly(...files: string[]): void {
  for (const f of files) fs.rmSync(f, { force: true });
}

/**
 * `store backup <file>`: a consistent copy of the store in `dataDir`, taken while it is in use.
 * The copy is a single self-contained file (rollback-journal mode, no -wal beside it), checked,
 * readable by its owner only, and appears under its name only when complete.
 */
export async function backupStore(dataDir: string, to: string, clock: () => number = Date.now): Promise<BackupReport> {
  const source = storePath(dataDir);
  const dest = path.resolve(to);
  if (dest === source) throw new HesGateError('HG_STORE', 'the backup file must not be the store itself');
  if (!fs.existsSync(path.dirname(dest))) throw new HesGateError('HG_STORE', `the backup's directory ${path.dirname(dest)} does not exist`);
  const partial = `${dest}.partial-${process.pid}`;
  removeQuietly(partial, `${partial}-journal`);
  const started = clock();
  const src = openReadOnly(source);
  try {
    await src.backup(partial, { progress: () => ALL_PAGES });
  } catch (err) {
    removeQuietly(partial);
    throw fileError(source, err);
  } finally {
    src.close();
  }
  try {
    fs.chmodSync(partial, 0o600);
    const copy = new Database(partial);
    let report: StoreReport;
    try {
      copy.pragma('journal_mode = DELETE');
      report = inspect(copy, partial, { refuseNewer: false });
    } finally {
      copy.close();
    }
    fsyncPath(partial);
    fs.renameSync(partial, dest);
    fsyncPath(path.dirname(dest));
    return { ...report, file: dest, source, durationMs: clock() - started };
  } catch (err) {
    removeQuietly(partial, `${partial}-journal`, `${partial}-wal`, `${partial}-shm`);
    throw fileError(dest, err);
  }
}

/** The names the backup timer gives: `hes-gate-<UTC time>.db`, and what a killed backup leaves beside one. */
const TIMED_BACKUP = /^hes-gate-\d{8}T\d{6}Z\.db$/;
const LEFT_BY_KILLED = /^hes-gate-\d{8}T\d{6}Z\.db\.partial-\d+(-journal|-wal|-shm)?$/;
const DAY_MS = 86_400_000;

/**
 * A backup's lifetime ends: in `dir`, remove the timed backups (`hes-gate-<UTC time>.db`) last
 * written more than `keepDays` days before `now`, and the partial copies killed backups left
 * there more than a day ago. Other files are not touched. Returns the names removed.
 */
export function pruneBackups(dir: string, keepDays: number, now: number = Date.now()): string[] {
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    const keepMs = TIMED_BACKUP.test(name) ? keepDays * DAY_MS : LEFT_BY_KILLED.test(name) ? DAY_MS : undefined;
    if (keepMs === undefined) continue;
    const file = path.join(dir, name);
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isFile() || now - stat.mtimeMs <= keepMs) continue;
    fs.rmSync(file, { force: true });
    removed.push(name);
  }
  return removed.sort();
}

/**
 * Refuse when any other process has the store open: leaving WAL mode needs the only connection
 * (a running station or import holds one for its lifetime). Returns `claimed` with the store a
 * single file, its WAL checkpointed and gone, ready to be overwritten; or `unreadable` for a
 * damaged or foreign file, which is what a restore replaces.
 */
function claimStore(file: string): 'claimed' | 'unreadable' {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    const mode = db.pragma('journal_mode = DELETE', { simple: true });
    if (mode !== 'delete') throw new HesGateError('HG_STORE_IN_USE', `the card store ${file} is open in another process`);
    return 'claimed';
  } catch (err) {
    const e = fileError(file, err);
    if (e.code === 'HG_STORE_IN_USE') {
      throw new HesGateError('HG_STORE_IN_USE', `the card store ${file} is open in another process (a running station or an import): stop it first (systemctl stop hes-gate), then restore`, { cause: err });
    }
    return 'unreadable';
  } finally {
    db?.close();
  }
}

/** Keep a damaged store for inspection instead of deleting it; returns its new name. */
function setAside(file: string, at: number): string {
  const aside = `${file}.damaged-${new Date(at).toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    if (fs.existsSync(file + suffix)) fs.renameSync(file + suffix, aside + suffix);
  }
  return aside;
}

/**
 * `store restore <file>` into the store of a stopped station. The backup is checked (SQLite,
 * hes-gate's tables, integrity, not newer than this build) and migrated to this build's schema
 * on a staging copy before anything of the store is touched.
 */
export async function restoreStore(dataDir: string, from: string, clock: () => number = Date.now): Promise<RestoreReport> {
  const source = path.resolve(from);
  const target = storePath(dataDir);
  if (!fs.existsSync(source)) throw new HesGateError('HG_STORE', `there is no backup file at ${source}`);
  if (fs.existsSync(target) && fs.realpathSync(source) === fs.realpathSync(target)) {
    throw new HesGateError('HG_STORE', 'the backup file is the store itself');
  }
  requireSqliteHeader(source);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const staging = `${target}.restore-${process.pid}`;
  removeQuietly(staging, `${staging}-journal`, `${staging}-wal`, `${staging}-shm`);
  try {
    fs.copyFileSync(source, staging);
    fs.chmodSync(staging, 0o600);
    let migratedFrom: number | null = null;
    let setAsideFile: string | null = null;
    let stage: Database.Database;
    try {
      stage = new Database(staging, { fileMustExist: true });
    } catch (err) {
      throw fileError(source, err);
    }
    try {
      try {
        stage.pragma('journal_mode = DELETE');
      } catch (err) {
        throw fileError(source, err);
      }
      const before = inspect(stage, source, { refuseNewer: true });
      if (before.schemaVersion < SCHEMA_VERSION) {
        migratedFrom = before.schemaVersion;
        try {
          migrate(stage);
        } catch (err) {
          throw fileError(source, err);
        }
      }
      if (fs.existsSync(target) && claimStore(target) === 'unreadable') setAsideFile = setAside(target, clock());
      const isNew = !fs.existsSync(target);
      try {
        await stage.backup(target, { progress: () => ALL_PAGES });
      } catch (err) {
        throw fileError(target, err);
      }
      if (isNew) fs.chmodSync(target, 0o600);
    } finally {
      stage.close();
    }
    const restored = new Database(target, { fileMustExist: true });
    try {
      return { ...inspect(restored, target, { refuseNewer: true }), source, migratedFrom, setAside: setAsideFile };
    } finally {
      restored.close();
    }
  } finally {
    removeQuietly(staging, `${staging}-journal`, `${staging}-wal`, `${staging}-shm`);
  }
}

/** `store migrate`: bring the store to this build's schema in place; returns the versions before and after. */
export function migrateStore(dataDir: string): { file: string; from: number; to: number } {
  const file = storePath(dataDir);
  const db = openReadOnly(file);
  let from: number;
  try {
    from = inspect(db, file, { refuseNewer: true }).schemaVersion;
  } finally {
    db.close();
  }
  const rw = new Database(file, { fileMustExist: true });
  try {
    rw.pragma('busy_timeout = 5000');
    migrate(rw);
    return { file, from, to: rw.pragma('user_version', { simple: true }) as number };
  } catch (err) {
    throw fileError(file, err);
  } finally {
    rw.close();
  }
}

/**
 * Checking a card store file — the station's store, or a backup — for the `hes-gate store`
 * commands: an SQLite file, hes-gate's tables for its schema version (derived from the shipped
 * migrations), SQLite's integrity check. SQLite's failures become coded errors an operator can
 * act on (HG_STORE_FOREIGN, HG_STORE_CORRUPT, HG_STORE_NEWER, HG_STORE_IN_USE).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HesGateError } from '../errors.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from './migrations.js';
import { STORE_FILE } from './store.js';

/** What `store check` reports, and what backup and restore report about the file they wrote. */
export interface StoreReport {
  file: string;
  bytes: number;
  /** `PRAGMA user_version`: the number of migrations applied. */
  schemaVersion: number;
  /** The schema version this build creates and serves. */
  buildSchemaVersion: number;
  /** `ok`, or SQLite's first integrity-check messages (page numbers and index names, never values). */
  integrity: 'ok' | string[];
  /** Rows per table. */
  rows: Record<string, number>;
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const MAX_PROBLEMS = 10;
export function storePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), STORE_FILE);
}

function sqliteCode(err: unknown): string {
  return typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
}

/** SQLite's own failure codes, turned into the coded errors an operator can act on. */
export function fileError(file: string, err: unknown): HesGateError {
  if (err instanceof HesGateError) return err;
  const code = sqliteCode(err);
  if (code === 'SQLITE_NOTADB') return new HesGateError('HG_STORE_FOREIGN', `${file} is not an SQLite database, so not a hes-gate card store`, { cause: err });
  if (code.startsWith('SQLITE_CORRUPT')) return new HesGateError('HG_STORE_CORRUPT', `${file} is damaged (${code}); use another backup`, { cause: err });
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new HesGateError('HG_STORE_IN_USE', `${file} is locked by another process`, { cause: err });
  }
  return new HesGateError('HG_STORE', `${file} could not be read: ${code || (err as Error)?.message || 'error'}`, { cause: err });
}

export function requireSqliteHeader(file: string): void {
  let header: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      header = Buffer.alloc(SQLITE_MAGIC.length);
      fs.readSync(fd, header, 0, header.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new HesGateError('HG_STORE', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  if (!header.equals(SQLITE_MAGIC)) throw new HesGateError('HG_STORE_FOREIGN', `${file} is not an SQLite database, so not a hes-gate card store`);
}

interface TableShape {
  name: string;
  columns: string[];
}

function shapeOf(db: Database.Database): Map<string, TableShape> {
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all();
  return new Map(
    tables.map(({ name }) => [name, { name, columns: db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name.replace(/'/g, "''")}')`).all().map((c) => c.name) }]),
  );
}

/** The tables schema version `version` has, built from the shipped migrations themselves. */
function expectedShape(version: number): Map<string, TableShape> {
  const mem = new Database(':memory:');
  try {
    migrate(mem, MIGRATIONS.slice(0, version));
    return shapeOf(mem);
  } finally {
    mem.close();
  }
}

/**
 * Check an open store: integrity, and that it is a hes-gate store of a known version. Throws
 * HG_STORE_FOREIGN, HG_STORE_CORRUPT or (with `refuseNewer`) HG_STORE_NEWER.
 */
export function inspect(db: Database.Database, file: string, opts: { refuseNewer: boolean }): StoreReport {
  let problems: string[];
  let version: number;
  let actual: Map<string, TableShape>;
  try {
    problems = db
      .prepare<[], { integrity_check: string }>(`PRAGMA integrity_check(${MAX_PROBLEMS})`)
      .all()
      .map((r) => r.integrity_check);
    version = db.pragma('user_version', { simple: true }) as number;
    actual = shapeOf(db);
  } catch (err) {
    throw fileError(file, err);
  }
  if (!(problems.length === 1 && problems[0] === 'ok')) {
    throw new HesGateError('HG_STORE_CORRUPT', `${file} failed SQLite's integrity check: ${problems.slice(0, 3).join('; ')}`, { details: { problems } });
  }
  if (version === 0 || !actual.has('bindings')) {
    throw new HesGateError('HG_STORE_FOREIGN', `${file} is an SQLite database without hes-gate's tables (schema version ${version})`);
  }
  if (version > SCHEMA_VERSION) {
    if (opts.refuseNewer) {
      throw new HesGateError('HG_STORE_NEWER', `${file} has schema version ${version}, newer than this build knows (${SCHEMA_VERSION}): install the hes-gate release that wrote it, or a newer one`);
    }
  } else {
    for (const [name, shape] of expectedShape(version)) {
      const got = actual.get(name);
      if (got === undefined || got.columns.join(',') !== shape.columns.join(',')) {
        throw new HesGateError('HG_STORE_FOREIGN', `${file} says schema version ${version} but its table "${name}" is ${got === undefined ? 'missing' : 'different'}: not a hes-gate card store`);
      }
    }
  }
  const rows: Record<string, number> = {};
  try {
    for (const name of actual.keys()) rows[name] = db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get()?.n ?? 0;
  } catch (err) {
    throw fileError(file, err);
  }
  return { file, bytes: fs.statSync(file).size, schemaVersion: version, buildSchemaVersion: SCHEMA_VERSION, integrity: 'ok', rows };
}

export function openReadOnly(file: string): Database.Database {
  if (!fs.existsSync(file)) throw new HesGateError('HG_STORE', `there is no card store at ${file} (check HES_GATE_DATA_DIR or --data-dir)`);
  requireSqliteHeader(file);
  try {
    return new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw fileError(file, err);
  }
}

/**
 * `store check`: SQLite's integrity check and the schema version, read-only (safe while the
 * station serves). A store newer than this build is reported, not refused.
 */
export function checkStore(file: string): StoreReport {
  const db = openReadOnly(file);
  try {
    return inspect(db, file, { refuseNewer: false });
  } finally {
    db.close();
  }
}

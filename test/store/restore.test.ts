/**
 * Issue 11: restore refuses what is not a good hes-gate store (coded errors, the station's store
 * untouched), and a store of the previous schema version is upgraded in place.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { backupStore, migrateStore, restoreStore } from '../../src/cards/backup.js';
import { checkStore, storePath } from '../../src/cards/store-check.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/cards/migrations.js';
import { openCardStore } from '../../src/cards/store.js';
import type { ErrorCode } from '../../src/errors.js';
import { cardIdFor, codeFor, tempDir } from '../cards/helpers.js';
import { hesGate } from './helpers.js';

/** A station data dir whose store holds `n` bindings. */
function station(n: number, from = 0): string {
  const dataDir = path.join(tempDir('hg-restore-'), 'data');
  const store = openCardStore({ dataDir });
  store.putBindings(Array.from({ length: n }, (_, k) => ({ cardId: cardIdFor(from + k), hesCode: codeFor(from + k), profile: 'adult' })));
  store.close();
  return dataDir;
}

async function backupOf(dataDir: string): Promise<string> {
  const file = path.join(tempDir('hg-backup-'), 'b.db');
  await backupStore(dataDir, file);
  return file;
}

async function refusal(p: Promise<unknown>): Promise<ErrorCode> {
  try {
    await p;
  } catch (err) {
    return (err as { code: ErrorCode }).code;
  }
  throw new Error('expected a refusal');
}

function bindingCount(dataDir: string): number {
  const db = new Database(storePath(dataDir), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** A store at schema version `version`, built with the migrations that shipped up to it. */
function storeAtVersion(file: string, version: number, rows: number): void {
  const db = new Database(file);
  for (const m of MIGRATIONS.slice(0, version)) {
    m.up(db);
    db.pragma(`user_version = ${m.version}`);
  }
  const insert = db.prepare('INSERT INTO bindings (card_id, hes_code, profile, updated_at) VALUES (?, ?, ?, ?)');
  for (let i = 0; i < rows; i++) insert.run(cardIdFor(i), codeFor(i), 'adult', 1_600_000_000_000 + i);
  db.close();
}

describe('hes-gate store restore refuses', () => {
  it('a damaged backup (HG_STORE_CORRUPT) and leaves the station\'s store as it was', async () => {
    const backup = await backupOf(station(3000));
    // Overwrite the middle of the file (b-tree pages, not the header) with garbage.
    const size = fs.statSync(backup).size;
    const fd = fs.openSync(backup, 'r+');
    fs.writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, Math.floor(size / 2 / 4096) * 4096);
    fs.closeSync(fd);
    const target = station(10, 500_000);
    expect(await refusal(restoreStore(target, backup))).toBe('HG_STORE_CORRUPT');
    expect(await refusal(Promise.resolve().then(() => checkStore(backup)))).toBe('HG_STORE_CORRUPT');
    expect(bindingCount(target)).toBe(10);

    // Damage that reads do not notice, only the integrity check: a wrong freelist size in the header.
    const quiet = await backupOf(station(50));
    const q = fs.openSync(quiet, 'r+');
    fs.writeSync(q, Buffer.from([0, 0, 0, 7]), 0, 4, 36);
    fs.closeSync(q);
    expect(await refusal(restoreStore(target, quiet))).toBe('HG_STORE_CORRUPT');
    expect(bindingCount(target)).toBe(10);
    // No staging copy left behind.
    expect(fs.readdirSync(path.dirname(storePath(target))).filter((f) => f.includes('restore'))).toEqual([]);
  });

  it('a file that is not SQLite, another program\'s SQLite file, or one without hes-gate\'s tables (HG_STORE_FOREIGN)', async () => {
    const dir = tempDir();
    const text = path.join(dir, 'notes.db');
    fs.writeFileSync(text, 'card_id,hes_code\n04A1B2C3,A1B2345678\n');
    const other = path.join(dir, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)');
    o.close();
    const impostor = path.join(dir, 'impostor.db');
    const i = new Database(impostor);
    i.exec('CREATE TABLE bindings (id INTEGER PRIMARY KEY, x TEXT)');
    i.pragma(`user_version = ${SCHEMA_VERSION}`);
    i.close();
    const target = station(10);
    for (const file of [text, other, impostor]) expect(await refusal(restoreStore(target, file))).toBe('HG_STORE_FOREIGN');
    expect(bindingCount(target)).toBe(10);
  });

  it('a backup from a newer schema (HG_STORE_NEWER), through the command line with its coded line', async () => {
    const dataDir = station(5);
    const newer = await backupOf(dataDir);
    const db = new Database(newer);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(await refusal(restoreStore(station(1), newer))).toBe('HG_STORE_NEWER');
    const cli = await hesGate(['store', 'restore', '--data-dir', station(1), newer]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(new RegExp(`^hes-gate: HG_STORE_NEWER: .* schema version ${SCHEMA_VERSION + 1}, newer than this build knows \\(${SCHEMA_VERSION}\\)`));
    expect(cli.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('upgrade from the previous schema version', () => {
  const previous = SCHEMA_VERSION - 1;

  it('restoring an older backup migrates it to this build\'s schema, rows kept', async () => {
    const old = path.join(tempDir(), 'old.db');
    storeAtVersion(old, previous, 200);
    expect(checkStore(old)).toMatchObject({ schemaVersion: previous, integrity: 'ok', rows: { bindings: 200 } });
    const target = path.join(tempDir(), 'fresh-station');
    const report = await restoreStore(target, old);
    expect(report).toMatchObject({ schemaVersion: SCHEMA_VERSION, migratedFrom: previous });
    const store = openCardStore({ dataDir: target });
    try {
      expect(store.countBindings()).toBe(200);
      expect(store.getBinding(cardIdFor(7))?.hesCode).toBe(codeFor(7));
    } finally {
      store.close();
    }
  });

  it('`store migrate` upgrades the store in place, and the station opens it', async () => {
    const dataDir = path.join(tempDir(), 'data');
    fs.mkdirSync(dataDir);
    storeAtVersion(storePath(dataDir), previous, 50);
    const cli = await hesGate(['store', 'migrate', '--data-dir', dataDir, '--json']);
    expect(cli.stderr).toBe('');
    expect(JSON.parse(cli.stdout)).toMatchObject({ from: previous, to: SCHEMA_VERSION });
    expect(migrateStore(dataDir)).toMatchObject({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    const check = await hesGate(['store', 'check', '--data-dir', dataDir, '--json']);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ schemaVersion: SCHEMA_VERSION, integrity: 'ok', rows: { bindings: 50 } });
    const store = openCardStore({ dataDir });
    try {
      expect(store.getBinding(cardIdFor(49))?.hesCode).toBe(codeFor(49));
    } finally {
      store.close();
    }
  });
});

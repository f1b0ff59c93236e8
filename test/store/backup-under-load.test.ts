/**
 * Issue 11: `hes-gate store backup` while a real station takes card imports and admin writes,
 * then `store restore` into the stopped station. Every write the station acknowledged before the
 * backup began must be in the restored store; a restore into the running station is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cardIdFor, codeFor } from '../cards/helpers.js';
import { hesGate, startStation, type Station } from './helpers.js';

const TOKEN = 'backup-test-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const PRELOADED = 20_000;

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function importRows(url: string, from: number, n: number): Promise<boolean> {
  const body = Array.from({ length: n }, (_, k) => JSON.stringify({ cardId: cardIdFor(from + k), hesCode: codeFor(from + k) })).join('\n');
  const res = await fetch(`${url}/v1/cards/import`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-ndjson' }, body });
  const report = (await res.json()) as { imported?: number };
  return res.status === 200 && report.imported === n;
}

interface Acks {
  put: Set<number>;
  imported: Set<number>;
  deleted: Set<number>;
}

describe('hes-gate store backup under write load', () => {
  it('restores every row acknowledged before the backup began, and refuses a restore into the running station', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-backup-load-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const dataDir = join(dir, 'data');
    let station: Station = await startStation(dataDir, TOKEN);
    cleanup.push(() => station.stop());
    const { url } = station;

    // A store of some size, so the copy is not instantaneous.
    for (let i = 0; i < PRELOADED; i += 5000) expect(await importRows(url, i, 5000)).toBe(true);

    const acks: Acks = { put: new Set(), imported: new Set(), deleted: new Set() };
    // Writes that started only after the backup had finished: the restore must not have them.
    const afterBackup: Acks = { put: new Set(), imported: new Set(), deleted: new Set() };
    let backupDone = false;
    let running = true;
    let ackCount = 0;
    const waiters: Array<{ n: number; resolve: () => void }> = [];
    const acked = (): void => {
      ackCount++;
      for (const w of waiters.filter((x) => ackCount >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    const untilAcks = (n: number): Promise<void> => (ackCount >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })));

    const putLoop = async (): Promise<void> => {
      for (let i = 1_000_000; running; i++) {
        const late = backupDone;
        const res = await fetch(`${url}/v1/cards/${cardIdFor(i)}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode: codeFor(i) }) });
        await res.arrayBuffer();
        expect(res.status).toBe(201);
        (late ? afterBackup : acks).put.add(i);
        acked();
      }
    };
    const importLoop = async (): Promise<void> => {
      for (let i = 2_000_000; running; i += 250) {
        const late = backupDone;
        expect(await importRows(url, i, 250)).toBe(true);
        for (let k = i; k < i + 250; k++) (late ? afterBackup : acks).imported.add(k);
        acked();
      }
    };
    const deleteLoop = async (): Promise<void> => {
      for (let i = 0; running && i < PRELOADED; i++) {
        const late = backupDone;
        const res = await fetch(`${url}/v1/cards/${cardIdFor(i)}`, { method: 'DELETE', headers: auth });
        await res.arrayBuffer();
        expect(res.status).toBe(204);
        (late ? afterBackup : acks).deleted.add(i);
        acked();
      }
    };
    const loops = Promise.all([putLoop(), importLoop(), deleteLoop()]);
    cleanup.push(async () => {
      running = false;
      await loops.catch(() => undefined);
    });

    await untilAcks(60);
    // Everything acknowledged up to here was acknowledged before the backup began.
    const before: Acks = { put: new Set(acks.put), imported: new Set(acks.imported), deleted: new Set(acks.deleted) };
    const acksAtStart = ackCount;
    const backupFile = join(dir, 'station.backup.db');
    const backup = await hesGate(['store', 'backup', '--data-dir', dataDir, '--json', backupFile]);
    backupDone = true;
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    // The station kept acknowledging writes while the backup ran.
    const duringBackup = ackCount - acksAtStart;
    expect(duringBackup).toBeGreaterThan(0);
    await untilAcks(ackCount + 30);

    // A running station's store is not replaced.
    const refused = await hesGate(['store', 'restore', '--data-dir', dataDir, backupFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^hes-gate: HG_STORE_IN_USE: .*stop it first/);

    running = false;
    await loops;
    expect(await station.stop()).toBe(0);

    const restored = await hesGate(['store', 'restore', '--data-dir', dataDir, '--json', backupFile]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ integrity: 'ok', migratedFrom: null });

    const db = new Database(join(dataDir, 'hes-gate.db'), { readonly: true });
    try {
      const get = db.prepare<[string], { hes_code: string }>('SELECT hes_code FROM bindings WHERE card_id = ?');
      const missing = [...before.put, ...before.imported].filter((i) => get.get(cardIdFor(i))?.hes_code !== codeFor(i));
      expect(missing).toEqual([]);
      expect([...before.deleted].filter((i) => get.get(cardIdFor(i)) !== undefined)).toEqual([]);
      // Written only after the backup: gone again, so the store really is the backup's.
      const late = [...afterBackup.put, ...afterBackup.imported];
      expect(late.length).toBeGreaterThan(0);
      expect(late.filter((i) => get.get(cardIdFor(i)) !== undefined)).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }

    // The station starts on the restored store and answers from it.
    station = await startStation(dataDir, TOKEN);
    const some = [...before.put][0]!;
    const res = await fetch(`${station.url}/v1/cards/${cardIdFor(some)}`, { headers: auth });
    expect(res.status).toBe(200);
  }, 120_000);
});

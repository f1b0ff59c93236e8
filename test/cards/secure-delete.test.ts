/**
 * A deletion deletes (issue 20.3, KVKK): once a binding, a persisted status or a journal row is
 * deleted, its bytes are in no file of the data directory — not in the store's free pages, not in
 * the WAL's older page images, not in a backup taken afterwards. Each test scans every file in the
 * directory (db, -wal, -shm, backups) for the deleted values as bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupStore } from '../../src/cards/backup.js';
import { openStationStore } from '../../src/cards/station-store.js';
import { openCardStore } from '../../src/cards/store.js';
import { Journal, type DecisionRecord } from '../../src/journal/journal.js';
import { runCli } from '../cli/cli.js';
import { cardIdFor, codeFor, filesHolding, tempDir } from './helpers.js';

function filesOf(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

const CARD = '04DE1E7EDCA4D0';
const CODE = 'K7Q2W9X4Z1';
const OLD_CODE = 'R5T8Y3U6P2';
const REBOUND = '04AB5E1EC7ED01';

describe('a deletion deletes (secure_delete, WAL truncated)', () => {
  it('leaves no trace of a deleted binding, a rebound code or a deleted status in the store, its WAL or a later backup', async () => {
    const dir = tempDir();
    const s = await openStationStore({ dataDir: dir });
    // Neighbours on the same pages: the deleted cells sit between live ones, as in a real store.
    await s.putBindings(Array.from({ length: 200 }, (_, i) => ({ cardId: cardIdFor(i), hesCode: codeFor(i), profile: 'standard' })));
    await s.adminPut({ cardId: CARD, hesCode: CODE }, 'admin');
    await s.adminPut({ cardId: REBOUND, hesCode: OLD_CODE }, 'admin');
    s.saveStatuses([CODE, OLD_CODE].map((code) => ({ code, record: { status: 'RISKLESS' as const, expiresAt: 4_000_000_000_000, fetchedAt: 1_614_585_600_000 } })));
    await s.flush();
    expect(filesHolding(dir, [CARD, CODE, OLD_CODE]).length).toBeGreaterThan(0);

    expect((await s.adminDelete(CARD, 'admin'))?.hesCode).toBe(CODE);
    expect((await s.adminPut({ cardId: REBOUND, hesCode: codeFor(999) }, 'admin')).outcome).toBe('updated');
    // The deleted card's status goes with it: nothing here deletes it by hand.
    await s.flush();
    // Acknowledged and gone from every file while the station still runs (the rebound code and
    // the status deletion go at the next checkpoint; the delete's own wipe takes them along here).
    expect((await s.adminDelete(cardIdFor(0), 'admin'))?.cardId).toBe(cardIdFor(0));
    expect(filesHolding(dir, [CARD, CODE, OLD_CODE, cardIdFor(0)])).toEqual([]);

    await backupStore(dir, path.join(dir, 'backup-after-delete.db'));
    await s.close();
    expect(filesOf(dir)).toContain('backup-after-delete.db');
    expect(filesHolding(dir, [CARD, CODE, OLD_CODE, cardIdFor(0)])).toEqual([]);
    // The live rows are still there: the scan reads the file's real bytes.
    expect(filesHolding(dir, [cardIdFor(1), codeFor(1)]).length).toBeGreaterThan(0);
  });

  it('a command-line store (cards import, tools) wipes at close too', () => {
    const dir = tempDir();
    const store = openCardStore({ dataDir: dir });
    store.putBindings(Array.from({ length: 50 }, (_, i) => ({ cardId: cardIdFor(i), hesCode: codeFor(i), profile: 'standard' })));
    store.putBinding({ cardId: CARD, hesCode: CODE });
    expect(store.deleteBinding(CARD)?.hesCode).toBe(CODE);
    store.close();
    expect(filesHolding(dir, [CARD, CODE])).toEqual([]);
  });

  it('leaves no trace of journal rows past the retention', async () => {
    const dir = tempDir();
    const day = 86_400_000;
    const t0 = Date.UTC(2026, 10, 30, 8);
    let now = t0;
    const journal = new Journal({ file: path.join(dir, 'journal.db'), clock: () => now, retentionMs: 7 * day, maxBytes: 512 * 1024 * 1024, flushIntervalMs: 60_000 });
    await journal.ready;
    const rec = (i: number, at: number): DecisionRecord => ({ at, gate: 'N1', reader: undefined, kind: 'card', verdict: 'pass', reason: 'RISKLESS', source: 'cache', elapsedMs: 1, decisionId: `old-decision-${i}-x` });
    for (let i = 0; i < 100; i++) journal.record(rec(i, t0 + i));
    journal.record({ ...rec(0, t0 + 9 * day), decisionId: 'kept-decision' });
    journal.flush();
    while ((await journal.stats()).entries < 101) journal.flush();
    now = t0 + 10 * day;
    expect(await journal.prune()).toBe(100);
    await journal.close();
    expect(filesHolding(dir, ['kept-decision']).length).toBeGreaterThan(0);
    expect(filesHolding(dir, Array.from({ length: 100 }, (_, i) => `old-decision-${i}-x`))).toEqual([]);
  });

  it('a backup lives --keep-days: older timed backups and killed copies are removed after a good backup, other files stay', async () => {
    const dir = tempDir();
    const backups = tempDir();
    const store = openCardStore({ dataDir: dir });
    store.putBinding({ cardId: CARD, hesCode: CODE });
    store.close();
    const day = 86_400_000;
    const aged = (name: string, days: number): void => {
      fs.writeFileSync(path.join(backups, name), 'x');
      const t = new Date(Date.now() - days * day);
      fs.utimesSync(path.join(backups, name), t, t);
    };
    aged('hes-gate-20261101T031500Z.db', 15);
    aged('hes-gate-20261120T031500Z.db', 13);
    aged('hes-gate-20261205T031500Z.db.partial-4242', 2);
    aged('hes-gate-20261206T031500Z.db.partial-4343', 0);
    aged('before-upgrade.db', 30);
    const r = await runCli(['store', 'backup', '--keep-days', '14', '--data-dir', dir, path.join(backups, 'hes-gate-20261207T031500Z.db')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed 2 backup files older than 14 days: hes-gate-20261101T031500Z.db, hes-gate-20261205T031500Z.db.partial-4242');
    expect(filesOf(backups)).toEqual(['before-upgrade.db', 'hes-gate-20261120T031500Z.db', 'hes-gate-20261206T031500Z.db.partial-4343', 'hes-gate-20261207T031500Z.db']);
    expect((await runCli(['store', 'backup', '--keep-days', '0', '--data-dir', dir, path.join(backups, 'x.db')])).stderr).toContain('HG_CONFIG_INVALID: --keep-days');
  });
});

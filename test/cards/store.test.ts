import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isHesGateError } from '../../src/errors.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../../src/cards/migrations.js';
import { openCardStore, STORE_FILE } from '../../src/cards/store.js';
import { codeFor, manualClock, tempDir } from './helpers.js';

describe('card store', () => {
  it('creates its directory and file, in WAL mode with synchronous=NORMAL', () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const store = openCardStore({ dataDir: dir });
    store.close();
    expect(fs.existsSync(path.join(dir, STORE_FILE))).toBe(true);
    const db = new Database(path.join(dir, STORE_FILE));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('puts, gets (any spelling of the id), updates and deletes a binding', () => {
    const clock = manualClock();
    const store = openCardStore({ dataDir: tempDir(), clock: clock.now });
    expect(store.putBinding({ cardId: '04:a1:b2:c3:d4:e5:f6', hesCode: 'a1b2-3456-78' })).toBe('created');
    const t0 = clock.now();
    expect(store.getBinding('04A1B2C3D4E5F6')).toEqual({ cardId: '04A1B2C3D4E5F6', hesCode: 'A1B2345678', profile: 'standard', updatedAt: t0 });
    expect(store.getBinding('04-a1-b2-c3-d4-e5-f6')?.hesCode).toBe('A1B2345678');
    expect(store.getBinding('not-a-card')).toBeUndefined();

    clock.advance(1000);
    expect(store.putBinding({ cardId: '04A1B2C3D4E5F6', hesCode: 'A1B2345678' })).toBe('unchanged');
    expect(store.getBinding('04A1B2C3D4E5F6')?.updatedAt).toBe(t0);
    expect(store.putBinding({ cardId: '04A1B2C3D4E5F6', hesCode: 'A1B2345678', profile: 'Senior' })).toBe('updated');
    expect(store.getBinding('04A1B2C3D4E5F6')).toMatchObject({ profile: 'senior', updatedAt: t0 + 1000 });
    expect(store.countBindings()).toBe(1);

    expect(store.deleteBinding('04a1b2c3d4e5f6')?.hesCode).toBe('A1B2345678');
    expect(store.deleteBinding('04A1B2C3D4E5F6')).toBeUndefined();
    expect(store.getBinding('04A1B2C3D4E5F6')).toBeUndefined();
    expect(store.countBindings()).toBe(0);
    store.close();
  });

  it('refuses invalid fields with coded errors', () => {
    const store = openCardStore({ dataDir: tempDir() });
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return isHesGateError(err) ? err.code : 'other';
      }
      return undefined;
    };
    expect(codeOf(() => store.putBinding({ cardId: '04A1', hesCode: 'A1B2345678' }))).toBe('HG_CARD_ID_INVALID');
    expect(codeOf(() => store.putBinding({ cardId: '04A1B2C3', hesCode: 'A1B2' }))).toBe('HG_HES_CODE_INVALID');
    expect(codeOf(() => store.putBinding({ cardId: '04A1B2C3', hesCode: 'A1B2345678', profile: '!!' }))).toBe('HG_BAD_REQUEST');
    store.close();
  });

  it('writes a batch in one transaction and reports what changed', () => {
    const store = openCardStore({ dataDir: tempDir() });
    const batch = Array.from({ length: 100 }, (_, i) => ({ cardId: `0400${i.toString(16).padStart(4, '0').toUpperCase()}`, hesCode: codeFor(i % 40), profile: 'standard' }));
    expect(store.putBindings(batch)).toEqual({ created: 100, updated: 0, unchanged: 0 });
    expect(store.putBindings(batch)).toEqual({ created: 0, updated: 0, unchanged: 100 });
    expect(store.putBindings([{ ...batch[0]!, hesCode: codeFor(99) }])).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect(store.countBindings()).toBe(100);
    // A batch that fails part-way leaves nothing behind.
    const bad = [{ cardId: '05000000', hesCode: codeFor(1), profile: 'standard' }, { cardId: '05000001', hesCode: null as unknown as string, profile: 'x' }];
    expect(() => store.putBindings(bad)).toThrow();
    expect(store.getBinding('05000000')).toBeUndefined();
    store.close();
  });

  it('iterates distinct bound codes in order, by keyset pages', () => {
    const store = openCardStore({ dataDir: tempDir() });
    const batch = Array.from({ length: 50 }, (_, i) => ({ cardId: `0400${i.toString(16).padStart(4, '0')}`.toUpperCase(), hesCode: codeFor(i % 20), profile: 'standard' }));
    store.putBindings(batch);
    expect(store.countCodes()).toBe(20);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = store.iterateCodes(after, 7);
      if (page.length === 0) break;
      seen.push(...page);
      after = page[page.length - 1];
    }
    const expected = Array.from({ length: 20 }, (_, i) => codeFor(i)).sort();
    expect(seen).toEqual(expected);
    store.close();
  });

  it('keeps bindings and statuses (with fetched-at) across a reopen', () => {
    const dir = tempDir();
    const store = openCardStore({ dataDir: dir });
    store.putBinding({ cardId: '04A1B2C3', hesCode: 'A1B2345678', profile: 'student' });
    store.saveStatuses([
      { code: 'A1B2345678', record: { status: 'RISKLESS', expiresAt: 4_000_000_000_000, fetchedAt: 1_614_585_600_123, plus: { isVaccinated: true, isImmune: null, isTestDataShared: null, lastNegativeTestAt: null } } },
      { code: 'E5F6789012', record: { status: 'RISKY', expiresAt: 4_000_000_000_000, fetchedAt: 1_614_585_600_456 } },
    ]);
    store.saveStatuses([{ code: 'E5F6789012', record: { status: 'RISKY', expiresAt: 4_000_000_000_001, fetchedAt: 1_614_585_700_000 } }]);
    store.close();

    const again = openCardStore({ dataDir: dir });
    expect(again.getBinding('04A1B2C3')?.profile).toBe('student');
    const statuses = [...again.loadStatuses()].sort((a, b) => a.code.localeCompare(b.code));
    // Only status, expiry and fetched-at are kept: the plus fields are not persisted.
    expect(statuses).toEqual([
      { code: 'A1B2345678', record: { status: 'RISKLESS', expiresAt: 4_000_000_000_000, fetchedAt: 1_614_585_600_123 } },
      { code: 'E5F6789012', record: { status: 'RISKY', expiresAt: 4_000_000_000_001, fetchedAt: 1_614_585_700_000 } },
    ]);
    again.deleteStatuses(['A1B2345678', 'B0C1000000']);
    expect([...again.loadStatuses()].map((s) => s.code)).toEqual(['E5F6789012']);
    const db = new Database(again.file, { readonly: true });
    const columns = (db.pragma('table_info(statuses)') as Array<{ name: string }>).map((c) => c.name);
    expect(columns).toEqual(['code', 'status', 'expires_at', 'fetched_at']);
    db.close();
    again.close();
  });

  it('migrates an older schema on open and keeps its data', () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, STORE_FILE));
    expect(migrate(db, MIGRATIONS.slice(0, 1))).toEqual([1]);
    db.prepare("INSERT INTO bindings VALUES ('04A1B2C3', 'A1B2345678', 'standard', 1)").run();
    db.close();

    const store = openCardStore({ dataDir: dir });
    expect(store.getBinding('04A1B2C3')?.hesCode).toBe('A1B2345678');
    store.saveStatuses([{ code: 'A1B2345678', record: { status: 'RISKY', expiresAt: 2, fetchedAt: 1 } }]);
    store.journal({ who: 'admin', action: 'test' });
    store.close();

    // Reopening applies nothing more.
    const db2 = new Database(path.join(dir, STORE_FILE));
    expect(migrate(db2)).toEqual([]);
    expect(db2.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db2.close();
  });

  it('refuses a database from a newer build', () => {
    const dir = tempDir();
    const db = new Database(path.join(dir, STORE_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openCardStore({ dataDir: dir })).toThrow(expect.objectContaining({ code: 'HG_STORE' }));
  });

  it('journals masked ids and codes only', () => {
    const store = openCardStore({ dataDir: tempDir() });
    store.journal({ who: 'admin', action: 'bind', cardId: '04A1B2C3D4E5F6', hesCode: 'A1B2345678', detail: { profile: 'student' } });
    const [entry] = store.readJournal();
    expect(entry).toMatchObject({ who: 'admin', action: 'bind', cardIdMasked: '…E5F6', hesCodeMasked: 'A1B2-****-**', detail: { profile: 'student' } });
    const raw = JSON.stringify(new Database(store.file, { readonly: true }).prepare('SELECT * FROM admin_journal').all());
    expect(raw).not.toContain('04A1B2C3D4E5F6');
    expect(raw).not.toContain('A1B2345678');
    store.close();
  });
});

import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openCardStore, STORE_FILE } from '../../src/cards/store.js';
import { openStationStore, type StationStore } from '../../src/cards/station-store.js';
import { cardIdFor, codeFor, manualClock, tempDir } from './helpers.js';
import { holdWriteLock } from './lock-holder.js';

let open: StationStore[] = [];
afterEach(async () => {
  for (const s of open) await s.close();
  open = [];
});

async function station(options: Partial<Parameters<typeof openStationStore>[0]> = {}): Promise<StationStore> {
  const s = await openStationStore({ dataDir: tempDir(), ...options });
  open.push(s);
  return s;
}

async function* chunks(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('the station store (writes in a worker, reads on a read-only connection)', () => {
  it('writes admin changes with the caller clock, journals them, and keeps the count', async () => {
    const clock = manualClock();
    const s = await station({ clock: clock.now });
    const put = await s.adminPut({ cardId: '04:a1:b2:c3', hesCode: 'a1b2-3456-78' }, 'admin');
    expect(put).toEqual({ outcome: 'created', binding: { cardId: '04A1B2C3', hesCode: 'A1B2345678', profile: 'standard', updatedAt: clock.now() } });
    expect(s.getBinding('04A1B2C3')?.hesCode).toBe('A1B2345678');
    expect((await s.adminPut({ cardId: '04A1B2C3', hesCode: 'A1B2345678' }, 'admin')).outcome).toBe('unchanged');
    expect(await s.putBindings([{ cardId: '04A1B2C4', hesCode: 'C3D4567890' }])).toEqual({ created: 1, updated: 0, unchanged: 0 });
    expect(s.bindingCount).toBe(2);
    expect((await s.adminDelete('04A1B2C3', 'admin'))?.cardId).toBe('04A1B2C3');
    expect(await s.adminDelete('04A1B2C3', 'admin')).toBeUndefined();
    expect(s.bindingCount).toBe(1);
    expect(await s.countBindings()).toBe(1);
    expect(s.readJournal().map((e) => [e.action, e.cardIdMasked])).toEqual([['unbind', '…B2C3'], ['bind', '…B2C3']]);
    await expect(s.adminPut({ cardId: 'zz', hesCode: 'A1B2345678' }, 'admin')).rejects.toMatchObject({ code: 'HG_CARD_ID_INVALID' });
  });

  it('persists queued status writes in the order they were made', async () => {
    const dir = tempDir();
    const s = await openStationStore({ dataDir: dir });
    const record = { status: 'RISKLESS' as const, expiresAt: 4_000_000_000_000, fetchedAt: 1_614_585_600_000 };
    for (let i = 0; i < 500; i++) s.saveStatuses([{ code: codeFor(i), record }]);
    s.deleteStatuses([codeFor(0)]);
    s.saveStatuses([{ code: codeFor(1), record: { ...record, status: 'RISKY' } }]);
    await s.flush();
    await s.close();
    const again = await station({ dataDir: dir });
    const loaded = new Map(again.loadStatuses().map((p) => [p.code, p.record.status]));
    expect(loaded.size).toBe(499);
    expect(loaded.has(codeFor(0))).toBe(false);
    expect(loaded.get(codeFor(1))).toBe('RISKY');
  });

  it('imports a streamed body in any chunking, CSV and JSON too, reporting rejected lines', async () => {
    const s = await station();
    const ndjson = Array.from({ length: 1200 }, (_, i) => `{"cardId":"${cardIdFor(i)}","hesCode":"${codeFor(i)}"}`);
    ndjson[7] = 'not json';
    const report = await s.importStream(chunks(ndjson.join('\r\n'), 7), { format: 'ndjson', batchSize: 100, journalAs: 'admin' });
    expect(report).toMatchObject({ imported: 1199, created: 1199, rejected: 1, rejections: [{ line: 8, reason: 'MALFORMED_ROW' }] });
    expect(s.bindingCount).toBe(1199);
    const csv = await s.importStream(chunks(`card_id,hes_code\n${cardIdFor(7)},${codeFor(7)}\nx,y`, 5), { format: 'csv' });
    expect(csv).toMatchObject({ imported: 1, created: 1, rejected: 1, rejections: [{ line: 3, reason: 'CARD_ID_INVALID' }] });
    const json = await s.importStream(chunks(JSON.stringify([{ cardId: '05000001', hesCode: 'A1B2345678' }, 'x']), 3), { format: 'json' });
    expect(json).toMatchObject({ format: 'json', imported: 1, rejected: 1 });
    await expect(s.importStream(chunks('{"cardId":', 4), { format: 'json' })).rejects.toMatchObject({ code: 'HG_BAD_REQUEST' });
    await expect(s.importStream(chunks('04A1B2C3,A1B2345678', 4), { format: 'csv' })).rejects.toMatchObject({ code: 'HG_IMPORT_FILE' });
    expect(await s.countBindings()).toBe(1201);
    // A source that fails mid-way stops the import: whole batches committed before it stay.
    async function* failing(): AsyncIterable<Uint8Array> {
      yield* chunks(Array.from({ length: 250 }, (_, i) => `{"cardId":"${cardIdFor(5000 + i)}","hesCode":"${codeFor(i)}"}`).join('\n') + '\n', 1000);
      throw new Error('client went away');
    }
    await expect(s.importStream(failing(), { format: 'ndjson', batchSize: 100 })).rejects.toThrow('client went away');
    expect(await s.countBindings()).toBe(1201 + 200);
  });

  it('sees bindings another process wrote: reads at once, the count within the recount interval', async () => {
    const dir = tempDir();
    const s = await station({ dataDir: dir, recountIntervalMs: 20 });
    const other = openCardStore({ dataDir: dir });
    other.putBindings([{ cardId: '04A1B2C3', hesCode: 'A1B2345678' }, { cardId: '04A1B2C4', hesCode: 'A1B2345678' }]);
    other.close();
    expect(s.getBinding('04A1B2C3')?.hesCode).toBe('A1B2345678');
    await vi.waitFor(() => expect(s.bindingCount).toBe(2), { timeout: 5000, interval: 20 });
  });

  it('reads without waiting while another process holds the write lock; a write fails with HG_STORE', async () => {
    const dir = tempDir();
    const s = await station({ dataDir: dir, busyTimeoutMs: 300 });
    await s.adminPut({ cardId: '04A1B2C3', hesCode: 'A1B2345678' }, 'admin');
    const holder = await holdWriteLock(path.join(dir, STORE_FILE));
    try {
      const t = performance.now();
      expect(s.getBinding('04A1B2C3')?.hesCode).toBe('A1B2345678');
      expect(performance.now() - t).toBeLessThan(50);
      await expect(s.adminPut({ cardId: '04A1B2C4', hesCode: 'A1B2345678' }, 'admin')).rejects.toMatchObject({
        code: 'HG_STORE',
        message: expect.stringMatching(/locked by another writer \(waited 300 ms/),
      });
    } finally {
      await holder.release();
    }
    expect((await s.adminPut({ cardId: '04A1B2C4', hesCode: 'A1B2345678' }, 'admin')).outcome).toBe('created');
  });

  it('refuses to open a store of a newer schema with HG_STORE', async () => {
    const dir = tempDir();
    const db = openCardStore({ dataDir: dir });
    db.close();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(path.join(dir, STORE_FILE));
    raw.pragma('user_version = 999');
    raw.close();
    await expect(openStationStore({ dataDir: dir })).rejects.toMatchObject({ code: 'HG_STORE' });
  });
});

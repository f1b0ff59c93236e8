/**
 * The station store as a city replica (ReplicaStore): real SQLite files in temp dirs, the real
 * store worker. A bindings batch and its position are one transaction; a position alone comes
 * after the status writes queued before it; a snapshot swaps the whole set at its end (or not
 * at all); codesBetween reads a checked range on the tap path's read-only connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { CODE_RANGE_SQL } from '../../../src/cards/city-tables.js';
import type { CityPosition } from '../../../src/city/types.js';
import { cardIdFor, codeFor, manualClock, tempDir } from '../../cards/helpers.js';
import { holdWriteLock } from '../../cards/lock-holder.js';

let open: StationStore[] = [];
afterEach(async () => {
  for (const s of open) await s.close();
  open = [];
});

async function station(options: Partial<Parameters<typeof openStationStore>[0]> = {}): Promise<StationStore> {
  const s = await openStationStore({ dataDir: tempDir('hg-city-store-'), ...options });
  open.push(s);
  return s;
}

const pos = (seq: number): CityPosition => ({ kid: 'k1', epoch: 'e1', changesId: `1700000000000-${seq}`, changesSeq: seq });
const bind = (i: number, code = codeFor(i)) => ({ cardId: cardIdFor(i), hesCode: code, profile: 'standard' });

/** Every binding as card id → code, read on a connection of its own (what another reader sees). */
function bindingsIn(file: string): Map<string, string> {
  const db = new Database(file, { readonly: true });
  try {
    return new Map(db.prepare<[], { card_id: string; hes_code: string }>('SELECT card_id, hes_code FROM bindings').all().map((r) => [r.card_id, r.hes_code]));
  } finally {
    db.close();
  }
}

describe('bindings batches with the position, in one transaction', () => {
  it('applies puts and dels, counts them, keeps bindingCount, and the position survives a restart', async () => {
    const clock = manualClock();
    const dir = tempDir('hg-city-store-');
    const s = await openStationStore({ dataDir: dir, clock: clock.now });
    expect(await s.cityPosition()).toBeUndefined();
    await s.putBindings([bind(1), bind(2)]);
    const counts = await s.applyCityBindings({ put: [bind(2, 'ZZZZZZZZZ2'), bind(3), bind(1)], del: [cardIdFor(1), cardIdFor(9)] }, pos(7));
    expect(counts).toEqual({ created: 1, updated: 1, unchanged: 1, deleted: 1 });
    expect(s.bindingCount).toBe(2);
    expect(s.getBinding(cardIdFor(2))).toMatchObject({ hesCode: 'ZZZZZZZZZ2', updatedAt: clock.now() });
    expect(s.getBinding(cardIdFor(1))).toBeUndefined();
    expect(await s.cityPosition()).toEqual(pos(7));
    await s.close();
    const again = await station({ dataDir: dir });
    expect(await again.cityPosition()).toEqual(pos(7));
    expect(again.bindingCount).toBe(2);
  });

  it('a bad row anywhere in the batch writes nothing and leaves the position where it was', async () => {
    const s = await station();
    await s.applyCityBindings({ put: [bind(1)], del: [] }, pos(1));
    const before = bindingsIn(s.file);
    // The bad row comes after good ones: they must be rolled back with it.
    await expect(s.applyCityBindings({ put: [bind(2), bind(3), { cardId: cardIdFor(4), hesCode: 'not a code!', profile: 'standard' }], del: [] }, pos(2))).rejects.toMatchObject({
      code: 'HG_HES_CODE_INVALID',
    });
    await expect(s.applyCityBindings({ put: [bind(5)], del: [cardIdFor(1), 'zz'] }, pos(3))).rejects.toMatchObject({ code: 'HG_CARD_ID_INVALID' });
    expect(bindingsIn(s.file)).toEqual(before);
    expect(await s.cityPosition()).toEqual(pos(1));
    expect(s.bindingCount).toBe(1);
  });

  it('a position the store refuses writes none of the batch', async () => {
    const s = await station();
    await s.applyCityBindings({ put: [bind(1)], del: [] }, pos(1));
    await expect(s.applyCityBindings({ put: [bind(2)], del: [cardIdFor(1)] }, { ...pos(2), changesId: 'garbage' })).rejects.toMatchObject({ code: 'HG_STORE' });
    expect([...bindingsIn(s.file).keys()]).toEqual([cardIdFor(1)]);
    expect(await s.cityPosition()).toEqual(pos(1));
  });

  it('a closed store refuses the batch, and the file keeps the bindings and position it had', async () => {
    const dir = tempDir('hg-city-store-');
    const s = await openStationStore({ dataDir: dir });
    await s.applyCityBindings({ put: [bind(1)], del: [] }, pos(1));
    await s.close();
    await expect(s.applyCityBindings({ put: [bind(2)], del: [] }, pos(2))).rejects.toMatchObject({ code: 'HG_STORE' });
    await expect(s.saveCityPosition(pos(3))).rejects.toMatchObject({ code: 'HG_STORE' });
    const again = await station({ dataDir: dir });
    expect(await again.cityPosition()).toEqual(pos(1));
    expect([...bindingsIn(again.file).keys()]).toEqual([cardIdFor(1)]);
  });

  it('a batch waiting for another process\'s lock fails whole (HG_STORE) and leaves both as they were', async () => {
    const s = await station({ busyTimeoutMs: 50 });
    await s.applyCityBindings({ put: [bind(1)], del: [] }, pos(1));
    const holder = await holdWriteLock(s.file);
    try {
      await expect(s.applyCityBindings({ put: [bind(2)], del: [] }, pos(2))).rejects.toMatchObject({ code: 'HG_STORE' });
      // The tap path's reads do not wait for the lock.
      expect(s.codesBetween({ after: null, through: null }, 10)).toEqual([codeFor(1)]);
    } finally {
      await holder.release();
    }
    expect(await s.cityPosition()).toEqual(pos(1));
    expect(s.getBinding(cardIdFor(2))).toBeUndefined();
  });
});

describe('the position after status writes', () => {
  const record = { status: 'RISKLESS' as const, expiresAt: 4_000_000_000_000, fetchedAt: 1_614_585_600_000 };
  // Many small status writes (each op is a transaction): slow enough that a position sent
  // ahead of them would be acknowledged while they are still being written.
  const N = 2000;

  it('saveCityPosition settles only once the status writes queued before it are written', async () => {
    const s = await station();
    for (let i = 0; i < N; i++) s.saveStatuses([{ code: codeFor(i), record }]);
    await s.saveCityPosition(pos(5));
    expect(s.loadStatuses()).toHaveLength(N);
    expect(await s.cityPosition()).toEqual(pos(5));
  });

  it('a bindings batch (which moves the position) is written after the status writes queued before it', async () => {
    const s = await station();
    for (let i = 0; i < N; i++) s.saveStatuses([{ code: codeFor(i), record }]);
    await s.applyCityBindings({ put: [bind(1)], del: [] }, pos(6));
    expect(s.loadStatuses()).toHaveLength(N);
  });
});

describe('a snapshot replaces every binding at its end', () => {
  it('keeps the bindings it holds, updates changed ones, removes absent ones, and saves the position', async () => {
    const s = await station();
    await s.putBindings([bind(1), bind(2), bind(3), bind(4)]);
    await s.saveCityPosition(pos(1));
    const w = await s.beginCitySnapshot();
    await w.add([bind(2), bind(3, 'ZZZZZZZZZ3')]);
    await w.add([bind(5), bind(2)]); // a card twice (HSCAN may return one more than once)
    // Until the end, every reader still sees the old set.
    expect(s.getBinding(cardIdFor(1))).toBeDefined();
    expect(s.getBinding(cardIdFor(5))).toBeUndefined();
    expect(await w.finish(pos(9))).toEqual({ bindings: 3, removed: 2 });
    expect(bindingsIn(s.file)).toEqual(new Map([[cardIdFor(2), codeFor(2)], [cardIdFor(3), 'ZZZZZZZZZ3'], [cardIdFor(5), codeFor(5)]]));
    expect(s.bindingCount).toBe(3);
    expect(await s.cityPosition()).toEqual(pos(9));
  });

  it('an empty snapshot removes every binding', async () => {
    const s = await station();
    await s.putBindings([bind(1), bind(2)]);
    const w = await s.beginCitySnapshot();
    expect(await w.finish(pos(2))).toEqual({ bindings: 0, removed: 2 });
    expect(s.bindingCount).toBe(0);
  });

  it('abort leaves the store exactly as it was before, and a later snapshot starts clean', async () => {
    const s = await station();
    await s.putBindings([bind(1), bind(2)]);
    await s.saveCityPosition(pos(1));
    const before = bindingsIn(s.file);
    const w = await s.beginCitySnapshot();
    await w.add([bind(3), bind(1, 'ZZZZZZZZZ1')]);
    await w.abort();
    expect(bindingsIn(s.file)).toEqual(before);
    expect(await s.cityPosition()).toEqual(pos(1));
    await expect(w.add([bind(4)])).rejects.toMatchObject({ code: 'HG_STORE' });
    const next = await s.beginCitySnapshot();
    await next.add([bind(2)]);
    expect(await next.finish(pos(2))).toEqual({ bindings: 1, removed: 1 });
    expect([...bindingsIn(s.file).keys()]).toEqual([cardIdFor(2)]);
  });

  it('a finish the store refuses (bad position) changes no binding; a bad row stages none of its batch', async () => {
    const s = await station();
    await s.putBindings([bind(1), bind(2)]);
    const before = bindingsIn(s.file);
    const w = await s.beginCitySnapshot();
    await w.add([bind(2)]);
    await expect(w.add([bind(7), { cardId: 'zz', hesCode: codeFor(8), profile: 'standard' }])).rejects.toMatchObject({ code: 'HG_CARD_ID_INVALID' });
    await expect(w.finish({ ...pos(3), changesSeq: -1 })).rejects.toMatchObject({ code: 'HG_STORE' });
    expect(bindingsIn(s.file)).toEqual(before);
    expect(await s.cityPosition()).toBeUndefined();
    // The staging survives a refused finish: the replica may retry it.
    expect(await w.finish(pos(3))).toEqual({ bindings: 1, removed: 1 });
    expect([...bindingsIn(s.file).keys()]).toEqual([cardIdFor(2)]);
  });

  it('a new snapshot replaces one left open; the old writer can no longer finish', async () => {
    const s = await station();
    const old = await s.beginCitySnapshot();
    await old.add([bind(1)]);
    const w = await s.beginCitySnapshot();
    await w.add([bind(2)]);
    await expect(old.finish(pos(1))).rejects.toMatchObject({ code: 'HG_STORE' });
    await old.abort(); // a no-op: it is not the one staged
    expect(await w.finish(pos(2))).toEqual({ bindings: 1, removed: 0 });
    expect([...bindingsIn(s.file).keys()]).toEqual([cardIdFor(2)]);
  });

  it('stages batches while another process holds the store\'s write lock (the staging is not in the store)', async () => {
    const s = await station({ busyTimeoutMs: 50 });
    const w = await s.beginCitySnapshot();
    const holder = await holdWriteLock(s.file);
    try {
      await w.add([bind(1), bind(2)]);
    } finally {
      await holder.release();
    }
    expect(await w.finish(pos(1))).toEqual({ bindings: 2, removed: 0 });
  });
});

describe('codesBetween: the bound codes of a checked range', () => {
  async function withCodes(): Promise<StationStore> {
    const s = await station();
    // Cards 0..9 → codes 0..4, two cards per code (a code is listed once).
    await s.putBindings(Array.from({ length: 10 }, (_, i) => bind(i, codeFor(Math.floor(i / 2)))));
    return s;
  }
  const c = (i: number) => codeFor(i);

  it('reads (after, through] in code order, open at a null bound, at most limit', async () => {
    const s = await withCodes();
    expect(s.codesBetween({ after: null, through: null }, 100)).toEqual([c(0), c(1), c(2), c(3), c(4)]);
    expect(s.codesBetween({ after: c(1), through: null }, 100)).toEqual([c(2), c(3), c(4)]);
    expect(s.codesBetween({ after: null, through: c(2) }, 100)).toEqual([c(0), c(1), c(2)]);
    expect(s.codesBetween({ after: c(0), through: c(3) }, 100)).toEqual([c(1), c(2), c(3)]);
    expect(s.codesBetween({ after: c(0), through: c(3) }, 2)).toEqual([c(1), c(2)]);
    expect(s.codesBetween({ after: null, through: null }, 0)).toEqual([]);
  });

  it('takes bounds that are not bound codes themselves, and an empty or inverted range', async () => {
    const s = await station();
    await s.putBindings([0, 2, 4, 6].map((i) => bind(i)));
    expect(s.codesBetween({ after: c(1), through: c(5) }, 100)).toEqual([c(2), c(4)]);
    expect(s.codesBetween({ after: null, through: c(3) }, 100)).toEqual([c(0), c(2)]);
    expect(s.codesBetween({ after: c(5), through: null }, 100)).toEqual([c(6)]);
    expect(s.codesBetween({ after: c(6), through: null }, 100)).toEqual([]);
    expect(s.codesBetween({ after: c(4), through: c(2) }, 100)).toEqual([]);
    expect(s.codesBetween({ after: c(2), through: c(2) }, 100)).toEqual([]);
  });

  it('every range is an index walk from its lower bound: no table scan, no sort, no temp table for DISTINCT', async () => {
    const s = await station();
    const db = new Database(s.file, { readonly: true });
    try {
      const expected = {
        none: /^SCAN bindings USING COVERING INDEX bindings_hes_code$/,
        after: /^SEARCH bindings USING COVERING INDEX bindings_hes_code \(hes_code>\?\)$/,
        through: /^SEARCH bindings USING COVERING INDEX bindings_hes_code \(hes_code<\?\)$/,
        both: /^SEARCH bindings USING COVERING INDEX bindings_hes_code \(hes_code>\? AND hes_code<\?\)$/,
      };
      for (const [bounds, sql] of Object.entries(CODE_RANGE_SQL)) {
        const plan = db.prepare<[Record<string, string | number>], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all({ after: 'A', through: 'B', limit: 1 });
        expect(plan.map((p) => p.detail), bounds).toEqual([expect.stringMatching(expected[bounds as keyof typeof expected])]);
      }
    } finally {
      db.close();
    }
  });

  it('reads on the read-only connection: it sees what the worker committed', async () => {
    const s = await station();
    expect(s.codesBetween({ after: null, through: null }, 10)).toEqual([]);
    await s.applyCityBindings({ put: [bind(1)], del: [] }, pos(1));
    expect(s.codesBetween({ after: null, through: null }, 10)).toEqual([c(1)]);
  });
});

/**
 * The tap path's in-memory binding index (src/cards/binding-index.ts) and how the station store
 * keeps it in step with every write path (src/cards/station-store.ts): a binding put or deleted
 * through the admin API, an import, a city replica's apply or snapshot, or another process
 * writing the file, is seen (or unseen) by the next tap. Each check first makes sure the taps
 * read the index, not the file: otherwise the file would answer and the check prove nothing.
 */
import { describe, expect, it } from 'vitest';
import { BindingIndex } from '../../src/cards/binding-index.js';
import { openCardStore } from '../../src/cards/store.js';
import { openStationStore } from '../../src/cards/station-store.js';
import type { CityPosition } from '../../src/cards/store-types.js';
import { SAMPLE } from '../../src/simulator/index.js';
import { startTestGate } from '../http/helpers.js';
import { cardIdFor, codeFor, tempDir } from './helpers.js';

const AUTH = { authorization: 'Bearer admin-token-1' };
const position = (changesSeq: number): CityPosition => ({ kid: 'k1', epoch: 'e1', changesId: `${changesSeq}-0`, changesSeq });

describe('the binding index', () => {
  it('answers as a Map would through puts, rebinds of other lengths, deletions and growth', () => {
    const index = new BindingIndex();
    const ref = new Map<string, { hesCode: string; profile: string }>();
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    // Ids of several lengths (4 to 20 bytes), some text an outside tool could write (not Latin-1,
    // longer than 255), and codes of other lengths: every shape goes through the same calls.
    const idOf = (i: number): string => {
      if (i % 97 === 0) return `кард-${i}`;
      if (i % 89 === 0) return 'F'.repeat(300) + i;
      return i.toString(16).toUpperCase().padStart(8 + 2 * (i % 17), '0');
    };
    for (let k = 0; k < 60_000; k++) {
      const id = idOf(rnd(8_000));
      if (rnd(10) < 4) {
        index.delete(id);
        ref.delete(id);
      } else {
        const hesCode = rnd(20) === 0 ? `X${k}` : codeFor(k);
        const profile = ['standard', 'student', 'senior', `p${rnd(5)}`][rnd(4)]!;
        index.set(id, hesCode, profile);
        ref.set(id, { hesCode, profile });
      }
    }
    expect(index.size).toBe(ref.size);
    for (let i = 0; i < 8_000; i++) expect(index.get(idOf(i))).toEqual(ref.get(idOf(i)));
  });
});

describe('the station store keeps its index in step with every write path', () => {
  it('admin API and import: the next tap through the whole gate sees each put and misses each deletion', async () => {
    const t = await startTestGate({ refresher: { enabled: false } }, { HES_GATE_ADMIN_TOKEN: 'admin-token-1' });
    try {
      await t.gate.cards.whenIndexed();
      const card = cardIdFor(1);
      const put = (hesCode: string): Promise<Response> =>
        fetch(`${t.url}/v1/cards/${card}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ hesCode }) });
      const tap = async (cardId: string): Promise<string> => (await t.post({ gate: 'G1', card: cardId })).body.reason as string;

      expect(await tap(card)).toBe('CARD_UNBOUND');
      expect((await put(SAMPLE.RISKLESS)).status).toBe(201);
      expect(await tap(card)).toBe('RISKLESS');
      expect((await put(SAMPLE.RISKY)).status).toBe(200);
      expect(await tap(card)).toBe('RISKY');
      expect((await fetch(`${t.url}/v1/cards/${card}`, { method: 'DELETE', headers: AUTH })).status).toBe(204);
      expect(await tap(card)).toBe('CARD_UNBOUND');

      // An import creates one binding and rebinds another.
      expect((await put(SAMPLE.RISKLESS)).status).toBe(201);
      const lines = [JSON.stringify({ cardId: cardIdFor(2), hesCode: SAMPLE.RISKY }), JSON.stringify({ cardId: card, hesCode: SAMPLE.RISKY })].join('\n');
      const imported = await fetch(`${t.url}/v1/cards/import`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, body: lines });
      expect(imported.status).toBe(200);
      expect(await tap(cardIdFor(2))).toBe('RISKY');
      expect(await tap(card)).toBe('RISKY');
      // The taps above read the index: it was never dropped for a reread.
      expect(t.gate.cards.indexed).toBe(true);
    } finally {
      await t.gate.close();
    }
  });

  it("a city replica's applies, a rolled-back apply, a snapshot, and another process's writes", async () => {
    const dir = tempDir();
    const seeded = openCardStore({ dataDir: dir });
    seeded.putBindings([0, 1, 2].map((i) => ({ cardId: cardIdFor(i), hesCode: codeFor(i) })));
    seeded.close();
    const store = await openStationStore({ dataDir: dir, indexPageSize: 2 });
    try {
      await store.whenIndexed();
      // Read in pages of two: all three are there.
      for (const i of [0, 1, 2]) expect(store.tapBinding(cardIdFor(i))).toEqual({ hesCode: codeFor(i), profile: 'standard' });

      await store.applyCityBindings({ put: [{ cardId: cardIdFor(3), hesCode: codeFor(3), profile: 'student' }, { cardId: cardIdFor(0), hesCode: codeFor(9), profile: 'standard' }], del: [cardIdFor(1)] }, position(1));
      expect(store.indexed).toBe(true);
      expect(store.tapBinding(cardIdFor(3))).toEqual({ hesCode: codeFor(3), profile: 'student' });
      expect(store.tapBinding(cardIdFor(0))).toEqual({ hesCode: codeFor(9), profile: 'standard' });
      expect(store.tapBinding(cardIdFor(1))).toBeUndefined();

      // A bad row rolls the whole batch back: its good rows before it never happened.
      await expect(store.applyCityBindings({ put: [{ cardId: cardIdFor(4), hesCode: codeFor(4), profile: 'standard' }, { cardId: 'nonsense', hesCode: codeFor(5), profile: 'standard' }], del: [] }, position(2))).rejects.toThrow();
      expect(store.tapBinding(cardIdFor(4))).toBeUndefined();

      // A snapshot replaces the table: the index is read again, and until then taps read the file.
      const snapshot = await store.beginCitySnapshot();
      await snapshot.add([{ cardId: cardIdFor(2), hesCode: codeFor(2) }, { cardId: cardIdFor(6), hesCode: codeFor(6), profile: 'senior' }]);
      await snapshot.finish(position(3));
      expect(store.indexed).toBe(false);
      expect(store.tapBinding(cardIdFor(6))).toEqual({ hesCode: codeFor(6), profile: 'senior' });
      await store.whenIndexed();
      expect(store.tapBinding(cardIdFor(6))).toEqual({ hesCode: codeFor(6), profile: 'senior' });
      expect(store.tapBinding(cardIdFor(2))).toEqual({ hesCode: codeFor(2), profile: 'standard' });
      for (const i of [0, 3]) expect(store.tapBinding(cardIdFor(i))).toBeUndefined();

      // Another process (the import command) writes the file: once the service looks (an exact
      // count here; its recount timer otherwise), the index is read again.
      const other = openCardStore({ dataDir: dir });
      other.putBinding({ cardId: cardIdFor(7), hesCode: codeFor(7) });
      other.deleteBinding(cardIdFor(6));
      other.close();
      expect(await store.countBindings()).toBe(2);
      expect(store.indexed).toBe(false);
      await store.whenIndexed();
      expect(store.tapBinding(cardIdFor(7))).toEqual({ hesCode: codeFor(7), profile: 'standard' });
      expect(store.tapBinding(cardIdFor(6))).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

/**
 * The status cache's table: least-recently-used order and eviction, and the oldest fetched-at
 * kept without a walk — checked against a plain model over a long deterministic churn.
 */
import { describe, expect, it } from 'vitest';
import { StatusCache } from '../../src/status/status-cache.js';
import { StatusTable, type Entry } from '../../src/status/status-table.js';

const entry = (fetchedS: number, kind: Entry['kind'] = 0): Entry => ({ kind, expiresS: fetchedS + 100, fetchedS, plus: undefined });

/** A seeded generator (mulberry32): the same churn on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('StatusTable', () => {
  it('evicts the least recently used: get and set count as a use, peek does not', () => {
    const t = new StatusTable(3);
    t.set('A', entry(1));
    t.set('B', entry(2));
    t.set('C', entry(3));
    expect(t.get('A')).toEqual(entry(1)); // A is now the most recent; B the least
    expect(t.peek('B')).toEqual(entry(2)); // a peek leaves B the least recent
    t.set('D', entry(4));
    expect(t.peek('B')).toBeUndefined();
    t.set('C', entry(5)); // an update is a use: A is now the least recent
    t.set('E', entry(6));
    expect(t.peek('A')).toBeUndefined();
    expect([t.peek('C'), t.peek('D'), t.peek('E')].map((e) => e?.fetchedS)).toEqual([5, 4, 6]);
    expect(t.size).toBe(3);
  });

  it('keeps plus fields per code, and forgets them with the code', () => {
    const t = new StatusTable(2);
    const plus = { isVaccinated: true, isImmune: null, isTestDataShared: null, lastNegativeTestAt: null };
    t.set('A', { ...entry(1), plus });
    t.set('B', entry(1));
    expect(t.peek('A')?.plus).toEqual(plus);
    expect(t.peek('B')?.plus).toBeUndefined();
    t.set('C', entry(2)); // evicts A; C may reuse its slot
    t.set('A', entry(3));
    expect(t.peek('A')?.plus).toBeUndefined();
    expect(t.peek('C')?.plus).toBeUndefined();
  });

  it('matches a plain LRU model and its oldest fetched-at over a long churn', () => {
    const capacity = 500;
    const t = new StatusTable(capacity);
    const model = new Map<string, Entry>(); // insertion order = least recent first
    const rnd = random(10);
    for (let i = 0; i < 50_000; i++) {
      const n = Math.floor(rnd() * 1500);
      const code = n % 3 === 0 ? `c-${n}` : `C${n}`; // most pack into integers, some do not
      const r = rnd();
      if (r < 0.5) {
        const e = entry(Math.floor(rnd() * 1000) - 200, (i % 6) as Entry['kind']);
        t.set(code, e);
        model.delete(code);
        model.set(code, e);
        if (model.size > capacity) model.delete(model.keys().next().value!);
      } else if (r < 0.8) {
        const held = model.get(code);
        if (held !== undefined) {
          model.delete(code);
          model.set(code, held);
        }
        expect(t.get(code)).toEqual(held);
      } else if (r < 0.9) {
        expect(t.peek(code)).toEqual(model.get(code));
      } else {
        expect(t.delete(code)).toBe(model.delete(code));
      }
      if (i % 97 === 0) {
        expect(t.size).toBe(model.size);
        const oldest = model.size === 0 ? undefined : Math.min(...[...model.values()].map((e) => e.fetchedS));
        expect(t.oldestFetchedS()).toBe(oldest);
      }
    }
    for (const [code, e] of model) expect(t.peek(code)).toEqual(e);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new StatusTable(0)).toThrow(TypeError);
    expect(() => new StatusTable(1.5)).toThrow(TypeError);
  });
});

describe('StatusCache oldest age', () => {
  it('follows replacements, evictions and expiry of last-known statuses', () => {
    const T0 = Date.UTC(2021, 0, 1);
    const cache = new StatusCache({ risklessTtlMs: 1000, riskyTtlMs: 5000, notFoundTtlMs: 2000, expiredTtlMs: 3000, lastKnownMaxAgeMs: 60_000, maxEntries: 2 }, T0);
    expect(cache.oldestAgeMs(T0)).toBe(0);
    cache.put('A', { kind: 'not-found' }, T0);
    cache.put('B', { kind: 'not-found' }, T0 + 10_000);
    expect(cache.oldestAgeMs(T0 + 30_000)).toBe(30_000);
    cache.put('A', { kind: 'not-found' }, T0 + 20_000); // A refreshed: B is now the oldest
    expect(cache.oldestAgeMs(T0 + 30_000)).toBe(20_000);
    cache.put('C', { kind: 'not-found' }, T0 + 25_000); // evicts B, the least recently used
    expect(cache.oldestAgeMs(T0 + 30_000)).toBe(10_000);
    expect(cache.lastKnown('A', T0 + 81_000)).toBeUndefined(); // past the maximum age: dropped
    expect(cache.oldestAgeMs(T0 + 81_000)).toBe(56_000);
  });
});

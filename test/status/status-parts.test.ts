/** Unit tests of the status service's parts: the single-flight lookup with its budget, and the cache's entries. */
import { describe, expect, it } from 'vitest';
import { HesGateError } from '../../src/errors.js';
import { within } from '../../src/deadline.js';
import { answerOf, MinistryLookups } from '../../src/status/ministry-lookup.js';
import { StatusCache } from '../../src/status/status-cache.js';
import { PersistBatch } from '../../src/status/status-persistence.js';
import type { MinistryLookup } from '../../src/types.js';

const T0 = Date.UTC(2021, 0, 1);

describe('MinistryLookups', () => {
  it('shares one call per code, settles it once, and turns a rejection into an error value', async () => {
    const resolvers: Array<(r: MinistryLookup) => void> = [];
    let settled = 0;
    const counters = { ministryCalls: 0, coalesced: 0 };
    const calls = new MinistryLookups<string>(
      (code) => (code === 'BAD' ? Promise.reject(new Error('boom')) : new Promise((resolve) => resolvers.push(resolve))),
      counters,
      (code, result) => {
        settled++;
        return result instanceof HesGateError ? `${code}:${result.code}` : `${code}:${result.kind}`;
      },
    );
    const a = calls.ask('A');
    const b = calls.ask('A');
    expect(calls.size).toBe(1);
    resolvers[0]!({ kind: 'not-found' });
    expect(await Promise.all([a, b])).toEqual(['A:not-found', 'A:not-found']);
    expect(await calls.ask('BAD')).toBe('BAD:HG_INTERNAL');
    expect({ settled, ...counters }).toEqual({ settled: 2, ministryCalls: 2, coalesced: 1 });
    await calls.drain();
    expect(calls.size).toBe(0);
  });

  it('within: the result on time, the fallback at the budget, and the fallback at once for no budget', async () => {
    let release!: (v: number) => void;
    const slow = new Promise<number>((resolve) => (release = resolve));
    expect(within(slow, 0, (v) => v, () => -1)).toBe(-1);
    const timedOut = within(slow, 1, (v) => v, () => -1);
    expect(await timedOut).toBe(-1);
    const onTime = within(slow, 10_000, (v) => v * 2, () => -1);
    release(21);
    expect(await onTime).toBe(42);
  });

  it('answerOf: an unknown health status is an answer, other failures are not', () => {
    expect(answerOf(new HesGateError('HG_MINISTRY_UNKNOWN_STATUS', 'x'))).toEqual({ kind: 'unrecognised' });
    expect(answerOf(new HesGateError('HG_MINISTRY_TIMEOUT', 'x'))).toBeUndefined();
    expect(answerOf({ kind: 'expired' })).toEqual({ kind: 'expired' });
  });
});

describe('StatusCache and PersistBatch', () => {
  const opts = { risklessTtlMs: 1000, riskyTtlMs: 5000, notFoundTtlMs: 2000, expiredTtlMs: 3000, lastKnownMaxAgeMs: 10_000, maxEntries: 10 };

  it('keeps each kind fresh for its own time, and drops an answer older than the one held', () => {
    const cache = new StatusCache(opts, T0);
    cache.put('A', { kind: 'status', status: 'RISKLESS', expiresAt: T0 + 60_000 }, T0);
    cache.put('B', { kind: 'unrecognised' }, T0);
    expect(cache.fresh('A', T0 + 999)).toBeDefined();
    expect(cache.fresh('A', T0 + 1000)).toBeUndefined();
    expect(cache.fresh('B', T0 + 1999)).toBeDefined();
    expect(cache.fresh('B', T0 + 2000)).toBeUndefined();
    expect(cache.put('A', { kind: 'not-found' }, T0 - 5000).held).toBe(false);
    expect(cache.lastKnown('A', T0 + 10_000)).toMatchObject({ status: 'RISKLESS' });
    expect(cache.lastKnown('A', T0 + 10_001)).toBeUndefined();
  });

  it('repairs toward the city\'s answer whatever the times, but keeps a newer RISKY learned here', () => {
    const cache = new StatusCache({ ...opts, lastKnownMaxAgeMs: 86_400_000 }, T0);
    const risky = { kind: 'status', status: 'RISKY', expiresAt: T0 + 60_000 } as const;
    const riskless = { kind: 'status', status: 'RISKLESS', expiresAt: T0 + 60_000 } as const;
    const now = T0 + 10_000;
    cache.put('SAME', risky, T0);
    expect(cache.repair('SAME', risky, T0 - 5000, now)).toBe('same');
    // A row edited to RISKLESS, dated in the future: the city's older RISKY is held anyway.
    cache.put('FUTURE', riskless, T0 + 3_600_000);
    expect(cache.repair('FUTURE', risky, T0, now)).toMatchObject({ fetchedS: 0 });
    expect(cache.lastKnown('FUTURE', now)).toMatchObject({ status: 'RISKY', fetchedAt: T0 });
    // An older RISKLESS held here, or a newer one: the city's RISKY wins either way.
    cache.put('NEWER-RISKLESS', riskless, T0 + 5000);
    expect(cache.repair('NEWER-RISKLESS', risky, T0, now)).not.toBe('kept');
    // A RISKY this node learned after the city's RISKLESS (its next rotation will say so): kept.
    cache.put('NEWER-RISKY', risky, T0 + 5000);
    expect(cache.repair('NEWER-RISKY', riskless, T0, now)).toBe('kept');
    expect(cache.lastKnown('NEWER-RISKY', now)).toMatchObject({ status: 'RISKY' });
    // …but a RISKY dated in the future is no newer answer: the city's RISKLESS is held.
    cache.put('FUTURE-RISKY', risky, T0 + 3_600_000);
    expect(cache.repair('FUTURE-RISKY', riskless, T0, now)).not.toBe('kept');
    expect(cache.lastKnown('FUTURE-RISKY', now)).toMatchObject({ status: 'RISKLESS' });
    expect(cache.repair('UNKNOWN', risky, T0, now)).toBe('same');
  });

  it('persists RISKLESS and RISKY without plus fields, expired and not-found as findings, deletes the rest', () => {
    const cache = new StatusCache(opts, T0);
    const batch = new PersistBatch(cache);
    const plus = { isVaccinated: true, isImmune: null, isTestDataShared: null, lastNegativeTestAt: null };
    batch.add('A', cache.put('A', { kind: 'status', status: 'RISKLESS', expiresAt: T0 + 60_000, plus }, T0).entry);
    batch.add('B', cache.put('B', { kind: 'not-found' }, T0).entry);
    batch.add('C', cache.put('C', { kind: 'expired' }, T0 + 1000).entry);
    // A RISKLESS whose expiry has passed is as good as the ministry's "expired".
    batch.add('D', cache.put('D', { kind: 'status', status: 'RISKLESS', expiresAt: T0, plus }, T0 + 2000).entry);
    batch.add('E', cache.put('E', { kind: 'unrecognised' }, T0).entry);
    const written: unknown[] = [];
    batch.flush({
      saveStatuses: (items) => written.push(['save', items]),
      saveFindings: (items) => written.push(['found', items]),
      deleteStatuses: (codes) => written.push(['delete', codes]),
      pruneFindings: (before) => written.push(['prune', before]),
      loadStatuses: () => [],
    });
    expect(written).toEqual([
      ['save', [{ code: 'A', record: { status: 'RISKLESS', expiresAt: T0 + 60_000, fetchedAt: T0 } }]],
      [
        'found',
        [
          { code: 'B', kind: 'not-found', at: T0 },
          { code: 'C', kind: 'expired', at: T0 + 1000 },
          { code: 'D', kind: 'expired', at: T0 + 2000 },
        ],
      ],
      ['delete', ['E']],
    ]);
  });
});

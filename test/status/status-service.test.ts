import { describe, expect, it } from 'vitest';
import { StatusService, type StatusCacheOptions } from '../../src/status/status-service.js';
import { HesGateError } from '../../src/errors.js';
import type { MinistryLookup } from '../../src/types.js';
import type { PersistedStatus, StatusPersistence } from '../../src/status/types.js';

const T0 = Date.UTC(2021, 0, 1);
const ttl: StatusCacheOptions = {
  risklessTtlMs: 600_000,
  riskyTtlMs: 21_600_000,
  notFoundTtlMs: 60_000,
  expiredTtlMs: 3_600_000,
  lastKnownMaxAgeMs: 86_400_000,
  maxEntries: 1000,
};

/** A ministry whose answers the test releases by hand: no timers, no sleeps. */
function controllableMinistry() {
  const pending: Array<{ code: string; resolve: (r: MinistryLookup) => void; reject: (e: unknown) => void }> = [];
  const fn = (code: string) =>
    new Promise<MinistryLookup>((resolve, reject) => {
      pending.push({ code, resolve, reject });
    });
  return { fn, pending };
}

function setup(extra: Partial<ConstructorParameters<typeof StatusService>[0]> = {}) {
  let now = T0;
  const ministry = controllableMinistry();
  const service = new StatusService({ ...ttl, ministry: ministry.fn, clock: () => now, ...extra });
  return { service, ministry, advance: (ms: number) => (now += ms), now: () => now };
}

const riskless = (expiresAt = T0 + 365 * 86_400_000): MinistryLookup => ({ kind: 'status', status: 'RISKLESS', expiresAt });

describe('StatusService', () => {
  it('answers from the ministry, then from the cache', async () => {
    const { service, ministry } = setup();
    const first = service.lookup('A1B2345678', 1000);
    expect(ministry.pending).toHaveLength(1);
    ministry.pending[0]!.resolve(riskless());
    expect(await first).toMatchObject({ kind: 'status', source: 'ministry', record: { status: 'RISKLESS' } });
    expect(service.lookup('A1B2345678', 1000)).toMatchObject({ kind: 'status', source: 'cache' });
    expect(service.counters).toMatchObject({ hits: 1, misses: 1, ministryCalls: 1 });
  });

  it('shares one ministry call among concurrent lookups of one code', async () => {
    const { service, ministry } = setup();
    const lookups = Array.from({ length: 1000 }, () => service.lookup('A1B2345678', 1000));
    expect(ministry.pending).toHaveLength(1);
    ministry.pending[0]!.resolve(riskless());
    const results = await Promise.all(lookups);
    expect(results.every((r) => r.kind === 'status')).toBe(true);
    expect(service.counters.ministryCalls).toBe(1);
    expect(service.counters.coalesced).toBe(999);
  });

  it('ends the wait at the budget without ending the call, which then fills the cache', async () => {
    const { service, ministry } = setup();
    const outcome = await service.lookup('A1B2345678', 5);
    expect(outcome).toEqual({ kind: 'unavailable' });
    expect(service.inflightCount).toBe(1);
    ministry.pending[0]!.resolve(riskless());
    await service.drain();
    expect(service.lookup('A1B2345678', 5)).toMatchObject({ kind: 'status', source: 'cache' });
  });

  it('offers the last-known status when the ministry fails', async () => {
    const { service, ministry, advance } = setup();
    service.ingest('A1B2345678', riskless(), T0);
    advance(ttl.risklessTtlMs + 1);
    const p = service.lookup('A1B2345678', 1000);
    ministry.pending[0]!.reject(new HesGateError('HG_MINISTRY_SERVER_ERROR', 'ministry answered 503'));
    const outcome = await p;
    expect(outcome).toMatchObject({ kind: 'unavailable', lastKnown: { status: 'RISKLESS', fetchedAt: T0 } });
    expect(service.counters.stale).toBe(1);
  });

  it('keeps RISKLESS fresh no longer than its TTL nor past the code expiry', () => {
    const { service, advance } = setup();
    service.ingest('A1B2345678', riskless(T0 + 1000), T0);
    expect(service.fresh('A1B2345678', T0 + 999)).toBeDefined();
    expect(service.fresh('A1B2345678', T0 + 1000)).toBeUndefined();
    service.ingest('C3D4567890', riskless(), T0);
    advance(ttl.risklessTtlMs);
    expect(service.fresh('C3D4567890', T0 + ttl.risklessTtlMs)).toBeUndefined();
  });

  it('keeps RISKY longer than RISKLESS, and not-found briefly', () => {
    const { service } = setup();
    service.ingest('C3D4567890', { kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000 }, T0);
    service.ingest('E5F6789012', { kind: 'not-found' }, T0);
    const later = T0 + ttl.risklessTtlMs + 1;
    expect(service.fresh('C3D4567890', later)).toMatchObject({ record: { status: 'RISKY' } });
    expect(service.fresh('E5F6789012', T0 + ttl.notFoundTtlMs - 1)).toEqual({ kind: 'not-found', source: 'cache' });
    expect(service.fresh('E5F6789012', T0 + ttl.notFoundTtlMs)).toBeUndefined();
  });

  it('forgets a status past the maximum last-known age', () => {
    const { service } = setup();
    service.ingest('A1B2345678', riskless(), T0);
    expect(service.lastKnown('A1B2345678', T0 + ttl.lastKnownMaxAgeMs)).toBeDefined();
    expect(service.lastKnown('A1B2345678', T0 + ttl.lastKnownMaxAgeMs + 1)).toBeUndefined();
    expect(service.size).toBe(0);
  });

  it('ignores an answer older than the one it holds', () => {
    const { service } = setup();
    service.ingest('A1B2345678', { kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000 }, T0 + 10);
    service.ingest('A1B2345678', riskless(), T0);
    expect(service.fresh('A1B2345678', T0 + 20)).toMatchObject({ record: { status: 'RISKY' } });
  });

  it('keeps RISKY over RISKLESS when both arrive within the same second', () => {
    const { service } = setup();
    service.ingest('A1B2345678', { kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000 }, T0 + 400);
    service.ingest('A1B2345678', riskless(), T0 + 600);
    expect(service.fresh('A1B2345678', T0 + 700)).toMatchObject({ record: { status: 'RISKY' } });
    service.ingest('A1B2345678', riskless(), T0 + 1600);
    expect(service.fresh('A1B2345678', T0 + 1700)).toMatchObject({ record: { status: 'RISKLESS' } });
  });

  it('holds a far-future expiry (2070) and a long-past one correctly', () => {
    const { service } = setup();
    const farFuture = Date.UTC(2070, 11, 31, 20, 59, 59);
    service.ingest('A1B2345678', riskless(farFuture), T0);
    const rec = service.lastKnown('A1B2345678', T0)!;
    expect(rec.expiresAt).toBeGreaterThan(T0 + 30 * 365 * 86_400_000);
    service.ingest('L2M3456789', riskless(Date.UTC(2020, 0, 1)), T0);
    expect(service.fresh('L2M3456789', T0)).toEqual({ kind: 'expired', source: 'cache' });
  });

  it('persists bound codes and restores them with their fetch time', () => {
    const rows = new Map<string, PersistedStatus>();
    const persistence: StatusPersistence = {
      saveStatuses: (items) => items.forEach((i) => rows.set(i.code, i)),
      loadStatuses: () => rows.values(),
      deleteStatuses: (codes) => codes.forEach((c) => rows.delete(c)),
      // A finding replaces the code's status, as in the store.
      saveFindings: (items) => items.forEach((i) => rows.delete(i.code)),
      pruneFindings: () => undefined,
    };
    const a = setup({ persistence });
    a.service.ingest('Z9Z9999999', riskless(), T0); // a validator's one-off code: memory only
    a.service.ingestMany(
      [
        ['A1B2345678', riskless()],
        ['C3D4567890', { kind: 'status', status: 'RISKY', expiresAt: T0 + 1 }],
        ['E5F6789012', { kind: 'not-found' }],
      ],
      T0,
    );
    expect([...rows.keys()].sort()).toEqual(['A1B2345678', 'C3D4567890']);

    const b = setup({ persistence });
    b.advance(ttl.risklessTtlMs + 5);
    expect(b.service.restore()).toBe(2);
    expect(b.service.lastKnown('A1B2345678', b.now())).toEqual({ status: 'RISKLESS', expiresAt: T0 + 365 * 86_400_000, fetchedAt: T0 });
  });

  describe('a health status neither RISKLESS nor RISKY (issue 13)', () => {
    const unknownStatus = () => new HesGateError('HG_MINISTRY_UNKNOWN_STATUS', 'unknown health status for N4P5-****-**');

    it('is held as briefly as not-found, counted, and not asked again meanwhile', async () => {
      const { service, ministry, advance } = setup();
      const first = service.lookup('N4P5678901', 1000);
      ministry.pending[0]!.reject(unknownStatus());
      expect(await first).toEqual({ kind: 'unavailable' });
      expect(service.counters.unrecognised).toBe(1);
      expect(service.lookup('N4P5678901', 1000)).toEqual({ kind: 'unavailable' });
      expect(ministry.pending).toHaveLength(1);
      advance(ttl.notFoundTtlMs);
      void service.lookup('N4P5678901', 0);
      expect(ministry.pending).toHaveLength(2);
    });

    it('takes a RISKLESS held before out of play, and keeps a RISKY holder denied', () => {
      const { service } = setup();
      service.ingest('A1B2345678', riskless(), T0);
      service.ingest('C3D4567890', { kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000 }, T0);
      service.ingest('A1B2345678', unknownStatus(), T0 + 1000);
      service.ingest('C3D4567890', unknownStatus(), T0 + 1000);
      expect(service.fresh('A1B2345678', T0 + 2000)).toEqual({ kind: 'unavailable' });
      expect(service.lastKnown('A1B2345678', T0 + 2000)).toBeUndefined();
      expect(service.fresh('C3D4567890', T0 + 2000)).toMatchObject({ kind: 'unavailable', lastKnown: { status: 'RISKY' } });
      expect(service.lastKnown('C3D4567890', T0 + ttl.notFoundTtlMs + 2000)).toMatchObject({ status: 'RISKY' });
      expect(service.counters.unrecognised).toBe(2);
    });

    it('from the refresher: a RISKLESS row is deleted, a RISKY row is kept for a restart', () => {
      const rows = new Map<string, PersistedStatus>();
      const persistence: StatusPersistence = {
        saveStatuses: (items) => items.forEach((i) => rows.set(i.code, i)),
        loadStatuses: () => rows.values(),
        deleteStatuses: (codes) => codes.forEach((c) => rows.delete(c)),
        saveFindings: (items) => items.forEach((i) => rows.delete(i.code)),
        pruneFindings: () => undefined,
      };
      const { service } = setup({ persistence });
      service.ingestMany([['A1B2345678', riskless()], ['C3D4567890', { kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000 }]], T0);
      service.ingestMany([['A1B2345678', unknownStatus()], ['C3D4567890', unknownStatus()]], T0 + 1000);
      expect([...rows.keys()]).toEqual(['C3D4567890']);
      expect(rows.get('C3D4567890')?.record).toMatchObject({ status: 'RISKY', fetchedAt: T0 });
    });
  });
});

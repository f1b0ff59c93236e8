/**
 * The status service as a city replica (ReplicaStatus) and its hook for sharing taps' ministry
 * answers: shared answers held at their own time (the newer wins), rotation confirmations that
 * re-stamp only what is held and only forward, persistence through the status write path, and
 * onAnswer for the answers a tap's own ministry call got — nothing else.
 */
import { describe, expect, it } from 'vitest';
import { StatusService, type StatusCacheOptions } from '../../../src/status/status-service.js';
import type { Answer, PersistedFinding, PersistedStatus, StatusPersistence } from '../../../src/status/types.js';
import type { MinistryLookup } from '../../../src/types.js';
import type { SharedStatus } from '../../../src/city/wire.js';
import { HesGateError } from '../../../src/errors.js';

const T0 = Date.UTC(2021, 0, 1);
const YEAR = 365 * 86_400_000;
const ttl: StatusCacheOptions = {
  risklessTtlMs: 600_000,
  riskyTtlMs: 21_600_000,
  notFoundTtlMs: 60_000,
  expiredTtlMs: 3_600_000,
  lastKnownMaxAgeMs: 86_400_000,
  maxEntries: 1000,
};
const A = 'A1B2345678';
const B = 'B1B2345678';
const C = 'C1B2345678';

/** What the service wrote to its persistence, in order. */
function recording() {
  const saved: PersistedStatus[] = [];
  const found: PersistedFinding[] = [];
  const deleted: string[] = [];
  const persistence: StatusPersistence = {
    saveStatuses: (items) => void saved.push(...items),
    saveFindings: (items) => void found.push(...items),
    deleteStatuses: (codes) => void deleted.push(...codes),
    pruneFindings: () => undefined,
    loadStatuses: () => [],
  };
  return { persistence, saved, found, deleted };
}

function setup(extra: Partial<ConstructorParameters<typeof StatusService>[0]> = {}) {
  let now = T0;
  const pending: Array<{ code: string; resolve: (r: MinistryLookup) => void; reject: (e: unknown) => void }> = [];
  const ministry = (code: string) => new Promise<MinistryLookup>((resolve, reject) => void pending.push({ code, resolve, reject }));
  const service = new StatusService({ ...ttl, ministry, clock: () => now, ...extra });
  return { service, pending, advance: (ms: number) => (now += ms), now: () => now };
}

const riskless = { kind: 'status', status: 'RISKLESS', expiresAt: T0 + YEAR } as const;
const risky = { kind: 'status', status: 'RISKY', expiresAt: T0 + YEAR } as const;
const shared = (code: string, answer: SharedStatus['answer'], at: number): SharedStatus => ({ code, answer, at });

describe('ingestShared', () => {
  it('holds each answer at its own time: a newer one replaces what is held, an older one is dropped', () => {
    const { service } = setup();
    service.ingestShared([shared(A, riskless, T0)], false);
    expect(service.lookup(A, 0)).toMatchObject({ kind: 'status', source: 'cache', record: { status: 'RISKLESS', fetchedAt: T0 } });
    service.ingestShared([shared(A, risky, T0 - 5_000)], false);
    expect(service.lastKnown(A, T0)).toMatchObject({ status: 'RISKLESS', fetchedAt: T0 });
    service.ingestShared([shared(A, risky, T0 + 5_000), shared(B, { kind: 'not-found' }, T0)], false);
    expect(service.lastKnown(A, T0 + 5_000)).toMatchObject({ status: 'RISKY', fetchedAt: T0 + 5_000 });
    expect(service.lookup(B, 0)).toEqual({ kind: 'not-found', source: 'cache' });
  });

  it('persists held answers only when asked, through the status write path, and never an older one', () => {
    const rec = recording();
    const { service } = setup({ persistence: rec.persistence });
    service.ingestShared([shared(A, riskless, T0)], false);
    expect(rec.saved).toEqual([]);
    service.ingestShared([shared(A, risky, T0 + 1_000), shared(B, riskless, T0), shared(C, { kind: 'not-found' }, T0)], true);
    expect(rec.saved).toEqual([
      { code: A, record: { status: 'RISKY', expiresAt: T0 + YEAR, fetchedAt: T0 + 1_000 } },
      { code: B, record: { status: 'RISKLESS', expiresAt: T0 + YEAR, fetchedAt: T0 } },
    ]);
    // A finding is persisted (for a hub's vehicle list), replacing the code's status.
    expect(rec.found).toEqual([{ code: C, kind: 'not-found', at: T0 }]);
    expect(rec.deleted).toEqual([]);
    service.ingestShared([shared(A, riskless, T0)], true);
    expect(rec.saved).toHaveLength(2);
  });

  it('drops an answer already past the last-known maximum age, and does not count a shared unrecognised status', () => {
    const { service, advance } = setup();
    advance(ttl.lastKnownMaxAgeMs + 10_000);
    service.ingestShared([shared(A, riskless, T0), shared(B, { kind: 'unrecognised' }, T0 + ttl.lastKnownMaxAgeMs)], false);
    expect(service.size).toBe(1);
    expect(service.counters.unrecognised).toBe(0);
  });
});

describe('confirm', () => {
  it('re-stamps held answers when the confirmation is newer, and counts only held codes', () => {
    const { service, advance, now } = setup();
    service.ingestShared([shared(A, riskless, T0), shared(B, risky, T0)], false);
    advance(ttl.risklessTtlMs + 1);
    expect(service.fresh(A, now())).toBeUndefined();
    expect(service.confirm([A, B, C], now())).toBe(2);
    expect(service.fresh(A, now())).toBeDefined();
    // Held at the cache's one-second resolution: the confirmation's second.
    expect(service.lastKnown(A, now())).toMatchObject({ status: 'RISKLESS', fetchedAt: T0 + ttl.risklessTtlMs });
    expect(service.lastKnown(B, now())).toMatchObject({ status: 'RISKY' });
    expect(service.size).toBe(2); // C was not held, and confirming does not invent it
  });

  it('never moves an answer back in time', () => {
    const { service } = setup();
    service.ingestShared([shared(A, riskless, T0 + 60_000)], false);
    expect(service.confirm([A], T0)).toBe(1);
    expect(service.lastKnown(A, T0 + 60_000)).toMatchObject({ fetchedAt: T0 + 60_000 });
  });

  it('persists what it re-stamped, like a refresh', () => {
    const rec = recording();
    const { service } = setup({ persistence: rec.persistence });
    service.ingestShared([shared(A, riskless, T0), shared(B, riskless, T0 + 120_000)], false);
    service.confirm([A, B, C], T0 + 60_000);
    expect(rec.saved).toEqual([{ code: A, record: { status: 'RISKLESS', expiresAt: T0 + YEAR, fetchedAt: T0 + 60_000 } }]);
  });
});

describe('onAnswer', () => {
  it('fires for the ministry answers of taps\' lookups, with when they were held', async () => {
    const heard: Array<[string, Answer, number]> = [];
    const { service, pending, advance, now } = setup({ onAnswer: (code, answer, at) => void heard.push([code, answer, at]) });
    const a = service.lookup(A, 1000);
    const b = service.lookup(B, 1000);
    const c = service.lookup(C, 1000);
    advance(250);
    pending[0]!.resolve(riskless);
    pending[1]!.resolve({ kind: 'not-found' });
    pending[2]!.reject(new HesGateError('HG_MINISTRY_SERVER_ERROR', 'ministry answered 503'));
    await Promise.all([a, b, c]);
    expect(heard).toEqual([
      [A, riskless, now()],
      [B, { kind: 'not-found' }, now()],
    ]);
    // A cache hit asks nobody and shares nothing.
    service.lookup(A, 1000);
    expect(heard).toHaveLength(2);
  });

  it('does not fire for the refresher\'s answers, shared ones, ingested ones or confirmations', () => {
    const heard: string[] = [];
    const { service } = setup({ onAnswer: (code) => void heard.push(code) });
    service.ingestMany([[A, riskless]], T0);
    service.ingestShared([shared(B, risky, T0)], true);
    service.ingest(C, riskless, T0);
    service.confirm([A, B, C], T0 + 60_000);
    expect(heard).toEqual([]);
  });

  it('a hook that throws does not fail the tap, and the answer is still held', async () => {
    const { service, pending } = setup({
      onAnswer: () => {
        throw new Error('sharer broke');
      },
    });
    const a = service.lookup(A, 1000);
    pending[0]!.resolve(risky);
    expect(await a).toMatchObject({ kind: 'status', source: 'ministry', record: { status: 'RISKY' } });
    expect(service.lookup(A, 1000)).toMatchObject({ kind: 'status', source: 'cache' });
  });
});

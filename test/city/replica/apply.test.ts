/**
 * Applying change entries, without Redis: a real StationStore in a temp dir and a real
 * StatusService. A run of entries that are only statuses (or malformed) has no bindings batch to
 * carry the position, so the position must be saved on its own after the run — or a restart
 * re-reads them, and `caughtUp()` (which waits for the saved position) never settles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { applyChanges, type ApplyTarget, type StreamEntry } from '../../../src/city/replica/apply.js';
import type { CityPosition } from '../../../src/city/types.js';
import { CityWire } from '../../../src/city/wire.js';
import { HesGateError } from '../../../src/errors.js';
import { StatusService } from '../../../src/status/status-service.js';
import { Trust } from '../../../src/city/identity/trust.js';
import { binding, codeFor, newKey, newNodeKey, risky, riskless, T0 } from './helpers.js';

describe('applying a run of change entries', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  async function target(): Promise<{ t: ApplyTarget; store: StationStore; status: StatusService }> {
    const dir = mkdtempSync(join(tmpdir(), 'hg-apply-'));
    const store = await openStationStore({ dataDir: dir, clock: () => T0 });
    cleanup.push(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const status = new StatusService({
      risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 1000,
      ministry: () => Promise.reject(new HesGateError('HG_MINISTRY_SERVER_ERROR', 'no ministry in this test')),
      clock: () => T0,
      persistence: store,
    });
    const key = newKey();
    // Entries signed as hub-1, whose key the registry holds (read from this stand-in for the registry hash).
    const hubKey = newNodeKey();
    const wire = new CityWire(key, cityKeyspace(key.kid), { nodeId: 'hub-1', key: hubKey });
    const record = JSON.stringify({ role: 'hub', key: hubKey.publicKey, added: T0, revoked: null });
    const trust = new Trust({ redis: { get: async () => '1', hgetall: async () => ({ 'hub-1': record }) }, keys: cityKeyspace(key.kid) });
    await trust.refresh();
    return { t: { wire, store, status, counters: { malformed: 0, entriesApplied: 0, lookupsApplied: 0 }, nodeId: 'st-1', trust, clock: () => T0 }, store, status };
  }

  const start: CityPosition = { kid: 'k1', epoch: 'epoch-1', changesId: '0-0', changesSeq: 0 };

  it('saves the position after a run of statuses-only entries, and says so', async () => {
    const { t, store, status } = await target();
    const entries: StreamEntry[] = [
      ['1-0', t.wire.statusesEntry({ at: T0, answers: [[codeFor(1), riskless]] }, 'hub-1', 1)],
      ['2-0', t.wire.statusesEntry({ at: T0, answers: [[codeFor(2), risky]] }, 'hub-1', 1)],
    ];
    const saved: CityPosition[] = [];
    const end = await applyChanges(t, entries, start, { moved: () => undefined, saved: (p) => saved.push({ ...p }) });
    const expected = { ...start, changesId: '2-0', changesSeq: 2 };
    expect(end).toEqual(expected);
    expect(t.counters).toMatchObject({ entriesApplied: 2, malformed: 0 });
    expect(status.lastKnown(codeFor(2), T0)?.status).toBe('RISKY');
    expect(saved).toEqual([expected]);
    expect(await store.cityPosition()).toEqual(expected);
  });

  it('saves the position of statuses that follow the last bindings batch of a run', async () => {
    const { t, store } = await target();
    const entries: StreamEntry[] = [
      ['1-0', t.wire.bindingsEntry({ put: [binding(1)], del: [] }, 'hub-1')],
      ['2-0', t.wire.statusesEntry({ at: T0, answers: [[codeFor(1), riskless]] }, 'hub-1', 1)],
    ];
    const saved: string[] = [];
    await applyChanges(t, entries, start, { moved: () => undefined, saved: (p) => saved.push(p.changesId) });
    expect(saved).toEqual(['1-0', '2-0']);
    expect(await store.cityPosition()).toEqual({ ...start, changesId: '2-0', changesSeq: 2 });
  });
});

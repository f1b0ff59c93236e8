/**
 * The replica under Redis faults (slow: real redis-server processes killed, restarted and
 * frozen). What must hold: the main thread never waits, the state says what happened, and
 * after Redis returns every change arrives once — none lost, none applied twice.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CityKey } from '../../../src/city/city-key.js';
import type { CityPosition, ReplicaStore } from '../../../src/city/types.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { binding, cardIdFor, cityConfig, HubSide, newKey, openStation, until, wrapStore, type Station } from './helpers.js';

/**
 * The main thread may be late by this much: garbage collection and a loaded 2-core machine
 * account for a few hundred ms (measured up to ~350 ms here with the suite running). A wait on
 * the frozen Redis would take seconds (it stays frozen for more than three).
 */
const LOOP_DELAY_BOUND_MS = 1000;

describe.skipIf(!hasRedis)('the replica under Redis faults (slow)', { timeout: 60_000 }, () => {
  let server: RedisServer;
  let redis: Redis;
  let key: CityKey;
  let hub: HubSide;
  let station: Station;

  beforeEach(async () => {
    server = await RedisServer.start();
    // The hub's client queues while Redis is away and resends (the test's writer retries too).
    redis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    redis.on('error', () => undefined);
    key = newKey();
    hub = new HubSide(redis, key);
    await hub.epoch();
    station = await openStation({ key, city: cityConfig({ redisUrl: server.url, heartbeatMs: 500, connectTimeoutMs: 500 }) });
  });
  afterEach(async () => {
    await station.close();
    redis.disconnect();
    await server.stop();
  });

  /** Records every position the store was asked to save with a binding batch: a repeat is an entry applied twice. */
  function recording(store: ReplicaStore): { store: ReplicaStore; applied: CityPosition[] } {
    const applied: CityPosition[] = [];
    return {
      applied,
      store: wrapStore(store, async (changes, position) => {
        const out = await store.applyCityBindings(changes, position);
        applied.push(position);
        return out;
      }),
    };
  }

  /**
   * Write entry i as the hub would, with an explicit id, until Redis has it. An explicit id
   * makes a retry after a lost reply safe: Redis refuses an id it already holds.
   */
  async function writeExactlyOnce(base: number, i: number): Promise<void> {
    for (;;) {
      try {
        await hub.bindings({ put: [binding(i)], del: [] }, undefined, `${base}-${i + 1}`);
        return;
      } catch (err) {
        if (/equal or smaller/.test((err as Error).message)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  it('starts while Redis is down: degraded on its local position, then catches up when Redis is back', async () => {
    await hub.bindings({ put: [binding(1)], del: [] });
    station.replica.start();
    await station.replica.caughtUp();
    const applied = station.replica.report().lastAppliedId;
    await station.replica.stop();
    await server.kill();
    const r = await station.restartReplica();
    await until(() => r.report().state === 'degraded', 'degraded');
    expect(r.report()).toMatchObject({ reason: 'redis unreachable', lastAppliedId: applied });
    // A tap's answer while Redis is away is dropped and counted, never queued for later.
    r.sharer.share('F000000001', { kind: 'not-found' }, Date.now());
    await until(() => r.sharer.counts.dropped === 1, 'the answer dropped');
    await server.restart();
    await hub.bindings({ put: [binding(2)], del: [] });
    await r.caughtUp();
    expect(r.report()).toMatchObject({ state: 'live', reason: null, snapshots: 0, entriesApplied: 1 });
    expect(station.store.getBinding(cardIdFor(2))).toBeDefined();
    expect(station.log.lines.some((l) => l.event === 'city.degraded' && l.reason === 'redis unreachable')).toBe(true);
  });

  it('Redis killed and restarted while entries are written: none lost, none applied twice', async () => {
    const N = 120;
    const rec = recording(station.replicaStore);
    await station.restartReplica(undefined, rec.store);
    await station.replica.caughtUp();
    const base = Date.now();
    const writer = (async () => {
      for (let i = 0; i < N; i++) {
        await writeExactlyOnce(base, i);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => station.replica.report().entriesApplied >= 20, 'some entries applied');
    await server.kill();
    await until(() => station.replica.report().state === 'degraded', 'degraded');
    await server.restart();
    await writer;
    await station.replica.caughtUp();

    const ids = rec.applied.map((p) => p.changesId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(Array.from({ length: N }, (_, i) => `${base}-${i + 1}`));
    expect(rec.applied.map((p) => p.changesSeq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(station.replica.report()).toMatchObject({ state: 'live', entriesApplied: N, snapshots: 1, snapshotsAfterTrim: 0, lagEntries: 0 });
    expect(await station.replicaStore.cityPosition()).toMatchObject({ changesId: `${base}-${N}`, changesSeq: N });
    expect(await station.store.countBindings()).toBe(N);
  });

  it('Redis frozen (SIGSTOP): degraded, the main thread stays responsive, and it resumes after SIGCONT', async () => {
    await station.restartReplica({ maxLookupsQueued: 10 });
    await station.replica.caughtUp();
    await hub.bindings({ put: [binding(1)], del: [] });
    await station.replica.caughtUp();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    server.pause();
    try {
      // Taps keep sharing their answers meanwhile: queued, never awaited.
      for (let i = 0; i < 100; i++) station.replica.sharer.share(`F${String(i).padStart(9, '0')}`, { kind: 'not-found' }, Date.now());
      expect(station.replica.sharer.counts).toEqual({ shared: 0, dropped: 90 });
      await until(() => station.replica.report().state === 'degraded', 'degraded while frozen');
      expect(station.replica.report().reason).toBe('redis not answering');
      // Frozen a while longer: the reader retries against a Redis that accepts and never answers.
      const since = station.log.lines.length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(station.log.lines.slice(since).filter((l) => l.event === 'city.degraded').length).toBeLessThanOrEqual(1);
    } finally {
      delay.disable();
      server.resume();
    }
    expect(delay.max / 1e6).toBeLessThan(LOOP_DELAY_BOUND_MS);
    // The ten sent before the freeze was noticed timed out (they may still land: counted as not shared).
    expect(station.replica.sharer.counts).toEqual({ shared: 0, dropped: 100 });
    const last = await hub.bindings({ put: [binding(2)], del: [] });
    await station.replica.caughtUp();
    expect(station.replica.report()).toMatchObject({ state: 'live', reason: null, lastAppliedId: last, entriesApplied: 2 });
    expect(station.store.getBinding(cardIdFor(2))).toBeDefined();
  });
});

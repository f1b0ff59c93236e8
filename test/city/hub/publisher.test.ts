import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { HesGateError } from '../../../src/errors.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { LeaderPublisher } from '../../../src/city/hub/publisher.js';
import type { ChangeEntry, StatusChanges } from '../../../src/city/wire.js';
import { StatusService } from '../../../src/status/status-service.js';
import type { MinistryLookup } from '../../../src/types.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { dumpAll, newKey, newNodeKey, testConnect, wireOf } from './city-redis.js';

const T0 = Date.UTC(2026, 10, 30, 12);
const YEAR = 365 * 86_400_000;
const key = newKey();
const keys = cityKeyspace(key.kid);
const wire = wireOf(key);

function localStatuses(): StatusService {
  return new StatusService({
    risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 10_000,
    ministry: () => Promise.reject(new Error('no lookups in this test')),
    clock: () => T0,
  });
}

const riskless = (expiresAt = T0 + YEAR): MinistryLookup => ({ kind: 'status', status: 'RISKLESS', expiresAt });
const risky: MinistryLookup = { kind: 'status', status: 'RISKY', expiresAt: T0 + YEAR };

/** Real redis-server; the publisher writes under token 7, which the test sets as the lease's. */
describe.skipIf(!hasRedis)('the leader publisher (real Redis)', () => {
  let server: RedisServer;
  let connect: ReturnType<typeof testConnect>;
  let redis: Redis;
  let reader: Redis;
  let publisher: LeaderPublisher | undefined;

  beforeEach(async () => {
    server = await RedisServer.start();
    connect = testConnect(server.port);
    redis = connect('hub-a', false);
    reader = connect('reader', false);
    for (const c of [redis, reader]) c.on('error', () => undefined);
    await Promise.all([redis.connect(), reader.connect()]);
    await reader.set(keys.leaseToken, '7');
  });
  afterEach(async () => {
    publisher?.close();
    connect.closeAll();
    await server.stop();
  });

  const make = (extra: Partial<ConstructorParameters<typeof LeaderPublisher>[0]> = {}): LeaderPublisher => {
    publisher = new LeaderPublisher({ redis, key, nodeId: 'hub-a', nodeKey: newNodeKey(), token: 7, changesMaxLen: 1000, local: localStatuses(), ...extra });
    return publisher;
  };
  const published = (p: LeaderPublisher, n: number): Promise<void> =>
    new Promise((resolve) => {
      let seen = 0;
      p.on('published', () => ++seen === n && resolve());
    });
  const statuses = async (): Promise<Array<Extract<ChangeEntry, { type: 'statuses' }>>> => {
    // After a restart the reader reconnects on its own, maybe after the publisher did: it fails fast until then.
    if (reader.status !== 'ready') await once(reader, 'ready');
    return (await reader.xrange(keys.changes, '-', '+')).map(([, flat]) => wire.changeEntry(flat) as Extract<ChangeEntry, { type: 'statuses' }>);
  };

  it('publishes each step once: changed answers, the checked range, failures; the snapshot gets every answered code', async () => {
    const local = localStatuses();
    const p = make({ local });
    const done = published(p, 3);
    const failure = new HesGateError('HG_MINISTRY_TIMEOUT', 'timed out');
    // Step 1: three rotation codes, all new.
    p.ingestMany(new Map<string, MinistryLookup | HesGateError>([['AAAAAAAAA1', riskless()], ['AAAAAAAAA2', riskless()], ['AAAAAAAAA3', { kind: 'not-found' }]]), T0, { after: null, through: 'AAAAAAAAA3' });
    // Step 2: the same codes, one turned RISKY, one failed, plus a recently tapped code outside the range.
    p.ingestMany(new Map<string, MinistryLookup | HesGateError>([['ZZZZZZZZZ9', riskless()], ['AAAAAAAAA1', riskless()], ['AAAAAAAAA2', risky], ['AAAAAAAAA3', failure]]), T0 + 1000, { after: null, through: 'AAAAAAAAA3' });
    // Step 3: nothing changed.
    p.ingestMany(new Map<string, MinistryLookup | HesGateError>([['AAAAAAAAA1', riskless()], ['AAAAAAAAA2', risky], ['AAAAAAAAA3', { kind: 'not-found' }]]), T0 + 2000, { after: null, through: null });
    await done;
    const [s1, s2, s3] = await statuses();
    expect(s1).toMatchObject({ src: 'hub-a', fence: 7, changes: { at: T0, checked: { after: null, through: 'AAAAAAAAA3' } } });
    expect(s1!.changes.answers.map(([c]) => c)).toEqual(['AAAAAAAAA1', 'AAAAAAAAA2', 'AAAAAAAAA3']);
    expect(s2!.changes.answers).toEqual([
      ['ZZZZZZZZZ9', { kind: 'status', status: 'RISKLESS', expiresAt: T0 + YEAR }],
      ['AAAAAAAAA2', { kind: 'status', status: 'RISKY', expiresAt: T0 + YEAR }],
    ]);
    expect(s2!.changes.failed).toEqual(['AAAAAAAAA3']);
    expect(s3!.changes).toEqual({ at: T0 + 2000, answers: [], checked: { after: null, through: null } });
    // The local replica holds them too.
    expect(local.lastKnown('AAAAAAAAA2', T0 + 2000)).toMatchObject({ status: 'RISKY' });
    // The snapshot: every answered code, stamped with its last step.
    const hash = await reader.hgetall(keys.statuses);
    const opened = Object.entries(hash).map(([f, v]) => wire.status(f, v));
    expect(opened).toHaveLength(4);
    expect(opened.find((s) => s?.code === 'AAAAAAAAA1')).toEqual({ at: T0 + 2000, code: 'AAAAAAAAA1', answer: { kind: 'status', status: 'RISKLESS', expiresAt: T0 + YEAR } });
    const dump = await dumpAll(reader);
    for (const code of ['AAAAAAAAA1', 'AAAAAAAAA2', 'AAAAAAAAA3', 'ZZZZZZZZZ9']) expect(dump).not.toContain(code);
  });

  it('is refused by the fencing token once another holder took the lease: HG_CITY_FENCED, counted, told once', async () => {
    let told = 0;
    const p = make({ onFenced: () => told++ });
    await reader.set(keys.leaseToken, '8');
    const fenced = new Promise<HesGateError>((r) => p.once('fenced', r));
    p.publish({ at: T0, answers: [['AAAAAAAAA1', { kind: 'not-found' }]] });
    p.publish({ at: T0 + 1, answers: [['AAAAAAAAA2', { kind: 'not-found' }]] });
    expect((await fenced).code).toBe('HG_CITY_FENCED');
    expect(told).toBe(1);
    expect(p.closed).toBe(true);
    expect(await reader.exists(keys.changes, keys.statuses)).toBe(0);
  });

  it('queues batches while Redis is killed and sends every one, in order, when it is back', async () => {
    const p = make();
    const batch = (i: number): StatusChanges => ({ at: T0 + i, answers: [[`AAAAAAA${String(i).padStart(3, '0')}`, { kind: 'not-found' }]] });
    const all = published(p, 20);
    const firstFive = published(p, 5);
    for (let i = 0; i < 5; i++) p.publish(batch(i));
    await firstFive;
    await server.kill();
    const retrying = new Promise((r) => p.once('retrying', r));
    for (let i = 5; i < 20; i++) p.publish(batch(i));
    await retrying;
    expect(p.queued).toBe(15);
    await server.restart();
    await all;
    expect(p.queued).toBe(0);
    const ats = (await statuses()).map((s) => s.changes.at);
    expect(ats).toEqual(Array.from({ length: 20 }, (_, i) => T0 + i));
  });

  it('drops the oldest batches beyond its queue, counts them, and lists their codes again at their next refresh', async () => {
    const stats = { published: 0, dropped: 0, fenced: 0 };
    const local = localStatuses();
    const p = make({ maxQueued: 3, stats, local });
    await server.kill();
    const retrying = new Promise((r) => p.once('retrying', r));
    const step = (code: string, at: number): void => p.ingestMany(new Map([[code, riskless()]]), at, { after: null, through: null });
    step('BBBBBBBBB1', T0);
    await retrying;
    step('BBBBBBBBB2', T0 + 1);
    step('BBBBBBBBB3', T0 + 2);
    step('BBBBBBBBB4', T0 + 3);
    expect(stats.dropped).toBe(1);
    expect(p.queued).toBe(3);
    const drained = published(p, 3);
    await server.restart();
    await drained;
    const next = published(p, 1);
    // B2 was dropped: unchanged for the local replica, but the city never heard of it.
    step('BBBBBBBBB2', T0 + 10);
    await next;
    const entries = await statuses();
    expect(entries.map((s) => s.changes.answers.map(([c]) => c))).toEqual([['BBBBBBBBB1'], ['BBBBBBBBB3'], ['BBBBBBBBB4'], ['BBBBBBBBB2']]);
  });
});

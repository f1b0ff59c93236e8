/**
 * The replica against a real redis-server, a real StationStore and a real StatusService:
 * snapshot on first start, live entries in order, lookups, malformed entries, heartbeats,
 * resume after a restart, and the resyncs (another epoch, a position trimmed away).
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { CityKey } from '../../../src/city/city-key.js';
import { HesGateError } from '../../../src/errors.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { binding, cardIdFor, cityConfig, codeFor, HubSide, newKey, openStation, risky, riskless, startRelay, T0, until, wrapStore, type Station } from './helpers.js';

describe.skipIf(!hasRedis)('the replica (real Redis, store and status service)', () => {
  let server: RedisServer;
  let redis: Redis;
  let key: CityKey;
  let hub: HubSide;
  let stations: Station[] = [];

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(async () => {
    await redis.flushall();
    key = newKey();
    hub = new HubSide(redis, key);
  });
  afterEach(async () => {
    for (const s of stations.splice(0)) await s.close();
  });

  async function station(nodeId = 'st-1', dir?: string): Promise<Station> {
    const s = await openStation({ key, city: cityConfig({ redisUrl: server.url, heartbeatMs: 500 }), nodeId, nodeKey: await hub.node(nodeId), ...(dir === undefined ? {} : { dir }) });
    stations.push(s);
    return s;
  }

  it('starts by snapshot, then applies bindings and statuses in stream order', async () => {
    await hub.epoch();
    await hub.bindings({ put: [binding(1), binding(2), binding(3)], del: [] });
    await hub.statuses({ at: T0, answers: [[codeFor(1), riskless], [codeFor(2), risky]] });
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    expect(s.replica.report()).toMatchObject({ state: 'live', snapshots: 1, snapshotsAfterTrim: 0, entriesApplied: 0, lagEntries: 0, lagSeconds: 0 });
    expect(s.store.getBinding(cardIdFor(2))?.hesCode).toBe(codeFor(2));
    expect(s.status.lastKnown(codeFor(2), T0)?.status).toBe('RISKY');

    await hub.bindings({ put: [binding(4, 'student')], del: [cardIdFor(1)] });
    const last = await hub.statuses({ at: T0 + 1000, answers: [[codeFor(4), risky]] });
    await s.replica.caughtUp();
    expect(s.store.getBinding(cardIdFor(1))).toBeUndefined();
    expect(s.store.getBinding(cardIdFor(4))).toMatchObject({ hesCode: codeFor(4), profile: 'student' });
    expect(s.status.lastKnown(codeFor(4), T0 + 1000)?.status).toBe('RISKY');
    expect(s.replica.report()).toMatchObject({ entriesApplied: 2, lastAppliedId: last, malformed: 0 });
    const position = await s.replicaStore.cityPosition();
    expect(position).toEqual({ kid: key.kid, epoch: 'epoch-1', changesId: last, changesSeq: 4 });
  });

  it('confirms the codes of a checked range that did not change, and only those', async () => {
    await hub.epoch();
    const s = await station();
    s.replica.start();
    await hub.bindings({ put: [1, 2, 3, 4, 5].map((i) => binding(i)), del: [] });
    await hub.statuses({ at: T0, answers: [1, 2, 3, 4, 5].map((i) => [codeFor(i), riskless]) });
    await s.replica.caughtUp();
    // A rotation step 10 minutes later: codes 2..4 asked; 3 turned RISKY, 4 failed (keep what you had).
    const later = T0 + 600_000;
    await hub.statuses({ at: later, answers: [[codeFor(3), risky]], checked: { after: codeFor(1), through: codeFor(4) }, failed: [codeFor(4)] });
    await s.replica.caughtUp();
    const fetchedAt = (i: number): number | undefined => s.status.lastKnown(codeFor(i), later)?.fetchedAt;
    expect([1, 2, 3, 4, 5].map(fetchedAt)).toEqual([T0, later, later, T0, T0]);
    expect(s.status.lastKnown(codeFor(3), later)?.status).toBe('RISKY');
    expect(s.status.lastKnown(codeFor(2), later)?.status).toBe('RISKLESS');
  });

  it('counts and skips entries that do not open or parse, and goes on', async () => {
    await hub.epoch();
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    const other = new HubSide(redis, newKey(key.kid)); // same key id, another secret: does not open
    await other.bindings({ put: [binding(7)], del: [] });
    await hub.raw('changes', ['t', 'bindings', 'v', 'g1.k1.AAAA.BBBB', 'src', 'hub-1']);
    await hub.raw('changes', ['t', 'statuses', 'v', key.seal('{"at":1,"answers":"x"}', hub.names.changes), 'src', 'hub-1', 'f', '1']);
    await hub.raw('changes', ['what', 'ever']);
    await hub.raw('lookups', ['v', key.seal('{"at":1}', hub.names.lookups), 'src', 'st-9']);
    // A value sealed for the lookup stream does not open in the change stream (AAD = where).
    await hub.raw('changes', ['t', 'bindings', 'v', key.seal(JSON.stringify({ put: [binding(8)], del: [] }), hub.names.lookups), 'src', 'hub-1']);
    const good = await hub.bindings({ put: [binding(9)], del: [] });
    await s.replica.caughtUp();
    expect(s.replica.report()).toMatchObject({ malformed: 6, entriesApplied: 1, lastAppliedId: good, state: 'live' });
    expect(s.store.getBinding(cardIdFor(7))).toBeUndefined();
    expect(s.store.getBinding(cardIdFor(8))).toBeUndefined();
    expect(s.store.getBinding(cardIdFor(9))).toBeDefined();
    expect((await s.replicaStore.cityPosition())?.changesSeq).toBe(6);
  });

  it('applies other stations’ lookups (relayed by the leader), skips its own, and shares its own answers', async () => {
    await hub.epoch();
    const a = await station('st-a');
    const b = await station('st-b');
    const relay = startRelay(cityConfig({ redisUrl: server.url }), key);
    onTestFinished(() => relay.stop());
    a.replica.start();
    b.replica.start();
    await Promise.all([a.replica.caughtUp(), b.replica.caughtUp()]);
    a.replica.sharer.share(codeFor(50), { kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000, plus: { name: 'secret' } } as never, T0);
    a.replica.sharer.share(codeFor(51), { kind: 'not-found' }, T0);
    await until(() => a.replica.report().lookupsShared === 2, 'two lookups shared');
    await until(() => relay.counts.relayed === 2, 'two lookups relayed');
    await Promise.all([a.replica.caughtUp(), b.replica.caughtUp()]);
    expect(b.status.lastKnown(codeFor(50), T0)?.status).toBe('RISKY');
    expect(b.replica.report().lookupsApplied).toBe(2);
    expect(a.replica.report().lookupsApplied).toBe(0);
    const [, fields] = ((await redis.xrange(hub.names.lookups, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>)[0]!;
    expect(fields).toContain('st-a');
    // The sealed bytes cannot show a name: open the entry with the city key and read what was shared.
    const sealed = fields[fields.indexOf('v') + 1]!;
    const opened = JSON.parse(key.open(sealed, hub.names.lookups)!) as { code: string; answer: Record<string, unknown> };
    expect(opened.code).toBe(codeFor(50));
    expect(opened.answer).toEqual({ kind: 'status', status: 'RISKY', expiresAt: T0 + 86_400_000 });
    expect(opened.answer).not.toHaveProperty('plus');
  });

  it('resumes from its persisted position after a restart, without a snapshot', async () => {
    await hub.epoch();
    await hub.bindings({ put: [binding(1)], del: [] });
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    await s.replica.stop();
    await hub.bindings({ put: [binding(2)], del: [] });
    const last = await hub.statuses({ at: T0, answers: [[codeFor(2), risky]] });
    const again = await s.restartReplica();
    await again.caughtUp();
    expect(again.report()).toMatchObject({ snapshots: 0, entriesApplied: 2, lastAppliedId: last, lagEntries: 0 });
    expect(s.store.getBinding(cardIdFor(2))).toBeDefined();
    expect(s.status.lastKnown(codeFor(2), T0)?.status).toBe('RISKY');
  });

  it('resyncs by snapshot when its position was trimmed from the stream, and counts it', async () => {
    await hub.epoch();
    for (let i = 0; i < 3; i++) await hub.bindings({ put: [binding(i)], del: [] });
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    await s.replica.stop();
    // Offline longer than the stream keeps: exact MAXLEN 2, so the entries after the position go.
    await hub.bindings({ put: [], del: [cardIdFor(0)] }, 2);
    for (let i = 10; i < 15; i++) await hub.bindings({ put: [binding(i)], del: [] }, 2);
    const again = await s.restartReplica();
    await again.caughtUp();
    expect(again.report()).toMatchObject({ snapshots: 1, snapshotsAfterTrim: 1, entriesApplied: 0 });
    expect(s.store.getBinding(cardIdFor(0))).toBeUndefined();
    for (let i = 10; i < 15; i++) expect(s.store.getBinding(cardIdFor(i))).toBeDefined();
    expect(s.log.lines.some((l) => l.event === 'city.snapshot' && l.reason === 'trimmed')).toBe(true);
  });

  it('does not resync when only entries before its position were trimmed', async () => {
    await hub.epoch();
    for (let i = 0; i < 5; i++) await hub.bindings({ put: [binding(i)], del: [] });
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    await s.replica.stop();
    await hub.bindings({ put: [binding(5)], del: [] }, 2);
    const again = await s.restartReplica();
    await again.caughtUp();
    expect(again.report()).toMatchObject({ snapshots: 0, entriesApplied: 1 });
  });

  it('resyncs by snapshot when the city has another epoch (Redis replaced)', async () => {
    await hub.epoch('epoch-1');
    await hub.bindings({ put: [binding(1), binding(2)], del: [] });
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    await s.replica.stop();
    await redis.flushall();
    await hub.epoch('epoch-2');
    await hub.bindings({ put: [binding(3)], del: [] });
    const again = await s.restartReplica();
    await again.caughtUp();
    expect(again.report()).toMatchObject({ snapshots: 1, snapshotsAfterTrim: 0 });
    expect(s.store.getBinding(cardIdFor(1))).toBeUndefined();
    expect(s.store.getBinding(cardIdFor(3))).toBeDefined();
    expect((await s.replicaStore.cityPosition())?.epoch).toBe('epoch-2');
  });

  it('waits in `connecting` until a hub creates the epoch', async () => {
    const s = await station();
    s.replica.start();
    await until(() => s.log.lines.some((l) => l.event === 'city.no-epoch'), 'the replica to look for the epoch');
    expect(s.replica.report().state).toBe('connecting');
    await hub.epoch();
    await hub.bindings({ put: [binding(1)], del: [] });
    await s.replica.caughtUp();
    expect(s.replica.report().state).toBe('live');
    expect(s.store.getBinding(cardIdFor(1))).toBeDefined();
  });

  it('writes a heartbeat with a TTL: state, lag and position, never a code', async () => {
    await hub.epoch();
    await hub.bindings({ put: [binding(1)], del: [] });
    const s = await station('st-hb');
    s.replica.start();
    await s.replica.caughtUp();
    await until(async () => JSON.parse((await redis.get('hg:hb:st-hb')) ?? '{}').state === 'live', 'a live heartbeat');
    const hb = JSON.parse((await redis.get('hg:hb:st-hb'))!) as Record<string, unknown>;
    expect(hb).toMatchObject({ role: 'station', version: 'test', state: 'live', lagEntries: 0, lastAppliedId: s.replica.report().lastAppliedId, time: T0 });
    // Both connections carry their names (CLIENT SETNAME refuses spaces).
    const clients = (await redis.client('LIST')) as string;
    expect(clients).toMatch(/ name=st-hb:replica /);
    expect(clients).toMatch(/ name=st-hb:replica-reader /);
    const ttl = await redis.pttl('hg:hb:st-hb');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1500);
  });

  it('reports the lag in entries and seconds while it is behind', async () => {
    await hub.epoch();
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    await s.replica.stop();
    // 30 entries one second apart (explicit ids), read 10 per XREAD; the 11th waits at a gate.
    const base = Date.now() + 10_000;
    for (let i = 0; i < 30; i++) await hub.bindings({ put: [binding(i)], del: [] }, undefined, `${base + i * 1000}-0`);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let applied = 0;
    let reached!: () => void;
    const atGate = new Promise<void>((r) => (reached = r));
    const gated = wrapStore(s.replicaStore, async (changes, position) => {
      if (++applied === 11) {
        reached();
        await gate;
      }
      return s.replicaStore.applyCityBindings(changes, position);
    });
    const again = await s.restartReplica({ readCount: 10 }, gated);
    await atGate;
    expect(again.report()).toMatchObject({ entriesApplied: 10, lagEntries: 20, lagSeconds: 20, lastAppliedId: `${base + 9000}-0` });
    open();
    await again.caughtUp();
    expect(again.report()).toMatchObject({ lagEntries: 0, lagSeconds: 0, entriesApplied: 30 });
  });

  it('writes nothing to Redis or its log that holds a code or card id in clear', async () => {
    await hub.epoch();
    const ids = Array.from({ length: 20 }, (_, i) => i);
    await hub.bindings({ put: ids.map((i) => binding(i)), del: [] });
    await hub.statuses({ at: T0, answers: ids.map((i) => [codeFor(i), i % 2 === 0 ? riskless : risky]) });
    const a = await station('st-a');
    a.replica.start();
    await a.replica.caughtUp();
    for (let i = 100; i < 110; i++) a.replica.sharer.share(codeFor(i), riskless, T0);
    await hub.raw('changes', ['t', 'bindings', 'v', 'junk', 'src', 'hub-1']);
    await until(() => a.replica.report().lookupsShared === 10, 'ten lookups shared');
    await until(async () => (await redis.exists('hg:hb:st-a')) === 1, 'a heartbeat');
    await a.replica.caughtUp();

    let dump = '';
    for (const k of await redis.keys('*')) {
      const type = await redis.type(k);
      const value =
        type === 'string' ? await redis.get(k) : type === 'hash' ? await redis.hgetall(k) : type === 'stream' ? await redis.xrange(k, '-', '+') : `(${type})`;
      dump += `${k} ${JSON.stringify(value)}\n`;
    }
    expect(dump).toContain('hg:hb:st-a');
    expect(dump).toContain('st-a'); // the lookups' src
    const secrets = [...ids, ...Array.from({ length: 10 }, (_, i) => 100 + i)].flatMap((i) => [codeFor(i), cardIdFor(i)]);
    expect(secrets.filter((x) => dump.includes(x))).toEqual([]);
    expect(secrets.filter((x) => a.log.text().includes(x))).toEqual([]);
    expect(a.log.lines.some((l) => l.event === 'city.snapshot.done')).toBe(true);
  });

  it('a store write that fails: degraded, then the same entry again, applied once', async () => {
    await hub.epoch();
    const s = await station();
    let calls = 0;
    const positions: string[] = [];
    const failing = wrapStore(s.replicaStore, async (changes, position) => {
      if (++calls === 2) throw new HesGateError('HG_STORE', 'the disk is full');
      const out = await s.replicaStore.applyCityBindings(changes, position);
      positions.push(position.changesId);
      return out;
    });
    const r = await s.restartReplica(undefined, failing);
    await r.caughtUp();
    const ids = [];
    for (let i = 1; i <= 3; i++) ids.push(await hub.bindings({ put: [binding(i)], del: [] }));
    await until(() => r.report().state === 'degraded', 'degraded');
    expect(r.report().reason).toBe('local store failed (HG_STORE)');
    await r.caughtUp();
    expect(positions).toEqual(ids);
    expect(r.report()).toMatchObject({ state: 'live', entriesApplied: 3, lastAppliedId: ids[2] });
    expect((await s.replicaStore.cityPosition())?.changesSeq).toBe(3);
  });

  it('confirms a checked range over more codes than one page of the store', async () => {
    await hub.epoch();
    const n = 1200;
    const all = Array.from({ length: n }, (_, i) => i);
    await hub.bindings({ put: all.map((i) => binding(i)), del: [] });
    await hub.statuses({ at: T0, answers: all.map((i) => [codeFor(i), riskless]) });
    const s = await station();
    s.replica.start();
    await s.replica.caughtUp();
    const later = T0 + 300_000;
    await hub.statuses({ at: later, answers: [[codeFor(1111), risky]], checked: { after: null, through: null } });
    await s.replica.caughtUp();
    const stamped = all.filter((i) => s.status.lastKnown(codeFor(i), later)?.fetchedAt === later);
    expect(stamped.length).toBe(n);
    expect(s.status.lastKnown(codeFor(1111), later)?.status).toBe('RISKY');
  });
});

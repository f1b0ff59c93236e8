import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { CityRegistry } from '../../../src/city/hub/registry.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { dumpAll, newKey, newNodeKey, wireOf } from './city-redis.js';

/** Real redis-server (slow-ish: one process per file). */
describe.skipIf(!hasRedis)('the city registry (real Redis)', () => {
  let server: RedisServer;
  let redis: Redis;
  const key = newKey();
  const keys = cityKeyspace(key.kid);
  const wire = wireOf(key);
  let registry: CityRegistry;

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(async () => {
    if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r));
    await redis.flushall();
    registry = new CityRegistry({ redis, key, nodeId: 'hub-a', changesMaxLen: 1000, nodeKey: newNodeKey() });
  });

  const entries = async (): Promise<ReturnType<typeof wire.changeEntry>[]> => (await redis.xrange(keys.changes, '-', '+')).map(([, flat]) => wire.changeEntry(flat));

  it('counts created, updated and unchanged, and writes one stream entry per batch with only the real changes', async () => {
    const a = { cardId: 'AA000001', hesCode: 'A1B2C3D4E5', profile: 'standard' };
    const b = { cardId: 'AA000002', hesCode: 'B1B2C3D4E5', profile: 'student' };
    const c = { cardId: 'AA000003', hesCode: 'C1B2C3D4E5', profile: 'standard' };
    expect(await registry.putMany([a, b, c])).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(await redis.xlen(keys.changes)).toBe(1);

    // The same batch again: nothing changes, nothing is written.
    expect(await registry.putMany([a, b, c])).toEqual({ created: 0, updated: 0, unchanged: 3 });
    expect(await redis.xlen(keys.changes)).toBe(1);

    const d = { cardId: 'AA000004', hesCode: 'D1B2C3D4E5', profile: 'senior' };
    const b2 = { ...b, profile: 'senior' };
    expect(await registry.putMany([a, b2, d])).toEqual({ created: 1, updated: 1, unchanged: 1 });
    const all = await entries();
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ type: 'bindings', src: 'hub-a', changes: { put: [b2, d], del: [] } });

    // The snapshot hash holds the latest of each card, sealed.
    const hash = await redis.hgetall(keys.bindings);
    expect(Object.keys(hash)).toHaveLength(4);
    expect(wire.binding(wire.bindingFieldOf(b.cardId), hash[wire.bindingFieldOf(b.cardId)]!)).toEqual(b2);
    expect(await redis.get(keys.epoch)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('put and delete answer like the local store, one entry each, nothing for a no-op', async () => {
    const a = { cardId: 'AB000001', hesCode: 'A1B2C3D4E5', profile: 'standard' };
    expect(await registry.put(a)).toBe('created');
    expect(await registry.put(a)).toBe('unchanged');
    expect(await registry.put({ ...a, hesCode: 'Z9B2C3D4E5' })).toBe('updated');
    expect(await registry.delete(a.cardId)).toBe(true);
    expect(await registry.delete(a.cardId)).toBe(false);
    const all = await entries();
    expect(all.map((e) => e?.type === 'bindings' && e.changes)).toEqual([
      { put: [a], del: [] },
      { put: [{ ...a, hesCode: 'Z9B2C3D4E5' }], del: [] },
      { put: [], del: [a.cardId] },
    ]);
    expect(await redis.hlen(keys.bindings)).toBe(0);
  });

  it('a card twice in one batch counts twice and ends as its last row', async () => {
    const a = { cardId: 'AC000001', hesCode: 'A1B2C3D4E5', profile: 'standard' };
    const a2 = { ...a, profile: 'student' };
    expect(await registry.putMany([a, a2])).toEqual({ created: 1, updated: 1, unchanged: 0 });
    const all = await entries();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ changes: { put: [a2] } });
  });

  it('puts nothing in clear: no card id or HES code in any key or value', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => ({ cardId: `CAFE${String(i).padStart(4, '0')}`, hesCode: `Q${String(i).padStart(3, '0')}XYZ789`, profile: 'standard' }));
    await registry.putMany(batch);
    await registry.delete(batch[0]!.cardId);
    const dump = (await dumpAll(redis)).toUpperCase();
    expect(dump.length).toBeGreaterThan(1000);
    for (const b of batch) {
      expect(dump).not.toContain(b.cardId);
      expect(dump).not.toContain(b.hesCode);
    }
  });

  it('refuses with HG_CITY_UNAVAILABLE while Redis is away, naming no value', async () => {
    await server.kill();
    const err = await registry.putMany([{ cardId: 'AD000001', hesCode: 'A1B2C3D4E5', profile: 'standard' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'HG_CITY_UNAVAILABLE' });
    expect(String((err as Error).message)).not.toContain('A1B2C3D4E5');
    expect(String((err as Error).message)).not.toContain('AD000001');
    await server.restart();
  });
});

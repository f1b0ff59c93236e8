/**
 * Nothing in a city's Redis identifies a person in clear: every key and value a hub and a
 * station write (through CityWire and the key space) is dumped from a real redis-server and
 * searched for every card id, HES code and QR part. The search itself is checked to find a
 * secret in each form it claims to catch. Real Redis (about 1 s).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { CityWire, type SharedBinding } from '../../../src/city/wire.js';
import { hasRedis, RedisServer } from '../redis-harness.js';
import { dumpCity, findClear } from './privacy-dump.js';

const bindings: SharedBinding[] = Array.from({ length: 50 }, (_, i) => ({
  cardId: `04A1B2${String(i).padStart(4, '0')}C3D4`,
  hesCode: `K${String(i).padStart(2, '0')}7Q2M9X4Z`.slice(0, 10),
  profile: i % 2 === 0 ? 'adult' : 'student',
}));
/** The id part of a HES QR payload (`<id part>|<code>`) may identify its holder. */
const qrIdParts = ['98765432109', 'QRID-7F3A-99C2'];
const lookupCodes = ['T7Y6U5I4O3', 'P0L9K8J7H6'];

describe.skipIf(!hasRedis)('privacy dump of a city\'s Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  const key = CityKey.parse(CityKey.generateLine('k1'));
  const ks = cityKeyspace(key.kid);
  const wire = new CityWire(key, ks);

  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1');
    await redis.set(ks.epoch, 'e-2f9c');
    // What a hub writes: the bindings snapshot and change entries, statuses under a fencing token.
    for (const b of bindings) await redis.hset(ks.bindings, ...wire.bindingField(b));
    await redis.xadd(ks.changes, '*', ...wire.bindingsEntry({ put: bindings.slice(0, 25), del: [bindings[49]!.cardId] }, 'hub-a'));
    const answers = bindings.map((b, i): [string, { kind: 'status'; status: 'RISKY' | 'RISKLESS'; expiresAt: number }] => [b.hesCode, { kind: 'status', status: i % 7 === 0 ? 'RISKY' : 'RISKLESS', expiresAt: 1_800_000_000_000 }]);
    for (const [code, answer] of answers) await redis.hset(ks.statuses, ...wire.statusField({ at: 1_764_500_000_000, code, answer }));
    await redis.xadd(ks.changes, '*', ...wire.statusesEntry({ at: 1_764_500_000_000, answers: answers.slice(0, 10), checked: { after: bindings[0]!.hesCode, through: null }, failed: [bindings[3]!.hesCode] }, 'hub-a', 7));
    await redis.incr(ks.leaseToken);
    await redis.set(ks.lease, 'hub-a:7', 'PX', 60_000);
    // What a station writes: its shared lookups (typed and QR codes) and its heartbeat.
    for (const code of lookupCodes) await redis.xadd(ks.lookups, '*', ...wire.lookupEntry({ at: 1_764_500_000_000, code, answer: { kind: 'not-found' } }, 'station-s1'));
    await redis.set(ks.heartbeat('station-s1'), JSON.stringify({ state: 'live', lagEntries: 0 }), 'PX', 15_000);
  });

  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('dumps every key with everything it holds', async () => {
    const dump = await dumpCity(server.port);
    const byKey = new Map(dump.map((k) => [k.key, k]));
    expect([...byKey.keys()].sort()).toEqual([ks.bindings, ks.changes, ks.epoch, ks.heartbeat('station-s1'), ks.lease, ks.leaseToken, ks.lookups, ks.statuses].sort());
    expect(byKey.get(ks.bindings)).toMatchObject({ type: 'hash' });
    expect(byKey.get(ks.bindings)!.values).toHaveLength(100);
    expect(byKey.get(ks.changes)).toMatchObject({ type: 'stream' });
    // Two entries: id + t,v,src (+ f) each.
    expect(byKey.get(ks.changes)!.values).toHaveLength(7 + 9);
    expect(byKey.get(ks.epoch)).toEqual({ key: ks.epoch, type: 'string', values: ['e-2f9c'] });
  });

  it('finds no card id, HES code or QR part in clear', async () => {
    const dump = await dumpCity(server.port);
    const secrets = [...bindings.flatMap((b) => [b.cardId, b.hesCode]), ...lookupCodes, ...qrIdParts];
    expect(findClear(dump, secrets)).toEqual([]);
  });

  it('finds a secret written in clear in any form it looks for', async () => {
    const code = 'Z1X2C3V4B5';
    const card = '04DEADBEEF42';
    await redis.hset('hg:planted', 'a', `prefix-${code}-suffix`);
    await redis.set(`hg:hb:${card.toLowerCase()}`, 'x');
    await redis.xadd('hg:planted:stream', '*', 'v', Buffer.from(`{"code":"${qrIdParts[0]}"}`).toString('base64'));
    await redis.rpush('hg:planted:list', Buffer.from(`..${code}`).toString('hex'));
    await redis.set('hg:planted:dashed', 'Z1X2-C3V4-B5'.toLowerCase());
    try {
      const found = findClear(await dumpCity(server.port), [code, card, qrIdParts[0]!]);
      const where = found.map((f) => `${f.key} ${f.in} ${f.form}`);
      expect(where).toContain('hg:planted value as written');
      expect(where).toContain(`hg:hb:${card.toLowerCase()} key as written`);
      expect(where.some((w) => /^hg:planted:stream value base64/.test(w))).toBe(true);
      expect(where).toContain('hg:planted:list value hex');
      expect(where).toContain('hg:planted:dashed value as written');
      expect(found.every((f) => !f.secret.includes(code) && !f.secret.includes(card))).toBe(true);
    } finally {
      await redis.del('hg:planted', `hg:hb:${card.toLowerCase()}`, 'hg:planted:stream', 'hg:planted:list', 'hg:planted:dashed');
    }
  });
});

/**
 * The Redis memory figure of docs/city.md's sizing ("533 bytes per bound card", 200,000 cards):
 * bindings and statuses sealed by CityWire in the snapshot hashes of a real redis-server, INFO
 * memory before and after. A smaller city here (10,000, the same hash-table encoding) keeps the
 * test quick; it fails when a wire or key change makes the sizing on paper wrong.
 * Real Redis (a few seconds).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CityKey } from '../../../src/city/city-key.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { CityWire } from '../../../src/city/wire.js';
import { hasRedis, RedisServer } from '../redis-harness.js';

const N = 10_000;
const code = (i: number): string => `C${i.toString(36).toUpperCase().padStart(9, '0')}`;
const card = (i: number): string => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;

describe.skipIf(!hasRedis)('Redis memory per bound card', () => {
  let server: RedisServer;
  let redis: Redis;
  beforeAll(async () => {
    server = await RedisServer.start({ appendOnly: false });
    redis = new Redis(server.port, '127.0.0.1');
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('stays near the 533 bytes docs/city.md sizes the city with', async () => {
    const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
    const ks = cityKeyspace('k1');
    const wire = new CityWire(CityKey.parse(CityKey.generateLine('k1')), ks);
    const before = await used();
    for (let i = 0; i < N; i += 1000) {
      const batch = redis.pipeline();
      for (let j = i; j < i + 1000; j++) {
        batch.hset(ks.bindings, ...wire.bindingField({ cardId: card(j), hesCode: code(j), profile: 'adult' }));
        batch.hset(ks.statuses, ...wire.statusField({ at: 1_764_500_000_000 + j, code: code(j), answer: { kind: 'status', status: 'RISKLESS', expiresAt: 1_764_600_000_000 } }));
      }
      await batch.exec();
    }
    const perCard = ((await used()) - before) / N;
    console.log(`Redis memory per bound card (binding + status, ${N} cards): ${perCard.toFixed(0)} bytes`);
    expect(await redis.hlen(ks.bindings)).toBe(N);
    expect(perCard).toBeGreaterThan(400);
    expect(perCard).toBeLessThan(650);
  }, 60_000);
});

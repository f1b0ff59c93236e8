/**
 * A hub under Sentinel: the primary is killed, the Sentinel promotes the replica, and the hub's
 * registry and lease carry on against the new primary without a restart. Real redis-server ×2
 * and redis-sentinel (slow: a failover takes a few seconds).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisOptions } from '../../../src/city/connect.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { createHub, type CityHub } from '../../../src/city/hub/hub.js';
import { isHesGateError } from '../../../src/errors.js';
import { createLogger } from '../../../src/ops/logger.js';
import { hasRedis, RedisSentinel, RedisServer } from '../redis-harness.js';
import { cityConfig, newKey, newNodeKey } from './city-redis.js';

async function until<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!hasRedis)('a hub follows a Sentinel failover (real Redis, real Sentinel)', () => {
  let primary: RedisServer;
  let replica: RedisServer;
  let sentinel: RedisSentinel;
  let hub: CityHub | undefined;
  const made: Redis[] = [];

  beforeEach(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ replicaOf: primary.port });
    sentinel = await RedisSentinel.start(primary.port);
  });
  afterEach(async () => {
    await hub?.stop();
    for (const r of made) r.disconnect();
    await sentinel.stop();
    await replica.stop();
    await primary.stop();
  });

  it('writes bindings and keeps or retakes the lease against the promoted replica', { timeout: 60_000 }, async () => {
    const key = newKey();
    const keys = cityKeyspace(key.kid);
    const city = cityConfig(0, { redisUrl: null, sentinels: [`127.0.0.1:${sentinel.port}`], leaseMs: 3000 });
    const connect = (name: string, blocking: boolean): Redis => {
      const r = new Redis(redisOptions(city, { connectionName: name, blocking }));
      made.push(r);
      return r;
    };
    const replicaConn = new Redis(replica.port, '127.0.0.1');
    made.push(replicaConn);
    await until(async () => ((await replicaConn.info('replication')).includes('master_link_status:up') ? true : undefined), 'the replica is in sync');

    hub = createHub({
      key, nodeKey: newNodeKey(), nodeId: 'hub-a', connect, clock: Date.now, logger: createLogger('silent'),
      leaseMs: city.leaseMs, changesMaxLen: 1000, minCallsPerSecond: 1, maxCallsPerSecond: 10, risklessTtlMs: 600_000,
      codes: { iterateCodes: () => [], countCodes: () => 0 },
      ministry: { checkHesCodes: async () => new Map() },
      status: { ingestMany: () => undefined, lastKnown: () => undefined },
    });
    const h = hub;
    h.start();
    await new Promise((r) => h.lease.once('acquired', r));
    expect(await h.registry.put({ cardId: 'AA000001', hesCode: 'A1B2C3D4E5', profile: 'standard' })).toBe('created');
    // Let the replica have it before the primary dies (replication is asynchronous).
    const p = new Redis(primary.port, '127.0.0.1');
    made.push(p);
    await p.wait(1, 5000);
    p.disconnect();

    const switched = sentinel.switched();
    await primary.kill();
    expect(await switched).toBe(replica.port);

    // The hub's connection asks the Sentinel again and writes to the new primary.
    const outcome = await until(async () => {
      try {
        return await h.registry.put({ cardId: 'AA000002', hesCode: 'B1B2C3D4E5', profile: 'standard' });
      } catch (err) {
        if (isHesGateError(err, 'HG_CITY_UNAVAILABLE')) return undefined;
        throw err;
      }
    }, 'a registry write after the failover');
    expect(outcome).toBe('created');
    expect(await replicaConn.hlen(keys.bindings)).toBe(2);
    // Two bindings entries (the leader may add a statuses entry: the stand-in ministry answers nothing, so it asks again).
    expect((await replicaConn.xrange(keys.changes, '-', '+')).filter(([, f]) => f[1] === 'bindings')).toHaveLength(2);
    await until(async () => (h.report().holding && (await replicaConn.get(keys.lease))?.startsWith('hub-a:') ? true : undefined), 'the hub holds the lease on the new primary');
  });
});

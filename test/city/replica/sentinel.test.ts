/**
 * Primary failover under Sentinel (slow): one primary, one replica started with replicaOf, one
 * Sentinel. The primary is killed; the replica node, connected through the Sentinel
 * (`city.sentinels`, connect.ts), follows the new primary without a restart.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CityKey } from '../../../src/city/city-key.js';
import { hasRedis, RedisSentinel, RedisServer } from '../redis-harness.js';
import { binding, cardIdFor, cityConfig, HubSide, newKey, openStation, until, type Station } from './helpers.js';

describe.skipIf(!hasRedis)('the replica across a Sentinel failover (slow)', { timeout: 60_000 }, () => {
  let primary: RedisServer;
  let secondary: RedisServer;
  let sentinel: RedisSentinel;
  let key: CityKey;
  let station: Station;
  const clients: Redis[] = [];

  beforeEach(async () => {
    primary = await RedisServer.start();
    secondary = await RedisServer.start({ replicaOf: primary.port });
    sentinel = await RedisSentinel.start(primary.port);
    key = newKey();
  });
  afterEach(async () => {
    await station?.close();
    for (const c of clients.splice(0)) c.disconnect();
    await sentinel.stop();
    await secondary.stop();
    await primary.stop();
  });

  function client(port: number): Redis {
    const c = new Redis(port, '127.0.0.1');
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  it('follows the new primary and applies what is written there, with no further snapshot', async () => {
    const hub = new HubSide(client(primary.port), key);
    await hub.epoch();
    await hub.bindings({ put: [binding(1)], del: [] });
    station = await openStation({ key, city: cityConfig({ sentinels: [`127.0.0.1:${sentinel.port}`], sentinelName: 'hes-gate', connectTimeoutMs: 500, heartbeatMs: 500 }) });
    station.replica.start();
    await station.replica.caughtUp();
    const before = await hub.bindings({ put: [binding(2)], del: [] });
    await station.replica.caughtUp();
    // The replica holds everything before the primary goes (asynchronous replication otherwise may lose the tail).
    await hub.redis.wait(1, 5000);

    const switched = sentinel.switched();
    await primary.kill();
    const newPort = await switched;
    expect(newPort).toBe(secondary.port);
    const hub2 = new HubSide(client(newPort), key, hub.src, hub.nodeKey);
    const after = await hub2.bindings({ put: [binding(3)], del: [cardIdFor(1)] });
    await station.replica.caughtUp();

    expect(station.store.getBinding(cardIdFor(3))).toBeDefined();
    expect(station.store.getBinding(cardIdFor(1))).toBeUndefined();
    const r = station.replica.report();
    expect(r).toMatchObject({ state: 'live', snapshots: 1, entriesApplied: 2, lastAppliedId: after });
    expect(before).not.toBe(after);
    await until(async () => JSON.parse((await hub2.redis.get('hg:hb:st-1')) ?? '{}').lastAppliedId === after, 'a heartbeat written to the new primary');
  });
});

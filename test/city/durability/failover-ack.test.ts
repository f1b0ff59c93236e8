/**
 * A Sentinel failover with a write in flight, city.ackReplicas = 1: a hub acknowledges a binding
 * write only once a replica holds it (WAIT), so the promoted replica has every acknowledged
 * binding; a write the replica could not take in time (it was frozen) is refused with
 * HG_CITY_NOT_DURABLE, not acknowledged. After the failover every acknowledged binding is in the
 * new primary, the hub's record and the station's replica, the digests agree, and the fencing
 * token of the next holder is above every earlier one. Real redis-server ×2 and redis-sentinel,
 * in-process nodes (city-nodes.ts), the ministry simulator.
 * Mutation (seen failing): registry.ts `#acknowledge` skipping the WAIT.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { isHesGateError } from '../../../src/errors.js';
import { createMinistryClient } from '../../../src/ministry/client.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import { SIMULATOR_PASSWORD, SIMULATOR_USER, startSimulator, type Simulator } from '../../../src/simulator/index.js';
import { binding, cityConfig, newKey, until } from '../replica/helpers.js';
import { hasRedis, RedisSentinel, RedisServer } from '../redis-harness.js';
import { asMap, cityBindings, openNode, type CityNode } from './city-nodes.js';

describe.skipIf(!hasRedis)('a failover with a write in flight, acknowledged after a replica (real Redis, Sentinel)', () => {
  const key = newKey();
  const names = cityKeyspace(key.kid);
  let primary: RedisServer;
  let replica: RedisServer;
  let sentinel: RedisSentinel;
  let sim: Simulator;
  let ministry: MinistryClient;
  const nodes: CityNode[] = [];

  beforeAll(async () => {
    primary = await RedisServer.start();
    replica = await RedisServer.start({ replicaOf: primary.port });
    sentinel = await RedisSentinel.start(primary.port);
    sim = await startSimulator();
    ministry = createMinistryClient({ baseUrl: sim.url, user: SIMULATOR_USER, password: SIMULATOR_PASSWORD });
  });
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await ministry?.close();
    await sim?.close();
    replica?.resume();
    await sentinel?.stop();
    await replica?.stop();
    await primary?.stop();
  });

  it('keeps every acknowledged write; refuses to acknowledge one no replica holds', { timeout: 90_000 }, async () => {
    const replicaConn = new Redis(replica.port, '127.0.0.1');
    await until(async () => (await replicaConn.info('replication')).includes('master_link_status:up'), 'the replica is in sync');
    replicaConn.disconnect();
    const city = cityConfig({ role: 'hub', sentinels: [`127.0.0.1:${sentinel.port}`], leaseMs: 3000, heartbeatMs: 1000, connectTimeoutMs: 500, ackReplicas: 1, ackTimeoutMs: 1000, reconcileMs: 3_600_000 });
    const hub = await openNode({ role: 'hub', nodeId: 'hub-a', key, ministry, city });
    nodes.push(hub);
    const st = await openNode({ role: 'station', nodeId: 'st-1', key, ministry, city: { ...city, role: 'station' } });
    nodes.push(st);
    await until(() => hub.hub!.lease.holding, 'the hub holds the lease', 20_000);
    const tokenBefore = hub.hub!.lease.token!;

    const acked = Array.from({ length: 300 }, (_, i) => binding(i));
    for (let i = 0; i < acked.length; i += 100) await hub.hub!.registry.putMany(acked.slice(i, i + 100));

    // The replica freezes: a write now reaches the primary only, and is not acknowledged.
    replica.pause();
    const inFlight = Array.from({ length: 50 }, (_, i) => binding(1000 + i));
    const refused = await hub.hub!.registry.putMany(inFlight).then(
      () => 'acknowledged',
      (err: unknown) => (isHesGateError(err) ? err.code : String(err)),
    );
    expect(refused).toBe('HG_CITY_NOT_DURABLE');

    const switched = sentinel.switched();
    await primary.kill();
    replica.resume();
    expect(await switched).toBe(replica.port);

    const promoted = new Redis(replica.port, '127.0.0.1');
    try {
      const inRedis = await cityBindings(promoted, key);
      for (const [card, v] of asMap(acked)) expect(inRedis.get(card)).toBe(v);
      // The nodes follow the Sentinel; the hub's record and the station hold every acknowledged binding.
      await until(async () => hub.replica.report().state === 'live' && st.replica.report().state === 'live', 'both nodes live on the new primary', 30_000);
      // The hub's record may hold the unacknowledged batch (it applied it before the failover): its round puts it back.
      await until(async () => (await hub.reconciler.round()) === 'agree', 'the hub agrees with the promoted replica', 30_000);
      await until(async () => (await st.reconciler.round()) === 'agree', 'the station agrees', 30_000);
      const [inHub, inStation] = [hub.bindings(), st.bindings()];
      for (const [card, v] of asMap(acked)) {
        expect(inHub.get(card)).toBe(v);
        expect(inStation.get(card)).toBe(v);
      }
      expect(inStation).toEqual(inHub);
      expect(await cityBindings(promoted, key)).toEqual(inHub);
      await until(() => hub.hub!.lease.holding, 'the hub holds the lease on the new primary', 30_000);
      expect(hub.hub!.lease.token!).toBeGreaterThanOrEqual(tokenBefore);
      await hub.hub!.lease.stop();
      const other = await openNode({ role: 'hub', nodeId: 'hub-b', key, ministry, city });
      nodes.push(other);
      await until(() => other.hub!.lease.holding, 'another hub takes the lease', 30_000);
      expect(other.hub!.lease.token!).toBeGreaterThan(tokenBefore);
      expect(Number(await promoted.get(names.leaseToken))).toBe(other.hub!.lease.token);
    } finally {
      promoted.disconnect();
    }
  });
});

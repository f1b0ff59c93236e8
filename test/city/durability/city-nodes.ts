/**
 * In-process city nodes for the durability and reconciliation tests: each node is what
 * startCityTier (src/city/index.ts) composes — a real StationStore in its own temp dir, a
 * replica, on a hub the registry and lease (record = the node's store, acknowledgement after it,
 * a token floor file), and the Reconciler — against real redis-server processes, with the
 * production connection options (a role's ACL user and password when given).
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { connectRedis, type CityConfig } from '../../../src/city/connect.js';
import type { CityKey } from '../../../src/city/city-key.js';
import { createHub, type CityHub } from '../../../src/city/hub/hub.js';
import { FileTokenFloor } from '../../../src/city/hub/token-floor.js';
import { cityKeyspace } from '../../../src/city/keyspace.js';
import { Reconciler } from '../../../src/city/reconcile/reconciler.js';
import { createReplica } from '../../../src/city/replica/replica.js';
import { CityWire, type SharedBinding } from '../../../src/city/wire.js';
import type { MinistryClient } from '../../../src/ministry/types.js';
import type { NodeKey } from '../../../src/city/identity/node-key.js';
import { newNodeKey, openStation, type Station } from '../replica/helpers.js';

export interface CityNode extends Station {
  nodeId: string;
  hub: CityHub | null;
  reconciler: Reconciler;
  reconcileRedis: Redis;
  /** Every binding of this node's store, card id → "code/profile". */
  bindings(): Map<string, string>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  role: 'station' | 'hub';
  nodeId: string;
  key: CityKey;
  city: CityConfig;
  ministry: Pick<MinistryClient, 'checkHesCodes'>;
  /** Keep the store across a restart of the node. */
  dir?: string;
  /** Its signing key. @default a new one (unregistered) */
  nodeKey?: NodeKey;
}

export async function openNode(o: NodeOptions): Promise<CityNode> {
  const nodeKey = o.nodeKey ?? newNodeKey();
  // Its heartbeat carries the reconciler's last result, as startCityTier composes it.
  const station = await openStation({ key: o.key, city: o.city, nodeId: o.nodeId, nodeKey, reconcileReport: () => reconciler.report(), ...(o.dir === undefined ? {} : { dir: o.dir }) });
  const connect = (name: string, blocking: boolean): Redis => connectRedis(o.city, { connectionName: `${o.nodeId}:${name}`, blocking });
  const logger = (await import('../../../src/ops/logger.js')).createLogger('warn', station.log.stream);
  const store = station.store;
  // As hes-gate.ts does before the city starts: the statuses persisted before a restart.
  station.status.restore();
  const hub =
    o.role === 'hub'
      ? createHub({
          key: o.key, nodeKey, nodeId: o.nodeId, connect, clock: station.clock.now, logger, leaseMs: o.city.leaseMs, changesMaxLen: o.city.changesMaxLen,
          minCallsPerSecond: 1, maxCallsPerSecond: 10, risklessTtlMs: 600_000, minRotationMs: 3_600_000,
          codes: store, ministry: o.ministry, status: station.status,
          record: { position: () => store.cityPosition(), bindingsAfter: (after, limit) => store.bindingsAfter(after, limit) },
          recorded: (id, timeoutMs) => station.replica.appliedThrough(id, timeoutMs),
          ackReplicas: o.city.ackReplicas, ackTimeoutMs: o.city.ackTimeoutMs,
          floor: new FileTokenFloor(join(station.dir, 'city-fence')),
          nodesRecord: store, nodesEveryMs: o.city.heartbeatMs,
        })
      : null;
  if (hub !== null) {
    // As startCityTier composes a hub's replica: its store is the record, kept when Redis lost entries.
    station.replica = createReplica({
      key: o.key, nodeKey, nodeId: o.nodeId, role: 'hub', store, status: station.status, clock: station.clock.now, logger, connect,
      heartbeatMs: o.city.heartbeatMs, lookupsMaxLen: o.city.lookupsMaxLen, blockMs: 1000, graceMs: 1000, retryMinMs: 50, retryMaxMs: 500, epochPollMs: 50, version: 'test',
      keepOnReset: () => reconciler.round(), reconcileReport: () => reconciler.report(),
    });
  }
  const names = cityKeyspace(o.key.kid);
  const reconcileRedis = connect('reconcile', false);
  reconcileRedis.on('error', () => undefined);
  const reconciler = new Reconciler({
    role: o.role, redis: reconcileRedis, key: o.key, names, wire: new CityWire(o.key, names), record: store,
    replica: { appliedThrough: (id, t) => station.replica.appliedThrough(id, t), get bindingsVersion() { return station.replica.bindingsVersion; }, get position() { return station.replica.position; }, get liveCount() { return station.replica.liveCount; } },
    store: { applyCityBindings: (c, p) => store.applyCityBindings(c, p) },
    ...(hub === null ? {} : { registry: hub.registry }),
    statuses: station.status,
    logger, clock: station.clock.now, intervalMs: o.city.reconcileMs, retryMs: 100,
  });
  const node: CityNode = Object.assign(station, {
    nodeId: o.nodeId,
    hub,
    reconciler,
    reconcileRedis,
    bindings(): Map<string, string> {
      const out = new Map<string, string>();
      let after: string | undefined;
      for (;;) {
        const page = store.bindingsAfter(after, 1000);
        if (page.length === 0) return out;
        for (const b of page) out.set(b.cardId, `${b.hesCode}/${b.profile}`);
        after = page[page.length - 1]!.cardId;
      }
    },
    async stop(): Promise<void> {
      await reconciler.stop();
      reconcileRedis.disconnect();
      await hub?.stop();
      await station.close();
    },
  });
  station.replica.start();
  hub?.start();
  reconcileRedis.connect().catch(() => undefined);
  reconciler.start();
  return node;
}

/** card id → "code/profile" of bindings. */
export const asMap = (bs: readonly SharedBinding[]): Map<string, string> => new Map(bs.map((b) => [b.cardId, `${b.hesCode}/${b.profile}`]));

/** What Redis's bindings hash holds, opened (card id → "code/profile"). */
export async function cityBindings(redis: Redis, key: CityKey): Promise<Map<string, string>> {
  const names = cityKeyspace(key.kid);
  const wire = new CityWire(key, names);
  const out = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(names.bindings, cursor, 'COUNT', 1000);
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const b = wire.binding(flat[i]!, flat[i + 1]!);
      if (b !== undefined) out.set(b.cardId, `${b.hesCode}/${b.profile}`);
    }
    cursor = next;
  } while (cursor !== '0');
  return out;
}

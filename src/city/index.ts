/**
 * The city tier as the composition root starts it (docs/city.md): nothing for `standalone`; a
 * replica for a `station`; a replica, the registry and a candidate for the refresher lease for a
 * `hub`. Every part runs in the background on its own Redis connections: a tap never awaits
 * any of it.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from 'pino';
import type { StationStore } from '../cards/station-store.js';
import type { StatusService } from '../status/status-service.js';
import type { MinistryClient } from '../ministry/types.js';
import type { Clock } from '../types.js';
import { buildInfo } from '../build-info.js';
import { CityKey } from './city-key.js';
import { NodeKey } from './identity/node-key.js';
import { connectRedis } from './connect.js';
import { createReplica, type CityReplica } from './replica/replica.js';
import { createHub, type CityHub } from './hub/hub.js';
import { FileTokenFloor } from './hub/token-floor.js';
import { cityKeyspace } from './keyspace.js';
import { Reconciler, type ReconcileReport } from './reconcile/reconciler.js';
import type { ConnectFn, HubStatusReport, ReplicaStatusReport } from './types.js';
import { CityWire } from './wire.js';

export interface CityTier {
  role: 'station' | 'hub';
  replica: CityReplica;
  /** The hub's registry, lease and leader refresher; null on a station. */
  hub: CityHub | null;
  replicaReport(): ReplicaStatusReport;
  hubReport(): HubStatusReport | null;
  /** Anti-entropy: this node's copy against the city's digests (reconcile/reconciler.ts). */
  reconciler: Reconciler;
  reconcileReport(): ReconcileReport;
  close(): Promise<void>;
}

export interface CityTierOptions {
  config: Readonly<Config>;
  store: StationStore;
  status: StatusService;
  ministry: Pick<MinistryClient, 'checkHesCodes'>;
  clock: Clock;
  logger: Logger;
  /** Tests may connect their own way. @default connect.ts from config.city */
  connect?: ConnectFn;
}

/** Start the city tier of a station or hub; null for `standalone`. Rejects only on a bad key file (city or node). */
export async function startCityTier(o: CityTierOptions): Promise<CityTier | null> {
  const { config } = o;
  const city = config.city;
  // A vehicle is no part of the city's Redis: it fetches a signed list from a hub (src/vehicles/vehicle/).
  if (city.role === 'standalone' || city.role === 'vehicle') return null;
  const key = await CityKey.load(city.keyFile!);
  const nodeKey = await NodeKey.load(city.nodeKeyFile!, o.clock);
  const logger = o.logger.child({ component: 'city' });
  const connect: ConnectFn = o.connect ?? ((name, blocking) => connectRedis(city, { connectionName: `hes-gate:${city.role}:${config.stationId}:${name}`, blocking }));
  const replica = createReplica({
    key,
    nodeKey,
    nodeId: config.stationId,
    role: city.role,
    connect,
    store: o.store,
    status: o.status,
    clock: o.clock,
    logger,
    heartbeatMs: city.heartbeatMs,
    lookupsMaxLen: city.lookupsMaxLen,
    version: buildInfo().version,
    // A hub's store is the record: when Redis lost entries it applied, it writes them back instead of resyncing.
    ...(city.role === 'hub' ? { keepOnReset: () => reconciler.round() } : {}),
    // Operators see each node's agreement in `city status`: the heartbeat carries the last round's result.
    reconcileReport: () => reconciler.report(),
  });
  let hub: CityHub | null = null;
  if (city.role === 'hub') {
    hub = createHub({
      key,
      nodeKey,
      lookupsMaxLen: city.lookupsMaxLen,
      nodeId: config.stationId,
      connect,
      clock: o.clock,
      logger,
      leaseMs: city.leaseMs,
      changesMaxLen: city.changesMaxLen,
      minCallsPerSecond: config.refresher.callsPerSecond,
      maxCallsPerSecond: city.maxCallsPerSecond,
      risklessTtlMs: config.cache.risklessTtlMs,
      codes: o.store,
      ministry: o.ministry,
      status: o.status,
      backoff: { initialMs: config.refresher.backoffInitialMs, maxMs: config.refresher.backoffMaxMs },
      // The hub's own store is the city's record: a write is acknowledged once it holds it, and an emptied Redis is rebuilt from it.
      record: { position: () => o.store.cityPosition(), bindingsAfter: (after, limit) => o.store.bindingsAfter(after, limit) },
      recorded: (id, timeoutMs) => replica.appliedThrough(id, timeoutMs),
      ackReplicas: city.ackReplicas,
      ackTimeoutMs: city.ackTimeoutMs,
      floor: new FileTokenFloor(resolve(config.dataDir, 'city-fence')),
      // The node registry is kept in the record too: an emptied Redis gets the stations' keys and revocations back.
      nodesRecord: o.store,
      nodesEveryMs: city.heartbeatMs,
    });
  }
  const names = cityKeyspace(key.kid);
  const reconcileRedis = connect('reconcile', false);
  reconcileRedis.on('error', () => undefined);
  const reconciler = new Reconciler({
    role: city.role,
    redis: reconcileRedis,
    key,
    names,
    wire: new CityWire(key, names),
    record: o.store,
    replica,
    store: o.store,
    ...(hub === null ? {} : { registry: hub.registry }),
    // What the status service read from disk at start (hes-gate.ts restores before the city starts): checked against the city's answers once.
    statuses: o.status,
    logger,
    clock: o.clock,
    intervalMs: city.reconcileMs,
  });
  replica.start();
  hub?.start();
  reconcileRedis.connect().catch(() => undefined);
  reconciler.start();
  logger.info({ event: 'city.start', role: city.role, keyId: key.kid }, `city tier: ${city.role}`);
  return {
    role: city.role,
    replica,
    hub,
    replicaReport: () => replica.report(),
    hubReport: () => hub?.report() ?? null,
    reconciler,
    reconcileReport: () => reconciler.report(),
    close: async () => {
      await reconciler.stop();
      reconcileRedis.disconnect();
      await hub?.stop();
      await replica.stop();
    },
  };
}

/**
 * A station for the replica's tests: a real StationStore and a real StatusService in a temp
 * dir, a real redis-server, and the hub's side of the wire written with CityWire directly.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { openStationStore, type StationStore } from '../../../src/cards/station-store.js';
import { CityKey } from '../../../src/city/city-key.js';
import { connectRedis, type CityConfig } from '../../../src/city/connect.js';
import { cityKeyspace, type CityKeyspace } from '../../../src/city/keyspace.js';
import { createReplica, type CityReplica, type ReplicaTuning } from '../../../src/city/replica/replica.js';
import type { ReconcileReport, ReplicaStatus, ReplicaStore } from '../../../src/city/types.js';
import { CityWire, type BindingChanges, type SharedBinding, type SharedStatus, type StatusChanges } from '../../../src/city/wire.js';
import { NodeKey } from '../../../src/city/identity/node-key.js';
import { addNode, type NodeRole } from '../../../src/city/identity/node-registry.js';
import { Trust } from '../../../src/city/identity/trust.js';
import { LookupRelay, type RelayCounts } from '../../../src/city/hub/lookup-relay.js';
import { HesGateError } from '../../../src/errors.js';
import { createLogger } from '../../../src/ops/logger.js';
import { StatusService } from '../../../src/status/status-service.js';

export const T0 = Date.UTC(2026, 10, 30, 8);
export const cardIdFor = (i: number): string => `04${i.toString(16).toUpperCase().padStart(12, '0')}`;
export const codeFor = (i: number): string => `H${i.toString(36).toUpperCase().padStart(9, '0')}`;
export const binding = (i: number, profile = 'standard'): SharedBinding => ({ cardId: cardIdFor(i), hesCode: codeFor(i), profile });
export const riskless = { kind: 'status', status: 'RISKLESS', expiresAt: T0 + 365 * 86_400_000 } as const;
export const risky = { kind: 'status', status: 'RISKY', expiresAt: T0 + 365 * 86_400_000 } as const;

export function newKey(kid = 'k1'): CityKey {
  return CityKey.parse(`${kid}:${randomBytes(32).toString('base64')}\n`);
}

export function cityConfig(over: Partial<CityConfig>): CityConfig {
  return {
    role: 'station', redisUrl: null, redisUser: null, redisPassword: null, sentinels: [], sentinelName: 'hes-gate',
    keyFile: null, nodeKeyFile: null, tlsCaFile: null, connectTimeoutMs: 1000, leaseMs: 10_000, heartbeatMs: 5000,
    changesMaxLen: 1_000_000, lookupsMaxLen: 100_000, maxCallsPerSecond: 10, ackReplicas: 0, ackTimeoutMs: 5000, reconcileMs: 300_000, ...over,
  };
}

/** A new node key in memory (what `hes-gate city node keygen` writes to a file). */
export function newNodeKey(): NodeKey {
  return NodeKey.parse(NodeKey.generate().pem);
}

/** Register a node's key as `hes-gate city node add` does (needs a connection allowed to write hg:nodes). */
export async function register(redis: Redis, nodeId: string, role: NodeRole, key: NodeKey): Promise<void> {
  await addNode(redis, cityKeyspace('k1'), nodeId, role, key.publicKey, T0);
}

/** The hub's writes, as the wire format says a hub makes them (hash + entry in one MULTI), signed by the hub's key. */
export class HubSide {
  readonly names: CityKeyspace;
  readonly wire: CityWire;
  readonly #nodes = new Map<string, NodeKey>();
  constructor(
    readonly redis: Redis,
    readonly key: CityKey,
    readonly src = 'hub-1',
    /** The hub's signing key: pass the first HubSide's to write as the same hub on another connection. */
    readonly nodeKey: NodeKey = newNodeKey(),
  ) {
    this.names = cityKeyspace(key.kid);
    this.wire = new CityWire(key, this.names, { nodeId: src, key: this.nodeKey });
  }

  /** Names the city's epoch, and registers this hub's key (as a hub does when it starts). */
  async epoch(value = 'epoch-1'): Promise<void> {
    await register(this.redis, this.src, 'hub', this.nodeKey);
    await this.redis.set(this.names.epoch, value);
  }

  /** A node's key, registered on first use in `role`. */
  async node(nodeId: string, role: NodeRole = 'station'): Promise<NodeKey> {
    let k = this.#nodes.get(nodeId);
    if (k === undefined) {
      k = newNodeKey();
      this.#nodes.set(nodeId, k);
      await register(this.redis, nodeId, role, k);
    }
    return k;
  }

  /** Append with MAXLEN `maxLen` exact (a test trims on purpose), or no trimming. */
  #trim(maxLen?: number): Array<string | number> {
    return maxLen === undefined ? [] : ['MAXLEN', maxLen];
  }

  async bindings(changes: BindingChanges, maxLen?: number, id = '*'): Promise<string> {
    const m = this.redis.multi();
    for (const b of changes.put) m.hset(this.names.bindings, ...this.wire.bindingField(b));
    for (const c of changes.del) m.hdel(this.names.bindings, this.wire.bindingFieldOf(c));
    m.xadd(this.names.changes, ...this.#trim(maxLen), id, ...this.wire.bindingsEntry(changes, this.src));
    const out = await m.exec();
    const last = out?.[out.length - 1];
    if (last === undefined || last[0] !== null) throw last?.[0] ?? new Error('MULTI failed');
    return last[1] as string;
  }

  async statuses(changes: StatusChanges, maxLen?: number): Promise<string> {
    const m = this.redis.multi();
    for (const [code, answer] of changes.answers) m.hset(this.names.statuses, ...this.wire.statusField({ at: changes.at, code, answer }));
    m.xadd(this.names.changes, ...this.#trim(maxLen), '*', ...this.wire.statusesEntry(changes, this.src, 1));
    const out = await m.exec();
    return out![out!.length - 1]![1] as string;
  }

  /** A lookup in the relayed stream as `src` signed it (registered as a station unless `role` says otherwise). */
  async lookup(s: SharedStatus, src: string, role: NodeRole = 'station'): Promise<string> {
    const wire = src === this.src ? this.wire : new CityWire(this.key, this.names, { nodeId: src, key: await this.node(src, role) });
    return (await this.redis.xadd(this.names.lookups, '*', ...wire.lookupEntry(s, src)))!;
  }

  /** An entry of raw fields (for malformed ones). */
  async raw(stream: 'changes' | 'lookups', fields: string[]): Promise<string> {
    return (await this.redis.xadd(this.names[stream], '*', ...fields))!;
  }
}

/** JSON lines a logger wrote, for assertions (and for the privacy check). */
export function logSink(): { stream: Writable; lines: Array<Record<string, unknown>>; text: () => string } {
  const lines: Array<Record<string, unknown>> = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw += chunk.toString();
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { stream, lines, text: () => raw };
}

/** The store with its bindings batches passed through `apply` (a class instance does not spread). */
export function wrapStore(store: ReplicaStore, apply: ReplicaStore['applyCityBindings']): ReplicaStore {
  return {
    cityPosition: () => store.cityPosition(),
    applyCityBindings: apply,
    saveCityPosition: (p) => store.saveCityPosition(p),
    beginCitySnapshot: () => store.beginCitySnapshot(),
    codesBetween: (range, limit) => store.codesBetween(range, limit),
  };
}

export interface Station {
  dir: string;
  store: StationStore;
  status: StatusService;
  replicaStore: ReplicaStore;
  replicaStatus: ReplicaStatus;
  replica: CityReplica;
  log: ReturnType<typeof logSink>;
  clock: { now: () => number; set: (t: number) => void };
  /** A new replica over the same store and status service (a restart of the city part); `store` wraps the store. */
  restartReplica(tuning?: Partial<ReplicaTuning>, store?: ReplicaStore): Promise<CityReplica>;
  close(): Promise<void>;
}

export interface StationOptions {
  key: CityKey;
  city: CityConfig;
  nodeId?: string;
  /** This station's signing key. @default a new one (unregistered: its lookups are refused by others) */
  nodeKey?: NodeKey;
  dir?: string;
  tuning?: Partial<ReplicaTuning>;
  /** The node's reconciler, whose last result its heartbeat carries (city-nodes.ts). */
  reconcileReport?: () => ReconcileReport;
}

export async function openStation(o: StationOptions): Promise<Station> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'hg-replica-'));
  let now = T0;
  const clock = { now: () => now, set: (t: number) => void (now = t) };
  const store = await openStationStore({ dataDir: dir, clock: clock.now });
  const status = new StatusService({
    risklessTtlMs: 600_000, riskyTtlMs: 21_600_000, notFoundTtlMs: 60_000, expiredTtlMs: 3_600_000, lastKnownMaxAgeMs: 86_400_000, maxEntries: 100_000,
    ministry: () => Promise.reject(new HesGateError('HG_MINISTRY_SERVER_ERROR', 'no ministry in this test')),
    clock: clock.now,
    persistence: store,
  });
  const replicaStore: ReplicaStore = store;
  const replicaStatus: ReplicaStatus = status;
  const log = logSink();
  const logger = createLogger('debug', log.stream);
  const nodeId = o.nodeId ?? 'st-1';
  const nodeKey = o.nodeKey ?? newNodeKey();
  const make = (tuning?: Partial<ReplicaTuning>, store?: ReplicaStore): CityReplica =>
    createReplica({
      key: o.key, nodeKey, nodeId, role: 'station', store: store ?? replicaStore, status: replicaStatus, clock: clock.now, logger,
      connect: (name, blocking) => connectRedis(o.city, { connectionName: `${nodeId}:${name}`, blocking }),
      heartbeatMs: o.city.heartbeatMs, lookupsMaxLen: o.city.lookupsMaxLen,
      blockMs: 1000, graceMs: 1000, retryMinMs: 50, retryMaxMs: 500, epochPollMs: 50, version: 'test', ...o.tuning, ...tuning,
      ...(o.reconcileReport === undefined ? {} : { reconcileReport: o.reconcileReport }),
    });
  const station: Station = {
    dir, store, status, replicaStore, replicaStatus, log, clock,
    replica: make(),
    async restartReplica(tuning, wrapped) {
      await station.replica.stop();
      station.replica = make(tuning, wrapped);
      station.replica.start();
      return station.replica;
    },
    async close() {
      await station.replica.stop();
      await store.close();
      if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  return station;
}

/** Resolve when `check` holds, asking every `everyMs` (for states that no event announces). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The lease holder's lookup relay on its own connections (what a hub runs while it leads); `hints` collects the codes it was told to ask. */
export function startRelay(city: CityConfig, key: CityKey): { relay: LookupRelay; counts: RelayCounts; trust: Trust; hints: string[]; stop(): Promise<void> } {
  const redis = connectRedis(city, { connectionName: 'relay-cmd' });
  const reader = connectRedis(city, { connectionName: 'relay-reader', blocking: true });
  redis.on('error', () => undefined);
  reader.on('error', () => undefined);
  void redis.connect().catch(() => undefined);
  const names = cityKeyspace(key.kid);
  const trust = new Trust({ redis, keys: names });
  const counts: RelayCounts = { relayed: 0, hints: 0, malformed: 0 };
  const hints: string[] = [];
  const relay = new LookupRelay({ reader, redis, keys: names, wire: new CityWire(key, names), trust, hint: (c) => hints.push(c), maxLen: 1000, counts, blockMs: 200 });
  relay.start();
  return {
    relay, counts, trust, hints,
    async stop() {
      await relay.stop();
      redis.disconnect();
    },
  };
}

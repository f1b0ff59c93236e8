/**
 * The city tier's parts and the contracts between them (docs/city.md).
 *
 *   hub:      card admin API / cards import ─> Registry ──HSET+XADD──┐
 *             Refresher (while holding the Lease) ─> StatusPublisher ─┤ (fenced Lua script)
 *                                                                      v
 *                                                      Redis  hg:<kid>:changes / bindings / statuses / lookups
 *                                                                      │
 *   every node (stations and hubs): Replica ──XREAD──────────────────────┘
 *             ├─ bindings ─> ReplicaStore (the store worker: one transaction with the position)
 *             ├─ statuses ─> ReplicaStatus (the status service; persisted through the store worker)
 *             └─ lookups  ─> ReplicaStatus.ingest; this node's own tap answers ─> LookupSharer ─XADD─> lookups
 *
 * Taps read only the local SQLite replica and the status cache: nothing here is ever awaited by
 * a tap, and every Redis command runs on connections that fail fast while Redis is away.
 */
import type { BindingInput } from '../cards/binding.js';
import type { PutCounts, ReplicaStore } from '../cards/store-types.js';
import type { ReplicaStatus } from '../status/types.js';
import type { StatusChanges } from './wire.js';

// The contracts the stages own and the city's parts use (the stage owns its contract; the city depends on it).
export type { CityPosition, CitySnapshotWriter, ReplicaStore } from '../cards/store-types.js';
export type { AnswerHook, ReplicaStatus } from '../status/types.js';

/** Why a node refused a city entry for whose word it carries (identity/trust.ts). */
export type RefusalReason = 'forged' | 'replayed' | 'revoked';

export type CityState = 'connecting' | 'resyncing' | 'live' | 'degraded';

/** One node's view of its city, for metrics, /readyz and the live page (counts only, never codes). */
export interface ReplicaStatusReport {
  state: CityState;
  /** Why degraded (a coded reason such as `redis unreachable`), null otherwise. */
  reason: string | null;
  lastAppliedId: string | null;
  /** Seconds between the newest entry in the stream and the last applied (0 when caught up). */
  lagSeconds: number;
  lagEntries: number;
  snapshots: number;
  /** Snapshots forced because this node's position was trimmed from the stream. */
  snapshotsAfterTrim: number;
  /** Entries that did not open or parse (wrong key, altered): counted and dropped. */
  malformed: number;
  /**
   * Entries that opened but were refused by whose word they carry (identity/trust.ts): `forged`
   * (no valid signature of a registered node, or a station speaking for a pass or for the hub),
   * `replayed` (a sequence number already seen), `revoked` (signed by a revoked node).
   */
  refused: Record<RefusalReason, number>;
  entriesApplied: number;
  lookupsApplied: number;
  lookupsShared: number;
}

export interface Replica {
  start(): void;
  stop(): Promise<void>;
  report(): ReplicaStatusReport;
  /** Settles when everything in the stream up to now is applied (tests, benchmarks). */
  caughtUp(): Promise<void>;
}

/** The hub's writes of bindings to the city (the card admin API and `cards import` on a hub). */
export interface Registry {
  /** One operator change; resolves once Redis has it (HG_CITY_UNAVAILABLE otherwise). */
  put(binding: Required<BindingInput>): Promise<'created' | 'updated' | 'unchanged'>;
  delete(cardId: string): Promise<boolean>;
  /** A batch of canonical bindings in one write; counts as the local store reports them. */
  putMany(batch: readonly Required<BindingInput>[]): Promise<PutCounts>;
}

export interface LeaseEvents {
  acquired: [{ token: number }];
  lost: [{ token: number; reason: 'expired' | 'fenced' | 'unreachable' | 'released' }];
}

/** Publishes the leader's rotation results (the refresher's sink on a hub that holds the lease). */
export interface StatusPublisher {
  publish(changes: StatusChanges): void;
}

/** The city connection factory the parts share (connect.ts in production; tests may pass their own). */
export type ConnectFn = (connectionName: string, blocking: boolean) => import('ioredis').Redis;

/** What `createReplica` (replica/replica.ts) is given. */
export interface ReplicaOptions {
  key: import('./city-key.js').CityKey;
  /** This node's own signing key (city.nodeKeyFile): what it shares is signed with it. */
  nodeKey: import('./identity/node-key.js').NodeKey;
  /** stationId: names heartbeats and shared lookups (`src`). */
  nodeId: string;
  role: 'station' | 'hub';
  connect: ConnectFn;
  store: ReplicaStore;
  status: ReplicaStatus;
  clock: () => number;
  logger: import('pino').Logger;
  heartbeatMs: number;
  lookupsMaxLen: number;
  /**
   * A hub only: called when Redis's change stream ends before this node's position (Redis lost
   * entries); the node then writes back from its record and reads on from its position instead
   * of resyncing from Redis's (smaller) snapshot.
   */
  keepOnReset?: () => Promise<unknown>;
  /** This node's reconciler: its last result rides on every heartbeat (`digest`, `lastRepair`), for `city status`. */
  reconcileReport?: () => ReconcileReport;
}

/** The hub's view, for metrics, /readyz and the live page. */
export interface HubStatusReport {
  /** Node id of the lease holder as Redis last said, null when none or unknown. */
  leaseHolder: string | null;
  holding: boolean;
  token: number | null;
  /** Bound codes asked in the current rotation / all bound codes (0..1); null while standing by. */
  rotationProgress: number | null;
  lastRotationDurationMs: number | null;
  callsLastRotation: number | null;
  /** The budget of bulk calls per second the leader derived (bound codes, freshness, cap). */
  callsPerSecond: number | null;
  /** Status batches waiting for Redis (it was away), and batches dropped when that queue was full. */
  publishQueued: number;
  publishDropped: number;
  /** Writes refused by the fencing token. */
  fenced: number;
  /** Nodes' lookups the leader relayed to every node (answers that make stations stricter). */
  relayed: number;
  /** Stations' RISKLESS lookups the leader took as hints (asked the ministry itself). */
  hints: number;
  /** Nodes' lookups the relay refused, by reason (malformed: did not open, or named another node than its stream's). */
  relayRefused: Record<RefusalReason | 'malformed', number>;
  /** Codes the registry asked the ministry for in the write that bound them, and writes that went without (the ministry did not answer). */
  statusesAsked: number;
  statusesMissing: number;
}

/** What `createHub` (hub/hub.ts) returns: the registry, the lease and the leader's refresher. */
export interface Hub {
  registry: Registry;
  start(): void;
  stop(): Promise<void>;
  report(): HubStatusReport;
}

/** A node's anti-entropy (reconcile/reconciler.ts), for metrics and the live page: counts and times only. */
export interface ReconcileReport {
  rounds: number;
  /** Rounds that found this copy and Redis different. */
  divergences: number;
  /** Leaves found different, over all rounds. */
  divergentRanges: number;
  /** Bindings written or removed by repairs (in Redis on a hub, locally on a station). */
  repaired: number;
  /** Statuses this node restored from its own disk that the city answers otherwise (reconcile/status-check.ts, once per start). */
  statusDivergences: number;
  /** Of those, held and persisted as the city's answer (the rest: a newer RISKY held here). */
  repairedStatuses: number;
  /** Bytes read from Redis by rounds (digests, leaves, values). */
  bytesRead: number;
  lastAgreementAt: number | null;
  lastRepairAt: number | null;
  /** Bindings the last repair wrote or removed. */
  lastRepairMoved: number | null;
  /** The last round that compared this copy with the city's digests (a busy, unverified or failed round compares nothing). */
  lastComparison: { at: number; agrees: boolean; differing: number } | null;
  lastOutcome: RoundOutcome | null;
}

export type RoundOutcome = 'agree' | 'repaired' | 'unverified' | 'busy' | 'no epoch' | 'failed';

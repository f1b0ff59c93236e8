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
import type { PutCounts } from '../cards/store-types.js';
import type { Answer } from '../status/types.js';
import type { BindingChanges, CheckedRange, SharedStatus, StatusChanges } from './wire.js';

/** Where a node stands in its city's change stream; persisted in the local store with what it applied. */
export interface CityPosition {
  /** The key space (the city key's id) and the epoch it was read in: either changing means a snapshot. */
  kid: string;
  epoch: string;
  /** Id of the last change stream entry applied ("0-0" before the first). */
  changesId: string;
  /** How many change entries the stream had received when this one was added (for lag in entries). */
  changesSeq: number;
}

/** What the replica needs from the local card store (the store worker does every write). */
export interface ReplicaStore {
  /** The persisted position, or undefined for a store that never joined a city (or was rekeyed). */
  cityPosition(): Promise<CityPosition | undefined>;
  /** Apply one bindings batch and move the position, in one transaction. */
  applyCityBindings(changes: BindingChanges, position: CityPosition): Promise<PutCounts & { deleted: number }>;
  /** Move the position after entries that wrote no binding (statuses); ordered after earlier status writes. */
  saveCityPosition(position: CityPosition): Promise<void>;
  /**
   * Replace every binding with a snapshot, streamed in batches: bindings absent from the
   * snapshot are removed at `finish`, which also saves the position. Rows are staged off the
   * store file until `finish`, which swaps them in with one transaction (taps see the old set or
   * the new one). The replica applies no bindings entry while a snapshot is open: `finish` would
   * remove a binding the snapshot does not hold.
   */
  beginCitySnapshot(): Promise<CitySnapshotWriter>;
  /** Bound codes in (after, through] in code order, at most `limit` (a status entry's checked range). */
  codesBetween(range: CheckedRange, limit: number): string[] | Promise<string[]>;
}

export interface CitySnapshotWriter {
  add(batch: readonly BindingInput[]): Promise<void>;
  finish(position: CityPosition): Promise<{ bindings: number; removed: number }>;
  abort(): Promise<void>;
}

/** What the replica needs from the status service. */
export interface ReplicaStatus {
  /** Hold an answer learned elsewhere at `at` (kept only when newer than what is held); persisted when `persist`. */
  ingestShared(items: Iterable<SharedStatus>, persist: boolean): void;
  /** Re-stamp the answers held for these codes as confirmed at `at` (a rotation step found them unchanged). Returns how many were held. */
  confirm(codes: Iterable<string>, at: number): number;
}

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

/** How an answer the status stage holds becomes shared (exported for the status service's hook). */
export type AnswerHook = (code: string, answer: Answer, at: number) => void;

/** The city connection factory the parts share (connect.ts in production; tests may pass their own). */
export type ConnectFn = (connectionName: string, blocking: boolean) => import('ioredis').Redis;

/** What `createReplica` (replica/replica.ts) is given. */
export interface ReplicaOptions {
  key: import('./city-key.js').CityKey;
  /** stationId: names heartbeats and shared lookups (`src`). */
  nodeId: string;
  role: 'station' | 'hub';
  connect: ConnectFn;
  store: ReplicaStore;
  status: ReplicaStatus;
  clock: () => number;
  logger: import('../ops/logger.js').Logger;
  heartbeatMs: number;
  lookupsMaxLen: number;
  /**
   * A hub only: called when Redis's change stream ends before this node's position (Redis lost
   * entries); the node then writes back from its record and reads on from its position instead
   * of resyncing from Redis's (smaller) snapshot.
   */
  keepOnReset?: () => Promise<unknown>;
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
  /** Bytes read from Redis by rounds (digests, leaves, values). */
  bytesRead: number;
  lastAgreementAt: number | null;
  lastRepairAt: number | null;
  lastOutcome: RoundOutcome | null;
}

export type RoundOutcome = 'agree' | 'repaired' | 'unverified' | 'busy' | 'no epoch' | 'failed';

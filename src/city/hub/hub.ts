/**
 * A hub: the city's card registry, and a candidate for the refresher lease.
 *
 *   start ─> connection ─> Registry (card admin API, cards import)
 *         └> Lease ── acquired ─> Refresher(local replica's bound codes, budget) ─> LeaderPublisher ─> Redis
 *                  └─ lost ─────> refresher stopped, publisher closed (its queue is not ours any more)
 *
 * The leader's budget: a rotation of B bound codes needs ⌈B/500⌉ bulk calls and must fit in the
 * RISKLESS freshness with a margin (80 %), so calls/s = ⌈B/500⌉ / (0.8 · ttl), at least the
 * station's own refresher budget and at most the city's cap. It is recomputed at the end of
 * every rotation (B changes as cards are bound).
 */
import type { Redis } from 'ioredis';
import { MINISTRY_BULK_LIMIT, type MinistryClient } from '../../ministry/types.js';
import type { Logger } from 'pino';
import { createRefresher, type BoundCodes, type CycleReport, type Refresher, type RotationEvent } from '../../status/refresher.js';
import type { Clock, Timers } from '../../types.js';
import type { CityKey } from '../city-key.js';
import { cityKeyspace } from '../keyspace.js';
import type { ConnectFn, Hub, HubStatusReport } from '../types.js';
import { Lease } from './lease.js';
import { LeaderPublisher, type LocalStatuses, type PublishStats } from './publisher.js';
import { failureKind } from './redis-error.js';
import { CityRegistry, type RecordSource } from './registry.js';
import type { TokenFloor } from './token-floor.js';
import type { NodeKey } from '../identity/node-key.js';
import { registerSelf } from '../identity/node-registry.js';
import { Trust } from '../identity/trust.js';
import { CityWire } from '../wire.js';
import { LookupRelay, type RelayCounts } from './lookup-relay.js';
import { NodesRecord, type NodesStore } from './nodes-record.js';
import { Ticker } from '../replica/heartbeat.js';

export interface HubOptions {
  key: CityKey;
  /** This hub's id (stationId): names its lease and the `src` of its writes. */
  nodeId: string;
  /** This hub's signing key (city.nodeKeyFile): it signs every entry, and registers itself with it once. */
  nodeKey: NodeKey;
  /** city.lookupsMaxLen: the relayed lookup stream's MAXLEN ~. @default 100000 */
  lookupsMaxLen?: number;
  connect: ConnectFn;
  /** Wall clock, for answers' `at`. */
  clock: Clock;
  logger: Logger;
  /** city.leaseMs */
  leaseMs: number;
  /** city.changesMaxLen */
  changesMaxLen: number;
  /** The leader's budget bounds: refresher.callsPerSecond and city.maxCallsPerSecond. */
  minCallsPerSecond: number;
  maxCallsPerSecond: number;
  /** cache.risklessTtlMs: a rotation must fit in it. */
  risklessTtlMs: number;
  /** The local replica's bound codes (the card store). */
  codes: BoundCodes & { countCodes(): number | Promise<number> };
  ministry: Pick<MinistryClient, 'checkHesCodes'>;
  /** The local status service: the leader holds what it learns and publishes the changes. */
  status: LocalStatuses;
  /** refresher.backoffInitialMs / backoffMaxMs */
  backoff?: { initialMs?: number; maxMs?: number };
  /** A new rotation starts no sooner than this after the previous one. @default 60000 */
  minRotationMs?: number;
  /** Status batches kept while Redis is away. @default 1000 */
  publishQueueMax?: number;
  /** Monotonic clock of the lease. @default performance.now */
  now?: () => number;
  /** The highest fencing token this hub held or saw, kept across restarts (token-floor.ts). @default in memory */
  floor?: TokenFloor;
  /** city.ackReplicas, city.ackTimeoutMs: a binding write is acknowledged once that many replicas hold it. */
  ackReplicas?: number;
  ackTimeoutMs?: number;
  /** Resolves once this hub's record (its local store) applied the stream through the id (registry.ts). */
  recorded?: (id: string | null, timeoutMs: number) => Promise<void>;
  /** This hub's record: an emptied Redis is rebuilt from it. */
  record?: RecordSource;
  /** Where this hub keeps the node registry too (its store), so an emptied Redis gets it back (nodes-record.ts). */
  nodesRecord?: NodesStore;
  /** How often the registry's version is looked at for the record, ms (city.heartbeatMs). @default 5000 */
  nodesEveryMs?: number;
  timer?: Timers;
}

/** The hub as the composition root uses it: a tapped or newly bound code is refreshed first. */
export interface CityHub extends Hub {
  registry: CityRegistry;
  lease: Lease;
  noteTap(code: string): void;
}

/** Bulk calls per second for the leader (see the header). */
export function leaderBudget(boundCodes: number, risklessTtlMs: number, min: number, max: number): number {
  const calls = Math.ceil(boundCodes / MINISTRY_BULK_LIMIT);
  const needed = calls / ((0.8 * risklessTtlMs) / 1000);
  return Math.min(max, Math.max(min, needed));
}

export function createHub(o: HubOptions): CityHub {
  return new CityHubImpl(o);
}

class CityHubImpl implements CityHub {
  readonly registry: CityRegistry;
  readonly lease: Lease;
  readonly #o: HubOptions;
  readonly #redis: Redis;
  readonly #stats: PublishStats = { published: 0, dropped: 0, fenced: 0 };
  readonly #relayCounts: RelayCounts = { relayed: 0, hints: 0, malformed: 0 };
  readonly #relayTrust: Trust;
  #relay: LookupRelay | undefined;
  #publisher: LeaderPublisher | undefined;
  #refresher: Refresher | undefined;
  #budget: number | null = null;
  #boundCodes = 0;
  #rotationCodes = 0;
  #lastRotation: RotationEvent | undefined;
  #started = false;
  /** Bumped on every acquisition and loss, so an async step of an older term does nothing. */
  #term = 0;
  readonly #nodes: NodesRecord | undefined;
  readonly #nodesTicker: Ticker | undefined;

  constructor(o: HubOptions) {
    this.#o = o;
    this.#redis = o.connect(`hes-gate-hub:${o.nodeId}`, false);
    // Errors show as failed commands (counted, logged where they matter); never as an unhandled event.
    this.#redis.on('error', () => undefined);
    if (o.nodesRecord !== undefined) {
      const nodes = new NodesRecord(this.#redis, cityKeyspace(o.key.kid), o.nodesRecord);
      this.#nodes = nodes;
      this.#nodesTicker = new Ticker(o.nodesEveryMs ?? 5000, () =>
        nodes.mirror().then(
          () => undefined,
          (err: unknown) => {
            // Redis away is said by the replica's state; a failure with Redis up (the store) is said here.
            if (this.#redis.status === 'ready') o.logger.warn({ event: 'city.nodes.record', reason: failureKind(err) }, 'city: could not keep the node registry in this hub\'s record');
          },
        ),
      );
    }
    this.#redis.on('ready', () => {
      registerSelf(this.#redis, cityKeyspace(o.key.kid), o.nodeId, o.nodeKey.publicKey, o.clock())
        .then((wrote) => {
          if (wrote) o.logger.info({ event: 'city.node.registered', node: o.nodeId }, 'city: this hub registered its signing key');
        })
        .catch((err: unknown) => o.logger.warn({ event: 'city.node.register', reason: failureKind(err) }, 'city: could not register this hub\'s signing key'));
      // After every (re)connect: Redis may have come back empty, and is then rebuilt from the record.
      this.registry.ensureEpoch(true).catch((err: unknown) => o.logger.warn({ event: 'city.epoch', reason: failureKind(err) }, 'city: could not check the epoch'));
    });
    this.registry = new CityRegistry({
      redis: this.#redis,
      key: o.key,
      nodeId: o.nodeId,
      changesMaxLen: o.changesMaxLen,
      nodeKey: o.nodeKey,
      ministry: o.ministry,
      clock: o.clock,
      missing: (codes) => {
        for (const code of codes) this.#refresher?.noteTap(code);
      },
      ...(o.ackReplicas === undefined ? {} : { ackReplicas: o.ackReplicas }),
      ...(o.ackTimeoutMs === undefined ? {} : { ackTimeoutMs: o.ackTimeoutMs }),
      ...(o.recorded === undefined ? {} : { recorded: o.recorded }),
      ...(o.record === undefined ? {} : { record: o.record }),
      // The recorded registry first (stations' keys, revocations), then this hub's own key: it never undoes a recorded revocation.
      beforeRestore: async () => {
        const nodes = await this.#nodes?.restore();
        if (nodes !== undefined && nodes > 0) o.logger.warn({ event: 'city.nodes.restored', nodes }, 'city: Redis had lost the node registry; wrote it back from this hub\'s record');
        await registerSelf(this.#redis, cityKeyspace(o.key.kid), o.nodeId, o.nodeKey.publicKey, o.clock());
      },
      onRestored: (bindings) => o.logger.warn({ event: 'city.restored', bindings }, 'city: Redis had lost the city; rebuilt it from this hub\'s record'),
    });
    this.#relayTrust = new Trust({ redis: this.#redis, keys: cityKeyspace(o.key.kid) });
    this.lease = new Lease({
      redis: this.#redis,
      keys: cityKeyspace(o.key.kid),
      nodeId: o.nodeId,
      leaseMs: o.leaseMs,
      ...(o.now === undefined ? {} : { now: o.now }),
      ...(o.timer === undefined ? {} : { timer: o.timer }),
      ...(o.floor === undefined ? {} : { floor: o.floor }),
    });
    this.lease.on('acquired', ({ token }) => void this.#lead(token));
    this.lease.on('lost', ({ token, reason }) => {
      if (reason === 'released') o.logger.info({ event: 'city.lease.released', fence: token }, 'city: this hub let the refresher lease go');
      else o.logger.warn({ event: 'city.lease.lost', fence: token, reason }, 'city: this hub lost the refresher lease and stands by');
      void this.#standBy();
    });
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#redis.connect().catch(() => undefined);
    this.lease.start();
    this.#nodesTicker?.start();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await this.#nodesTicker?.stop();
    await this.lease.stop();
    await this.#standBy();
    this.#redis.disconnect();
  }

  noteTap(code: string): void {
    this.#refresher?.noteTap(code);
  }

  async #lead(token: number): Promise<void> {
    const term = ++this.#term;
    const o = this.#o;
    o.logger.info({ event: 'city.lease.acquired', fence: token }, 'city: this hub holds the refresher lease');
    this.#publisher = new LeaderPublisher({
      redis: this.#redis,
      key: o.key,
      nodeId: o.nodeId,
      nodeKey: o.nodeKey,
      token,
      changesMaxLen: o.changesMaxLen,
      local: o.status,
      stats: this.#stats,
      ...(o.publishQueueMax === undefined ? {} : { maxQueued: o.publishQueueMax }),
      ...(o.timer === undefined ? {} : { timer: o.timer }),
      onFenced: () => {
        o.logger.warn({ event: 'city.fenced', fence: token }, 'city: a status write was refused by the fencing token');
        this.lease.standDown('fenced');
      },
    });
    const keys = cityKeyspace(o.key.kid);
    this.#relay = new LookupRelay({
      reader: o.connect(`hes-gate-hub:${o.nodeId}:relay`, true),
      redis: this.#redis,
      keys,
      wire: new CityWire(o.key, keys),
      trust: this.#relayTrust,
      hint: (code) => this.#refresher?.noteTap(code),
      maxLen: o.lookupsMaxLen ?? 100_000,
      counts: this.#relayCounts,
    });
    this.#relay.start();
    const budget = await this.#deriveBudget();
    if (term !== this.#term) return;
    this.#run(budget);
  }

  async #deriveBudget(): Promise<number> {
    const o = this.#o;
    try {
      this.#boundCodes = await o.codes.countCodes();
    } catch {
      // Keep the last count: the budget is a pace, not a promise.
    }
    return leaderBudget(this.#boundCodes, o.risklessTtlMs, o.minCallsPerSecond, o.maxCallsPerSecond);
  }

  /** Start the leader's refresher at `budget` calls per second (replacing one at another pace). */
  #run(budget: number): void {
    const o = this.#o;
    const publisher = this.#publisher;
    if (publisher === undefined) return;
    this.#budget = budget;
    const refresher = createRefresher({
      store: o.codes,
      ministry: o.ministry,
      clock: o.clock,
      budgetCallsPerSecond: budget,
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
      ...(o.minRotationMs === undefined ? {} : { minRotationMs: o.minRotationMs }),
      ...(o.timer === undefined ? {} : { timer: o.timer }),
      sink: {
        ingestMany: (results, at, checked) => {
          // A step that ends after this holder's lease may have lapsed publishes nothing, and holds
          // nothing here either: the publisher finds changes by comparing with what this hub holds,
          // so an answer held but never published would never be published later (and a station
          // would keep its older answer, confirmed by the next rotation). The next holder asks again.
          if (this.lease.valid() && !publisher.closed) publisher.ingestMany(results, at, checked);
        },
      },
    });
    const term = this.#term;
    refresher.on('cycle', (r: CycleReport) => {
      if (r.outcome === 'ok') this.#rotationCodes += r.codes - r.recent;
      if (r.rotationCompleted) this.#rotationCodes = 0;
    });
    refresher.on('rotation', (e: RotationEvent) => {
      this.#lastRotation = e;
      o.logger.info({ event: 'city.rotation', codes: e.codes, calls: e.calls, failedCalls: e.failedCalls, durationMs: Math.round(e.durationMs) }, 'city: rotation complete');
      void this.#deriveBudget().then((next) => {
        if (term !== this.#term || next === this.#budget || this.#refresher !== refresher) return;
        this.#refresher = undefined;
        void refresher.stop().then(() => {
          if (term === this.#term) this.#run(next);
        });
      });
    });
    this.#refresher = refresher;
    this.#rotationCodes = 0;
    refresher.start();
  }

  async #standBy(): Promise<void> {
    this.#term++;
    this.#publisher?.close();
    this.#publisher = undefined;
    const relay = this.#relay;
    this.#relay = undefined;
    const r = this.#refresher;
    this.#refresher = undefined;
    this.#budget = null;
    await Promise.all([relay?.stop(), r?.stop()]);
  }

  report(): HubStatusReport {
    const holding = this.lease.holding;
    const leading = holding && this.#refresher !== undefined;
    return {
      leaseHolder: this.lease.holder,
      holding,
      token: this.lease.token,
      rotationProgress: leading ? Math.min(1, this.#rotationCodes / Math.max(1, this.#boundCodes)) : null,
      lastRotationDurationMs: this.#lastRotation?.durationMs ?? null,
      callsLastRotation: this.#lastRotation?.calls ?? null,
      callsPerSecond: this.#budget,
      publishQueued: this.#publisher?.queued ?? 0,
      publishDropped: this.#stats.dropped,
      fenced: this.#stats.fenced,
      relayed: this.#relayCounts.relayed,
      hints: this.#relayCounts.hints,
      relayRefused: { ...this.#relayTrust.refused, malformed: this.#relayCounts.malformed },
      statusesAsked: this.registry.statusesAsked,
      statusesMissing: this.registry.statusesMissing,
    };
  }
}

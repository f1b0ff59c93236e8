/**
 * The replica every station and hub runs: it keeps the local store and status cache in step
 * with the city (docs/city.md).
 *
 *   start ─> connect ─> position (store) ─> epoch (wait for a hub: `connecting`)
 *         ─> resume from the position, or snapshot (start-point.ts, snapshot.ts: `resyncing`)
 *         ─> loop: XREAD BLOCK changes + lookups (own blocking connection) ─> apply.ts (`live`)
 *   any failure ─> `degraded` (with a reason), back off (capped), then start again from the
 *   position in memory: it moved only with what was applied, so nothing is lost or applied twice.
 *   every heartbeatMs ─> XINFO for the lag, SET hg:hb:<node> (heartbeat.ts, with the reconciler's last result)
 *
 * Nothing here is awaited by a tap; the loop never throws.
 */
import type { Redis } from 'ioredis';
import { buildInfo } from '../../build-info.js';
import { cityKeyspace, type CityKeyspace } from '../keyspace.js';
import type { CityPosition, CityState, Replica, ReplicaOptions, ReplicaStatusReport, ReplicaStore } from '../types.js';
import { CityWire } from '../wire.js';
import { applyChanges, applyLookups, type ApplyCounters, type ApplyTarget, type StreamEntry } from './apply.js';
import { ensureConnecting, guardedRead, openConnection, reasonOf } from './connection.js';
import { heartbeatValue, Ticker, writeHeartbeat } from './heartbeat.js';
import { LagTracker } from './lag.js';
import { LookupSharer } from './lookup-sharer.js';
import { Trust } from '../identity/trust.js';
import { takeSnapshot } from './snapshot.js';
import { startPoint, type SnapshotReason } from './start-point.js';
import { compareIds, streamInfo } from './stream-info.js';

export { LookupSharer } from './lookup-sharer.js';

/** Knobs with defaults; tests shorten the times. */
export interface ReplicaTuning {
  /** XREAD BLOCK, ms: a frozen Redis is noticed after this plus `graceMs`. @default 5000 */
  blockMs: number;
  /** @default 2000 */
  graceMs: number;
  /** Entries per XREAD (per stream). @default 200 */
  readCount: number;
  /** Back-off after a failure, doubling from the first to the cap, ms. @default 200, 5000 */
  retryMinMs: number;
  retryMaxMs: number;
  /** How often to look for the city's epoch while no hub has created it, ms. @default 1000 */
  epochPollMs: number;
  /** Shown in the heartbeat. @default the package version */
  version: string;
  /** Own lookups queued or in flight before more are dropped. @default 10000 */
  maxLookupsQueued: number;
}

/** The replica, and the sharer of this node's own ministry answers (the status service's `onAnswer`). */
export interface CityReplica extends Replica {
  readonly sharer: LookupSharer;
  /** Settles once the change stream is applied and saved through `id` (null: through its end now); rejects after `timeoutMs`. */
  appliedThrough(id: string | null, timeoutMs: number): Promise<void>;
  /** Moves whenever the local bindings may change (an entry, a snapshot): a digest read across a move is retried. */
  readonly bindingsVersion: number;
  /** Where this node stands now (in memory), undefined before it knows. */
  readonly position: CityPosition | undefined;
  /** How many times the replica went live (a start, every reconnect): the reconciler runs after each. */
  readonly liveCount: number;
  /** Whose word this node takes (the registry of node keys), and what it refused. */
  readonly trust: Trust;
}

export function createReplica(options: ReplicaOptions & Partial<ReplicaTuning>): CityReplica {
  return new CityReplicaImpl(options);
}

interface Waiter {
  changesId: string;
  /** null: the change stream alone (appliedThrough). */
  lookupsId: string | null;
  resolve(): void;
  reject(err: Error): void;
}

class CityReplicaImpl implements CityReplica {
  readonly sharer: LookupSharer;
  readonly #o: ReplicaOptions;
  readonly #t: ReplicaTuning;
  readonly #names: CityKeyspace;
  readonly #wire: CityWire;
  readonly #cmd: Redis;
  readonly #reader: Redis;
  readonly #ticker: Ticker;
  readonly #lag = new LagTracker();
  readonly #counters: ApplyCounters = { malformed: 0, entriesApplied: 0, lookupsApplied: 0 };
  readonly #target: ApplyTarget;
  readonly trust: Trust;
  readonly #stopSignal = new AbortController();
  #state: CityState = 'connecting';
  #reason: string | null = null;
  #position: CityPosition | undefined;
  #savedId: string | undefined;
  #loaded = false;
  #lookupsId: string | undefined;
  #needsStart = true;
  #toldNoEpoch = false;
  #snapshots = 0;
  #snapshotsAfterTrim = 0;
  #waiters: Waiter[] = [];
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #bindingsVersion = 0;
  #liveCount = 0;

  constructor(options: ReplicaOptions & Partial<ReplicaTuning>) {
    this.#o = options;
    this.#t = {
      blockMs: options.blockMs ?? 5000,
      graceMs: options.graceMs ?? 2000,
      readCount: options.readCount ?? 200,
      retryMinMs: options.retryMinMs ?? 200,
      retryMaxMs: options.retryMaxMs ?? 5000,
      epochPollMs: options.epochPollMs ?? 1000,
      version: options.version ?? buildInfo().version,
      maxLookupsQueued: options.maxLookupsQueued ?? 10_000,
    };
    this.#names = cityKeyspace(options.key.kid);
    this.#wire = new CityWire(options.key, this.#names, { nodeId: options.nodeId, key: options.nodeKey });
    // Redis refuses client names with spaces; the ConnectFn prefixes role and node id.
    this.#cmd = openConnection(options.connect, 'replica', false);
    this.#reader = openConnection(options.connect, 'replica-reader', true);
    this.trust = new Trust({ redis: this.#cmd, keys: this.#names });
    this.sharer = new LookupSharer({ redis: this.#cmd, wire: this.#wire, stream: this.#names.lookupsOf(options.nodeId), nodeId: options.nodeId, maxLen: options.lookupsMaxLen, maxQueued: this.#t.maxLookupsQueued });
    const store = options.store;
    // Every bindings write moves the version before and after, so a digest read across it is retried.
    const counted: ReplicaStore = {
      cityPosition: () => store.cityPosition(),
      saveCityPosition: (p) => store.saveCityPosition(p),
      beginCitySnapshot: () => store.beginCitySnapshot(),
      codesBetween: (range, limit) => store.codesBetween(range, limit),
      applyCityBindings: async (changes, position) => {
        this.#bindingsVersion++;
        try {
          return await store.applyCityBindings(changes, position);
        } finally {
          this.#bindingsVersion++;
        }
      },
    };
    this.#target = { wire: this.#wire, store: counted, status: options.status, counters: this.#counters, nodeId: options.nodeId, trust: this.trust, clock: options.clock };
    this.#ticker = new Ticker(options.heartbeatMs, () => this.#heartbeat());
  }

  start(): void {
    if (this.#loop !== undefined || this.#stopping !== undefined) return;
    this.#ticker.start();
    this.#loop = this.#run();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopSignal.abort();
      await this.#ticker.stop();
      await this.sharer.stop();
      this.#reader.disconnect();
      await this.#loop;
      this.#cmd.disconnect();
      for (const w of this.#waiters.splice(0)) w.reject(new Error('the replica stopped'));
    })();
    return this.#stopping;
  }

  get #stopped(): boolean {
    return this.#stopSignal.signal.aborted;
  }

  report(): ReplicaStatusReport {
    const lag = this.#lag.lag(this.#position);
    return {
      state: this.#state,
      reason: this.#reason,
      lastAppliedId: this.#position?.changesId ?? null,
      lagSeconds: lag.seconds,
      lagEntries: lag.entries,
      snapshots: this.#snapshots,
      snapshotsAfterTrim: this.#snapshotsAfterTrim,
      malformed: this.#counters.malformed,
      refused: { ...this.trust.refused },
      entriesApplied: this.#counters.entriesApplied,
      lookupsApplied: this.#counters.lookupsApplied,
      lookupsShared: this.sharer.counts.shared,
    };
  }

  get bindingsVersion(): number {
    return this.#bindingsVersion;
  }

  get position(): CityPosition | undefined {
    return this.#position;
  }

  get liveCount(): number {
    return this.#liveCount;
  }

  async appliedThrough(id: string | null, timeoutMs: number): Promise<void> {
    const target = id ?? (await streamInfo(this.#cmd, this.#names.changes)).lastId;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`the local replica did not apply ${target} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        changesId: target,
        lookupsId: null,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.push(waiter);
      this.#wake();
    });
  }

  /** Settles once what both streams held when it was called is applied (waits out outages). */
  async caughtUp(): Promise<void> {
    for (;;) {
      if (this.#stopped) throw new Error('the replica stopped');
      try {
        await ensureConnecting(this.#cmd);
        const [changes, lookups] = await Promise.all([streamInfo(this.#cmd, this.#names.changes), streamInfo(this.#cmd, this.#names.lookups)]);
        await new Promise<void>((resolve, reject) => {
          this.#waiters.push({ changesId: changes.lastId, lookupsId: lookups.lastId, resolve, reject });
          this.#wake();
        });
        return;
      } catch (err) {
        if (this.#stopped) throw err;
        // Redis away: no event says when it is back, so ask again shortly.
        await this.#pause(100);
      }
    }
  }

  /** Settle the waiters whose targets are applied, and saved in the store. */
  #wake(): void {
    const saved = this.#savedId;
    const l = this.#lookupsId;
    if (saved === undefined) return;
    const started = l !== undefined && !this.#needsStart;
    this.#waiters = this.#waiters.filter((w) => {
      // A wait on the change stream alone is settled by what is saved, even while (re)starting.
      const done = compareIds(saved, w.changesId) >= 0 && (w.lookupsId === null || (started && compareIds(l!, w.lookupsId) >= 0));
      if (done) w.resolve();
      return !done;
    });
  }

  /** Resolves false when the replica stopped meanwhile. */
  async #pause(ms: number): Promise<boolean> {
    if (this.#stopped) return false;
    const signal = this.#stopSignal.signal;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
    return !this.#stopped;
  }

  #setState(state: CityState, reason: string | null, err?: unknown): void {
    if (state === this.#state && reason === this.#reason) return;
    const was = this.#state;
    this.#state = state;
    this.#reason = reason;
    const log = this.#o.logger;
    if (state === 'live') this.#liveCount++;
    if (state === 'degraded') {
      log.warn({ event: 'city.degraded', reason, error: err instanceof Error ? err.message : undefined, lastAppliedId: this.#position?.changesId ?? null }, 'city tier degraded: deciding from the local replica');
    } else if (state === 'live' && was !== 'resyncing') {
      log.info({ event: 'city.live', lastAppliedId: this.#position?.changesId ?? null }, 'city tier live');
    }
  }

  async #run(): Promise<void> {
    let backoff = this.#t.retryMinMs;
    while (!this.#stopped) {
      try {
        if (this.#needsStart) await this.#begin();
        if (this.#stopped || this.#needsStart) continue;
        await this.#step();
        backoff = this.#t.retryMinMs;
      } catch (err) {
        if (this.#stopped) break;
        this.#needsStart = true;
        this.#setState('degraded', reasonOf(err), err);
        await this.#pause(backoff);
        backoff = Math.min(backoff * 2, this.#t.retryMaxMs);
      }
    }
  }

  /** Connect, wait for the epoch, then resume from the position or snapshot. */
  async #begin(): Promise<void> {
    // The local position first: with Redis away at start, the report still shows where we stand.
    if (!this.#loaded) {
      this.#position = await this.#o.store.cityPosition();
      this.#savedId = this.#position?.changesId;
      this.#loaded = true;
    }
    await ensureConnecting(this.#cmd);
    await ensureConnecting(this.#reader);
    const epoch = await this.#cmd.get(this.#names.epoch);
    // Whose word to take: the registry of node keys, before any entry is read.
    await this.trust.refresh();
    if (epoch === null) {
      if (!this.#toldNoEpoch) this.#o.logger.info({ event: 'city.no-epoch' }, 'the city has no epoch yet: waiting for a hub to create it');
      this.#toldNoEpoch = true;
      this.#setState('connecting', null);
      await this.#pause(this.#t.epochPollMs);
      return;
    }
    const changes = await streamInfo(this.#cmd, this.#names.changes);
    let from = startPoint(this.#position, this.#o.key.kid, epoch, changes);
    if ('snapshot' in from && from.snapshot === 'stream reset' && this.#o.keepOnReset !== undefined && this.#position !== undefined) {
      // A hub's store is the city's record: Redis lost entries this store applied. It writes
      // them back from the record (reconcile), then reads on from its own position.
      this.#o.logger.warn({ event: 'city.stream-reset', position: this.#position.changesId, streamEnd: changes.lastId }, 'the city lost changes this hub\'s record holds: writing them back');
      await this.#o.keepOnReset();
      from = { resume: this.#position };
    }
    if ('snapshot' in from) {
      await this.#snapshot(from.snapshot, epoch);
    } else {
      this.#lag.observe(changes);
      if (this.#savedId !== from.resume.changesId) {
        // Statuses applied before a failure whose position was not saved yet.
        await this.#o.store.saveCityPosition(from.resume);
        this.#savedId = from.resume.changesId;
      }
    }
    this.#lookupsId ??= (await streamInfo(this.#cmd, this.#names.lookups)).lastId;
    this.#needsStart = false;
    this.#setState('live', null);
    this.#wake();
  }

  async #snapshot(reason: SnapshotReason, epoch: string): Promise<void> {
    const log = this.#o.logger;
    const from = this.#position?.changesId ?? null;
    this.#setState('resyncing', null);
    const fields = { event: 'city.snapshot', reason, from };
    if (reason === 'trimmed') log.warn(fields, 'this node fell behind what the change stream keeps: resyncing from the snapshot');
    else log.info(fields, 'resyncing from the city snapshot');
    const started = performance.now();
    this.#bindingsVersion++;
    const r = await takeSnapshot(
      { redis: this.#cmd, names: this.#names, wire: this.#wire, store: this.#o.store, status: this.#o.status, stopped: () => this.#stopped },
      this.#o.key.kid,
      epoch,
    );
    this.#snapshots++;
    this.#bindingsVersion++;
    if (reason === 'trimmed') this.#snapshotsAfterTrim++;
    this.#counters.malformed += r.malformed;
    this.#position = r.position;
    this.#savedId = r.position.changesId;
    // Ids of the lookup stream may start over too (another epoch): read it on from its end now.
    this.#lookupsId = undefined;
    this.#lag.reset();
    this.#lag.observe({ lastId: r.position.changesId, entriesAdded: r.position.changesSeq });
    log.info(
      { event: 'city.snapshot.done', reason, position: r.position.changesId, bindings: r.bindings, removed: r.removed, statuses: r.statuses, malformed: r.malformed, ms: Math.round(performance.now() - started) },
      'resynced from the city snapshot',
    );
  }

  /** One XREAD of both streams, applied. */
  async #step(): Promise<void> {
    const position = this.#position!;
    const { blockMs, graceMs, readCount } = this.#t;
    const read = this.#reader.xread('COUNT', readCount, 'BLOCK', blockMs, 'STREAMS', this.#names.changes, this.#names.lookups, position.changesId, this.#lookupsId!);
    const reply = await guardedRead(this.#reader, read, blockMs + graceMs);
    if (this.#stopped) return;
    this.#setState('live', null);
    const changes = entriesOf(reply, this.#names.changes);
    const lookups = entriesOf(reply, this.#names.lookups);
    if (lookups.length > 0) {
      await applyLookups(this.#target, lookups);
      this.#lookupsId = lookups[lookups.length - 1]![0];
    }
    if (changes.length > 0) {
      await applyChanges(this.#target, changes, position, {
        moved: (p) => {
          this.#position = p;
        },
        saved: (p) => {
          this.#savedId = p.changesId;
          this.#wake();
        },
      });
    }
    if (changes.length < readCount) this.#lag.reachedEnd(this.#position!);
    this.#wake();
  }

  async #heartbeat(): Promise<void> {
    if (this.#cmd.status !== 'ready') return;
    if (!this.#needsStart) this.#lag.observe(await streamInfo(this.#cmd, this.#names.changes));
    const value = heartbeatValue(this.#o.role, this.#t.version, this.report(), this.#o.clock(), this.#o.reconcileReport?.());
    await writeHeartbeat(this.#cmd, this.#names.heartbeat(this.#o.nodeId), value, this.#o.heartbeatMs);
    // A revocation reaches this node within one heartbeat.
    await this.trust.refresh();
  }
}

/** The entries XREAD returned for one stream ([[key, [[id, fields]…]]…] or null). */
function entriesOf(reply: unknown, key: string): StreamEntry[] {
  if (reply === null) return [];
  if (!Array.isArray(reply)) throw new Error('XREAD returned an unexpected reply');
  for (const item of reply as unknown[]) {
    if (Array.isArray(item) && item[0] === key && Array.isArray(item[1])) return item[1] as StreamEntry[];
  }
  return [];
}

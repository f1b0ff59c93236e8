/**
 * Anti-entropy: every node compares its copy of the city's bindings with Redis's digest tree
 * (digest-tree.ts) on a schedule (city.reconcileMs) and after every reconnect, and repairs what
 * differs without an operator, moving only the leaves that differ.
 *
 *   round ─ GET epoch, HGET digests "@" ─ wait until this copy applied the stream through "@"
 *         ─ walk this copy (local-tree.ts, in slices) ─ "@" and the copy unchanged meanwhile?
 *         ─ root equal ────────────────────────────────> agree (a hub marks "!" = "@": verified)
 *         └ differ ─ HMGET the 64 children of each differing node, down to the leaves
 *              ─ HSCAN each differing leaf (field → tag) against this copy's rows of it, 256 leaves a turn
 *              hub:     the record is the truth (Redis lost or was given something) ─> registry.repair
 *                       (the write script: bindings, leaves, digests and one stream entry for all)
 *              station: Redis is the truth once a hub verified it ("!" = "@") ─> HMGET the values
 *                       that differ ─> store.applyCityBindings
 *
 * Why the hub's record wins over Redis: the record applied every entry of the stream since it
 * joined and acknowledged nothing before it held it, so a difference at the same stream position
 * is something Redis lost (a restart without its AOF, a failover, a FLUSHALL) or was given
 * behind the hubs' back. A station never repairs toward a Redis no hub has verified at that
 * position: it would drop bindings Redis lost and the hub is about to put back.
 * Nothing here runs on a tap's path: a round is a background chain of awaits and short slices.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CityKey } from '../city-key.js';
import type { CityKeyspace } from '../keyspace.js';
import type { CityPosition, ReconcileReport, RoundOutcome } from '../types.js';
import type { BindingChanges, CityWire, SharedBinding } from '../wire.js';
import { childrenOf, DigestTree, LEAF_CHARS, leafIndex, nodeField } from './digest-tree.js';
import { walkRecord, type LocalRow, type RecordPages } from './local-tree.js';
import { failureKind } from '../hub/redis-error.js';
import { forEachInSlices } from '../hub/slices.js';
import { checkStatuses, type RestoredStatuses } from './status-check.js';

export type { ReconcileReport, RoundOutcome } from '../types.js';

export interface ReconcilerOptions {
  role: 'station' | 'hub';
  redis: Redis;
  key: CityKey;
  names: CityKeyspace;
  wire: CityWire;
  /** This node's copy, a page at a time. */
  record: RecordPages;
  replica: {
    appliedThrough(id: string | null, timeoutMs: number): Promise<void>;
    readonly bindingsVersion: number;
    readonly position: CityPosition | undefined;
    readonly liveCount: number;
  };
  /** A station's repair: the local store (one transaction, with the position it stands at). */
  store: { applyCityBindings(changes: BindingChanges, position: CityPosition): Promise<unknown> };
  /** A hub's repair of Redis, and the rebuild of an emptied one. */
  registry?: { repair(put: readonly SharedBinding[], del: readonly string[], expectAt?: string | null): Promise<string | null>; ensureEpoch(fresh?: boolean): Promise<string> };
  /** The statuses this node restored from its own disk: checked against the city's once, in the first round that reaches Redis. */
  statuses?: RestoredStatuses;
  logger: Logger;
  clock: () => number;
  intervalMs: number;
  /** After a busy or unverified round. @default min(intervalMs, 2000) */
  retryMs?: number;
  /** How long a round waits for this copy to apply the stream through "@". @default 30000 */
  catchUpMs?: number;
}

const size = (v: unknown): number => (typeof v === 'string' ? v.length : Array.isArray(v) ? v.reduce((n: number, x) => n + size(x), 0) : 0);

export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #report: ReconcileReport = { rounds: 0, divergences: 0, divergentRanges: 0, repaired: 0, statusDivergences: 0, repairedStatuses: 0, bytesRead: 0, lastAgreementAt: null, lastRepairAt: null, lastRepairMoved: null, lastComparison: null, lastOutcome: null };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RoundOutcome> | undefined;
  #stopped = false;
  #seenLive = 0;
  #connects = 0;
  #seenConnects = 0;
  #nextAt = 0;
  /** Codes restored from disk, not yet checked against the city's statuses. */
  #restored: string[] | undefined;
  readonly #onReady = (): void => {
    this.#connects++;
  };

  constructor(o: ReconcilerOptions) {
    this.#o = o;
  }

  report(): ReconcileReport {
    return { ...this.#report };
  }

  /**
   * Rounds at start, every intervalMs and after each reconnect — of the replica (it went live
   * again) or of this round's own connection (a Redis restarted fast enough that the replica's
   * blocked read simply carried on) — looked at once a second.
   */
  start(): void {
    this.#stopped = false;
    this.#nextAt = 0;
    this.#o.redis.on('ready', this.#onReady);
    const tick = (): void => {
      if (this.#stopped) return;
      const live = this.#o.replica.liveCount;
      const connects = this.#connects;
      const due = live > this.#seenLive || connects > this.#seenConnects || (live > 0 && Date.now() >= this.#nextAt);
      if (due && this.#running === undefined) {
        this.#seenLive = live;
        this.#seenConnects = connects;
        void this.round().then((outcome) => {
          // Soon after a repair (to verify it) or a round that could not compare yet; a failed round
          // (Redis away) waits longer — the reconnect itself starts the next one.
          const soon = outcome === 'busy' || outcome === 'unverified' || outcome === 'repaired';
          const retry = this.#o.retryMs ?? Math.min(this.#o.intervalMs, 2000);
          const wait = soon ? retry : outcome === 'agree' ? this.#o.intervalMs : Math.min(this.#o.intervalMs, Math.max(retry, 30_000));
          this.#nextAt = Date.now() + wait;
        });
      }
      this.#timer = setTimeout(tick, Math.min(1000, this.#o.retryMs ?? 1000));
      this.#timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.redis.off('ready', this.#onReady);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }

  /** One comparison (and repair); rounds never overlap. */
  round(): Promise<RoundOutcome> {
    this.#running ??= this.#round()
      .catch((err: unknown) => {
        // The kind only (a code, a Redis error word): a message may carry a command's sealed values.
        this.#o.logger.warn({ event: 'city.reconcile.failed', error: failureKind(err) }, 'city: a reconciliation round failed; it runs again');
        return 'failed' as const;
      })
      .then((outcome) => {
        this.#running = undefined;
        this.#report.rounds++;
        this.#report.lastOutcome = outcome;
        return outcome;
      });
    return this.#running;
  }

  async #read<T>(p: Promise<T>): Promise<T> {
    const v = await p;
    this.#report.bytesRead += size(v);
    return v;
  }

  async #round(): Promise<RoundOutcome> {
    const { redis, names, role, replica, registry } = this.#o;
    if ((await redis.get(names.epoch)) === null) {
      if (registry === undefined) return 'no epoch';
      // Redis came back empty: rebuild it from this hub's record (registry.ts), then compare.
      await registry.ensureEpoch(true);
    }
    const at = await this.#read(redis.hget(names.digests, '@'));
    try {
      await replica.appliedThrough(at ?? '0-0', this.#o.catchUpMs ?? 30_000);
    } catch {
      // Still resyncing or cut off: the comparison would only see lag.
      return 'busy';
    }
    await this.#checkRestored();
    const version = replica.bindingsVersion;
    const walked = await walkRecord(this.#o.key, this.#o.record, null, () => replica.bindingsVersion === version);
    if (walked === undefined) return 'busy';
    const [root, atAfter, verified] = await this.#read(redis.hmget(names.digests, nodeField(''), '@', '!'));
    if (atAfter !== at || replica.bindingsVersion !== version) return 'busy';
    const local = walked.tree;
    if ((root ?? ZERO_ROOT) === local.node('')) {
      if (role === 'hub' && at !== null && verified !== at) await redis.hset(names.digests, '!', at).catch(() => undefined);
      this.#report.lastAgreementAt = this.#o.clock();
      this.#report.lastComparison = { at: this.#report.lastAgreementAt, agrees: true, differing: 0 };
      return 'agree';
    }
    if (role === 'station' && (at === null || verified !== at)) return 'unverified';
    const leaves = await this.#differingLeaves(local);
    this.#report.divergences++;
    this.#report.divergentRanges += leaves.length;
    this.#report.lastComparison = { at: this.#o.clock(), agrees: false, differing: leaves.length };
    this.#o.logger.warn({ event: 'city.divergence', role, ranges: leaves.length, bindings: local.count }, 'city: this copy of the bindings and the city differ; repairing the ranges that differ');
    const keep = new Set(leaves.map(leafIndex));
    const again = await walkRecord(this.#o.key, this.#o.record, keep, () => replica.bindingsVersion === version);
    if (again === undefined) return 'busy';
    const diff = await this.#compareWithCity(leaves, again.rows);
    const moved = role === 'hub' ? await this.#repairCity(diff, at) : await this.#repairLocal(diff, at!);
    if (moved === undefined) return 'busy';
    this.#report.repaired += moved;
    this.#report.lastRepairAt = this.#o.clock();
    this.#report.lastRepairMoved = moved;
    this.#o.logger.info({ event: 'city.repaired', role, ranges: leaves.length, bindings: moved }, 'city: repaired the ranges that differed');
    return 'repaired';
  }

  /**
   * Once per start, after this copy caught up with the stream: the statuses read from disk
   * against the city's (status-check.ts). A failure leaves them for the next round.
   */
  async #checkRestored(): Promise<void> {
    const statuses = this.#o.statuses;
    if (statuses === undefined) return;
    this.#restored ??= statuses.takeRestored();
    if (this.#restored.length === 0) return;
    const r = await checkStatuses({ redis: this.#o.redis, names: this.#o.names, wire: this.#o.wire, statuses, read: (p) => this.#read(p) }, this.#restored);
    this.#restored = [];
    if (r.differing === 0) return;
    this.#report.divergences++;
    this.#report.statusDivergences += r.differing;
    this.#report.repairedStatuses += r.repaired;
    this.#o.logger.warn(
      { event: 'city.divergence', role: this.#o.role, what: 'statuses', checked: r.checked, differing: r.differing, repaired: r.repaired },
      'city: statuses this node restored from its disk differ from the city\'s; the city\'s answers are held',
    );
  }

  /** Walk down from the root to the leaves whose digests differ: 64 parents (4,096 children) per HMGET. */
  async #differingLeaves(local: DigestTree): Promise<string[]> {
    let level = [''];
    for (let depth = 0; depth < LEAF_CHARS; depth++) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 64) {
        const part = level.slice(i, i + 64).flatMap(childrenOf);
        const remote = await this.#read(this.#o.redis.hmget(this.#o.names.digests, ...part.map(nodeField)));
        part.forEach((path, j) => {
          if ((remote[j] ?? ZERO_ROOT) !== local.node(path)) next.push(path);
        });
      }
      level = next;
    }
    return level;
  }

  /**
   * This copy's rows of the differing leaves against Redis's, 256 leaves at a time as their tags
   * arrive: comparing all of them at once (10,000 leaves, ~40,000 rows at 1M bindings) held the
   * tap thread ~60 ms in one piece.
   */
  async #compareWithCity(leaves: readonly string[], rows: ReadonlyMap<number, LocalRow[]>): Promise<LeafDiff> {
    const onlyLocal: LocalRow[] = [];
    const onlyRemote: string[] = [];
    const remoteFields = new Set<string>();
    const localFields = new Set<string>();
    for (let i = 0; i < leaves.length; i += 256) {
      const part = leaves.slice(i, i + 256);
      const theirs = await this.#leafTags(part);
      const mine = new Map<number, LocalRow[]>();
      for (const leaf of part) {
        const n = leafIndex(leaf);
        const list = rows.get(n);
        if (list !== undefined) mine.set(n, list);
      }
      const d = compareLeaves(mine, theirs);
      for (const r of d.onlyLocal) onlyLocal.push(r);
      for (const f of d.onlyRemote) onlyRemote.push(f);
      for (const f of d.remoteFields) remoteFields.add(f);
      for (const f of d.localFields) localFields.add(f);
    }
    return { onlyLocal, onlyRemote, remoteFields, localFields };
  }

  /** field → tag of every binding Redis holds in these leaves. */
  async #leafTags(leaves: readonly string[]): Promise<Map<string, string>> {
    const tags = new Map<string, string>();
    for (let i = 0; i < leaves.length; i += 256) {
      const pipe = this.#o.redis.pipeline();
      for (const leaf of leaves.slice(i, i + 256)) pipe.hscan(this.#o.names.leaf(leaf), '0', 'COUNT', 10_000);
      const replies = (await this.#read(pipe.exec())) ?? [];
      for (const [err, reply] of replies) {
        if (err !== null) throw err;
        const flat = (reply as [string, string[]])[1];
        for (let k = 0; k + 1 < flat.length; k += 2) tags.set(flat[k]!, flat[k + 1]!);
      }
    }
    return tags;
  }

  /** A hub: put the record's bindings Redis lacks or holds otherwise; unbind what Redis holds and the record does not. */
  async #repairCity(diff: LeafDiff, at: string | null): Promise<number | undefined> {
    const put = diff.onlyLocal.map((r) => ({ cardId: r.cardId, hesCode: r.hesCode, profile: r.profile }));
    const del: string[] = [];
    // Fields the record holds with another tag are overwritten by the puts; only those it lacks are unbound.
    const fields = diff.onlyRemote.filter((f) => !diff.localFields.has(f));
    for (let i = 0; i < fields.length; i += 500) {
      const part = fields.slice(i, i + 500);
      const values = await this.#read(this.#o.redis.hmget(this.#o.names.bindings, ...part));
      // Opening a value costs tens of microseconds: in slices, so taps run in between.
      await forEachInSlices(part, (f, j) => {
        const b = values[j] == null ? undefined : this.#o.wire.binding(f, values[j]!);
        if (b !== undefined) del.push(b.cardId);
      });
    }
    // Each batch is written only if no other write came in since the comparison (or since the previous batch).
    let expect = at;
    for (let i = 0; i < Math.max(put.length, del.length); i += 500) {
      try {
        expect = await this.#o.registry!.repair(put.slice(i, i + 500), del.slice(i, i + 500), expect);
      } catch (err) {
        if (err instanceof Error && err.cause instanceof Error && err.cause.message.startsWith('MOVED')) return undefined;
        throw err;
      }
    }
    return put.length + del.length;
  }

  /** A station: take Redis's bindings where they differ; unbind what Redis does not hold. */
  async #repairLocal(diff: LeafDiff, at: string): Promise<number | undefined> {
    const put: SharedBinding[] = [];
    const fields = diff.onlyRemote;
    for (let i = 0; i < fields.length; i += 500) {
      const part = fields.slice(i, i + 500);
      const values = await this.#read(this.#o.redis.hmget(this.#o.names.bindings, ...part));
      await forEachInSlices(part, (f, j) => {
        const b = values[j] == null ? undefined : this.#o.wire.binding(f, values[j]!);
        if (b !== undefined) put.push(b);
      });
    }
    const changed = new Set(put.map((b) => b.cardId));
    const del = diff.onlyLocal.filter((r) => !changed.has(r.cardId) && !diff.remoteFields.has(r.field)).map((r) => r.cardId);
    // Redis moved on meanwhile: these values may be older than what the stream now brings.
    if ((await this.#o.redis.hget(this.#o.names.digests, '@')) !== at) return undefined;
    const position = this.#o.replica.position;
    if (position === undefined) return undefined;
    // In batches of 500, like the stream's own entries: one transaction each, a small message to the store worker.
    for (let i = 0; i < Math.max(put.length, del.length); i += 500) {
      await this.#o.store.applyCityBindings({ put: put.slice(i, i + 500), del: del.slice(i, i + 500) }, position);
    }
    return put.length + del.length;
  }
}

/** A root no binding ever touched. */
const ZERO_ROOT = '0000000000000000';

export interface LeafDiff {
  /** Rows this copy holds that Redis lacks or holds with another tag. */
  onlyLocal: LocalRow[];
  /** Fields Redis holds that this copy lacks or holds with another tag. */
  onlyRemote: string[];
  remoteFields: ReadonlySet<string>;
  localFields: ReadonlySet<string>;
}

export function compareLeaves(local: ReadonlyMap<number, LocalRow[]>, remote: ReadonlyMap<string, string>): LeafDiff {
  const onlyLocal: LocalRow[] = [];
  const localTags = new Map<string, string>();
  for (const rows of local.values()) {
    for (const r of rows) {
      localTags.set(r.field, r.tag);
      if (remote.get(r.field) !== r.tag) onlyLocal.push(r);
    }
  }
  const onlyRemote: string[] = [];
  for (const [field, tag] of remote) if (localTags.get(field) !== tag) onlyRemote.push(field);
  return { onlyLocal, onlyRemote, remoteFields: new Set(remote.keys()), localFields: new Set(localTags.keys()) };
}

/**
 * The city's card registry on a hub: the card admin API and `cards import` write bindings here.
 *
 *   batch ─ HMGET bindings mac(card)… ─ open, compare ─> created / updated / unchanged
 *        ├─ codes newly bound ─> one bulk ministry call (≤ 500 codes a batch) ─> their answers
 *        └─ real changes only ─> write script (write-script.ts): HSET/HDEL bindings, leaves and
 *           digest tree · HSET statuses · XADD changes (one entry) ── then, before the caller hears "written":
 *              WAIT ackReplicas  (city.ackReplicas: a failover cannot lose it)
 *              recorded(id)      (this hub's own store — the city's record — has applied it)
 *           otherwise HG_CITY_NOT_DURABLE (503): not acknowledged, retry
 *
 * One stream entry per batch, and none when nothing changed, so an import run twice costs the
 * stations nothing. The snapshot hash, the digest tree and the stream change in one script: a
 * station that resyncs from the hash and then reads the stream from the id it noted never misses
 * a change. Two hubs writing the same card at once both reach the stream; the later script wins
 * in both places (the counts of the earlier one may call it created).
 *
 * The epoch: the script refuses to write into a city without one (NOEPOCH): a Redis that came
 * back empty (FLUSHALL, a new server) is first rebuilt from this hub's record (`restore`), and only
 * then given back the record's epoch — stations wait for the epoch, so they never resync from a
 * half-filled snapshot. A city that never had a record gets a new random epoch.
 *
 * A binding reaches the stations with its status (issue 21): without it, a tap on a card just
 * bound would make every station ask the ministry for it, S calls for one card in a city of S
 * stations. When the ministry does not answer, the binding goes without it (counted in
 * `statusesMissing`) and the leader's refresher asks for the code first (the writer notes it).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BindingInput } from '../../cards/binding.js';
import type { PutCounts } from '../../cards/store-types.js';
import { HesGateError } from '../../errors.js';
import type { MinistryClient } from '../../ministry/types.js';
import { answerOf } from '../../status/ministry-lookup.js';
import type { CityKey } from '../city-key.js';
import type { NodeKey } from '../identity/node-key.js';
import { cityKeyspace, type CityKeyspace } from '../keyspace.js';
import { LEAF_CHARS } from '../reconcile/digest-tree.js';
import type { CityPosition, Registry } from '../types.js';
import { CityWire, sharedAnswer, type SharedAnswer, type SharedBinding } from '../wire.js';
import { cityUnavailable } from './redis-error.js';
import { forEachInSlices } from './slices.js';
import { WRITE_BINDINGS } from './write-script.js';

/** The hub's own store as the city's record (its replica of the city, applied from the stream). */
export interface RecordSource {
  position(): Promise<CityPosition | undefined>;
  /** A page of bindings in card id order (the store's read-only connection). */
  bindingsAfter(afterCardId: string | undefined, limit: number): BindingInput[];
}

export interface RegistryOptions {
  redis: Redis;
  key: CityKey;
  /** This hub's id: the `src` of its stream entries. */
  nodeId: string;
  /** MAXLEN ~ of the change stream (city.changesMaxLen). */
  changesMaxLen: number;
  /** Replicas that must hold a write before it is acknowledged (WAIT; city.ackReplicas). @default 0 */
  ackReplicas?: number;
  /** How long a write waits for the replicas and the record. @default 5000 ms */
  ackTimeoutMs?: number;
  /**
   * Resolves once this hub's record has applied the change stream through `id` (null: through
   * what the stream holds now); the registry acknowledges only then. Unset: Redis is the only copy.
   */
  recorded?: (id: string | null, timeoutMs: number) => Promise<void>;
  /** Where an emptied Redis is rebuilt from. Unset: an emptied Redis starts a new city. */
  record?: RecordSource;
  /** Told once an emptied Redis was rebuilt from the record (bindings written back). */
  onRestored?: (bindings: number) => void;
  /** Run before a rebuild: the hub registers its signing key again (the registry of node keys went with the data). */
  beforeRestore?: () => Promise<unknown>;
  /** This hub's signing key: every entry it writes is signed. */
  nodeKey: NodeKey;
  /** Asked for the codes a write newly binds, in the same write; none: bindings go without statuses. */
  ministry?: Pick<MinistryClient, 'checkHesCodes'>;
  /** Wall clock, for the answers' `at`. @default Date.now */
  clock?: () => number;
  /** Told the codes a write bound without a status (the ministry did not answer): the leader asks them first. */
  missing?: (codes: readonly string[]) => void;
}

/** The statuses of codes a write binds, asked in the same write. */
interface NewStatuses {
  at: number;
  answers: Array<[string, SharedAnswer]>;
}

/** Rows per restore batch (one script, one stream entry). */
const RESTORE_BATCH = 500;

/** One WAIT asks at most this long: under the connection's command timeout (max(1 s, connectTimeoutMs)). */
const WAIT_STEP_MS = 500;

/** The error reply of the write script in a city without an epoch. */
const NOEPOCH = 'NOEPOCH';

export interface RegistryWrite {
  counts: PutCounts;
  /** Bindings removed, as they were. */
  removed: SharedBinding[];
}

const same = (a: SharedBinding, b: SharedBinding): boolean => a.hesCode === b.hesCode && a.profile === b.profile;

export class CityRegistry implements Registry {
  /** Writes whose new codes went without a status (the ministry did not answer): the leader asks for them. */
  statusesMissing = 0;
  /** Codes asked of the ministry in writes. */
  statusesAsked = 0;
  readonly #o: RegistryOptions;
  readonly #keys: CityKeyspace;
  readonly #wire: CityWire;
  /** The epoch this hub writes under, once known (read, restored or created). */
  #epoch: Promise<string> | undefined;
  #finding = false;
  /** Bindings rebuilt from the record into an emptied Redis (for the report and tests). */
  restored = 0;

  constructor(o: RegistryOptions) {
    this.#o = o;
    this.#keys = cityKeyspace(o.key.kid);
    this.#wire = new CityWire(o.key, this.#keys, { nodeId: o.nodeId, key: o.nodeKey });
  }

  /**
   * Make sure the city has an epoch (the first hub names it): stations resync when it changes.
   * An emptied Redis is rebuilt from this hub's record first and gets the record's epoch back.
   * Concurrent writes wait for it (they share the promise).
   */
  ensureEpoch(fresh = false): Promise<string> {
    // `fresh`: Redis may have lost the city since the epoch was read (it reconnected, or it has none now).
    if (fresh && !this.#finding) this.#epoch = undefined;
    if (this.#epoch !== undefined) return this.#epoch;
    this.#finding = true;
    const p = this.#findEpoch().finally(() => {
      if (this.#epoch === p) this.#finding = false;
    });
    this.#epoch = p;
    p.catch(() => {
      if (this.#epoch === p) this.#epoch = undefined;
    });
    return p;
  }

  async #findEpoch(): Promise<string> {
    const { redis, record } = this.#o;
    let epoch: string | null;
    try {
      epoch = await redis.get(this.#keys.epoch);
    } catch (err) {
      throw cityUnavailable('the epoch', err);
    }
    if (epoch !== null) return epoch;
    const position = await record?.position();
    if (position !== undefined && position.kid === this.#o.key.kid) {
      await this.#o.beforeRestore?.();
      this.#o.onRestored?.(await this.restore());
      epoch = position.epoch;
    } else {
      epoch = randomBytes(12).toString('base64url');
    }
    try {
      await redis.set(this.#keys.epoch, epoch, 'NX');
      return (await redis.get(this.#keys.epoch)) ?? epoch;
    } catch (err) {
      throw cityUnavailable('the epoch', err);
    }
  }

  /** Write every binding of the record into the city (an emptied Redis); returns how many. */
  async restore(): Promise<number> {
    const record = this.#o.record;
    if (record === undefined) return 0;
    let after: string | undefined;
    let n = 0;
    for (;;) {
      const page = record.bindingsAfter(after, RESTORE_BATCH);
      if (page.length === 0) break;
      after = page[page.length - 1]!.cardId;
      const put = page.map((b) => ({ cardId: b.cardId, hesCode: b.hesCode, profile: b.profile ?? 'standard' }));
      await this.#send(put, [], '');
      n += put.length;
    }
    this.restored += n;
    return n;
  }

  async put(binding: Required<BindingInput>): Promise<'created' | 'updated' | 'unchanged'> {
    const { counts } = await this.write([binding], []);
    return counts.created > 0 ? 'created' : counts.updated > 0 ? 'updated' : 'unchanged';
  }

  async delete(cardId: string): Promise<boolean> {
    return (await this.remove(cardId)) !== undefined;
  }

  /** Unbind a card; the binding it had, or undefined when it was not bound. */
  async remove(cardId: string): Promise<SharedBinding | undefined> {
    return (await this.write([], [cardId])).removed[0];
  }

  async putMany(batch: readonly Required<BindingInput>[]): Promise<PutCounts> {
    return (await this.write(batch, [])).counts;
  }

  /** Puts then deletes, as one read, one MULTI and at most one stream entry. */
  async write(puts: readonly Required<BindingInput>[], dels: readonly string[]): Promise<RegistryWrite> {
    const counts: PutCounts = { created: 0, updated: 0, unchanged: 0 };
    const removed: SharedBinding[] = [];
    if (puts.length === 0 && dels.length === 0) return { counts, removed };
    const ids = [...new Set([...puts.map((b) => b.cardId), ...dels])];
    const fields = ids.map((id) => this.#wire.bindingFieldOf(id));
    let sealed: Array<string | null>;
    try {
      sealed = await this.#o.redis.hmget(this.#keys.bindings, ...fields);
    } catch (err) {
      throw cityUnavailable('a bindings read', err);
    }
    // What the city holds now, then each row applied in order (a card twice in a batch counts twice, as the local store does).
    const current = new Map<string, SharedBinding | undefined>();
    await forEachInSlices(ids, (id, i) => {
      const v = sealed[i];
      current.set(id, v === null || v === undefined ? undefined : this.#wire.binding(fields[i]!, v));
    });
    const changed = new Set<string>();
    for (const b of puts) {
      const next: SharedBinding = { cardId: b.cardId, hesCode: b.hesCode, profile: b.profile };
      const had = current.get(b.cardId);
      if (had === undefined) counts.created++;
      else if (same(had, next)) {
        counts.unchanged++;
        continue;
      } else counts.updated++;
      current.set(b.cardId, next);
      changed.add(b.cardId);
    }
    for (const id of dels) {
      const had = current.get(id);
      if (had === undefined) continue;
      removed.push(had);
      current.set(id, undefined);
      changed.add(id);
    }
    if (changed.size > 0) await this.#commit(changed, current);
    else await this.#acknowledge(null);
    return { counts, removed };
  }

  /**
   * Repair the city toward the record: these bindings are written as they are, these cards
   * unbound (reconcile). With `expectAt` (the digests' "@" the repair was computed at; null = no
   * bindings entry yet) the script writes nothing when another write came in meanwhile
   * (HG_CITY_UNAVAILABLE naming MOVED): a repair never reverts a newer change it did not see.
   */
  async repair(put: readonly SharedBinding[], del: readonly string[], expectAt?: string | null): Promise<string | null> {
    if (put.length === 0 && del.length === 0) return null;
    const epoch = await this.ensureEpoch();
    if (expectAt !== undefined && expectAt !== null && !/^\d+-\d+$/.test(expectAt)) throw new TypeError('expectAt is a stream id');
    return this.#send(put, del, epoch, expectAt);
  }

  async #commit(changed: ReadonlySet<string>, current: ReadonlyMap<string, SharedBinding | undefined>): Promise<void> {
    const put: SharedBinding[] = [];
    const del: string[] = [];
    for (const id of changed) {
      const b = current.get(id);
      if (b === undefined) del.push(id);
      else put.push(b);
    }
    const statuses = await this.#statusesOf(put);
    let epoch = await this.ensureEpoch();
    let id: string;
    try {
      id = await this.#send(put, del, epoch, undefined, statuses);
    } catch (err) {
      if (!(err instanceof HesGateError && err.cause instanceof Error && err.cause.message.startsWith(NOEPOCH))) throw err;
      // Redis lost the city since the epoch was read: rebuild it from the record, then write.
      epoch = await this.ensureEpoch(true);
      id = await this.#send(put, del, epoch, undefined, statuses);
    }
    await this.#acknowledge(id);
  }

  /** One write script: the bindings, their leaves and digests, one stream entry. Its id. */
  async #send(put: readonly SharedBinding[], del: readonly string[], epoch: string, expectAt?: string | null, statuses?: NewStatuses): Promise<string> {
    const keys: string[] = [this.#keys.epoch, this.#keys.bindings, this.#keys.changes, this.#keys.digests, this.#keys.statuses];
    const sset: string[] = [];
    if (statuses !== undefined) await forEachInSlices(statuses.answers, ([code, answer]) => sset.push(...this.#wire.statusField({ at: statuses.at, code, answer })));
    const args: string[] = [];
    await forEachInSlices(put, (b) => {
      const [field, sealed] = this.#wire.bindingField(b);
      keys.push(this.#keys.leaf(field.slice(0, LEAF_CHARS)));
      args.push(field, sealed, this.#o.key.tag(field, b.hesCode, b.profile));
    });
    await forEachInSlices(del, (cardId) => {
      const field = this.#wire.bindingFieldOf(cardId);
      keys.push(this.#keys.leaf(field.slice(0, LEAF_CHARS)));
      args.push(field, '', '');
    });
    const entry = this.#wire.bindingsEntry({ put: [...put], del: [...del], ...(statuses === undefined ? {} : { statuses }) }, this.#o.nodeId);
    // An empty epoch argument means "a restore": the script checks nothing and sets nothing.
    let script = epoch === '' ? WRITE_BINDINGS : `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('${NOEPOCH} the city has no epoch or another one') end\n${WRITE_BINDINGS}`;
    if (expectAt !== undefined) {
      // The id is checked to be digits and a dash (repair()), so it is safe in the script's text.
      const expected = expectAt === null ? 'false' : `'${expectAt}'`;
      script = `if redis.call('HGET', KEYS[4], '@') ~= ${expected} then return redis.error_reply('MOVED the bindings changed since the comparison') end\n${script}`;
    }
    try {
      return (await this.#o.redis.eval(script, keys.length, ...keys, epoch, String(this.#o.changesMaxLen), String(entry.length), ...entry, String(sset.length), ...sset, ...args)) as string;
    } catch (err) {
      throw cityUnavailable('a bindings write', err);
    }
  }

  /** A write is acknowledged once the replicas and this hub's record hold it (HG_CITY_NOT_DURABLE otherwise). */
  async #acknowledge(id: string | null): Promise<void> {
    const { redis, ackReplicas = 0, ackTimeoutMs = 5000, recorded } = this.#o;
    if (ackReplicas > 0) {
      let acked = 0;
      const until = performance.now() + ackTimeoutMs;
      try {
        // WAIT counts this connection's writes so far: after an unchanged batch it still waits for an earlier,
        // unacknowledged one. Asked in steps shorter than the connection's command timeout (≥ 1 s).
        for (;;) {
          const left = Math.ceil(until - performance.now());
          acked = await redis.wait(ackReplicas, Math.max(1, Math.min(WAIT_STEP_MS, left)));
          if (acked >= ackReplicas || left <= WAIT_STEP_MS) break;
        }
      } catch (err) {
        throw new HesGateError('HG_CITY_NOT_DURABLE', `a bindings write could not be confirmed on the replicas (${cityUnavailable('WAIT', err).message})`, { cause: err });
      }
      if (acked < ackReplicas) {
        throw new HesGateError('HG_CITY_NOT_DURABLE', `a bindings write reached ${acked} of ${ackReplicas} replica(s) within ${ackTimeoutMs} ms: not acknowledged, retry`);
      }
    }
    if (recorded !== undefined) {
      try {
        await recorded(id, ackTimeoutMs);
      } catch (err) {
        throw new HesGateError('HG_CITY_NOT_DURABLE', `a bindings write is in the city but not yet in this hub's record after ${ackTimeoutMs} ms: not acknowledged, retry`, { cause: err });
      }
    }
  }

  /** The ministry's answers for the codes bound by this write: one bulk call; undefined when it did not answer. */
  async #statusesOf(put: readonly SharedBinding[]): Promise<NewStatuses | undefined> {
    const ministry = this.#o.ministry;
    if (ministry === undefined || put.length === 0) return undefined;
    const codes = [...new Set(put.map((b) => b.hesCode))];
    this.statusesAsked += codes.length;
    const at = (this.#o.clock ?? Date.now)();
    let results: Awaited<ReturnType<typeof ministry.checkHesCodes>>;
    try {
      results = await ministry.checkHesCodes(codes);
    } catch {
      this.statusesMissing++;
      this.#o.missing?.(codes);
      return undefined;
    }
    const answers: Array<[string, SharedAnswer]> = [];
    const without: string[] = [];
    for (const code of codes) {
      const r = results.get(code);
      const a = r === undefined ? undefined : answerOf(r);
      if (a === undefined) without.push(code);
      else answers.push([code, sharedAnswer(a)]);
    }
    if (without.length > 0) {
      this.statusesMissing++;
      this.#o.missing?.(without);
    }
    return answers.length === 0 ? undefined : { at, answers };
  }
}

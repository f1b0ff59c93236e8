/**
 * The city's card registry on a hub: the card admin API and `cards import` write bindings here.
 *
 *   batch ─ HMGET bindings mac(card)… ─ open, compare ─> created / updated / unchanged
 *        ├─ codes newly bound ─> one bulk ministry call (≤ 500 codes a batch) ─> their answers
 *        └─ real changes only ─> MULTI  SET epoch NX · HSET/HDEL bindings · HSET statuses · XADD changes (one entry)  EXEC
 *
 * A binding reaches the stations with its status (issue 21): without it, a tap on a card just
 * bound would make every station ask the ministry for it, S calls for one card in a city of S
 * stations. When the ministry does not answer, the binding goes without it (counted in
 * `statusesMissing`) and the leader's refresher asks for the code first (the writer notes it).
 *
 * One stream entry per batch, and none when nothing changed, so an import run twice costs the
 * stations nothing. The snapshot hash and the stream change in one MULTI: a station that
 * resyncs from the hash and then reads the stream from the id it noted never misses a change.
 * Two hubs writing the same card at once both reach the stream; the later MULTI wins in both
 * places (the counts of the earlier one may call it created).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BindingInput } from '../../cards/binding.js';
import type { PutCounts } from '../../cards/store-types.js';
import type { MinistryClient } from '../../ministry/types.js';
import { answerOf } from '../../status/ministry-lookup.js';
import type { CityKey } from '../city-key.js';
import type { NodeKey } from '../identity/node-key.js';
import { cityKeyspace, type CityKeyspace } from '../keyspace.js';
import type { Registry } from '../types.js';
import { CityWire, sharedAnswer, type SharedAnswer, type SharedBinding } from '../wire.js';
import { cityUnavailable } from './redis-error.js';
import { forEachInSlices } from './slices.js';

export interface RegistryOptions {
  redis: Redis;
  key: CityKey;
  /** This hub's id: the `src` of its stream entries. */
  nodeId: string;
  /** MAXLEN ~ of the change stream (city.changesMaxLen). */
  changesMaxLen: number;
  /** This hub's signing key: every entry it writes is signed. */
  nodeKey: NodeKey;
  /** Asked for the codes a write newly binds, in the same write; none: bindings go without statuses. */
  ministry?: Pick<MinistryClient, 'checkHesCodes'>;
  /** Wall clock, for the answers' `at`. @default Date.now */
  clock?: () => number;
  /** Told the codes a write bound without a status (the ministry did not answer): the leader asks them first. */
  missing?: (codes: readonly string[]) => void;
}

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

  constructor(o: RegistryOptions) {
    this.#o = o;
    this.#keys = cityKeyspace(o.key.kid);
    this.#wire = new CityWire(o.key, this.#keys, { nodeId: o.nodeId, key: o.nodeKey });
  }

  /** Make sure the city has an epoch (the first hub names it): stations resync when it changes. */
  async ensureEpoch(): Promise<void> {
    try {
      await this.#o.redis.set(this.#keys.epoch, randomBytes(12).toString('base64url'), 'NX');
    } catch (err) {
      throw cityUnavailable('the epoch', err);
    }
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
    return { counts, removed };
  }

  async #commit(changed: ReadonlySet<string>, current: ReadonlyMap<string, SharedBinding | undefined>): Promise<void> {
    const put: SharedBinding[] = [];
    const del: string[] = [];
    const hset: string[] = [];
    const hdel: string[] = [];
    await forEachInSlices([...changed], (id) => {
      const b = current.get(id);
      if (b === undefined) {
        del.push(id);
        hdel.push(this.#wire.bindingFieldOf(id));
      } else {
        put.push(b);
        hset.push(...this.#wire.bindingField(b));
      }
    });
    const statuses = await this.#statusesOf(put);
    const sset: string[] = [];
    if (statuses !== undefined) await forEachInSlices(statuses.answers, ([code, answer]) => sset.push(...this.#wire.statusField({ at: statuses.at, code, answer })));
    const { redis, nodeId, changesMaxLen } = this.#o;
    const m = redis.multi();
    m.set(this.#keys.epoch, randomBytes(12).toString('base64url'), 'NX');
    if (hset.length > 0) m.hset(this.#keys.bindings, ...hset);
    if (hdel.length > 0) m.hdel(this.#keys.bindings, ...hdel);
    if (sset.length > 0) m.hset(this.#keys.statuses, ...sset);
    m.xadd(this.#keys.changes, 'MAXLEN', '~', String(changesMaxLen), '*', ...this.#wire.bindingsEntry({ put, del, ...(statuses === undefined ? {} : { statuses }) }, nodeId));
    let replies: Array<[Error | null, unknown]> | null;
    try {
      replies = await m.exec();
    } catch (err) {
      throw cityUnavailable('a bindings write', err);
    }
    if (replies === null) throw cityUnavailable('a bindings write', new Error('EXECABORT'));
    const failed = replies.find(([err]) => err !== null);
    if (failed !== undefined) throw cityUnavailable('a bindings write', failed[0]);
  }

  /** The ministry's answers for the codes bound by this write: one bulk call; undefined when it did not answer. */
  async #statusesOf(put: readonly SharedBinding[]): Promise<{ at: number; answers: Array<[string, SharedAnswer]> } | undefined> {
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

/**
 * The city's card registry on a hub: the card admin API and `cards import` write bindings here.
 *
 *   batch ─ HMGET bindings mac(card)… ─ open, compare ─> created / updated / unchanged
 *        └─ real changes only ─> MULTI  SET epoch NX · HSET/HDEL bindings · XADD changes (one entry)  EXEC
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
import type { CityKey } from '../city-key.js';
import { cityKeyspace, type CityKeyspace } from '../keyspace.js';
import type { Registry } from '../types.js';
import { CityWire, type SharedBinding } from '../wire.js';
import { cityUnavailable } from './redis-error.js';

export interface RegistryOptions {
  redis: Redis;
  key: CityKey;
  /** This hub's id: the `src` of its stream entries. */
  nodeId: string;
  /** MAXLEN ~ of the change stream (city.changesMaxLen). */
  changesMaxLen: number;
}

export interface RegistryWrite {
  counts: PutCounts;
  /** Bindings removed, as they were. */
  removed: SharedBinding[];
}

const same = (a: SharedBinding, b: SharedBinding): boolean => a.hesCode === b.hesCode && a.profile === b.profile;

export class CityRegistry implements Registry {
  readonly #o: RegistryOptions;
  readonly #keys: CityKeyspace;
  readonly #wire: CityWire;

  constructor(o: RegistryOptions) {
    this.#o = o;
    this.#keys = cityKeyspace(o.key.kid);
    this.#wire = new CityWire(o.key, this.#keys);
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
    ids.forEach((id, i) => {
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
    for (const id of changed) {
      const b = current.get(id);
      if (b === undefined) {
        del.push(id);
        hdel.push(this.#wire.bindingFieldOf(id));
      } else {
        put.push(b);
        hset.push(...this.#wire.bindingField(b));
      }
    }
    const { redis, nodeId, changesMaxLen } = this.#o;
    const m = redis.multi();
    m.set(this.#keys.epoch, randomBytes(12).toString('base64url'), 'NX');
    if (hset.length > 0) m.hset(this.#keys.bindings, ...hset);
    if (hdel.length > 0) m.hdel(this.#keys.bindings, ...hdel);
    m.xadd(this.#keys.changes, 'MAXLEN', '~', String(changesMaxLen), '*', ...this.#wire.bindingsEntry({ put, del }, nodeId));
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
}

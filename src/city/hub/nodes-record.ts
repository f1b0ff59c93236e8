/**
 * The node registry (`hg:nodes`) kept in the hub's record too, so a Redis that comes back empty
 * gets back the stations' keys an operator added — and their revocations — with the bindings.
 *
 *   every tick (city.heartbeatMs) ─ GET hg:nodes:version ─ moved? ─ HGETALL hg:nodes ─> city_nodes (SQLite)
 *   rebuild of an emptied Redis (registry.ts, before the bindings) ─ HSET each recorded node ─ INCR version
 *
 * A revocation is never undone by a copy that lost it: a recorded revoked node whose same key
 * reappears unrevoked (a hub registering itself again after the FLUSHALL) stays revoked, in the
 * record and in Redis. A node trusted again needs a new key (`city node add` with it), as before.
 */
import type { Redis } from 'ioredis';
import type { CityKeyspace } from '../keyspace.js';
import { parseRecord, readRegistry, type NodeRecord } from '../identity/node-registry.js';

/** Where the hub keeps it: its own store (city_nodes). */
export interface NodesStore {
  cityNodes(): Promise<Array<[string, string]>>;
  saveCityNodes(rows: Array<[string, string]>): Promise<void>;
}

/** The record to keep when the record holds `kept` and Redis says `seen`. */
export function mergeRecord(kept: NodeRecord | undefined, seen: NodeRecord): NodeRecord {
  if (kept !== undefined && kept.revoked !== null && seen.revoked === null && kept.key === seen.key) return kept;
  return seen;
}

export class NodesRecord {
  #version: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Pick<CityKeyspace, 'nodes' | 'nodesVersion'>,
    private readonly store: NodesStore,
  ) {}

  async #recorded(): Promise<Map<string, NodeRecord>> {
    const out = new Map<string, NodeRecord>();
    for (const [id, text] of await this.store.cityNodes()) {
      const rec = parseRecord(text);
      if (rec !== undefined) out.set(id, rec);
    }
    return out;
  }

  /** Copy Redis's registry into the record when its version moved; returns the records written. */
  async mirror(): Promise<number> {
    const version = (await this.redis.get(this.keys.nodesVersion)) ?? '0';
    if (version === this.#version) return 0;
    const [{ nodes }, kept] = await Promise.all([readRegistry(this.redis, this.keys), this.#recorded()]);
    const rows: Array<[string, string]> = [];
    for (const [id, seen] of nodes) {
      const rec = mergeRecord(kept.get(id), seen);
      const text = JSON.stringify(rec);
      if (kept.has(id) && JSON.stringify(kept.get(id)) === text) continue;
      rows.push([id, text]);
    }
    if (rows.length > 0) await this.store.saveCityNodes(rows);
    this.#version = version;
    return rows.length;
  }

  /** Put the recorded registry back into an emptied Redis; returns the records written. */
  async restore(): Promise<number> {
    const kept = await this.#recorded();
    if (kept.size === 0) return 0;
    const { nodes } = await readRegistry(this.redis, this.keys);
    const multi = this.redis.multi();
    let n = 0;
    for (const [id, rec] of kept) {
      const now = nodes.get(id);
      // What Redis holds already (this hub's own registration) stays, unless it would undo a revocation.
      if (now !== undefined && mergeRecord(rec, now) === now) continue;
      multi.hset(this.keys.nodes, id, JSON.stringify(rec));
      n++;
    }
    if (n === 0) return 0;
    await multi.incr(this.keys.nodesVersion).exec();
    this.#version = undefined;
    return n;
  }
}

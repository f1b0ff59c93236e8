/**
 * The lease holder's relay of the nodes' own lookups: what a station learned on a tap reaches
 * every other node only through here, and only when it can make them stricter.
 *
 *   XREAD BLOCK hg:<kid>:lookups:<node>… (every registered node, revoked ones too: counted; own blocking connection)
 *     ├─ does not open, or claims another node than its stream's ─> refused (malformed / forged)
 *     ├─ signature, revocation, replay (identity/trust.ts) ─────────> refused, counted by reason
 *     ├─ a station's RISKLESS ─> a hint: noteTap(code) — the leader's next bulk call asks the
 *     │                          ministry, and the answer is published by this hub, signed by it
 *     └─ anything else (RISKY, not found, expired; a hub's own answers) ─┐
 *   MULTI  XADD hg:<kid>:lookups (the entry as the node signed it) · HSET hg:<kid>:relay <node> <id>  EXEC
 *
 * Positions live in Redis (`hg:<kid>:relay`), so the next lease holder goes on where this one
 * stopped; an entry relayed twice (a crash between read and write) is refused as replayed by
 * its readers. Nothing here logs a code.
 */
import type { Redis } from 'ioredis';
import type { CityKeyspace } from '../keyspace.js';
import type { Trust } from '../identity/trust.js';
import { isPass, Slicer } from '../replica/apply.js';
import type { CityWire } from '../wire.js';

export interface RelayCounts {
  relayed: number;
  /** Stations' RISKLESS answers turned into hints for the leader's next bulk call. */
  hints: number;
  /** Entries in a node's stream that did not open or named another node. */
  malformed: number;
}

export interface LookupRelayOptions {
  /** A blocking connection of its own (XREAD BLOCK). */
  reader: Redis;
  /** The hub's command connection (writes). */
  redis: Redis;
  keys: CityKeyspace;
  wire: CityWire;
  /** The relay's own (its replay window is not the replica's: the same entry reaches both). */
  trust: Trust;
  /** The leader's refresher: ask this code first. */
  hint: (code: string) => void;
  maxLen: number;
  counts: RelayCounts;
  /** @default 1000 */
  blockMs?: number;
}

type Entry = [id: string, fields: string[]];

export class LookupRelay {
  readonly #o: LookupRelayOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #positions = new Map<string, string>();

  constructor(o: LookupRelayOptions) {
    this.#o = o;
    // Failures show as a failed read (retried); never as an unhandled event.
    o.reader.on('error', () => undefined);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#o.reader.disconnect();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const o = this.#o;
    let loaded = false;
    while (this.#running) {
      try {
        if (o.reader.status === 'wait' || o.reader.status === 'end') await o.reader.connect();
        if (!loaded) {
          this.#positions = new Map(Object.entries(await o.redis.hgetall(o.keys.relay)));
          loaded = true;
        }
        await o.trust.refresh();
        await this.#step();
      } catch {
        if (!this.#running) return;
        // Redis away: the next attempt after a short pause (the reader reconnects by itself).
        await new Promise((r) => setTimeout(r, 200).unref());
      }
    }
  }

  async #step(): Promise<void> {
    const o = this.#o;
    const nodes = o.trust.nodeIds();
    if (nodes.length === 0) {
      await new Promise((r) => setTimeout(r, o.blockMs ?? 1000).unref());
      return;
    }
    const streams = nodes.map((n) => o.keys.lookupsOf(n));
    const ids = nodes.map((n) => this.#positions.get(n) ?? '0-0');
    const reply = (await o.reader.xread('COUNT', 200, 'BLOCK', o.blockMs ?? 1000, 'STREAMS', ...streams, ...ids)) as Array<[string, Entry[]]> | null;
    if (reply === null || !this.#running) return;
    // The read may have blocked across a revocation: check the registry's version before judging.
    await o.trust.refresh();
    const m = o.redis.multi();
    const moved = new Map<string, string>();
    let writes = 0;
    // A signature check costs tens of µs: give the event loop (this hub's own taps) a turn every few ms.
    const slicer = new Slicer();
    for (const [stream, entries] of reply) {
      const node = nodes[streams.indexOf(stream)];
      if (node === undefined) continue;
      for (const [id, fields] of entries) {
        moved.set(node, id);
        await slicer.yield();
        const l = o.wire.lookup(fields);
        if (l === undefined || l.src !== node) {
          o.counts.malformed++;
          continue;
        }
        const v = await o.trust.verify(l.proof, ['station', 'hub'], `${node}/${id}`);
        if (!v.ok) continue;
        if (v.role === 'station' && isPass(l.answer)) {
          o.counts.hints++;
          o.hint(l.code);
          continue;
        }
        m.xadd(o.keys.lookups, 'MAXLEN', '~', String(o.maxLen), '*', ...fields);
        writes++;
      }
    }
    if (moved.size === 0) return;
    m.hset(o.keys.relay, ...[...moved].flat());
    const out = await m.exec();
    if (out === null || out.some(([err]) => err !== null)) throw new Error('the relay write failed');
    o.counts.relayed += writes;
    for (const [n, id] of moved) this.#positions.set(n, id);
  }
}

/**
 * Whose word a node takes: every signed city entry is checked here before it is applied.
 *
 *   entry ─ proof? ──no──────────────────────────────> refused: forged
 *           signer in the registry? ──no (after one reload)──> refused: forged (unknown signer)
 *           revoked? ──yes──────────────────────────────> refused: revoked
 *           role allowed for this entry? ──no─────────> refused: forged (a station never writes changes)
 *           Ed25519 signature valid? ──no─────────────> refused: forged
 *           n seen in another entry, or far older than its newest? ──yes─> refused: replayed
 *           ─> accepted
 *
 * The registry (node-registry.ts) is re-read when its version counter moves (checked each
 * heartbeat), and at most once a second when an unknown signer shows up (a node added after the
 * last read). Refusals are counted by reason for the metrics; nothing here logs a code.
 */
import type { KeyObject } from 'node:crypto';
import type { CityKeyspace } from '../keyspace.js';
import type { EntryProof } from '../wire.js';
import { publicKeyFrom, verifySignature } from './node-key.js';
import { readRegistry, type NodeRecord, type NodeRole, type RegistryReader } from './node-registry.js';
import type { RefusalReason } from '../types.js';

export type { RefusalReason };

export type Verdict = { ok: true; role: NodeRole } | { ok: false; reason: RefusalReason };

export interface TrustOptions {
  redis: RegistryReader;
  keys: Pick<CityKeyspace, 'nodes' | 'nodesVersion'>;
  /**
   * How far (in sequence units, µs of the signer's clock) an entry may come after a newer one of
   * the same signer: two writes of one hub can reach the stream out of order. @default 60 s
   */
  reorderUs?: number;
  /** Monotonic ms, for the unknown-signer reload's pace. @default performance.now */
  now?: () => number;
}

interface Known {
  record: NodeRecord;
  key: KeyObject | undefined;
}

/**
 * Per signer: the newest sequence number seen, and the stream entry each one within the reorder
 * window came in. The same entry read again (a batch retried after a store failure) is not a
 * replay; the same `n` in another entry is.
 */
class SeenWindow {
  #newest = 0;
  #seen = new Map<number, string>();

  constructor(private readonly windowUs: number) {}

  /** True when `n` is new or comes in the entry it came in before (and is now remembered). */
  admit(n: number, entryId: string): boolean {
    const before = this.#seen.get(n);
    if (before !== undefined) return before === entryId;
    if (n <= this.#newest - this.windowUs) return false;
    this.#seen.set(n, entryId);
    if (n > this.#newest) this.#newest = n;
    if (this.#seen.size > 4096) {
      const floor = this.#newest - this.windowUs;
      for (const s of this.#seen.keys()) if (s <= floor) this.#seen.delete(s);
    }
    return true;
  }
}

export class Trust {
  readonly refused: Record<RefusalReason, number> = { forged: 0, replayed: 0, revoked: 0 };
  readonly #o: TrustOptions;
  readonly #reorderUs: number;
  readonly #now: () => number;
  #nodes = new Map<string, Known>();
  #version: string | undefined;
  #lastUnknownReload = Number.NEGATIVE_INFINITY;
  readonly #windows = new Map<string, SeenWindow>();

  constructor(o: TrustOptions) {
    this.#o = o;
    this.#reorderUs = o.reorderUs ?? 60_000_000;
    this.#now = o.now ?? (() => performance.now());
  }

  /** Nodes the registry holds (for reports): how many, and how many revoked. */
  get counts(): { nodes: number; revoked: number } {
    let revoked = 0;
    for (const k of this.#nodes.values()) if (k.record.revoked !== null) revoked++;
    return { nodes: this.#nodes.size, revoked };
  }

  /** Registered nodes, revoked ones included (what they still write is refused and counted), in id order. */
  nodeIds(): string[] {
    return [...this.#nodes.keys()].sort();
  }

  /** Re-read the registry when its version moved (or was never read). Throws when Redis is away. */
  async refresh(): Promise<void> {
    const version = (await this.#o.redis.get(this.#o.keys.nodesVersion)) ?? '0';
    if (version === this.#version) return;
    await this.#reload();
  }

  async #reload(): Promise<void> {
    const { version, nodes } = await readRegistry(this.#o.redis, this.#o.keys);
    this.#nodes = new Map([...nodes].map(([id, record]) => [id, { record, key: publicKeyFrom(record.key) }]));
    this.#version = version;
  }

  /**
   * Check one entry's proof. `roles` are the roles whose word this entry may carry (a change entry:
   * hubs only); `entryId` names the stream entry it came in (stream key and id). Counts a refusal. Rejects only when an unknown signer needed a registry read and
   * Redis failed it (the caller retries the batch).
   */
  async verify(proof: EntryProof | undefined, roles: readonly NodeRole[], entryId: string): Promise<Verdict> {
    const v = await this.#check(proof, roles, entryId);
    if (!v.ok) this.refused[v.reason]++;
    return v;
  }

  async #check(proof: EntryProof | undefined, roles: readonly NodeRole[], entryId: string): Promise<Verdict> {
    if (proof === undefined) return { ok: false, reason: 'forged' };
    let known = this.#nodes.get(proof.src);
    if (known === undefined && this.#now() - this.#lastUnknownReload >= 1000) {
      this.#lastUnknownReload = this.#now();
      await this.#reload();
      known = this.#nodes.get(proof.src);
    }
    if (known === undefined || known.key === undefined) return { ok: false, reason: 'forged' };
    if (known.record.revoked !== null) return { ok: false, reason: 'revoked' };
    if (!roles.includes(known.record.role)) return { ok: false, reason: 'forged' };
    if (!verifySignature(known.key, proof.message, proof.sig)) return { ok: false, reason: 'forged' };
    let w = this.#windows.get(proof.src);
    if (w === undefined) {
      w = new SeenWindow(this.#reorderUs);
      this.#windows.set(proof.src, w);
    }
    if (!w.admit(proof.n, entryId)) return { ok: false, reason: 'replayed' };
    return { ok: true, role: known.record.role };
  }
}

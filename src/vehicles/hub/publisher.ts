/**
 * The vehicle list's publisher: while this hub holds the refresher lease, a new version every
 * publishEveryMs when the list changed.
 *
 *   lead(token) ─> builder worker ─> step now, then every publishEveryMs:
 *     step ─> build(version, issuedAt) ─ unchanged ─> nothing (debug line)
 *                                       └ files ───> head: delta → appended to the newest chain; snapshot → new chain
 *                                                    ─> signed head.json text (memory) + head record (disk)
 *                                                    ─> prune files outside the kept chains
 *   standBy() ─> timer off, builder stopped (its state with it): the next lead starts with a snapshot
 *
 * Versions increase strictly across restarts and across hubs: the next is above the last one
 * published here (restored from the record at start) and above `token · 10^9`, the lease's
 * fencing token, which increases with every acquisition in the city: a hub taking over never
 * publishes a version below one a vehicle already holds from another hub.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemTimers } from '../../system-timers.js';
import type { Clock, Timers } from '../../types.js';
import type { FileRef, ListFileKind, ListHead } from '../list/types.js';
import { writeHeadRecord, type Chain, type HeadRecord } from './head-record.js';
import type { BuildOutcome, ListBuilder } from './list-builder.js';
import type { PublisherReport } from './types.js';

export type { PublisherReport } from './types.js';

/** Versions of one lease term: 10^9 steps is 31 years at one a second. */
export const VERSIONS_PER_TERM = 1_000_000_000;

/** Trimmed heads kept for the current version: vehicles hold a handful of distinct versions at a time. */
const HEADS_KEPT = 256;

const LIST_FILE = /^[0-9a-f]{64}\.hgvl(\.tmp-\d+)?$/;

export interface PublisherOptions {
  publishDir: string;
  /** The head record (head-record.ts). */
  headFile: string;
  /** What was published before this start (readHeadRecord), or null. */
  restored: HeadRecord | null;
  publishEveryMs: number;
  snapshotEveryMs: number;
  keepSnapshots: number;
  horizonMs: number;
  /** A RISKLESS learnt longer ago than this is listed `unknown` (cache.lastKnownMaxAgeMs). @default 86400000 */
  statusMaxAgeMs?: number;
  startBuilder: () => Promise<ListBuilder>;
  /** head.json's text for a head (list/head.ts, signHead with the list-signing key). */
  signHead: (head: ListHead) => string;
  clock: Clock;
  timers?: Timers;
  logger: Logger;
  /** A version was published (its head written): the push notice (notices.ts). Must not throw; never awaited. */
  onPublished?: (v: { version: number; issuedAt: number }) => void;
}

/**
 * The longest run of `deltas` that ends at `version`, each leading on from the one before. A step
 * that could make no delta (a new lead, a new fingerprint length) breaks the chain there:
 * vehicles holding a version before it take the snapshot.
 */
export function unbrokenTail(deltas: readonly FileRef[], version: number): FileRef[] {
  let i = deltas.length;
  if (i === 0 || deltas[i - 1]!.version !== version) return [];
  while (i > 1 && deltas[i - 2]!.version === deltas[i - 1]!.base) i--;
  return deltas.slice(i - 1);
}

export type StepOutcome = 'published' | 'unchanged' | 'failed' | 'idle';


export class VehiclePublisher {
  readonly #o: PublisherOptions;
  readonly #timers: Timers;
  #record: HeadRecord | null;
  #builder: ListBuilder | null = null;
  #token = 0;
  #term = 0;
  #timer: unknown;
  #stepping: Promise<StepOutcome> | null = null;
  #lastSnapshotAt: number | null = null;
  /** Heads trimmed for a held version (headFor), for the current version only. */
  readonly #trimmed = new Map<number, string>();
  readonly #report: Omit<PublisherReport, 'publishing' | 'version' | 'issuedAt'> = { entries: null, versions: { snapshot: 0, delta: 0 }, lastBytes: { snapshot: null, delta: null }, unchanged: 0, failures: 0, lastBuildMs: null };

  constructor(o: PublisherOptions) {
    this.#o = o;
    this.#timers = o.timers ?? systemTimers;
    this.#record = o.restored;
  }

  get publishing(): boolean {
    return this.#builder !== null;
  }

  /** head.json's text while this hub publishes (the restored one until its first step); null otherwise. */
  headText(): string | null {
    return this.publishing ? (this.#record?.text ?? null) : null;
  }

  /**
   * The head for a vehicle that holds version `after`: the same version, snapshot and signature
   * rules, but only the deltas from the one leading on from `after` (or, when none does, from the
   * newest snapshot on). The full head lists a day of deltas (hundreds of names); a vehicle polling
   * it every few minutes would pay for them on every poll. Signed per version and `after`, kept
   * until the next version (at most HEADS_KEPT of them).
   */
  headFor(after: number): string | null {
    const record = this.publishing ? this.#record : null;
    if (record === null) return null;
    const cached = this.#trimmed.get(after);
    if (cached !== undefined) return cached;
    const { head } = record;
    const from = head.deltas.findIndex((d) => d.base === after);
    const fromSnapshot = head.deltas.findIndex((d) => d.base === head.snapshot.version);
    const start = from >= 0 ? from : fromSnapshot >= 0 ? fromSnapshot : head.deltas.length;
    const text = this.#o.signHead({ ...head, deltas: head.deltas.slice(start) });
    if (this.#trimmed.size >= HEADS_KEPT) this.#trimmed.clear();
    this.#trimmed.set(after, text);
    return text;
  }

  /** Start publishing under this lease token; resolves once the builder runs (the first step is under way). */
  async lead(token: number): Promise<void> {
    // A lead without a loss in between (never from the lease): the older builder goes first.
    if (this.#builder !== null) await this.standBy();
    const term = ++this.#term;
    this.#token = token;
    const builder = await this.#o.startBuilder();
    if (term !== this.#term) {
      await builder.close();
      return;
    }
    this.#builder = builder;
    // A new builder holds no state: its first version is a snapshot, and a new chain.
    this.#lastSnapshotAt = null;
    this.#o.logger.info({ event: 'vehicles.lead', fence: token, version: this.#record?.head.version ?? null }, 'vehicles: this hub publishes the vehicle list');
    this.#tick(0);
  }

  async standBy(): Promise<void> {
    this.#term++;
    this.#timers.clearTimeout(this.#timer);
    const builder = this.#builder;
    this.#builder = null;
    await this.#stepping?.catch(() => undefined);
    if (builder !== null) {
      await builder.close();
      this.#o.logger.info({ event: 'vehicles.standby' }, 'vehicles: this hub stopped publishing the vehicle list');
    }
  }

  #tick(ms: number): void {
    const term = this.#term;
    this.#timer = this.#timers.setTimeout(() => {
      if (term !== this.#term) return;
      void this.step().finally(() => {
        if (term === this.#term) this.#tick(this.#o.publishEveryMs);
      });
    }, ms);
  }

  /** Build the next version and publish it when it differs; one at a time. Never rejects. */
  step(): Promise<StepOutcome> {
    this.#stepping ??= this.#step().finally(() => (this.#stepping = null));
    return this.#stepping;
  }

  async #step(): Promise<StepOutcome> {
    const builder = this.#builder;
    if (builder === null) return 'idle';
    const term = this.#term;
    const o = this.#o;
    const prev = this.#record?.head ?? null;
    const issuedAt = Math.max(o.clock(), prev?.issuedAt ?? 0);
    const version = Math.max((prev?.version ?? 0) + 1, this.#token * VERSIONS_PER_TERM + 1);
    const snapshot = this.#lastSnapshotAt === null || issuedAt - this.#lastSnapshotAt >= o.snapshotEveryMs;
    let built: BuildOutcome;
    try {
      built = await builder.build({ version, issuedAt, horizonMs: o.horizonMs, statusMaxAgeMs: o.statusMaxAgeMs ?? 86_400_000, snapshot });
    } catch (err) {
      this.#report.failures++;
      o.logger.error({ event: 'vehicles.build.failed', version, error: (err as { code?: string }).code ?? 'error' }, `vehicles: the list was not built: ${(err as Error).message}`);
      return 'failed';
    }
    if (term !== this.#term) return 'idle';
    this.#report.entries = built.entries;
    this.#report.lastBuildMs = built.durationMs;
    if (built.skipped > 0) o.logger.warn({ event: 'vehicles.skipped', cards: built.skipped }, 'vehicles: bound cards with a non-canonical id were left off the list');
    if (built.outcome === 'unchanged') {
      this.#report.unchanged++;
      o.logger.debug({ event: 'vehicles.unchanged', version: prev?.version ?? null, entries: built.entries }, 'vehicles: the list did not change: no new version');
      return 'unchanged';
    }
    const files: Array<[ListFileKind, FileRef]> = [];
    if (built.delta !== null) files.push(['delta', built.delta]);
    if (built.snapshot !== null) files.push(['snapshot', built.snapshot]);
    const kind: ListFileKind = built.snapshot !== null ? 'snapshot' : 'delta';
    const chains = this.#chainsWith(built.snapshot, built.delta);
    const current = chains[chains.length - 1]!;
    // Every kept delta, oldest first: one unbroken chain through the kept snapshots wherever a
    // delta could be made, so a vehicle offline for less than the kept span catches up by deltas.
    const head: ListHead = { format: 1, keyId: builder.keyId, version, issuedAt, horizonMs: o.horizonMs, snapshot: current.snapshot, deltas: unbrokenTail(chains.flatMap((c) => c.deltas), version) };
    const text = o.signHead(head);
    try {
      await writeHeadRecord(o.headFile, { text, chains });
    } catch (err) {
      // The files are written but no head names them: the builder's state is not what vehicles
      // can reach, so the next version is a snapshot (and the orphan goes with the next prune).
      builder.forget();
      this.#lastSnapshotAt = null;
      this.#report.failures++;
      o.logger.error({ event: 'vehicles.build.failed', version, error: (err as NodeJS.ErrnoException).code ?? 'error' }, 'vehicles: the head could not be written; nothing was published');
      return 'failed';
    }
    if (term !== this.#term) return 'idle';
    this.#record = { text, head, chains };
    this.#trimmed.clear();
    if (kind === 'snapshot') this.#lastSnapshotAt = issuedAt;
    for (const [k, f] of files) {
      this.#report.versions[k]++;
      this.#report.lastBytes[k] = f.bytes;
    }
    const bytes = files.reduce((n, [, f]) => n + f.bytes, 0);
    o.logger.info({ event: 'vehicles.published', version, kind, bytes, entries: built.entries, durationMs: Math.round(built.durationMs) }, `vehicles: published version ${version} (${files.map(([k]) => k).join(' and ')})`);
    o.onPublished?.({ version, issuedAt });
    await this.#prune(chains);
    return 'published';
  }

  /**
   * The kept chains after a step: its delta extends the newest chain (leading to this version),
   * then its snapshot, if any, opens a new one. Only `keepSnapshots` chains are kept.
   */
  #chainsWith(snapshot: FileRef | null, delta: FileRef | null): Chain[] {
    const chains = (this.#record?.chains ?? []).map((c) => ({ snapshot: c.snapshot, deltas: [...c.deltas] }));
    if (delta !== null && chains.length > 0) chains[chains.length - 1]!.deltas.push(delta);
    if (snapshot !== null) chains.push({ snapshot, deltas: [] });
    return chains.slice(-this.#o.keepSnapshots);
  }

  /** Remove list files (and temp files left by a crash) no kept chain names; nothing else in the directory is touched. */
  async #prune(chains: readonly Chain[]): Promise<void> {
    const keep = new Set(chains.flatMap((c) => [c.snapshot.name, ...c.deltas.map((d) => d.name)]));
    let names: string[];
    try {
      names = await readdir(this.#o.publishDir);
    } catch {
      return;
    }
    let removed = 0;
    for (const name of names) {
      if (!LIST_FILE.test(name) || keep.has(name)) continue;
      try {
        await unlink(join(this.#o.publishDir, name));
        removed++;
      } catch (err) {
        this.#o.logger.warn({ event: 'vehicles.prune', error: (err as NodeJS.ErrnoException).code ?? 'error' }, 'vehicles: an old list file could not be removed');
      }
    }
    if (removed > 0) this.#o.logger.debug({ event: 'vehicles.pruned', files: removed }, 'vehicles: removed list files past the kept snapshots');
  }

  report(): PublisherReport {
    return { publishing: this.publishing, version: this.#record?.head.version ?? null, issuedAt: this.#record?.head.issuedAt ?? null, ...this.#report, versions: { ...this.#report.versions }, lastBytes: { ...this.#report.lastBytes } };
  }
}

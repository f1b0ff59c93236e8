/**
 * The status of a HES code, answered within a time budget.
 *
 *   lookup(code, budget)
 *     ├─ fresh entry in the cache ──────────────────────> status | not-found | expired (cache)
 *     └─ otherwise: one shared ministry call per code (ministry-lookup.ts)
 *          ├─ answers within the budget ─> hold it, return it (ministry)
 *          └─ budget runs out or call fails ─> unavailable + last-known status, if any
 *                the call runs on under its own timeout and fills the cache for the next tap
 *
 * A health status neither RISKLESS nor RISKY is an answer: held briefly like "not found",
 * counted, and decided as `unavailable` (never a RISKLESS). Freshness rules live in
 * status-cache.ts; what survives a restart in status-persistence.ts.
 */
import type { HesGateError } from '../errors.js';
import type { Clock, MinistryLookup, StatusOutcome, StatusRecord } from '../types.js';
import { StatusCache, type Entry, type StatusCacheOptions } from './status-cache.js';
import { within } from '../deadline.js';
import { answerOf, MinistryLookups, type LookupFn } from './ministry-lookup.js';
import { PersistBatch, restoreStatuses } from './status-persistence.js';
import type { Answer, AnswerHook, ReplicaStatus, SharedStatus, StatusLookup, StatusPersistence, StatusSink } from './types.js';

export type { StatusCacheOptions } from './status-cache.js';
export type { LookupFn } from './ministry-lookup.js';

export interface StatusCounters {
  hits: number;
  misses: number;
  /** Lookups answered "unavailable" with a last-known status at hand. */
  stale: number;
  /** Lookups answered "unavailable" with nothing known. */
  unknown: number;
  /** Ministry calls started by taps (after single-flight sharing). */
  ministryCalls: number;
  /** Lookups that joined a call already in flight. */
  coalesced: number;
  /** Ministry answers (taps' and the refresher's) whose health status was neither RISKLESS nor RISKY. */
  unrecognised: number;
}

export interface StatusServiceOptions extends StatusCacheOptions {
  ministry: LookupFn;
  clock: Clock;
  /** Where statuses of bound codes survive restarts; optional. */
  persistence?: StatusPersistence;
  /**
   * Called with every ministry answer a tap's lookup got (not the refresher's, not shared
   * ones), after it is held, so a station can share it with its city. Must not throw or block.
   * The answer may carry the plus fields (a name, an identity number): strip them (city/wire.ts
   * `sharedAnswer`) before anything leaves this node.
   */
  onAnswer?: AnswerHook;
}

export class StatusService implements StatusLookup, StatusSink, ReplicaStatus {
  /** Live counters since start (the metrics read this object at scrape time). */
  readonly counters: StatusCounters = { hits: 0, misses: 0, stale: 0, unknown: 0, ministryCalls: 0, coalesced: 0, unrecognised: 0 };
  private readonly cache: StatusCache;
  private readonly calls: MinistryLookups<Entry | HesGateError>;
  private readonly opts: StatusServiceOptions;
  private restored: string[] = [];

  constructor(opts: StatusServiceOptions) {
    this.opts = opts;
    this.cache = new StatusCache(opts, opts.clock());
    this.calls = new MinistryLookups(opts.ministry, this.counters, (code, result) => {
      const answer = answerOf(result);
      // A failure keeps what we knew; the ministry's health and the guard count it.
      if (answer === undefined) return result as HesGateError;
      const at = this.opts.clock();
      const { entry } = this.hold(code, answer, at);
      if (this.opts.onAnswer !== undefined) this.share(code, answer, at);
      return entry;
    });
  }

  /**
   * Load last-known statuses persisted before a restart, dropping those past the maximum age.
   * `keepCodes`: hold the codes read for `takeRestored()` (a city node checks them); a standalone
   * station has no one to check them with, and keeps no list.
   */
  restore(keepCodes = true): number {
    const p = this.opts.persistence;
    if (p === undefined) return 0;
    const { loaded, codes } = restoreStatuses(this.cache, p, this.opts.clock(), this.opts.lastKnownMaxAgeMs);
    this.restored = keepCodes ? codes : [];
    return loaded;
  }

  /** The codes restore() read from disk, once: the city checks them against its answers (and they are forgotten here). */
  takeRestored(): string[] {
    const codes = this.restored;
    this.restored = [];
    return codes;
  }

  /**
   * The city's answers for codes this node read from its own disk: held over ours where they
   * differ (StatusCache.repair: a row edited on disk may claim any time), persisted. Returns how
   * many differed and how many were repaired (the rest: a newer, stricter answer held here).
   */
  repairShared(items: Iterable<SharedStatus>): { differing: number; repaired: number } {
    const p = this.opts.persistence;
    const batch = p === undefined ? undefined : new PersistBatch(this.cache);
    const now = this.opts.clock();
    let differing = 0;
    let repaired = 0;
    for (const { code, answer, at } of items) {
      const r = this.cache.repair(code, answer, at, now);
      if (r === 'same') continue;
      differing++;
      if (r === 'kept') continue;
      repaired++;
      batch?.add(code, r);
    }
    if (p !== undefined) batch?.flush(p);
    return { differing, repaired };
  }

  private hold(code: string, answer: Answer, at: number): { entry: Entry; held: boolean } {
    if (answer.kind === 'unrecognised') this.counters.unrecognised++;
    return this.cache.put(code, answer, at);
  }

  /** Record what the ministry said about a code shown at a validator: kept in memory only. */
  ingest(code: string, result: MinistryLookup | HesGateError, at: number): void {
    const answer = answerOf(result);
    if (answer !== undefined) this.hold(code, answer, at);
  }

  /** Answers of bound codes from one bulk call (the refresher): held, and persisted in one write. */
  ingestMany(results: Iterable<[string, MinistryLookup | HesGateError]>, at: number): void {
    const p = this.opts.persistence;
    const batch = p === undefined ? undefined : new PersistBatch(this.cache);
    for (const [code, result] of results) {
      const answer = answerOf(result);
      if (answer === undefined) continue;
      const { entry, held } = this.hold(code, answer, at);
      if (held) batch?.add(code, entry);
    }
    if (p !== undefined) batch?.flush(p);
  }

  /** A fresh cached outcome, or undefined. Synchronous: the hot path of a cache hit. */
  fresh(code: string, now: number): StatusOutcome | undefined {
    const e = this.cache.fresh(code, now);
    if (e === undefined) return undefined;
    this.counters.hits++;
    return this.cache.outcomeOf(e, 'cache');
  }

  /** The newest status that may still decide for a code, fresh or not, within the maximum age. */
  lastKnown(code: string, now: number): StatusRecord | undefined {
    return this.cache.lastKnown(code, now);
  }

  /**
   * The status of a code within `budgetMs`. Resolves (never rejects) by the budget's end:
   * with a fresh cached answer, the ministry's answer, or `unavailable` with the last-known
   * status. The ministry call is not aborted when the budget ends.
   */
  lookup(code: string, budgetMs: number): StatusOutcome | Promise<StatusOutcome> {
    const hit = this.fresh(code, this.opts.clock());
    if (hit !== undefined) return hit;
    this.counters.misses++;
    return within(
      this.calls.ask(code),
      budgetMs,
      (result) => (result instanceof Error ? this.unavailable(code) : this.cache.outcomeOf(result, 'ministry')),
      () => this.unavailable(code),
    );
  }

  private unavailable(code: string): StatusOutcome {
    const last = this.cache.lastKnown(code, this.opts.clock());
    if (last === undefined) {
      this.counters.unknown++;
      return { kind: 'unavailable' };
    }
    this.counters.stale++;
    return { kind: 'unavailable', lastKnown: last };
  }

  /** Codes held (fresh or last-known). */
  get size(): number {
    return this.cache.size;
  }

  /** Codes with a ministry call in flight. */
  get inflightCount(): number {
    return this.calls.size;
  }

  /** Age in ms of the oldest held status (for the freshness metric); 0 when empty. */
  oldestAgeMs(now: number): number {
    return this.cache.oldestAgeMs(now);
  }

  /** Settle when every ministry call in flight has finished (for graceful shutdown). */
  async drain(): Promise<void> {
    await this.calls.drain();
  }

  /** Hand a tap's ministry answer to the city. A failing hook must never fail the taps waiting on this call. */
  private share(code: string, answer: Answer, at: number): void {
    try {
      this.opts.onAnswer!(code, answer, at);
    } catch {
      // The sharer only queues a Redis write; it counts and logs its own failures.
    }
  }

  /**
   * Answers learned elsewhere in the city (the hub's rotation, another station's tap), each held
   * at its own `at`: the cache keeps whichever is newer. Held ones are persisted when `persist`
   * (bound codes). Not counted as `unrecognised`: the node that asked the ministry counted it.
   */
  ingestShared(items: Iterable<SharedStatus>, persist: boolean): void {
    const p = persist ? this.opts.persistence : undefined;
    const batch = p === undefined ? undefined : new PersistBatch(this.cache);
    const now = this.opts.clock();
    for (const { code, answer, at } of items) {
      // Too old to decide anything (a snapshot's forgotten corner): not worth holding.
      if (now - at > this.opts.lastKnownMaxAgeMs) continue;
      // A shared answer is a ministry answer without plus fields: it is the stage's Answer as is.
      const { entry, held } = this.cache.put(code, answer, at);
      if (held) batch?.add(code, entry);
    }
    if (p !== undefined) batch?.flush(p);
  }

  /**
   * A rotation step asked the ministry about these codes at `at` and nothing changed: re-stamp
   * what is held for them (when `at` is newer) and persist those, like `ingestMany`. Returns
   * how many of the codes had an answer held, re-stamped or already as new.
   */
  confirm(codes: Iterable<string>, at: number): number {
    const p = this.opts.persistence;
    const batch = p === undefined ? undefined : new PersistBatch(this.cache);
    let held = 0;
    for (const code of codes) {
      const entry = this.cache.restamp(code, at);
      if (entry === undefined) continue;
      held++;
      if (entry !== false) batch?.add(code, entry);
    }
    if (p !== undefined) batch?.flush(p);
    return held;
  }
}

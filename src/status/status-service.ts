/**
 * The status of a HES code, answered within a time budget.
 *
 *   lookup(code, budget)
 *     ├─ fresh entry in the cache ───────────────────────────────> status | not-found | expired (cache)
 *     └─ otherwise: one shared ministry call per code (single flight)
 *          ├─ answers within the budget ─> ingest, return it (ministry)
 *          └─ budget runs out or call fails ─> unavailable + last-known entry, if any
 *                the call runs on under its own timeout and fills the cache for the next tap
 *
 * Entries stay in the cache past their freshness as "last-known" statuses for the outage
 * policy, until `lastKnownMaxAgeMs` after they were fetched. Freshness depends on the answer:
 * RISKLESS is a bet that ages (short, and never past the code's own expiry), RISKY lives
 * longer, "not found" is kept briefly.
 */
import { LRUCache } from 'lru-cache';
import type { Clock, MinistryLookup, PlusFields, StatusOutcome, StatusRecord } from '../types.js';
import { HesGateError } from '../errors.js';
import type { PersistedStatus, StatusPersistence, StatusSink } from './types.js';

export interface StatusCacheOptions {
  /** How long a RISKLESS answer counts as fresh, in ms (capped at the code's expiry). @default 600000 (10 min) */
  risklessTtlMs: number;
  /** How long a RISKY answer counts as fresh, in ms. @default 21600000 (6 h) */
  riskyTtlMs: number;
  /** How long "not found" counts as fresh, in ms. @default 60000 */
  notFoundTtlMs: number;
  /** How long "expired" counts as fresh, in ms. @default 3600000 */
  expiredTtlMs: number;
  /** How long a status is kept at all (for last-known decisions), from when it was fetched. @default 86400000 (24 h) */
  lastKnownMaxAgeMs: number;
  /** Most codes held; the least recently used go first. @default 1000000 */
  maxEntries: number;
}

/**
 * One cached answer. Small on purpose: a station holds up to a million of them. Times are whole
 * seconds relative to the service's start, so V8 keeps them as small integers inside the
 * object instead of boxing epoch milliseconds (48 bytes per entry saved); freshness is derived
 * from the kind and the TTLs rather than stored.
 */
interface Entry {
  /** 0 RISKLESS, 1 RISKY, 2 not found, 3 expired. */
  kind: 0 | 1 | 2 | 3;
  /** Code expiry, seconds since `baseS` (rounded down: a code is never held valid past it). */
  expiresS: number;
  /** When the ministry said this, seconds since `baseS` (rounded down: ages count slightly older). */
  fetchedS: number;
  /** Plus fields, only when the gate's requirement made us ask the plus calls. */
  plus: PlusFields | undefined;
}

const KIND_RISKLESS = 0;
const KIND_RISKY = 1;
const KIND_NOT_FOUND = 2;
const KIND_EXPIRED = 3;

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
}

/** The ministry as the status service needs it: one code at a time. */
export type LookupFn = (code: string) => Promise<MinistryLookup>;

export interface StatusServiceOptions extends StatusCacheOptions {
  ministry: LookupFn;
  clock: Clock;
  /** Where statuses of bound codes survive restarts; optional. */
  persistence?: StatusPersistence;
  /** Called when a tap-initiated ministry call fails (after the tap may have been answered). */
  onMinistryError?: (err: HesGateError) => void;
}

/** Largest small integer V8 keeps unboxed (31-bit with pointer compression). */
const SMI_MAX = 2 ** 30 - 1;

function asError(err: unknown): HesGateError {
  return err instanceof HesGateError
    ? err
    : new HesGateError('HG_INTERNAL', 'ministry lookup failed unexpectedly', { cause: err });
}

export class StatusService implements StatusSink {
  readonly counters: StatusCounters = { hits: 0, misses: 0, stale: 0, unknown: 0, ministryCalls: 0, coalesced: 0 };
  private readonly cache: LRUCache<string, Entry>;
  private readonly inflight = new Map<string, Promise<Entry | HesGateError>>();
  private readonly opts: StatusServiceOptions;
  /** Epoch second that entry times count from. */
  private readonly baseS: number;

  constructor(opts: StatusServiceOptions) {
    this.opts = opts;
    this.cache = new LRUCache<string, Entry>({ max: opts.maxEntries });
    this.baseS = Math.floor(opts.clock() / 1000);
  }

  private toS(ms: number): number {
    const s = Math.floor(ms / 1000) - this.baseS;
    // Beyond ~34 years either way nothing changes for a decision; clamping keeps it unboxed.
    return s > SMI_MAX ? SMI_MAX : s < -SMI_MAX ? -SMI_MAX : s;
  }

  private toMs(s: number): number {
    return (s + this.baseS) * 1000;
  }

  /** Until when (epoch ms) an entry counts as fresh. */
  private freshUntil(e: Entry): number {
    const o = this.opts;
    const fetched = this.toMs(e.fetchedS);
    switch (e.kind) {
      case KIND_RISKLESS:
        return Math.min(fetched + o.risklessTtlMs, this.toMs(e.expiresS));
      case KIND_RISKY:
        return fetched + o.riskyTtlMs;
      case KIND_NOT_FOUND:
        return fetched + o.notFoundTtlMs;
      default:
        return fetched + o.expiredTtlMs;
    }
  }

  private toRecord(e: Entry): StatusRecord {
    const record: StatusRecord = { status: e.kind === KIND_RISKY ? 'RISKY' : 'RISKLESS', expiresAt: this.toMs(e.expiresS), fetchedAt: this.toMs(e.fetchedS) };
    if (e.plus !== undefined) record.plus = e.plus;
    return record;
  }

  /** What survives a restart: status, expiry, fetched-at — never the plus (vaccination, test) fields. */
  private persistable(e: Entry): StatusRecord {
    return { status: e.kind === KIND_RISKY ? 'RISKY' : 'RISKLESS', expiresAt: this.toMs(e.expiresS), fetchedAt: this.toMs(e.fetchedS) };
  }

  /** Whether `next` should replace `current`: newer wins; within one second, RISKY is kept. */
  private replaces(current: Entry | undefined, next: Entry): boolean {
    if (current === undefined || next.fetchedS > current.fetchedS) return true;
    if (next.fetchedS < current.fetchedS) return false;
    return !(current.kind === KIND_RISKY && next.kind !== KIND_RISKY);
  }

  /** Load last-known statuses persisted before a restart, dropping those past the maximum age. */
  restore(): number {
    const p = this.opts.persistence;
    if (p === undefined) return 0;
    const now = this.opts.clock();
    const tooOld: string[] = [];
    let n = 0;
    for (const { code, record } of p.loadStatuses()) {
      if (now - record.fetchedAt > this.opts.lastKnownMaxAgeMs) {
        tooOld.push(code);
        continue;
      }
      this.cache.set(code, this.entryFor({ kind: 'status', status: record.status, expiresAt: record.expiresAt }, record.fetchedAt));
      n++;
    }
    if (tooOld.length > 0) p.deleteStatuses(tooOld);
    return n;
  }

  private entryFor(result: MinistryLookup, at: number): Entry {
    const fetchedS = this.toS(at);
    switch (result.kind) {
      case 'status': {
        const expiresS = this.toS(result.expiresAt);
        if (result.status === 'RISKY') return { kind: KIND_RISKY, expiresS, fetchedS, plus: undefined };
        if (result.expiresAt <= at) {
          // The holder's sharing period is over: as good as the ministry's "expired".
          return { kind: KIND_EXPIRED, expiresS, fetchedS, plus: undefined };
        }
        return { kind: KIND_RISKLESS, expiresS, fetchedS, plus: result.plus };
      }
      case 'not-found':
        return { kind: KIND_NOT_FOUND, expiresS: 0, fetchedS, plus: undefined };
      case 'expired':
        return { kind: KIND_EXPIRED, expiresS: 0, fetchedS, plus: undefined };
    }
  }

  /**
   * Record what the ministry said about a code. `persist` is for bound codes (the refresher):
   * statuses of codes shown once at a validator are kept in memory only.
   */
  ingest(code: string, result: MinistryLookup | HesGateError, at: number, persist = false): void {
    if (result instanceof HesGateError) return; // keep what we knew; the refresher counts the failure
    const entry = this.entryFor(result, at);
    if (!this.replaces(this.cache.peek(code), entry)) return; // an older answer arriving late
    this.cache.set(code, entry);
    const p = this.opts.persistence;
    if (persist && p !== undefined) {
      if (entry.kind <= KIND_RISKY) p.saveStatuses([{ code, record: this.persistable(entry) }]);
      else p.deleteStatuses([code]);
    }
  }

  /** Ingest many answers of bound codes at once (a refresher chunk): one persistence write. */
  ingestMany(results: Iterable<[string, MinistryLookup | HesGateError]>, at: number): void {
    const save: PersistedStatus[] = [];
    const drop: string[] = [];
    for (const [code, result] of results) {
      if (result instanceof HesGateError) continue;
      const entry = this.entryFor(result, at);
      if (!this.replaces(this.cache.peek(code), entry)) continue;
      this.cache.set(code, entry);
      if (entry.kind <= KIND_RISKY) save.push({ code, record: this.persistable(entry) });
      else drop.push(code);
    }
    const p = this.opts.persistence;
    if (p !== undefined) {
      if (save.length > 0) p.saveStatuses(save);
      if (drop.length > 0) p.deleteStatuses(drop);
    }
  }

  private outcomeOf(e: Entry, source: 'cache' | 'ministry'): StatusOutcome {
    switch (e.kind) {
      case KIND_NOT_FOUND:
        return { kind: 'not-found', source };
      case KIND_EXPIRED:
        return { kind: 'expired', source };
      default:
        return { kind: 'status', record: this.toRecord(e), source };
    }
  }

  /** A fresh cached outcome, or undefined. Synchronous: the hot path of a cache hit. */
  fresh(code: string, now: number): StatusOutcome | undefined {
    const e = this.cache.get(code);
    if (e === undefined || now >= this.freshUntil(e)) return undefined;
    this.counters.hits++;
    return this.outcomeOf(e, 'cache');
  }

  /** The newest status held for a code, fresh or not, within the maximum age. */
  lastKnown(code: string, now: number): StatusRecord | undefined {
    const e = this.cache.peek(code);
    if (e === undefined) return undefined;
    if (now - this.toMs(e.fetchedS) > this.opts.lastKnownMaxAgeMs) {
      this.cache.delete(code);
      return undefined;
    }
    return e.kind <= KIND_RISKY ? this.toRecord(e) : undefined;
  }

  /**
   * Start (or join) the ministry call for a code. The promise never rejects: it settles with
   * the new entry or the error, and the entry is already in the cache when it does.
   */
  private call(code: string): Promise<Entry | HesGateError> {
    const running = this.inflight.get(code);
    if (running !== undefined) {
      this.counters.coalesced++;
      return running;
    }
    this.counters.ministryCalls++;
    const p = this.opts.ministry(code).then(
      (result) => {
        const at = this.opts.clock();
        this.ingest(code, result, at);
        return this.entryFor(result, at);
      },
      (err: unknown) => {
        const e = asError(err);
        this.opts.onMinistryError?.(e);
        return e;
      },
    );
    this.inflight.set(code, p);
    void p.finally(() => this.inflight.delete(code));
    return p;
  }

  /**
   * The status of a code within `budgetMs`. Resolves (never rejects) by the budget's end:
   * with a fresh cached answer, the ministry's answer, or `unavailable` with the last-known
   * status. The ministry call is not aborted when the budget ends.
   */
  lookup(code: string, budgetMs: number): StatusOutcome | Promise<StatusOutcome> {
    const now = this.opts.clock();
    const hit = this.fresh(code, now);
    if (hit !== undefined) return hit;
    this.counters.misses++;
    const call = this.call(code);
    if (budgetMs <= 0) return this.unavailable(code);
    return new Promise<StatusOutcome>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        resolve(this.unavailable(code));
      }, budgetMs);
      void call.then((result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result instanceof HesGateError ? this.unavailable(code) : this.outcomeOf(result, 'ministry'));
      });
    });
  }

  private unavailable(code: string): StatusOutcome {
    const last = this.lastKnown(code, this.opts.clock());
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
    return this.inflight.size;
  }

  /** Age in ms of the oldest held status (for the freshness metric); 0 when empty. O(n): call at scrape time. */
  oldestAgeMs(now: number): number {
    if (this.cache.size === 0) return 0;
    let oldest = SMI_MAX;
    for (const e of this.cache.values()) if (e.fetchedS < oldest) oldest = e.fetchedS;
    return Math.max(0, now - this.toMs(oldest));
  }

  /** Settle when every ministry call in flight has finished (for graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight.values()]);
  }
}

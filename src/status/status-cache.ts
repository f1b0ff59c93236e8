/**
 * The status cache and its freshness rules. RISKLESS is a bet that ages (short, and never past
 * the code's own expiry), RISKY lives longer, "not found" and an unrecognised status are kept
 * briefly. Entries stay past their freshness as last-known statuses for the outage policy,
 * until `lastKnownMaxAgeMs` after they were fetched.
 */
import type { StatusOutcome, StatusRecord } from '../types.js';
import { StatusTable, type Entry } from './status-table.js';
import type { Answer, FindingKind } from './types.js';

export interface StatusCacheOptions {
  /** How long a RISKLESS answer counts as fresh, in ms (capped at the code's expiry). @default 600000 (10 min) */
  risklessTtlMs: number;
  /** How long a RISKY answer counts as fresh, in ms. @default 21600000 (6 h) */
  riskyTtlMs: number;
  /** How long "not found" — and a health status neither RISKLESS nor RISKY — counts as fresh, in ms. @default 60000 */
  notFoundTtlMs: number;
  /** How long "expired" counts as fresh, in ms. @default 3600000 */
  expiredTtlMs: number;
  /** How long a status is kept at all (for last-known decisions), from when it was fetched. @default 86400000 (24 h) */
  lastKnownMaxAgeMs: number;
  /** Most codes held; the least recently used go first. @default 1000000 */
  maxEntries: number;
}

export type { Entry } from './status-table.js';

export const KIND_RISKLESS = 0;
export const KIND_RISKY = 1;
export const KIND_NOT_FOUND = 2;
export const KIND_EXPIRED = 3;
const KIND_UNRECOGNISED = 4;
export const KIND_UNRECOGNISED_AFTER_RISKY = 5;

/** Times beyond this (±34 years) change no decision; clamped, they fit the table's 32-bit columns. */
const MAX_S = 2 ** 30 - 1;

export class StatusCache {
  private readonly lru: StatusTable;
  private readonly o: StatusCacheOptions;
  /** Epoch second that entry times count from. */
  private readonly baseS: number;

  constructor(o: StatusCacheOptions, now: number) {
    this.o = o;
    this.lru = new StatusTable(o.maxEntries);
    this.baseS = Math.floor(now / 1000);
  }

  private toS(ms: number): number {
    const s = Math.floor(ms / 1000) - this.baseS;
    return s > MAX_S ? MAX_S : s < -MAX_S ? -MAX_S : s;
  }

  private toMs(s: number): number {
    return (s + this.baseS) * 1000;
  }

  /** Until when (epoch ms) an entry counts as fresh. */
  private freshUntil(e: Entry): number {
    const o = this.o;
    const fetched = this.toMs(e.fetchedS);
    switch (e.kind) {
      case KIND_RISKLESS:
        return Math.min(fetched + o.risklessTtlMs, this.toMs(e.expiresS));
      case KIND_RISKY:
        return fetched + o.riskyTtlMs;
      case KIND_EXPIRED:
        return fetched + o.expiredTtlMs;
      default:
        return fetched + o.notFoundTtlMs;
    }
  }

  /** The entry for an answer learned at `at`; `current` is what is held for the code now. */
  private entryFor(answer: Answer, at: number, current: Entry | undefined): Entry {
    const fetchedS = this.toS(at);
    switch (answer.kind) {
      case 'status': {
        const expiresS = this.toS(answer.expiresAt);
        if (answer.status === 'RISKY') return { kind: KIND_RISKY, expiresS, fetchedS, plus: undefined };
        if (answer.expiresAt <= at) {
          // The holder's sharing period is over: as good as the ministry's "expired".
          return { kind: KIND_EXPIRED, expiresS, fetchedS, plus: undefined };
        }
        return { kind: KIND_RISKLESS, expiresS, fetchedS, plus: answer.plus };
      }
      case 'not-found':
        return { kind: KIND_NOT_FOUND, expiresS: 0, fetchedS, plus: undefined };
      case 'expired':
        return { kind: KIND_EXPIRED, expiresS: 0, fetchedS, plus: undefined };
      case 'unrecognised': {
        // A RISKLESS held before is no longer what the ministry says; a RISKY one still decides.
        const risky = current !== undefined && (current.kind === KIND_RISKY || current.kind === KIND_UNRECOGNISED_AFTER_RISKY);
        return risky
          ? { kind: KIND_UNRECOGNISED_AFTER_RISKY, expiresS: current.expiresS, fetchedS, plus: undefined }
          : { kind: KIND_UNRECOGNISED, expiresS: 0, fetchedS, plus: undefined };
      }
    }
  }

  /** Whether `next` should replace `current`: newer wins; within one second, RISKY is kept. */
  private static replaces(current: Entry | undefined, next: Entry): boolean {
    if (current === undefined || next.fetchedS > current.fetchedS) return true;
    if (next.fetchedS < current.fetchedS) return false;
    return !(current.kind === KIND_RISKY && next.kind !== KIND_RISKY);
  }

  /**
   * Hold what the ministry said about a code at `at`. `held` is false when the answer was older
   * than the one held (an answer arriving late) and was dropped; `entry` is what it means either
   * way (the tap that asked for it still gets it).
   */
  put(code: string, answer: Answer, at: number): { entry: Entry; held: boolean } {
    const current = this.lru.peek(code);
    const entry = this.entryFor(answer, at, current);
    if (!StatusCache.replaces(current, entry)) return { entry, held: false };
    this.lru.set(code, entry);
    return { entry, held: true };
  }

  /**
   * Compare the city's answer for a code with what is held (a node's check of what it restored
   * from its own disk, city/reconcile/status-check.ts) and hold the city's where they differ —
   * whatever the times say, since a row edited on disk may claim any time — except over a newer
   * held answer that is stricter (RISKY where the city still says otherwise: an answer this node
   * learned since, which the city's next rotation confirms). A held time in the future is never
   * newer. Returns the entry held after a repair, 'same' or 'kept'.
   */
  repair(code: string, answer: Answer, at: number, now: number): Entry | 'same' | 'kept' {
    const current = this.lru.peek(code);
    if (current === undefined) return 'same';
    const next = this.entryFor(answer, at, current);
    if (next.kind === current.kind && next.expiresS === current.expiresS) return 'same';
    const currentIsNewer = current.fetchedS > next.fetchedS && current.fetchedS <= this.toS(now) + 1;
    const currentIsStricter = (current.kind === KIND_RISKY || current.kind === KIND_UNRECOGNISED_AFTER_RISKY) && next.kind !== KIND_RISKY;
    if (currentIsNewer && currentIsStricter) return 'kept';
    this.lru.set(code, next);
    return next;
  }

  /** The outcome an entry gives a tap. */
  outcomeOf(e: Entry, source: 'cache' | 'ministry'): StatusOutcome {
    switch (e.kind) {
      case KIND_NOT_FOUND:
        return { kind: 'not-found', source };
      case KIND_EXPIRED:
        return { kind: 'expired', source };
      case KIND_UNRECOGNISED:
        return { kind: 'unavailable' };
      case KIND_UNRECOGNISED_AFTER_RISKY:
        return { kind: 'unavailable', lastKnown: this.toRecord(e, false) };
      default:
        return { kind: 'status', record: this.toRecord(e, true), source };
    }
  }

  /** RISKLESS/RISKY entries (and a RISKY holder's unrecognised one) as a record; `plus` only when asked. */
  toRecord(e: Entry, withPlus: boolean): StatusRecord {
    const status = e.kind === KIND_RISKY || e.kind === KIND_UNRECOGNISED_AFTER_RISKY ? 'RISKY' : 'RISKLESS';
    const record: StatusRecord = { status, expiresAt: this.toMs(e.expiresS), fetchedAt: this.toMs(e.fetchedS) };
    if (withPlus && e.plus !== undefined) record.plus = e.plus;
    return record;
  }

  /** An expired or not-found entry as a finding (what, and when it was learnt); undefined for the others. */
  findingOf(e: Entry): { kind: FindingKind; at: number } | undefined {
    if (e.kind === KIND_EXPIRED) return { kind: 'expired', at: this.toMs(e.fetchedS) };
    if (e.kind === KIND_NOT_FOUND) return { kind: 'not-found', at: this.toMs(e.fetchedS) };
    return undefined;
  }

  /** The fresh entry for a code at `now`, or undefined. Counts as a use for the LRU order. */
  fresh(code: string, now: number): Entry | undefined {
    const e = this.lru.get(code);
    return e === undefined || now >= this.freshUntil(e) ? undefined : e;
  }

  /** The newest status that may still decide for a code, fresh or not, within the maximum age. */
  lastKnown(code: string, now: number): StatusRecord | undefined {
    const e = this.lru.peek(code);
    if (e === undefined) return undefined;
    if (now - this.toMs(e.fetchedS) > this.o.lastKnownMaxAgeMs) {
      this.lru.delete(code);
      return undefined;
    }
    return e.kind === KIND_RISKLESS || e.kind === KIND_RISKY || e.kind === KIND_UNRECOGNISED_AFTER_RISKY ? this.toRecord(e, true) : undefined;
  }

  get size(): number {
    return this.lru.size;
  }

  /** Age in ms of the oldest held status; 0 when empty. Kept as the entries change: no walk. */
  oldestAgeMs(now: number): number {
    const oldest = this.lru.oldestFetchedS();
    return oldest === undefined ? 0 : Math.max(0, now - this.toMs(oldest));
  }

  /**
   * Hold what is held for a code as said again at `at` (a city rotation asked and found it
   * unchanged). Returns the re-stamped entry; `false` when it is held but not older than `at`
   * (at this cache's one-second resolution); undefined when nothing is held for the code.
   */
  restamp(code: string, at: number): Entry | false | undefined {
    const current = this.lru.peek(code);
    if (current === undefined) return undefined;
    const fetchedS = this.toS(at);
    if (fetchedS <= current.fetchedS) return false;
    const entry: Entry = { kind: current.kind, expiresS: current.expiresS, fetchedS, plus: current.plus };
    this.lru.set(code, entry);
    return entry;
  }
}

import type { HealthStatus, MinistryLookup, StatusOutcome, StatusRecord } from '../types.js';
import type { HesGateError } from '../errors.js';

/**
 * A ministry answer as the status stage keeps it: the ministry's definitive lookup, or a
 * health status that is neither RISKLESS nor RISKY (`unrecognised`). The latter is an answer
 * too — the ministry is up and said something about the code — but never a RISKLESS.
 */
export type Answer = MinistryLookup | { kind: 'unrecognised' };

/** A status as persisted across restarts: only what a decision needs. */
export interface PersistedStatus {
  code: string;
  record: StatusRecord;
}

/** A definitive ministry answer that is not a status: the code is no longer valid, or the ministry does not know it. */
export type FindingKind = 'expired' | 'not-found';

/**
 * A finding as persisted: the code, what was found, and when it was learnt (epoch ms, at the
 * status cache's one-second resolution). Never read back into the cache at start-up (a station
 * decides as before); a hub's vehicle list is built from it (vehicles/hub/entry-of.ts).
 */
export interface PersistedFinding {
  code: string;
  kind: FindingKind;
  at: number;
}

/**
 * Where last-known statuses of bound codes survive a restart (the card store implements it
 * with SQLite). Only status, expiry and fetched-at are kept: no names, no identity, no plus
 * fields. Findings (expired, not found) are kept beside them for the vehicle list.
 *
 * A code has at most one of the two: the status cache has already chosen the newer answer
 * before it writes, so a saved status replaces the code's finding and a saved finding replaces
 * its status (the last write wins); a delete removes both.
 *
 * The status service never waits on it: the writes return nothing and may write later, off the
 * tap thread, as long as writes for one code keep their order. `loadStatuses` is read once, at
 * start-up, before the first tap.
 */
export interface StatusPersistence {
  saveStatuses(items: readonly PersistedStatus[]): void;
  saveFindings(items: readonly PersistedFinding[]): void;
  loadStatuses(): Iterable<PersistedStatus>;
  deleteStatuses(codes: readonly string[]): void;
  /** Delete findings learnt before `at` (epoch ms): the same retention as statuses (`cache.lastKnownMaxAgeMs`). */
  pruneFindings(before: number): void;
}

/** The status stage as a tap needs it (the status service implements it). */
export interface StatusLookup {
  /** The status of a code within `budgetMs`: synchronous on a fresh cache hit, never rejects. */
  lookup(code: string, budgetMs: number): StatusOutcome | Promise<StatusOutcome>;
}

/**
 * The part of the rotation one refresher step asked: every bound code in (after, through], in
 * code order (null = from the first / to the last). A sink that shares the step (a city hub)
 * says "all of these were asked at `at`" without listing them.
 */
export interface CheckedCodes {
  after: string | null;
  through: string | null;
}

/** What the refresher feeds back into the status cache after a bulk call. */
export interface StatusSink {
  /**
   * The per-code results of one bulk call about bound codes, learned at `at`: definitive answers
   * (status, not found, expired) or per-code failures. One call, one persistence write.
   * `checked`: the rotation range the call covered, when it took codes from the rotation.
   */
  ingestMany(results: Iterable<[string, MinistryLookup | HesGateError]>, at: number, checked?: CheckedCodes): void;
}

/** A ministry answer as the city shares it: no plus fields (they may hold a name or identity number). */
export type SharedAnswer = { kind: 'status'; status: HealthStatus; expiresAt: number } | { kind: 'not-found' } | { kind: 'expired' } | { kind: 'unrecognised' };

/** An answer learned elsewhere (another station's lookup, the hub's rotation), as the city shares it. */
export interface SharedStatus {
  at: number;
  code: string;
  answer: SharedAnswer;
}

/** What a city replica needs from the status service (the status service implements it). */
export interface ReplicaStatus {
  /** Hold an answer learned elsewhere at `at` (kept only when newer than what is held); persisted when `persist`. */
  ingestShared(items: Iterable<SharedStatus>, persist: boolean): void;
  /** Re-stamp the answers held for these codes as confirmed at `at` (a rotation step found them unchanged). Returns how many were held. */
  confirm(codes: Iterable<string>, at: number): number;
}

/** How an answer the status stage holds becomes shared (the status service's hook; the city's lookup sharer is one). */
export type AnswerHook = (code: string, answer: Answer, at: number) => void;

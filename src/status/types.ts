import type { MinistryLookup, StatusRecord } from '../types.js';
import type { HesGateError } from '../errors.js';

/** A status as persisted across restarts: only what a decision needs. */
export interface PersistedStatus {
  code: string;
  record: StatusRecord;
}

/**
 * Where last-known statuses survive a restart (the card store implements it with SQLite).
 * Only status, expiry and fetched-at are kept: no names, no identity.
 */
export interface StatusPersistence {
  saveStatuses(items: readonly PersistedStatus[]): void;
  loadStatuses(): Iterable<PersistedStatus>;
  deleteStatuses(codes: readonly string[]): void;
}

/** What the refresher feeds back into the status cache after a bulk call. */
export interface StatusSink {
  /**
   * The per-code results of one bulk call about bound codes, learned at `at`: definitive answers
   * (status, not found, expired) or per-code failures. One call, one persistence write.
   */
  ingestMany(results: Iterable<[string, MinistryLookup | HesGateError]>, at: number): void;
}

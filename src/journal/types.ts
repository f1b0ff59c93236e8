/**
 * The decision journal's record and query shapes: what gate N1 did at 08:14. A record names the
 * gate, reader, credential kind, verdict, reason and source, never a code, card id, QR content
 * or name: nothing in it identifies a passenger.
 */
import type { DecisionEvent } from '../decisions/decision-service.js';
import type { Reason, Source, Verdict } from '../types.js';

/** What the journal keeps of a decision event: nothing that identifies a passenger. */
export type DecisionRecord = Pick<DecisionEvent, 'at' | 'gate' | 'reader' | 'kind' | 'verdict' | 'reason' | 'source' | 'elapsedMs' | 'decisionId'>;

export type CredentialKind = 'card' | 'qr' | 'hes';

export interface JournalEntry {
  /** Decision time, ms since the epoch (the station clock). */
  at: number;
  gate: string;
  /** The serial reader's configured id; null for decisions asked over HTTP. */
  reader: string | null;
  kind: CredentialKind;
  verdict: Verdict;
  reason: Reason;
  source: Source;
  /** Arrival to decision, ms (µs precision). */
  elapsedMs: number;
  decisionId: string;
}

export interface JournalQuery {
  /** Inclusive lower bound, ms since the epoch. */
  from?: number;
  /** Exclusive upper bound, ms since the epoch. */
  to?: number;
  gate?: string;
  verdict?: Verdict;
  reason?: Reason;
  /** Page size, 1..1000. */
  limit: number;
  /** Opaque position from the previous page's `next`. */
  after?: number;
}

export interface JournalPage {
  entries: JournalEntry[];
  /** Pass as `after` for the next page; null when this page is the last. */
  next: number | null;
  /**
   * The position of this page's last entry, on the last page too (null when the page is empty):
   * a reader that comes back later for what was recorded since (a vehicle's uploader) resumes after it.
   */
  last: number | null;
}

/** What is recorded after a position: how many records, and the newest position (0 when the journal is empty). */
export interface JournalBacklog {
  pending: number;
  newest: number;
}

export interface GateSummary {
  gate: string;
  decisions: number;
  pass: number;
  deny: number;
  /** Deny reasons with their counts. */
  reasons: Record<string, number>;
  /** Decision time percentiles, ms. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface JournalStats {
  entries: number;
  bytes: number;
  oldestAt: number | null;
  /** Records dropped because the writer fell behind (the bounded queue overflowed). */
  dropped: number;
  /** Records removed by retention (age) and by the size cap. */
  pruned: number;
}

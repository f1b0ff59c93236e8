/**
 * What ops/ reads from the rest of the service: narrow, read-only shapes. The concrete services
 * (the status service, the ministry guard, the refresher, the station) satisfy them
 * structurally, so ops/ imports none of them: they can change, move or be replaced without
 * ops/ noticing, ops/ cannot call anything that acts, and tests pass plain objects.
 *
 * Events (decisions, ministry calls, taps) are the other way in: modules report what
 * happened, ops/ counts it.
 */
import type { CredentialKind, Reason, Source, Verdict } from '../types.js';
import type { DeviceStatus, StationEvents } from '../devices/events.js';
import type { MinistryState } from './ministry-health.js';
import type { GateSummary } from '../journal/types.js';

/** A decision as ops records it: what the decision service reports, never a credential value. */
export interface DecisionRecord {
  readonly decisionId: string;
  /** When the credential arrived (epoch ms). */
  readonly at: number;
  readonly gate: string;
  readonly group: string;
  readonly reader: string | undefined;
  readonly kind: CredentialKind;
  readonly verdict: Verdict;
  readonly reason: Reason;
  readonly source: Source;
  readonly elapsedMs: number;
}

/** Status lookups since start, by outcome. */
export interface StatusCounts {
  readonly hits: number;
  readonly misses: number;
  readonly stale: number;
  readonly unknown: number;
  readonly coalesced: number;
  /** Ministry answers whose health status was neither RISKLESS nor RISKY. */
  readonly unrecognised: number;
}

/** The status cache's counters and sizes. */
export interface StatusReadout {
  readonly counters: StatusCounts;
  /** Codes whose status is held (fresh or last-known). */
  readonly size: number;
  /** Codes with a tap-initiated ministry call in flight. */
  readonly inflightCount: number;
  /** Age of the oldest status held; 0 when none. Cheap: read at every scrape. */
  oldestAgeMs(now: number): number;
}

/** The circuit breaker around the ministry, at one moment. */
export interface CircuitSnapshot {
  readonly state: 'closed' | 'open' | 'half-open';
  /** While open: when the next probe may go (epoch ms). */
  readonly openUntil: number;
  /** After a 429: when calls resume (epoch ms). */
  readonly pausedUntil: number;
  readonly lastError: string | null;
  readonly rejected: number;
  readonly shed: number;
  readonly retries: number;
  readonly retriesDenied: number;
}

export interface CircuitReadout {
  snapshot(): CircuitSnapshot;
}

/** What operators should believe about the ministry (MinistryHealth). */
export interface MinistryHealthReadout {
  readonly state: MinistryState;
  readonly lastError: string | null;
  readonly lastSuccessAt: number | null;
}

/** The bulk refresher of bound codes. */
export interface RefresherReadout {
  stats(): Readonly<{
    codesRefreshed: number;
    callsByOutcome: Readonly<Record<string, number>>;
    /** Duration of the last complete rotation; undefined before the first. */
    lastRotationDurationMs: number | undefined;
    consecutiveFailures: number;
  }>;
}

/** The serial devices: their status, and the events ops counts. */
export interface DevicesReadout {
  status(): readonly DeviceStatus[];
  on(event: 'tap', listener: (...args: StationEvents['tap']) => void): unknown;
  on(event: 'frame-dropped', listener: (...args: StationEvents['frame-dropped']) => void): unknown;
}

/** Event-loop delay over the last measuring window, ms: how long a tap may have waited to run. */
export interface LoopDelayReadout {
  /** Null before the first window has closed. */
  snapshot(): { readonly maxMs: number; readonly p99Ms: number } | null;
}

/** The decision journal's read side, as the live page's history needs it; queries run in the journal's worker. */
export interface JournalReadout {
  summary(from: number, to: number): Promise<readonly GateSummary[]>;
  history(from: number, to: number, bucketMs: number): Promise<ReadonlyArray<{ gate: string; bucket: number; pass: number; deny: number }>>;
}

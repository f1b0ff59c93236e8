/**
 * What the live feed sends to the page: the data of its `snapshot` and `decisions` events.
 * Types only, importing nothing but the domain vocabulary, so the page's script
 * (src/http/live/app.js) is type-checked against them in a browser-only program.
 */
import type { CredentialKind, Reason, Source, Verdict } from '../types.js';

/** What operators see of one device: its link, never what it read. */
export interface LiveDevice {
  id: string;
  role: 'reader' | 'controller';
  gates: string[];
  path: string;
  profile: string;
  /** The link's state (LinkState: live-status.ts stops compiling if the two drift). */
  state: 'open' | 'closed' | 'reconnecting' | 'failing';
  /** When `state` last changed (epoch ms). */
  since: number;
  lastError: string | null;
  reopens: number;
  /** Readers: accepted reads. Controllers: commands sent. */
  count: number;
}

/** This node's place in its city (docs/city.md): counts and states, never a code. */
export interface LiveCity {
  role: 'station' | 'hub';
  /** The replica's state (CityState: live-status.ts stops compiling if the two drift); null before it starts. */
  state: 'connecting' | 'resyncing' | 'live' | 'degraded' | null;
  /** Why degraded, null otherwise. */
  reason: string | null;
  lagSeconds: number;
  lagEntries: number;
  /** When the last applied change was written (epoch ms, from its stream id); null before the first. */
  lastAppliedAt: number | null;
  snapshots: number;
  /** Hubs only: the refresher lease and the city rotation. */
  hub: {
    holding: boolean;
    /** Node id of the lease holder, null when none or unknown. */
    leaseHolder: string | null;
    token: number | null;
    /** 0..1 while this hub rotates, else null. */
    rotationProgress: number | null;
    lastRotationDurationMs: number | null;
    fenced: number;
  } | null;
}

/** The service's state at one moment, as the status provider reports it. */
export interface LiveStatus {
  environment: 'simulator' | 'test' | 'live';
  ministry: {
    /** MinistryHealth's state: unknown, up, degraded, down, credentials-refused. */
    state: string;
    circuit: 'closed' | 'open' | 'half-open';
    lastError: string | null;
    lastSuccessAt: number | null;
    /** While the circuit is open: when the next probe may go (epoch ms); else 0. */
    openUntil: number;
    /** After a 429: when calls resume (epoch ms); else 0. */
    pausedUntil: number;
  };
  cache: {
    entries: number;
    /** Lookups answered from a fresh status, since start. */
    hits: number;
    /** Lookups that went to the ministry, since start. */
    misses: number;
    /** Lookups answered with a last-known status while the ministry could not answer, since start. */
    stale: number;
    /** Codes with a ministry call in flight. */
    inflight: number;
  };
  devices: LiveDevice[];
  /** Event-loop delay over the last window; absent or null when not measured (yet). */
  loop?: { maxMs: number; p99Ms: number } | null;
  /** The city tier; absent or null on a standalone station. */
  city?: LiveCity | null;
}

/** Counts for one wall-clock minute. */
export interface MinuteCounts {
  /** Start of the minute (epoch ms). */
  minute: number;
  pass: number;
  deny: number;
  byReason: Partial<Record<Reason, number>>;
  bySource: Partial<Record<Source, number>>;
  /** Serial taps whose decision missed the deadline and got a deny. */
  fallbacks: number;
  /** Serial taps whose gate command failed. */
  commandFailures: number;
  ministryCalls: number;
  ministryErrors: number;
  ministryMsSum: number;
  ministryMsMax: number;
}

/** The `snapshot` event's data. */
export interface LiveSnapshot extends LiveStatus {
  at: number;
  /** Decisions since start. */
  decisions: number;
  /** The last minutes with any activity, oldest first (the current one last). */
  minutes: MinuteCounts[];
}

/** One decision as it leaves the feed (the `decisions` event's data is `{events, missed}`). */
export interface LiveDecision {
  id: string;
  at: number;
  gate: string;
  group: string;
  reader: string | null;
  kind: CredentialKind;
  verdict: Verdict;
  reason: Reason;
  source: Source;
  elapsedMs: number;
}

/** The `decisions` event's data: the decisions since the last batch, and how many did not fit. */
export interface DecisionBatch {
  events: LiveDecision[];
  missed: number;
}

/** One gate over the journal's window: the live page's summary row and its history bars. */
export interface LiveGateHistory {
  gate: string;
  /** Listed in the configuration's gates.list. */
  configured: boolean;
  decisions: number;
  pass: number;
  deny: number;
  /** The most frequent deny reasons, most first (at most three). */
  topDeny: Array<{ reason: string; count: number }>;
  /** Decision time percentiles over the window, ms. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Pass and deny per bucket, oldest first; one entry per bucket of the window. */
  buckets: Array<{ pass: number; deny: number }>;
}

/** GET /v1/live/history: the last 24 hours per gate, from the decision journal. */
export interface LiveHistory {
  /** False when the journal is disabled (journal.enabled): nothing else is filled in. */
  journal: boolean;
  /** Why the journal could not be read, or null. */
  error: string | null;
  /** When the figures were read (epoch ms); they are cached for a few seconds. */
  at: number;
  /** The window [from, to), epoch ms, in whole buckets (the last one is under way). */
  from: number;
  to: number;
  bucketMs: number;
  /** Gates with decisions in the window, and configured gates without any. */
  gates: LiveGateHistory[];
  /** Gates seen in the journal or the live feed that the configuration does not list. */
  unconfigured: string[];
  /** Configured gates with no decision in the window. */
  idle: string[];
}

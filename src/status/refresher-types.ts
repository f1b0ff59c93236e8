/**
 * The refresher's contract: what it needs (bound codes, the bulk call, a sink, a timer) and
 * what it reports (steps, rotations, back-offs, stats). Reports carry counts and durations,
 * never codes.
 */
import type { MinistryClient } from '../ministry/types.js';
import type { Clock, Timers } from '../types.js';
import type { StatusSink } from './types.js';

/** The bound codes, as the rotation walks them: distinct codes in code order, after a cursor. */
export interface BoundCodes {
  iterateCodes(afterCode: string | undefined, limit: number): string[];
}

export interface RefresherOptions {
  store: BoundCodes;
  ministry: Pick<MinistryClient, 'checkHesCodes'>;
  sink: StatusSink;
  /** Wall clock for `ingestMany(…, at)` and stats. @default Date.now */
  clock?: Clock;
  /** At most this many ministry calls per second (fractions allowed: 0.2 = one call every 5 s). @default 1 */
  budgetCallsPerSecond?: number;
  /** Codes per call; the ministry accepts at most MINISTRY_BULK_LIMIT. @default MINISTRY_BULK_LIMIT (500) */
  chunkSize?: number;
  /** A new rotation starts no sooner than this after the previous one started, in ms. @default 60000 */
  minRotationMs?: number;
  /** Recently tapped codes remembered for priority; the oldest are dropped beyond it. @default 10000 */
  recentCapacity?: number;
  /**
   * After a failed call: initialMs, doubling per consecutive failure, capped at maxMs, with jitter.
   * The defaults are the configuration's (`refresher.backoffInitialMs`, `refresher.backoffMaxMs`).
   * @default {initialMs: 2000, maxMs: 300000}
   */
  backoff?: { initialMs?: number; maxMs?: number };
  /** @default global setTimeout/clearTimeout, unref'd so the refresher never holds the process open */
  timer?: Timers;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

/** What one step did. `outcome` is `ok`, `idle` (nothing to ask) or the failing error code. */
export interface CycleReport {
  codes: number;
  /** Of `codes`, how many came from recent taps. */
  recent: number;
  calls: 0 | 1;
  durationMs: number;
  outcome: 'ok' | 'idle' | string;
  /** True when this step finished a rotation over all bound codes. */
  rotationCompleted: boolean;
  /** After a failure: the wait before the next step, in ms. */
  backoffMs?: number;
}

export interface RotationEvent {
  /** Codes refreshed from the rotation (recent taps not counted). */
  codes: number;
  calls: number;
  failedCalls: number;
  /** Wall time from the rotation's first step to its last. */
  durationMs: number;
  completedAt: number;
}

export interface BackoffEvent {
  delayMs: number;
  errorCode: string;
  consecutiveFailures: number;
}

export interface RefresherStats {
  running: boolean;
  /** Codes whose per-code result went to the sink (definitive or a per-code error). */
  codesRefreshed: number;
  callsByOutcome: Record<string, number>;
  rotationsCompleted: number;
  /** Duration of the last complete rotation, ms; undefined before the first. */
  lastRotationDurationMs: number | undefined;
  /** When the last rotation completed (epoch ms): every bound code was asked at or after its start. */
  lastRotationCompletedAt: number | undefined;
  /** When the last complete rotation started: no bound code's refresh is older than this (unless a call failed). */
  lastRotationStartedAt: number | undefined;
  consecutiveFailures: number;
  recentQueued: number;
  /** Epoch ms of the next scheduled step when running. */
  nextStepAt: number | undefined;
}

/** `cycle` after every step, `rotation` when a rotation over all bound codes ends, `backoff` after a failed call. */
export interface RefresherEvents {
  cycle: [CycleReport];
  rotation: [RotationEvent];
  backoff: [BackoffEvent];
}

export interface Refresher {
  start(): void;
  /** Stops scheduling and waits for a call in flight. */
  stop(): Promise<void>;
  /** A code was just tapped: ask about it in the next step. */
  noteTap(code: string): void;
  /** One step now (tests, or an operator's "refresh now"); concurrent calls share one step. */
  runOnce(): Promise<CycleReport>;
  stats(): RefresherStats;
  on<K extends keyof RefresherEvents>(event: K, listener: (...args: RefresherEvents[K]) => void): this;
  off<K extends keyof RefresherEvents>(event: K, listener: (...args: RefresherEvents[K]) => void): this;
}

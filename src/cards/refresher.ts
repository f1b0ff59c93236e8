/**
 * Keeps the statuses of bound HES codes fresh with bulk ministry calls, paced by the station.
 *
 *   noteTap(code) ─> recent (bounded, deduped) ──┐
 *                                                 ├─> chunk (≤ 500) ─ checkHesCodes ─> sink.ingest(code, result, at)
 *   store.iterateCodes(cursor, n) ─> rotation ────┘        │
 *                                                          └─ whole chunk failed ─> back off (exp., jitter, ≥ Retry-After)
 *
 * One step (`runOnce`) is one ministry call: recently tapped codes first, the rest of the chunk
 * from the rotation over all bound codes in code order. A rotation that reaches the end starts
 * again from the first code, but not sooner than `minRotationMs` after the previous one began,
 * so a small station does not ask the ministry about the same few codes every second.
 * Steps are at least 1 / budgetCallsPerSecond apart. Nothing here logs: events and `stats()`
 * carry counts and durations, never codes.
 */
import { EventEmitter } from 'node:events';
import { isHesGateError } from '../errors.js';
import { MINISTRY_BULK_LIMIT, type MinistryClient } from '../ministry/types.js';
import type { StatusSink } from '../status/types.js';
import { systemTimers, type Clock, type Timers } from '../types.js';
import type { CardStore } from './store.js';

export interface RefresherOptions {
  store: Pick<CardStore, 'iterateCodes'>;
  ministry: Pick<MinistryClient, 'checkHesCodes'>;
  sink: StatusSink;
  /** Wall clock for `ingest(…, at)` and stats. @default Date.now */
  clock?: Clock;
  /** At most this many ministry calls per second (fractions allowed: 0.2 = one call every 5 s). @default 1 */
  budgetCallsPerSecond?: number;
  /** Codes per call; the ministry accepts at most MINISTRY_BULK_LIMIT. @default MINISTRY_BULK_LIMIT (500) */
  chunkSize?: number;
  /** A new rotation starts no sooner than this after the previous one started, in ms. @default 60000 */
  minRotationMs?: number;
  /** Recently tapped codes remembered for priority; the oldest are dropped beyond it. @default 10000 */
  recentCapacity?: number;
  /** After a failed call: initialMs, doubling per consecutive failure, capped at maxMs, with jitter. @default {initialMs: 1000, maxMs: 300000} */
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

/** `cycle` after every step, `rotation` when a rotation over all bound codes ends, `backoff` after a failed call. */
export interface RefresherEvents {
  cycle: [CycleReport];
  rotation: [RotationEvent];
  backoff: [BackoffEvent];
}

function isCanonicalCode(code: string): boolean {
  return code.length === 10 && /^[0-9A-Z]{10}$/.test(code);
}

export function createRefresher(options: RefresherOptions): Refresher {
  return new CodeRefresher(options);
}

class CodeRefresher extends EventEmitter<RefresherEvents> implements Refresher {
  readonly #o: RefresherOptions;
  readonly #clock: Clock;
  readonly #timer: Timers;
  readonly #random: () => number;
  readonly #intervalMs: number;
  readonly #chunk: number;
  readonly #minRotationMs: number;
  readonly #recentCapacity: number;
  readonly #backoffInitial: number;
  readonly #backoffMax: number;
  /** Insertion-ordered: the oldest tap first. */
  #recent = new Set<string>();
  #cursor: string | undefined;
  #rotation: { startedAt: number; codes: number; calls: number; failedCalls: number } | undefined;
  #lastRotationStartedAt: number | undefined;
  #inFlight: Promise<CycleReport> | undefined;
  #running = false;
  #handle: unknown;
  #nextStepAt: number | undefined;
  #lastCallAt: number | undefined;
  #lastStepIdle = false;
  #failures = 0;
  #retryNotBefore = 0;
  readonly #stats = {
    codesRefreshed: 0,
    callsByOutcome: {} as Record<string, number>,
    rotationsCompleted: 0,
    lastRotationDurationMs: undefined as number | undefined,
    lastRotationCompletedAt: undefined as number | undefined,
    lastRotationStartedAt: undefined as number | undefined,
  };

  constructor(o: RefresherOptions) {
    super();
    this.#o = o;
    this.#clock = o.clock ?? Date.now;
    this.#timer = o.timer ?? systemTimers;
    this.#random = o.random ?? Math.random;
    const budget = o.budgetCallsPerSecond ?? 1;
    if (!(budget > 0) || !Number.isFinite(budget)) throw new TypeError(`budgetCallsPerSecond must be a positive number, got ${String(budget)}`);
    this.#intervalMs = 1000 / budget;
    this.#chunk = o.chunkSize ?? MINISTRY_BULK_LIMIT;
    if (!Number.isInteger(this.#chunk) || this.#chunk < 1 || this.#chunk > MINISTRY_BULK_LIMIT) {
      throw new TypeError(`chunkSize must be an integer from 1 to ${MINISTRY_BULK_LIMIT}, got ${String(o.chunkSize)}`);
    }
    this.#minRotationMs = o.minRotationMs ?? 60_000;
    this.#recentCapacity = o.recentCapacity ?? 10_000;
    this.#backoffInitial = o.backoff?.initialMs ?? 1000;
    this.#backoffMax = o.backoff?.maxMs ?? 300_000;
    if (!(this.#backoffInitial > 0) || this.#backoffMax < this.#backoffInitial) {
      throw new TypeError('backoff needs 0 < initialMs <= maxMs');
    }
  }

  noteTap(code: string): void {
    if (!isCanonicalCode(code)) return;
    if (this.#recent.has(code)) return;
    if (this.#recent.size >= this.#recentCapacity) {
      const oldest = this.#recent.values().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
    this.#recent.add(code);
  }

  runOnce(): Promise<CycleReport> {
    this.#inFlight ??= this.#step().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Recent taps first, then the rotation; returns the codes and where the rotation would stand. */
  #takeChunk(now: number): { codes: string[]; recent: string[]; nextCursor: string | undefined; rotationEnds: boolean; fromRotation: number } {
    const recent: string[] = [];
    for (const code of this.#recent) {
      if (recent.length >= this.#chunk) break;
      recent.push(code);
    }
    for (const code of recent) this.#recent.delete(code);
    const chosen = new Set(recent);
    let nextCursor = this.#cursor;
    let rotationEnds = false;
    let fromRotation = 0;
    const room = this.#chunk - recent.length;
    const mayStart =
      this.#cursor !== undefined ||
      this.#lastRotationStartedAt === undefined ||
      now - this.#lastRotationStartedAt >= this.#minRotationMs;
    if (room > 0 && mayStart) {
      const slice = this.#o.store.iterateCodes(this.#cursor, room);
      for (const code of slice) {
        if (!chosen.has(code)) {
          chosen.add(code);
          fromRotation++;
        }
      }
      const last = slice[slice.length - 1];
      if (last === undefined) rotationEnds = this.#cursor !== undefined;
      else {
        nextCursor = last;
        // Peek one further so a rotation of exactly k·room codes ends on its last full chunk.
        rotationEnds = slice.length < room || this.#o.store.iterateCodes(last, 1).length === 0;
      }
      if (rotationEnds) nextCursor = undefined;
    }
    return { codes: [...chosen], recent, nextCursor, rotationEnds, fromRotation };
  }

  async #step(): Promise<CycleReport> {
    const started = performance.now();
    const now = this.#clock();
    const take = this.#takeChunk(now);
    this.#lastStepIdle = take.codes.length === 0;
    if (take.codes.length === 0) {
      // An empty store, or a rotation waiting for minRotationMs, or the codes after the cursor
      // were unbound meanwhile (then the rotation is over).
      let rotationCompleted = false;
      if (take.rotationEnds) {
        this.#cursor = undefined;
        rotationCompleted = this.#completeRotation(now);
      }
      const report: CycleReport = { codes: 0, recent: 0, calls: 0, durationMs: 0, outcome: 'idle', rotationCompleted };
      this.emit('cycle', report);
      return report;
    }
    if (this.#rotation === undefined && this.#cursor === undefined && take.fromRotation > 0) {
      this.#rotation = { startedAt: now, codes: 0, calls: 0, failedCalls: 0 };
    }
    this.#lastCallAt = now;
    let report: CycleReport;
    try {
      const results = await this.#o.ministry.checkHesCodes(take.codes);
      const at = this.#clock();
      let fed = 0;
      for (const [code, result] of results) {
        this.#o.sink.ingest(code, result, at);
        fed++;
      }
      this.#stats.codesRefreshed += fed;
      this.#count('ok');
      this.#failures = 0;
      if (this.#cursor === undefined && take.fromRotation > 0) this.#lastRotationStartedAt = now;
      this.#cursor = take.nextCursor;
      let rotationCompleted = false;
      if (this.#rotation !== undefined) {
        this.#rotation.codes += take.fromRotation;
        if (take.fromRotation > 0) this.#rotation.calls++;
        if (take.rotationEnds) rotationCompleted = this.#completeRotation(at);
      }
      report = {
        codes: take.codes.length,
        recent: take.recent.length,
        calls: 1,
        durationMs: performance.now() - started,
        outcome: 'ok',
        rotationCompleted,
      };
    } catch (err) {
      // The whole chunk failed: put the taps back, keep the cursor, and wait before asking again.
      for (const code of take.recent) this.noteTap(code);
      const code = isHesGateError(err) ? err.code : 'HG_INTERNAL';
      this.#count(code);
      if (this.#rotation !== undefined && take.fromRotation > 0) {
        this.#rotation.calls++;
        this.#rotation.failedCalls++;
      }
      this.#failures++;
      const delayMs = this.#backoffDelay(err);
      this.#retryNotBefore = this.#clock() + delayMs;
      this.emit('backoff', { delayMs, errorCode: code, consecutiveFailures: this.#failures } satisfies BackoffEvent);
      report = {
        codes: take.codes.length,
        recent: take.recent.length,
        calls: 1,
        durationMs: performance.now() - started,
        outcome: code,
        rotationCompleted: false,
        backoffMs: delayMs,
      };
    }
    this.emit('cycle', report);
    return report;
  }

  #completeRotation(at: number): boolean {
    const r = this.#rotation;
    if (r === undefined) return false;
    this.#rotation = undefined;
    this.#stats.rotationsCompleted++;
    this.#stats.lastRotationDurationMs = at - r.startedAt;
    this.#stats.lastRotationCompletedAt = at;
    this.#stats.lastRotationStartedAt = r.startedAt;
    this.emit('rotation', {
      codes: r.codes,
      calls: r.calls,
      failedCalls: r.failedCalls,
      durationMs: at - r.startedAt,
      completedAt: at,
    } satisfies RotationEvent);
    return true;
  }

  /** Exponential with "equal jitter" (half fixed, half random), capped; never below Retry-After. */
  #backoffDelay(err: unknown): number {
    const exp = Math.min(this.#backoffMax, this.#backoffInitial * 2 ** Math.min(this.#failures - 1, 30));
    let delay = Math.round(exp / 2 + (this.#random() * exp) / 2);
    if (isHesGateError(err, 'HG_MINISTRY_RATE_LIMITED')) {
      const retryAfter = err.details?.['retryAfterMs'];
      if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) delay = Math.max(delay, retryAfter);
    }
    return delay;
  }

  #count(outcome: string): void {
    this.#stats.callsByOutcome[outcome] = (this.#stats.callsByOutcome[outcome] ?? 0) + 1;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#handle !== undefined) this.#timer.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#nextStepAt = undefined;
    if (this.#inFlight !== undefined) await this.#inFlight.catch(() => undefined);
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    const ms = Math.max(0, Math.ceil(delayMs));
    this.#nextStepAt = this.#clock() + ms;
    this.#handle = this.#timer.setTimeout(() => {
      this.#handle = undefined;
      void this.runOnce().then(
        () => this.#schedule(this.#nextDelay()),
        () => this.#schedule(this.#nextDelay()),
      );
    }, ms);
  }

  /**
   * The pace: one interval after the last call began, never before a back-off ends; after an
   * idle step, one interval (a cheap look at the queue and the store, no ministry call).
   */
  #nextDelay(): number {
    const now = this.#clock();
    const paced = this.#lastStepIdle || this.#lastCallAt === undefined ? this.#intervalMs : this.#lastCallAt + this.#intervalMs - now;
    return Math.max(0, paced, this.#retryNotBefore - now);
  }

  stats(): RefresherStats {
    return {
      running: this.#running,
      codesRefreshed: this.#stats.codesRefreshed,
      callsByOutcome: { ...this.#stats.callsByOutcome },
      rotationsCompleted: this.#stats.rotationsCompleted,
      lastRotationDurationMs: this.#stats.lastRotationDurationMs,
      lastRotationCompletedAt: this.#stats.lastRotationCompletedAt,
      lastRotationStartedAt: this.#stats.lastRotationStartedAt,
      consecutiveFailures: this.#failures,
      recentQueued: this.#recent.size,
      nextStepAt: this.#nextStepAt,
    };
  }
}

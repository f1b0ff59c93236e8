/**
 * Keeps the statuses of bound HES codes fresh with bulk ministry calls, paced by the station.
 *
 *   noteTap(code) ─> RecentCodes (bounded, deduped) ─┐
 *                                                     ├─> chunk (≤ 500) ─ checkHesCodes ─> sink.ingestMany(results, at)
 *   store.iterateCodes(cursor, n) ─> Rotation ────────┘        │
 *                                                              └─ whole chunk failed ─> Backoff (exp., jitter, ≥ Retry-After)
 *
 * One step (`runOnce`) is one ministry call: recently tapped codes first, the rest of the chunk
 * from the rotation over all bound codes (rotation.ts). Steps are at least
 * 1 / budgetCallsPerSecond apart. Nothing here logs: events and `stats()` carry counts and
 * durations, never codes.
 */
import { EventEmitter } from 'node:events';
import { isHesGateError } from '../errors.js';
import { MINISTRY_BULK_LIMIT } from '../ministry/types.js';
import { systemTimers } from '../system-timers.js';
import type { Clock, Timers } from '../types.js';
import { Backoff } from './backoff.js';
import { RecentCodes } from './recent-codes.js';
import { Rotation } from './rotation.js';
import type { BackoffEvent, CycleReport, Refresher, RefresherEvents, RefresherOptions, RefresherStats, RotationEvent } from './refresher-types.js';

export type { BackoffEvent, BoundCodes, CycleReport, Refresher, RefresherEvents, RefresherOptions, RefresherStats, RotationEvent } from './refresher-types.js';

export function createRefresher(options: RefresherOptions): Refresher {
  return new CodeRefresher(options);
}

class CodeRefresher extends EventEmitter<RefresherEvents> implements Refresher {
  readonly #o: RefresherOptions;
  readonly #clock: Clock;
  readonly #timer: Timers;
  readonly #intervalMs: number;
  readonly #chunk: number;
  readonly #recent: RecentCodes;
  readonly #rotation: Rotation;
  readonly #backoff: Backoff;
  #inFlight: Promise<CycleReport> | undefined;
  #running = false;
  #handle: unknown;
  #nextStepAt: number | undefined;
  #lastCallAt: number | undefined;
  #lastStepIdle = false;
  #codesRefreshed = 0;
  readonly #callsByOutcome: Record<string, number> = {};

  constructor(o: RefresherOptions) {
    super();
    this.#o = o;
    this.#clock = o.clock ?? Date.now;
    this.#timer = o.timer ?? systemTimers;
    const budget = o.budgetCallsPerSecond ?? 1;
    if (!(budget > 0) || !Number.isFinite(budget)) throw new TypeError(`budgetCallsPerSecond must be a positive number, got ${String(budget)}`);
    this.#intervalMs = 1000 / budget;
    this.#chunk = o.chunkSize ?? MINISTRY_BULK_LIMIT;
    if (!Number.isInteger(this.#chunk) || this.#chunk < 1 || this.#chunk > MINISTRY_BULK_LIMIT) {
      throw new TypeError(`chunkSize must be an integer from 1 to ${MINISTRY_BULK_LIMIT}, got ${String(o.chunkSize)}`);
    }
    this.#recent = new RecentCodes(o.recentCapacity ?? 10_000);
    this.#rotation = new Rotation(o.store, o.minRotationMs ?? 60_000);
    this.#backoff = new Backoff({ initialMs: o.backoff?.initialMs ?? 2000, maxMs: o.backoff?.maxMs ?? 300_000, random: o.random ?? Math.random });
  }

  noteTap(code: string): void {
    this.#recent.note(code);
  }

  runOnce(): Promise<CycleReport> {
    this.#inFlight ??= this.#step().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #step(): Promise<CycleReport> {
    const started = performance.now();
    const now = this.#clock();
    const recent = this.#recent.take(this.#chunk);
    const chosen = new Set(recent);
    const after = this.#rotation.cursor ?? null;
    const plan = this.#rotation.plan(now, this.#chunk - recent.length, chosen);
    const codes = [...chosen];
    this.#lastStepIdle = codes.length === 0;
    if (codes.length === 0) {
      // An empty store, or a rotation waiting for minRotationMs, or the codes after the cursor
      // were unbound meanwhile (then the rotation is over).
      const completed = this.#rotation.idle(plan, now);
      if (completed !== undefined) this.emit('rotation', completed satisfies RotationEvent);
      const report: CycleReport = { codes: 0, recent: 0, calls: 0, durationMs: 0, outcome: 'idle', rotationCompleted: completed !== undefined };
      this.emit('cycle', report);
      return report;
    }
    this.#rotation.begin(plan, now);
    this.#lastCallAt = now;
    let report: CycleReport;
    try {
      const results = await this.#o.ministry.checkHesCodes(codes);
      const at = this.#clock();
      // The rotation's range this call covered (through null: to the last bound code).
      const checked = plan.fromRotation > 0 ? { after, through: plan.nextCursor ?? null } : undefined;
      this.#o.sink.ingestMany(results, at, checked);
      this.#codesRefreshed += results.size;
      this.#count('ok');
      this.#backoff.succeeded();
      const completed = this.#rotation.succeeded(plan, now, at);
      if (completed !== undefined) this.emit('rotation', completed);
      report = { codes: codes.length, recent: recent.length, calls: 1, durationMs: performance.now() - started, outcome: 'ok', rotationCompleted: completed !== undefined };
    } catch (err) {
      // The whole chunk failed: put the taps back, keep the cursor, and wait before asking again.
      for (const code of recent) this.#recent.note(code);
      const code = isHesGateError(err) ? err.code : 'HG_INTERNAL';
      this.#count(code);
      this.#rotation.failed(plan);
      const delayMs = this.#backoff.failed(err, this.#clock());
      this.emit('backoff', { delayMs, errorCode: code, consecutiveFailures: this.#backoff.consecutiveFailures } satisfies BackoffEvent);
      report = {
        codes: codes.length,
        recent: recent.length,
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

  #count(outcome: string): void {
    this.#callsByOutcome[outcome] = (this.#callsByOutcome[outcome] ?? 0) + 1;
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
    return Math.max(0, paced, this.#backoff.notBefore - now);
  }

  stats(): RefresherStats {
    const r = this.#rotation.stats;
    return {
      running: this.#running,
      codesRefreshed: this.#codesRefreshed,
      callsByOutcome: { ...this.#callsByOutcome },
      rotationsCompleted: r.rotationsCompleted,
      lastRotationDurationMs: r.lastRotationDurationMs,
      lastRotationCompletedAt: r.lastRotationCompletedAt,
      lastRotationStartedAt: r.lastRotationStartedAt,
      consecutiveFailures: this.#backoff.consecutiveFailures,
      recentQueued: this.#recent.size,
      nextStepAt: this.#nextStepAt,
    };
  }
}

/**
 * Admission control for decisions: under overload a validator gets an answer at once — a coded
 * `503 HG_OVERLOADED` it can act on (retry, or its own offline rule) — instead of a decision
 * that arrives after the gate has given up. Two signals, both read per request for the cost of a
 * subtraction and a comparison:
 *
 *   event loop lag (probe, see ops/event-loop.ts) > maxEventLoopDelayMs,
 *     while decisions wait for the ministry ───────────────────────────────┐
 *   decisions admitted and not yet answered ≥ maxInFlight ─────────────────┴─> shed
 *
 * A lagging loop fires every deadline timer late, so admitting more work that waits on one only
 * makes every answer in flight later; shedding lets the loop catch up. A cache hit waits on no
 * timer: while nothing waits for the ministry, a lagging loop (a busy machine, a GC) still
 * answers it at once, and shedding it would trade a real decision for a 503 that costs as much.
 * Counts are kept here and read by metrics at scrape time.
 */
export type ShedReason = 'event-loop' | 'in-flight';

export interface AdmissionOptions {
  /** How late the event loop runs now, ms. */
  lagMs: () => number;
  /** Lookups waiting for the ministry now (their answers depend on timers firing on time). @default none */
  waiting?: () => number;
  maxEventLoopDelayMs: number;
  maxInFlight: number;
  /** Monotonic ms, read only when a decision is shed for the loop (when it last happened, for `/readyz`). @default performance.now */
  now?: () => number;
}

export interface AdmissionCounters {
  admitted: number;
  shedEventLoop: number;
  shedInFlight: number;
}

export class Admission {
  readonly counters: AdmissionCounters = { admitted: 0, shedEventLoop: 0, shedInFlight: 0 };
  private inFlightNow = 0;
  private lastLoopShedAt: number | null = null;

  private readonly now: () => number;

  constructor(private readonly o: AdmissionOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Milliseconds since a decision was last shed for a lagging loop (null: never), with the count since start. */
  loopSheds(): { sinceMs: number | null; total: number } {
    const at = this.lastLoopShedAt;
    return { sinceMs: at === null ? null : this.now() - at, total: this.counters.shedEventLoop };
  }

  /** Decisions admitted and not yet answered. */
  get inFlight(): number {
    return this.inFlightNow;
  }

  /** Admit one decision (counted in flight until `leave`), or say why it is shed. */
  admit(): ShedReason | null {
    if (this.inFlightNow >= this.o.maxInFlight) {
      this.counters.shedInFlight += 1;
      return 'in-flight';
    }
    // Whether anything waits first: a count, while the lag reads the clock.
    if ((this.o.waiting === undefined || this.o.waiting() > 0) && this.o.lagMs() > this.o.maxEventLoopDelayMs) {
      this.counters.shedEventLoop += 1;
      this.lastLoopShedAt = this.now();
      return 'event-loop';
    }
    this.counters.admitted += 1;
    this.inFlightNow += 1;
    return null;
  }

  /** An admitted decision was answered (or its client went away). Bound: usable as a listener. */
  readonly leave = (): void => {
    this.inFlightNow -= 1;
  };
}

/**
 * Admission control for decisions: under overload a validator gets an answer at once — a coded
 * `503 HG_OVERLOADED` it can act on (retry, or its own offline rule) — instead of a decision
 * that arrives after the gate has given up. Two signals, both read per request for the cost of a
 * subtraction and a comparison:
 *
 *   event loop lag (probe, see ops/event-loop.ts) > maxEventLoopDelayMs ─┐
 *   decisions admitted and not yet answered ≥ maxInFlight ─────────────────┴─> shed
 *
 * A lagging loop fires every deadline timer late, so admitting more work then only makes every
 * answer in flight later; shedding lets the loop catch up. Counts are kept here and read by
 * metrics at scrape time.
 */
export type ShedReason = 'event-loop' | 'in-flight';

export interface AdmissionOptions {
  /** How late the event loop runs now, ms. */
  lagMs: () => number;
  maxEventLoopDelayMs: number;
  maxInFlight: number;
}

export interface AdmissionCounters {
  admitted: number;
  shedEventLoop: number;
  shedInFlight: number;
}

export class Admission {
  readonly counters: AdmissionCounters = { admitted: 0, shedEventLoop: 0, shedInFlight: 0 };
  private inFlightNow = 0;

  constructor(private readonly o: AdmissionOptions) {}

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
    if (this.o.lagMs() > this.o.maxEventLoopDelayMs) {
      this.counters.shedEventLoop += 1;
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

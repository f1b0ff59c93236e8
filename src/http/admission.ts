/**
 * Admission control for decisions: under overload a validator gets an answer at once — a coded
 * `503 HG_OVERLOADED` it can act on (retry, or its own offline rule) — instead of a decision
 * that arrives after the gate has given up. Three signals, each read per request for the cost of
 * a subtraction and a comparison:
 *
 *   event loop lag (probe, see ops/event-loop.ts) > maxEventLoopDelayMs,
 *     while decisions wait for the ministry ───────────────────────────────┐
 *   event loop utilization (smoothed) > maxEventLoopUtilization,           │
 *     while at least busyShedFrom decisions wait for the ministry ─────────┤
 *   decisions admitted and not yet answered ≥ maxInFlight ─────────────────┴─> shed
 *
 * A lagging loop fires every deadline timer late, so admitting more work that waits on one only
 * makes every answer in flight later; shedding lets the loop catch up. A saturated loop can keep
 * its timers on time while requests queue unread in their sockets between its turns — time no
 * `elapsedMs` counts, and that a decision answered by its deadline timer cannot spare; shedding
 * (with `Retry-After`) keeps the loop's busy share below the point where that queue grows. That
 * rule waits for a flood of new codes — the ministry's in-flight cap half full (`busyShedFrom`)
 * — so a busy station's occasional new code, whose shedding would not make the loop any less
 * busy (a refresher rotation and rush-hour taps at 200/s keep it over 60 % busy in 2.5–6 % of
 * 50 ms windows), is still decided. A cache hit waits on no
 * timer: while nothing waits for the ministry, a lagging loop (a busy machine, a GC) still
 * answers it at once, and shedding it would trade a real decision for a 503 that costs as much.
 * Counts are kept here and read by metrics at scrape time.
 */
export type ShedReason = 'event-loop' | 'loop-busy' | 'in-flight';

export interface AdmissionOptions {
  /** How late the event loop runs now, ms. */
  lagMs: () => number;
  /** Lookups waiting for the ministry now (their answers depend on timers firing on time). @default none */
  waiting?: () => number;
  maxEventLoopDelayMs: number;
  /** The share of recent time the event loop was busy, 0–1. @default never busy */
  busy?: () => number;
  /** Above this busy share (0–1), decisions that would wait for the ministry are shed; 1 never sheds. @default 1 */
  maxEventLoopUtilization?: number;
  /** The busy-share rule applies while at least this many decisions wait for the ministry. @default 1 */
  busyShedFrom?: number;
  maxInFlight: number;
  /** Monotonic ms, read only when a decision is shed for the loop (when it last happened, for `/readyz`). @default performance.now */
  now?: () => number;
}

export interface AdmissionCounters {
  admitted: number;
  shedEventLoop: number;
  shedLoopBusy: number;
  shedInFlight: number;
}

export class Admission {
  readonly counters: AdmissionCounters = { admitted: 0, shedEventLoop: 0, shedLoopBusy: 0, shedInFlight: 0 };
  private inFlightNow = 0;
  private lastLoopShedAt: number | null = null;

  private readonly now: () => number;

  constructor(private readonly o: AdmissionOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Milliseconds since a decision was last shed for a lagging or saturated loop (null: never), with the count since start. */
  loopSheds(): { sinceMs: number | null; total: number } {
    const at = this.lastLoopShedAt;
    return { sinceMs: at === null ? null : this.now() - at, total: this.counters.shedEventLoop + this.counters.shedLoopBusy };
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
    // Whether anything waits first: a count, while the lag reads the clock. Without a count,
    // something is taken to wait.
    const waiting = this.o.waiting === undefined ? 1 : this.o.waiting();
    if (waiting > 0) {
      if (this.o.lagMs() > this.o.maxEventLoopDelayMs) {
        this.counters.shedEventLoop += 1;
        this.lastLoopShedAt = this.now();
        return 'event-loop';
      }
      if (this.o.busy !== undefined && waiting >= (this.o.busyShedFrom ?? 1) && this.o.busy() > (this.o.maxEventLoopUtilization ?? 1)) {
        this.counters.shedLoopBusy += 1;
        this.lastLoopShedAt = this.now();
        return 'loop-busy';
      }
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

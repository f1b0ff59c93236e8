/**
 * Retries of a single-code call after a reset or a 5xx, inside the call's own time and a retry
 * budget (Envoy: retries stay inside the overall timeout; retries in flight at most ≈ 20 % of
 * calls in flight). A retry goes out only while the circuit is closed, and after a short
 * jittered pause, so a burst of resets does not come back as a burst of retries.
 */
import type { ErrorCode } from '../errors.js';
import type { Clock } from '../types.js';
import { codeOf, type Interceptor } from './call-interceptor.js';

export interface RetryOptions {
  maxRetries: number;
  /** A call is retried only if this much of its time budget is left, in ms. */
  retryMinRemainingMs: number;
  /** The whole time one call may take, retries included, in ms. */
  callBudgetMs: number;
  /** Retries in flight may be at most this share of calls in flight. */
  retryBudgetRatio: number;
  /** Retries always allowed in flight regardless of the ratio. */
  retryBudgetMin: number;
}

const RETRYABLE = new Set<ErrorCode>(['HG_MINISTRY_CONNECTION', 'HG_MINISTRY_SERVER_ERROR']);

export class CallRetries {
  retries = 0;
  retriesDenied = 0;
  #activeRetries = 0;
  readonly #o: RetryOptions;
  readonly #clock: Clock;
  readonly #inFlight: () => number;
  readonly #circuitClosed: () => boolean;

  /** `inFlight`: calls under way now; `circuitClosed`: whether a retry may go out at all. */
  constructor(options: RetryOptions, clock: Clock, inFlight: () => number, circuitClosed: () => boolean) {
    this.#o = options;
    this.#clock = clock;
    this.#inFlight = inFlight;
    this.#circuitClosed = circuitClosed;
  }

  readonly interceptor: Interceptor = (next) => async (fn) => {
    const started = this.#clock();
    let attempt = 0;
    let holdsRetrySlot = false;
    try {
      for (;;) {
        try {
          return await next(fn);
        } catch (err) {
          const remaining = this.#o.callBudgetMs - (this.#clock() - started);
          if (attempt >= this.#o.maxRetries || !RETRYABLE.has(codeOf(err)) || remaining < this.#o.retryMinRemainingMs || !this.#circuitClosed()) throw err;
          if (!holdsRetrySlot) {
            // The failed call is about to go out again: it counts as in flight.
            const allowed = Math.max(this.#o.retryBudgetMin, (this.#inFlight() + 1) * this.#o.retryBudgetRatio);
            if (this.#activeRetries >= allowed) {
              this.retriesDenied++;
              throw err;
            }
            this.#activeRetries++;
            holdsRetrySlot = true;
          }
          this.retries++;
          attempt++;
        }
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
      }
    } finally {
      if (holdsRetrySlot) this.#activeRetries--;
    }
  };
}

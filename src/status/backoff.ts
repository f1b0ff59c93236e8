/**
 * How long the refresher waits after failed bulk calls: exponential in the consecutive
 * failures, with "equal jitter" (half fixed, half random) so stations do not retry in step,
 * capped, and never shorter than the ministry's own Retry-After.
 */
import { isHesGateError } from '../errors.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Source of jitter in [0, 1). */
  random: () => number;
}

export class Backoff {
  readonly #o: BackoffOptions;
  #failures = 0;
  #notBefore = 0;

  constructor(o: BackoffOptions) {
    if (!(o.initialMs > 0) || o.maxMs < o.initialMs) throw new TypeError('backoff needs 0 < initialMs <= maxMs');
    this.#o = o;
  }

  /** A call failed at `now`: returns the wait before the next call, in ms. */
  failed(err: unknown, now: number): number {
    this.#failures++;
    const exp = Math.min(this.#o.maxMs, this.#o.initialMs * 2 ** Math.min(this.#failures - 1, 30));
    let delay = Math.round(exp / 2 + (this.#o.random() * exp) / 2);
    if (isHesGateError(err, 'HG_MINISTRY_RATE_LIMITED')) {
      const retryAfter = err.details?.['retryAfterMs'];
      if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) delay = Math.max(delay, retryAfter);
    }
    this.#notBefore = now + delay;
    return delay;
  }

  succeeded(): void {
    this.#failures = 0;
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Epoch ms before which no call should start (0 when none failed). */
  get notBefore(): number {
    return this.#notBefore;
  }
}

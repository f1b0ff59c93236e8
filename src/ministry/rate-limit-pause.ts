/**
 * The ministry's 429: every call pauses until its Retry-After (1 s when it names none), failing
 * fast with HG_MINISTRY_RATE_LIMITED meanwhile. A 429 says nothing about availability, so the
 * breaker inside does not count it.
 */
import { HesGateError } from '../errors.js';
import type { Clock } from '../types.js';
import { codeOf, type Interceptor } from './call-interceptor.js';

export class RateLimitPause {
  pausedUntil = 0;
  rejected = 0;
  readonly #clock: Clock;
  readonly #onPause: (until: number) => void;

  constructor(clock: Clock, onPause: (until: number) => void) {
    this.#clock = clock;
    this.#onPause = onPause;
  }

  readonly interceptor: Interceptor = (next) => async (fn) => {
    const now = this.#clock();
    if (now < this.pausedUntil) {
      this.rejected++;
      throw new HesGateError('HG_MINISTRY_RATE_LIMITED', 'the ministry asked to slow down (429); calls pause until its Retry-After', {
        details: { retryAfterMs: this.pausedUntil - now },
      });
    }
    try {
      return await next(fn);
    } catch (err) {
      if (codeOf(err) === 'HG_MINISTRY_RATE_LIMITED') this.#pause(Number((err as HesGateError).details?.retryAfterMs ?? 1000));
      throw err;
    }
  };

  #pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.#clock() + (Number.isFinite(ms) && ms > 0 ? ms : 1000));
    this.#onPause(this.pausedUntil);
  }
}

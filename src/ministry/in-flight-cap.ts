/**
 * Calls in flight (queued behind busy connections included) beyond which new calls fail fast
 * with HG_MINISTRY_BUSY: a tap stuck behind hundreds of queued calls cannot be answered in time
 * anyway, and a struggling ministry should not meet a wall of them when it recovers. It sits
 * outside the breaker, so a refused call never takes the half-open probe.
 */
import { HesGateError } from '../errors.js';
import type { Interceptor } from './call-interceptor.js';

export class InFlightCap {
  active = 0;
  /** Calls refused because `max` calls were already under way. */
  shed = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  readonly interceptor: Interceptor = (next) => async (fn) => {
    if (this.active >= this.#max) {
      this.shed++;
      throw new HesGateError('HG_MINISTRY_BUSY', `${this.active} ministry calls are already in flight; this one fails fast`, {
        details: { inFlight: this.active },
      });
    }
    this.active++;
    try {
      return await next(fn);
    } finally {
      this.active--;
    }
  };
}

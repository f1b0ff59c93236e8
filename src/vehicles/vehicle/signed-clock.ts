/**
 * The clock on board: never behind the newest signed time the vehicle verified.
 *
 *   now() = max(clock(), newest verified issuedAt)
 *
 * A vehicle's clock may be wrong (a dead RTC battery, a board booted without network time). Set
 * back, it would keep a code passing after its validity ended; the hub's signed `issuedAt` is a
 * time the vehicle knows has already happened, so "now" is never earlier than it. A clock ahead
 * is not corrected (it only stops codes early). The skew is reported, never used to extend.
 */
import type { Clock } from '../../types.js';

export class SignedClock {
  #newest = 0;
  readonly #clock: Clock;
  /** The effective clock, to pass wherever a vehicle reads the time. */
  readonly now: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.now = () => {
      const t = this.#clock();
      return t >= this.#newest ? t : this.#newest;
    };
  }

  /** A signed time verified (a head's or a file's issuedAt): time only moves forward. */
  saw(issuedAt: number): void {
    if (issuedAt > this.#newest) this.#newest = issuedAt;
  }

  /** The newest signed time verified; 0 before any. */
  get newest(): number {
    return this.#newest;
  }

  /** How far the vehicle's own clock is behind the newest signed time, ms (0 when not behind). */
  behindMs(): number {
    return Math.max(0, this.#newest - this.#clock());
  }
}

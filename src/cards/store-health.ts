/**
 * The card store's health: one rule for the `store` line of /readyz and `card_store_up` (the
 * HesGateCardStoreUnavailable alert), so the two never disagree. The store is up when an indexed
 * read answers and no write failed in the last minute: a failed write means statuses were not
 * persisted, so a restart would decide from older ones.
 */
import type { Clock, ReadinessCheck } from '../types.js';

/** How long a failed write keeps the store down, ms. */
export const WRITE_FAILURE_WINDOW_MS = 60_000;

export interface StoreHealthOptions {
  clock: Clock;
  /** One indexed read (the tap path's kind); throws when the store cannot be read. */
  read(): unknown;
  /** The store's throttled binding count (a full count is tens of ms of SQLite). */
  countBindings(): number;
}

export type StoreState = { up: true } | { up: false; why: string };

export class StoreHealth {
  readonly #o: StoreHealthOptions;
  #writeFailedAt = Number.NEGATIVE_INFINITY;

  constructor(options: StoreHealthOptions) {
    this.#o = options;
  }

  /** A write failed now (the store's onWriteError). */
  writeFailed(): void {
    this.#writeFailedAt = this.#o.clock();
  }

  /** Read at scrape time and at each /readyz: a read, and the time since the last failed write. */
  state(): StoreState {
    const since = this.#o.clock() - this.#writeFailedAt;
    if (since < WRITE_FAILURE_WINDOW_MS) return { up: false, why: `a write failed ${Math.round(since / 1000)} s ago: statuses were not persisted` };
    try {
      this.#o.read();
      return { up: true };
    } catch {
      return { up: false, why: 'an indexed read failed' };
    }
  }

  up(): boolean {
    return this.state().up;
  }

  /** The `store` readiness check: the same rule, with the binding count when up. */
  readiness(): ReadinessCheck {
    return {
      name: 'store',
      check: () => {
        const s = this.state();
        return s.up ? { ok: true, detail: `${this.#o.countBindings()} card bindings` } : { ok: false, detail: s.why };
      },
    };
  }
}
